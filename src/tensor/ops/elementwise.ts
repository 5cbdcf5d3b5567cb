/**
 * Element-wise arithmetic with NumPy broadcasting. The gradient of a
 * broadcast operand is the result gradient summed over the dimensions it was
 * broadcast along, in element order (so the sum is reproducible).
 */
import { accumulateGrad, opResult } from '../autograd.js';
import { alloc, sameShape, Tensor, type DType, type FloatArray } from '../tensor.js';
import { broadcastIndex, broadcastShapes } from './indexing.js';

type BinaryKind = 'add' | 'sub' | 'mul' | 'div';

function resultDType(a: Tensor, b: Tensor): DType {
  return a.dtype === 'float64' || b.dtype === 'float64' ? 'float64' : 'float32';
}

/** out[i] = x[ia[i]] ∘ y[ib[i]]; index maps are null where the operand has the result's shape. */
function compute(kind: BinaryKind, x: FloatArray, ia: Int32Array | null, y: FloatArray, ib: Int32Array | null, out: FloatArray): void {
  const n = out.length;
  if (ia === null && ib === null) {
    switch (kind) {
      case 'add': for (let i = 0; i < n; i++) out[i] = x[i] + y[i]; return;
      case 'sub': for (let i = 0; i < n; i++) out[i] = x[i] - y[i]; return;
      case 'mul': for (let i = 0; i < n; i++) out[i] = x[i] * y[i]; return;
      case 'div': for (let i = 0; i < n; i++) out[i] = x[i] / y[i]; return;
    }
  }
  for (let i = 0; i < n; i++) {
    const u = x[ia === null ? i : ia[i]];
    const v = y[ib === null ? i : ib[i]];
    out[i] = kind === 'add' ? u + v : kind === 'sub' ? u - v : kind === 'mul' ? u * v : u / v;
  }
}

/** Sums g (result-shaped) into an operand-shaped array through the index map. */
function reduceTo(g: FloatArray, idx: Int32Array | null, size: number, dtype: DType, scale: (i: number) => number): FloatArray {
  const out = alloc(dtype, size);
  if (idx === null) {
    for (let i = 0; i < g.length; i++) out[i] = g[i] * scale(i);
  } else {
    for (let i = 0; i < g.length; i++) out[idx[i]] += g[i] * scale(i);
  }
  return out;
}

function binary(kind: BinaryKind, a: Tensor, b: Tensor): Tensor {
  const shape = sameShape(a.shape, b.shape) ? [...a.shape] : broadcastShapes(a.shape, b.shape);
  const dtype = resultDType(a, b);
  const ia = sameShape(a.shape, shape) ? null : broadcastIndex(shape, a.shape);
  const ib = sameShape(b.shape, shape) ? null : broadcastIndex(shape, b.shape);
  const x = a.data;
  const y = b.data;
  const out = alloc(dtype, ia === null && ib === null ? a.size : broadcastSize(shape));
  compute(kind, x, ia, y, ib, out);
  const at = (idx: Int32Array | null, i: number) => (idx === null ? i : idx[i]);
  return opResult(kind, out, shape, [a, b], (g) => {
    if (a.requiresGrad) {
      const da =
        kind === 'add' || kind === 'sub' ? () => 1 : kind === 'mul' ? (i: number) => y[at(ib, i)] : (i: number) => 1 / y[at(ib, i)];
      accumulateGrad(a, reduceTo(g, ia, a.size, a.dtype, da));
    }
    if (b.requiresGrad) {
      const db =
        kind === 'add' ? () => 1
        : kind === 'sub' ? () => -1
        : kind === 'mul' ? (i: number) => x[at(ia, i)]
        : (i: number) => { const v = y[at(ib, i)]; return -x[at(ia, i)] / (v * v); };
      accumulateGrad(b, reduceTo(g, ib, b.size, b.dtype, db));
    }
  });
}

function broadcastSize(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

export const add = (a: Tensor, b: Tensor): Tensor => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary('div', a, b);

/** a · s for a number s. */
export function scale(a: Tensor, s: number): Tensor {
  const out = alloc(a.dtype, a.size);
  const x = a.data;
  for (let i = 0; i < out.length; i++) out[i] = x[i] * s;
  return opResult('scale', out, a.shape, [a], (g) => {
    const d = alloc(a.dtype, a.size);
    for (let i = 0; i < d.length; i++) d[i] = g[i] * s;
    accumulateGrad(a, d);
  });
}

