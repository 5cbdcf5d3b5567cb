/**
 * Define-by-run autograd. Every op records, on its result, its inputs and a
 * closure that turns the result's gradient into theirs; `backward` walks
 * that graph once in reverse topological order. The order is a pure
 * function of the order ops ran in, so gradient sums are reproducible.
 */
import { OptionError } from '../errors.js';
import { alloc, Tensor, shapeString, type FloatArray, type Shape } from './tensor.js';

let gradEnabled = true;

/** Runs fn without recording the graph (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** An op's result: tracked when gradients are on and an input needs one. */
export function opResult(op: string, data: FloatArray, shape: Shape, inputs: readonly Tensor[], backward: (grad: FloatArray) => void): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) return new Tensor(data, shape, true, { op, inputs, backward });
  return new Tensor(data, shape);
}

/**
 * Adds g into t's gradient. The first contribution is taken over without a
 * copy, so an op must hand each array it passes here to one tensor only.
 */
export function accumulateGrad(t: Tensor, g: FloatArray): void {
  if (!t.requiresGrad) return;
  if (g.length !== t.size) throw new Error(`internal: gradient of ${g.length} elements for a tensor of shape ${shapeString(t.shape)}`);
  const cur = t.grad;
  if (cur === null) {
    t.grad = g.constructor === t.data.constructor ? g : convert(g, t);
    return;
  }
  for (let i = 0; i < cur.length; i++) cur[i] += g[i];
}

function convert(g: FloatArray, t: Tensor): FloatArray {
  const out = alloc(t.dtype, g.length);
  out.set(g);
  return out;
}

/** Tensors reachable from root through tracked inputs, inputs before the tensors computed from them. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  // An explicit stack: ResNet graphs are deep enough to matter for recursion.
  const stack: { t: Tensor; next: number }[] = [{ t: root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top.t.gradFn?.inputs ?? [];
    if (top.next < inputs.length) {
      const child = inputs[top.next++];
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push({ t: child, next: 0 });
      }
    } else {
      order.push(top.t);
      stack.pop();
    }
  }
  return order;
}

/**
 * Back-propagates from `root` (a scalar unless `grad` is given), adding into
 * the `grad` of every leaf that requires one. The graph is consumed:
 * intermediate gradients and links are released as the walk passes them.
 */
export function backward(root: Tensor, grad?: FloatArray): void {
  if (!root.requiresGrad) {
    throw new OptionError('backward() on a tensor that does not require a gradient', 'compute it from parameters created with requiresGrad, outside noGrad()');
  }
  if (!grad && root.size !== 1) {
    throw new OptionError(`backward() without a gradient needs a scalar, got shape ${shapeString(root.shape)}`, 'reduce the loss to a scalar (sum or mean) or pass its gradient');
  }
  const seed = alloc(root.dtype, root.size);
  if (grad) seed.set(grad);
  else seed[0] = 1;
  accumulateGrad(root, seed);
  const order = topologicalOrder(root);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const fn = t.gradFn;
    if (fn === null) continue; // a leaf: it keeps its gradient
    const g = t.grad;
    t.grad = null;
    t.gradFn = null;
    if (g !== null) fn.backward(g);
  }
}
