/**
 * The one matrix product every layer lowers to. float32 goes to the
 * backend's kernel (js, wasm or native: the same bits); float64, used only to
 * check gradients, runs here in plain loops.
 */
import { getBackend } from '../backend/index.js';
import type { FloatArray } from './tensor.js';

/** C = op(A)·op(B) (+ C when accumulate), with op(A) m×k and op(B) k×n, all row-major; see Kernels.gemm. */
export function gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: FloatArray, b: FloatArray, c: FloatArray, accumulate: boolean): void {
  if (a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array) {
    getBackend().gemm(transA, transB, m, n, k, a, b, c, accumulate);
    return;
  }
  const sa = transA ? [1, m] : [k, 1]; // strides of op(A) over (i, p)
  const sb = transB ? [1, k] : [n, 1]; // strides of op(B) over (p, j)
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = accumulate ? c[i * n + j] : 0;
      for (let p = 0; p < k; p++) acc += a[i * sa[0] + p * sa[1]] * b[p * sb[0] + j * sb[1]];
      c[i * n + j] = acc;
    }
  }
}

/** Which of a layer's products a GEMM computes: its output, or the gradient of its input or of its weight. */
export type ProductPass = 'forward' | 'input-gradient' | 'weight-gradient';

/**
 * A layer's matrix product in emulated arithmetic (a precision policy's
 * accumulator model attaches one per layer): gemm's arguments plus the pass.
 * For the forward pass it may return a mask over C (1: that output's
 * accumulation overflowed) through which no gradient flows back.
 */
export type Product = (
  pass: ProductPass, transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean,
) => Uint8Array | null;

/** The same product, every call labelled as `pass` (a backward product computed as a forward convolution). */
export function asPass(product: Product | null | undefined, pass: ProductPass): Product | null {
  return product ? (_p, ...args) => product(pass, ...args) : null;
}

/** gemm through a layer's product, when it has one and the operands are float32; otherwise the one gemm. */
export function layerGemm(
  product: Product | null | undefined, pass: ProductPass, transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: FloatArray, b: FloatArray, c: FloatArray, accumulate: boolean,
): Uint8Array | null {
  if (product && a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array) {
    return product(pass, transA, transB, m, n, k, a, b, c, accumulate);
  }
  gemm(transA, transB, m, n, k, a, b, c, accumulate);
  return null;
}

/** g with the masked entries zeroed (a copy; g itself is left alone), or g when there is no mask. */
export function maskGradient(g: FloatArray, mask: Uint8Array | null): FloatArray {
  if (!mask) return g;
  const out = g.slice();
  for (let i = 0; i < out.length; i++) if (mask[i]) out[i] = 0;
  return out;
}
