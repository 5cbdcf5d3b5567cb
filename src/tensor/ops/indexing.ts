/** Index maps: NumPy broadcasting, and gathers through strides (permutations). */
import { OptionError } from '../../errors.js';
import { shapeSize, shapeString, type Shape } from '../tensor.js';

export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new OptionError(`shapes ${shapeString(a)} and ${shapeString(b)} do not broadcast (dimension ${i}: ${da} vs ${db})`, 'each dimension must match or be 1');
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * For every element of a tensor of shape `out`, the index of the element of
 * a tensor of shape `src` (broadcast to `out`) that it corresponds to.
 */
export function broadcastIndex(out: Shape, src: Shape): Int32Array {
  const nd = out.length;
  const strides = new Array<number>(nd).fill(0);
  let s = 1;
  for (let i = src.length - 1; i >= 0; i--) {
    const o = nd - src.length + i;
    strides[o] = src[i] === 1 ? 0 : s;
    s *= src[i];
  }
  return stridedIndex(out, strides);
}

/**
 * For every element (in row-major order) of a tensor of shape `shape`, the
 * offset Σ index[d]·strides[d]: the gather map of broadcasts and permutations.
 */
export function stridedIndex(shape: Shape, strides: readonly number[]): Int32Array {
  const nd = shape.length;
  const n = shapeSize(shape);
  const idx = new Int32Array(n);
  const counter = new Array<number>(nd).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      off += strides[d];
      if (++counter[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      counter[d] = 0;
    }
  }
  return idx;
}
