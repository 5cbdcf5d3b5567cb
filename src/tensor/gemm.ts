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
