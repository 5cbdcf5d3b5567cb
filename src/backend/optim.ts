/**
 * The optimizer updates, the one reference copy: the js backend runs these
 * on float32 arrays and src/optim on float64 ones, and the C kernels
 * (kernels/layers.h) match them bit for bit. Each element is computed in
 * float64 (JavaScript numbers); a value stored into a Float32Array is
 * rounded there, and what is read back is the stored value.
 */
import type { AdamStep, SgdStep } from './kernels.js';
import { overlaps } from './overlap.js';

type FloatArray = Float32Array | Float64Array;

/** The kernels' parameter vectors (kernels/precis.h, pc_sgd_args and pc_adam_args, in order). */
export function sgdParams(s: SgdStep): Float64Array {
  return Float64Array.of(s.lr, s.weightDecay, s.momentum, 1 - s.dampening, s.nesterov ? 1 : 0, s.first ? 1 : 0);
}

export function adamParams(s: AdamStep): Float64Array {
  return Float64Array.of(s.stepSize, s.bc2Sqrt, s.w, 1 - s.w, s.beta2, 1 - s.beta2, s.eps, s.decay, s.l2);
}

/** Checks an optimizer kernel's arrays (every backend calls this first): one length, no two overlapping. */
export function checkOptimArrays(op: string, arrays: readonly (FloatArray | null)[]): void {
  const given = arrays.filter((a): a is FloatArray => a !== null);
  const n = given[0].length;
  for (const a of given) if (a.length !== n) throw new RangeError(`${op}: arrays of ${given.map((x) => x.length).join(', ')} elements; they must have one length`);
  for (let i = 0; i < given.length; i++) {
    for (let j = i + 1; j < given.length; j++) if (given[i].length > 0 && overlaps(given[i], given[j])) throw new RangeError(`${op}: the arrays must not overlap`);
  }
}

/**
 * SGD: g = grad (+ weightDecay·p); with momentum buf = first ? g : μ·buf + (1 − dampening)·g,
 * then g = nesterov ? g + μ·buf : buf; p = p − lr·g.
 */
export function referenceSgd(p: FloatArray, grad: FloatArray, buf: FloatArray | null, s: SgdStep): void {
  const n = p.length;
  const { lr, weightDecay: wd, momentum: mu, nesterov, first } = s;
  if (buf === null) {
    for (let i = 0; i < n; i++) p[i] = p[i] - lr * (wd === 0 ? grad[i] : grad[i] + wd * p[i]);
    return;
  }
  const keep = 1 - s.dampening;
  for (let i = 0; i < n; i++) {
    const g = wd === 0 ? grad[i] : grad[i] + wd * p[i];
    buf[i] = first ? g : mu * buf[i] + keep * g;
    const b = buf[i];
    p[i] = p[i] - lr * (nesterov ? g + mu * b : b);
  }
}

/**
 * Adam/AdamW: g = grad (+ l2·p); m = lerp(m, g, w); v = β2·v + (1 − β2)·g²;
 * p = p·decay − stepSize·m / (√v / bc2Sqrt + eps).
 */
export function referenceAdam(p: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, s: AdamStep): void {
  const { stepSize, bc2Sqrt, w, beta2: b2, eps, decay, l2 } = s;
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const g = l2 === 0 ? grad[i] : grad[i] + l2 * p[i];
    const m0 = m[i];
    // torch.lerp: start + w·(end − start) for |w| < 0.5, else end − (end − start)·(1 − w).
    m[i] = w < 0.5 ? m0 + w * (g - m0) : g - (g - m0) * (1 - w);
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    const denom = Math.sqrt(v[i]) / bc2Sqrt + eps;
    p[i] = (decay === 1 ? p[i] : p[i] * decay) - (stepSize * m[i]) / denom;
  }
}
