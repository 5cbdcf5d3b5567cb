/** Matrix products: matmul (2-D and batched) and the fully connected layer's fused x·Wᵀ + b. */
import { getBackend } from '../../backend/index.js';
import { referenceSumRows } from '../../backend/reduce.js';
import { OptionError } from '../../errors.js';
import { accumulateGrad, opResult } from '../autograd.js';
import { gemm, layerGemm, maskGradient, type Product } from '../gemm.js';
import { alloc, shapeString, Tensor, type DType, type FloatArray } from '../tensor.js';

function commonDType(ts: readonly Tensor[]): DType {
  const d = ts[0].dtype;
  for (const t of ts) {
    if (t.dtype !== d) throw new OptionError(`matrix product of ${ts.map((x) => x.dtype).join(' and ')} tensors`, 'convert the operands to one dtype');
  }
  return d;
}

/**
 * a·b for a [m,k] · b [k,n], or batched: a [B,m,k] · b [B,k,n], or a [B,m,k] · b [k,n]
 * (one matrix applied to every batch entry).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const dtype = commonDType([a, b]);
  const bad = () => new OptionError(`matmul of ${shapeString(a.shape)} and ${shapeString(b.shape)}`, 'use [m,k]·[k,n], [B,m,k]·[B,k,n] or [B,m,k]·[k,n]');
  if (a.ndim < 2 || a.ndim > 3 || b.ndim < 2 || b.ndim > 3 || b.ndim > a.ndim) throw bad();
  const batch = a.ndim === 3 ? a.shape[0] : 1;
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2 || (b.ndim === 3 && b.shape[0] !== batch)) throw bad();
  const shared = b.ndim === 2;
  // A shared b is one product over all batch rows stacked: [B·m, k]·[k, n].
  const rows = shared ? batch * m : m;
  const steps = shared ? 1 : batch;
  const A = a.data;
  const B = b.data;
  const C = alloc(dtype, batch * m * n);
  const at = (x: FloatArray, i: number, len: number) => x.subarray(i * len, (i + 1) * len);
  for (let s = 0; s < steps; s++) gemm(false, false, rows, n, k, at(A, s, rows * k), at(B, s, k * n), at(C, s, rows * n), false);
  const shape = a.ndim === 3 ? [batch, m, n] : [m, n];
  return opResult('matmul', C, shape, [a, b], (g) => {
    if (a.requiresGrad) {
      const dA = alloc(dtype, a.size);
      for (let s = 0; s < steps; s++) gemm(false, true, rows, k, n, at(g, s, rows * n), at(B, s, k * n), at(dA, s, rows * k), false);
      accumulateGrad(a, dA);
    }
    if (b.requiresGrad) {
      const dB = alloc(dtype, b.size);
      for (let s = 0; s < steps; s++) gemm(true, false, k, n, rows, at(A, s, rows * k), at(g, s, rows * n), at(dB, s, k * n), false);
      accumulateGrad(b, dB);
    }
  });
}

export interface LinearOptions {
  /** The layer's products in emulated arithmetic (an accumulator model); default the one fp32 gemm. */
  product?: Product | null;
}

/** x [N, in] · wᵀ (w is [out, in], PyTorch's layout) + bias [out]. */
export function linear(x: Tensor, w: Tensor, bias: Tensor | null = null, opts: LinearOptions = {}): Tensor {
  const dtype = commonDType(bias ? [x, w, bias] : [x, w]);
  if (x.ndim !== 2 || w.ndim !== 2 || x.shape[1] !== w.shape[1] || (bias && (bias.ndim !== 1 || bias.shape[0] !== w.shape[0]))) {
    throw new OptionError(
      `linear of input ${shapeString(x.shape)}, weight ${shapeString(w.shape)}${bias ? `, bias ${shapeString(bias.shape)}` : ''}`,
      'the input is [N, in], the weight [out, in] and the bias [out]',
    );
  }
  const [N, nin] = x.shape;
  const nout = w.shape[0];
  const X = x.data;
  const W = w.data;
  const Y = alloc(dtype, N * nout);
  // Each output's sum starts from its bias, so the bias costs no extra pass.
  if (bias) for (let r = 0; r < N; r++) Y.set(bias.data, r * nout);
  const product = opts.product;
  const overflowed = layerGemm(product, 'forward', false, true, N, nout, nin, X, W, Y, bias !== null);
  const inputs = bias ? [x, w, bias] : [x, w];
  return opResult('linear', Y, [N, nout], inputs, (grad) => {
    const g = maskGradient(grad, overflowed);
    if (x.requiresGrad) {
      const dX = alloc(dtype, x.size);
      layerGemm(product, 'input-gradient', false, false, N, nin, nout, g, W, dX, false);
      accumulateGrad(x, dX);
    }
    if (w.requiresGrad) {
      const dW = alloc(dtype, w.size);
      layerGemm(product, 'weight-gradient', true, false, nout, nin, N, g, X, dW, false);
      accumulateGrad(w, dW);
    }
    if (bias && bias.requiresGrad) accumulateGrad(bias, sumRows(g, N, nout, dtype));
  });
}

/** Σ over rows of an [N, n] array, row by row in order (src/backend/reduce.ts): float32 on the backend's kernel. */
export function sumRows(g: FloatArray, rows: number, n: number, dtype: DType): FloatArray {
  const out = alloc(dtype, n);
  if (g instanceof Float32Array && out instanceof Float32Array) getBackend().sumRows(g, out, rows, n);
  else referenceSumRows(g, out, rows, n);
  return out;
}
