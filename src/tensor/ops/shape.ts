/** Reshape, flatten and transpose. Reshape and flatten share the data; transpose copies. */
import { OptionError } from '../../errors.js';
import { accumulateGrad, opResult } from '../autograd.js';
import { alloc, shapeSize, shapeString, Tensor, type Shape } from '../tensor.js';
import { stridedIndex } from './indexing.js';

/** A view with another shape; one dimension may be -1 (inferred). */
export function reshape(t: Tensor, shape: Shape): Tensor {
  const free = shape.indexOf(-1);
  const resolved = [...shape];
  if (free >= 0) {
    const rest = shapeSize(shape.filter((_, i) => i !== free));
    resolved[free] = rest === 0 ? 0 : t.size / rest;
  }
  if (!resolved.every((d) => Number.isInteger(d) && d >= 0) || shapeSize(resolved) !== t.size) {
    throw new OptionError(`cannot reshape ${shapeString(t.shape)} (${t.size} elements) to ${shapeString(shape)}`, 'the new shape must hold the same number of elements');
  }
  return opResult('reshape', t.data, resolved, [t], (g) => accumulateGrad(t, g));
}

/** Keeps dimensions before startDim and merges the rest: [N, C, H, W] → [N, C·H·W]. */
export function flatten(t: Tensor, startDim = 1): Tensor {
  return reshape(t, [...t.shape.slice(0, startDim), shapeSize(t.shape.slice(startDim))]);
}

/** Reorders dimensions: result dimension i is input dimension perm[i]. */
export function permute(t: Tensor, perm: readonly number[]): Tensor {
  const nd = t.ndim;
  if (perm.length !== nd || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new OptionError(`permutation [${perm.join(', ')}] does not fit shape ${shapeString(t.shape)}`, `list each of 0..${nd - 1} once`);
  }
  const outShape = perm.map((p) => t.shape[p]);
  const inStrides = new Array<number>(nd);
  let s = 1;
  for (let i = nd - 1; i >= 0; i--) { inStrides[i] = s; s *= t.shape[i]; }
  const src = stridedIndex(outShape, perm.map((p) => inStrides[p]));
  const x = t.data;
  const out = alloc(t.dtype, t.size);
  for (let i = 0; i < out.length; i++) out[i] = x[src[i]];
  return opResult('permute', out, outShape, [t], (g) => {
    const d = alloc(t.dtype, t.size);
    for (let i = 0; i < g.length; i++) d[src[i]] = g[i];
    accumulateGrad(t, d);
  });
}

/** Swaps two dimensions (the last two by default). */
export function transpose(t: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const nd = t.ndim;
  const a = dim0 < 0 ? dim0 + nd : dim0;
  const b = dim1 < 0 ? dim1 + nd : dim1;
  if (a < 0 || a >= nd || b < 0 || b >= nd) {
    throw new OptionError(`transpose(${dim0}, ${dim1}) is out of range for shape ${shapeString(t.shape)}`, `use dimensions in -${nd}..${nd - 1}`);
  }
  const perm = t.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(t, perm);
}
