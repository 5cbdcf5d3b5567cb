/**
 * The kernel list: every backend (js, wasm, native) implements exactly this,
 * and nothing else calls into a backend. The js backend is the reference the
 * other two are tested against, bit for bit.
 */
import type { AccumulationCounts, AccumulatorPlan } from './accumulate.js';
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

/** One SGD step's hyper-parameters (see src/optim/sgd.ts). */
export interface SgdStep {
  readonly lr: number;
  readonly weightDecay: number;
  /** 0: no momentum (the buffer is null). */
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  /** The parameter's first update: the buffer takes the gradient. */
  readonly first: boolean;
}

/** One Adam/AdamW step's scalars, computed once per parameter (see src/optim/adam.ts). */
export interface AdamStep {
  /** lr / (1 − β1^t). */
  readonly stepSize: number;
  /** √(1 − β2^t). */
  readonly bc2Sqrt: number;
  /** 1 − β1, the weight of lerp(m, g, w). */
  readonly w: number;
  readonly beta2: number;
  readonly eps: number;
  /** AdamW's decoupled decay factor 1 − lr·weightDecay (1: none). */
  readonly decay: number;
  /** Adam's L2 term added to the gradient (0: none). */
  readonly l2: number;
}

/** A convolution's geometry: x [N, C, H, W], kernel KH×KW, output OH×OW, one stride and padding for both axes. */
export interface ConvGeometry {
  readonly N: number; readonly C: number; readonly H: number; readonly W: number;
  readonly KH: number; readonly KW: number; readonly OH: number; readonly OW: number;
  readonly stride: number; readonly padding: number;
}

/** A pooling's geometry: `planes` = N·C planes of H×W, a K×K window, output OH×OW. */
export interface PoolGeometry {
  readonly planes: number; readonly H: number; readonly W: number;
  readonly K: number; readonly stride: number; readonly padding: number;
  readonly OH: number; readonly OW: number;
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
  /** One SGD update of p (and buf, null without momentum) from grad; see optim.ts. Arrays distinct, one length. */
  sgd(p: Float32Array, grad: Float32Array, buf: Float32Array | null, s: SgdStep): void;
  /** One Adam/AdamW update of p, m and v from grad; see optim.ts. Arrays distinct, one length. */
  adam(p: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, s: AdamStep): void;
  /** col [C·KH·KW, N·OH·OW] from x [N, C, H, W] (every entry written, zeros in the padding); see conv.ts. */
  im2col(x: Float32Array, col: Float32Array, g: ConvGeometry): void;
  /** dx [N, C, H, W] = the adjoint of im2col applied to col (every entry written); see conv.ts. */
  col2im(col: Float32Array, dx: Float32Array, g: ConvGeometry): void;
  /** dst [B, A, inner] from src [A, B, inner]. */
  swap01(src: Float32Array, dst: Float32Array, a: number, b: number, inner: number): void;
  /** out[j] = Σ over rows of g[r·n + j], in row order from +0 (see reduce.ts); every one of out's first n written. */
  sumRows(g: Float32Array, out: Float32Array, rows: number, n: number): void;
  /** y = relu(x) (see activation.ts). */
  relu(x: Float32Array, y: Float32Array): void;
  /** dx = grad where x > 0, grad·0 elsewhere (see activation.ts). */
  reluBackward(x: Float32Array, grad: Float32Array, dx: Float32Array): void;
  /** Window maxima of x into out, and each one's index within its plane into arg; see pool.ts. */
  maxPool2d(x: Float32Array, out: Float32Array, arg: Int32Array, g: PoolGeometry): void;
  /** dx (every entry written) from the output gradient and maxPool2d's arg. */
  maxPool2dBackward(grad: Float32Array, arg: Int32Array, dx: Float32Array, g: PoolGeometry): void;
  /** Window means of x into out (padding counts as zeros). */
  avgPool2d(x: Float32Array, out: Float32Array, g: PoolGeometry): void;
  /** dx (every entry written) from the output gradient of avgPool2d. */
  avgPool2dBackward(grad: Float32Array, dx: Float32Array, g: PoolGeometry): void;
  /**
   * C = op(A)·op(B) (+ C when accumulate) through an exact or per-add accumulator model (see
   * src/precision/accumulator.ts; gemm's arguments, and overflowed gets each element's overflow flag,
   * every one of the m·n written). Every backend gives the same bits, counts and mask.
   */
  accumulatedGemm(plan: AccumulatorPlan, transA: boolean, transB: boolean, m: number, n: number, k: number,
    a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean, overflowed: Uint8Array): AccumulationCounts;
}
