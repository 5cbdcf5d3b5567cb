/** Sums and means, over all elements or over chosen axes; each sum runs in element order. */
import { OptionError } from '../../errors.js';
import { accumulateGrad, opResult } from '../autograd.js';
import { alloc, shapeString, Tensor } from '../tensor.js';
import { broadcastIndex } from './indexing.js';

function normaliseAxes(t: Tensor, axes: readonly number[] | undefined): number[] {
  if (axes === undefined) return t.shape.map((_, i) => i);
  return axes.map((a) => {
    const ax = a < 0 ? a + t.ndim : a;
    if (!Number.isInteger(ax) || ax < 0 || ax >= t.ndim) {
      throw new OptionError(`axis ${a} is out of range for shape ${shapeString(t.shape)}`, `use an axis in -${t.ndim}..${t.ndim - 1}`);
    }
    return ax;
  });
}

function reduce(op: 'sum' | 'mean', t: Tensor, axes?: readonly number[], keepDims = false): Tensor {
  const ax = normaliseAxes(t, axes);
  const kept = t.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const outShape = keepDims ? kept : t.shape.filter((_, i) => !ax.includes(i));
  const outSize = kept.reduce((p, d) => p * d, 1);
  const count = outSize === 0 ? 0 : t.size / outSize;
  const k = op === 'mean' ? 1 / count : 1;
  const x = t.data;
  // Accumulate in float64 whatever the carrier, then round once: the sum of a batch of losses should not drift with its order of magnitude.
  const acc = new Float64Array(outSize);
  const idx = outSize === 1 ? null : broadcastIndex(t.shape, kept);
  if (idx === null) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i];
    acc[0] = s;
  } else {
    for (let i = 0; i < x.length; i++) acc[idx[i]] += x[i];
  }
  const out = alloc(t.dtype, outSize);
  for (let i = 0; i < outSize; i++) out[i] = acc[i] * k;
  return opResult(op, out, outShape, [t], (g) => {
    const d = alloc(t.dtype, t.size);
    if (idx === null) d.fill(g[0] * k);
    else for (let i = 0; i < d.length; i++) d[i] = g[idx[i]] * k;
    accumulateGrad(t, d);
  });
}

export const sum = (t: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('sum', t, axes, keepDims);
export const mean = (t: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('mean', t, axes, keepDims);
