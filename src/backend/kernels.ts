/**
 * The kernel list: every backend (js, wasm, native) implements exactly this,
 * and nothing else calls into a backend. The js backend is the reference the
 * other two are tested against, bit for bit.
 */
import type { KernelKind } from './params.js';

export type BackendName = 'js' | 'wasm' | 'native';
export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm', 'js'];

/** Events counted while quantizing. */
export interface QuantizeCounts {
  /** Values beyond the largest finite value: saturated, or turned into Inf/NaN, or wrapped. */
  overflow: number;
  /** Nonzero values that became zero (underflow, or flushed subnormals). */
  flushed: number;
  /** NaN inputs (for posits also Inf inputs, which become NaR; for blocks, every element of a NaN block). */
  nan: number;
}

export interface Kernels {
  readonly name: BackendName;
  /** The instruction set in use, e.g. 'avx512', 'wasm_simd128', 'js'. */
  isa(): string;
  /** Threads used by parallel kernels (js and wasm: 1). */
  threads(): number;
  setThreads(n: number): number;
  /** Rounds src into dst (float32 carrier) with the kernel `kind` and a parameter vector (see params.ts). */
  quantize(kind: KernelKind, src: Float32Array, dst: Float32Array, params: Float64Array): QuantizeCounts;
  /**
   * C = op(A)·op(B) (+ C when accumulate). op(A) is m×k: A is stored row-major m×k, or k×m when transA.
   * op(B) is k×n: B is stored k×n, or n×k when transB. C is m×n row-major. Arrays may be subarrays (views);
   * C must not overlap A or B. Every backend gives the same bits (see gemm.ts for the exact definition).
   */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean): void;
}
