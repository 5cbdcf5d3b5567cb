/**
 * Accumulator models at the kernel boundary: the parameter vector the C
 * kernels take (laid out as in kernels/precis.h, AP_* and AR_*), the plan a
 * backend runs, and the checks every backend shares. What a model means is
 * src/precision/accumulator.ts; lowering a model into a plan is
 * src/precision/accumulator-lower.ts.
 */
import type { ExactAccumulator, RoundedAccumulator } from '../precision/accumulator-spec.js';
import type { OutputQuantizer } from '../precision/accumulator-reference.js';
import { checkGemm } from './gemm.js';

/**
 * The model part of the vector: kind, chunk, Philox key and stream, three rounders of AR.COUNT values, and whether
 * the events are wanted (when not, the kernels may skip counting them).
 */
export const AP = { KIND: 0, CHUNK: 1, SEED: 2, STREAM: 3, ACC: 4, PRODUCT: 20, OUTPUT: 36, EVENTS: 52, COUNT: 53 } as const;
export const enum ApKind { Exact = 0, PerAdd = 1 }

/** One rounder: its family, its grid (float and fixed, in double), its rounding, and for posits N and ES. */
export const AR = {
  FAMILY: 0, MANTISSA_BITS: 1, TMIN: 2, MAX_POS: 3, MAX_NEG: 4, MIN_NORMAL: 5, FLAGS: 6, WRAP_WIDTH: 7, WRAP_FRACTION: 8,
  PARITY_OFFSET: 9, MODE: 10, SATURATE: 11, FLUSH: 12, RANDOM_BITS: 13, POSIT_WIDTH: 14, POSIT_ES: 15, COUNT: 16,
} as const;
export const enum ArFamily { None = 0, Float = 1, Fixed = 2, Posit = 3 }

/** An accumulator model ready to run: the model itself for the TypeScript reference, its lowered vector for the C kernels. */
export interface AccumulatorPlan {
  readonly model: ExactAccumulator | RoundedAccumulator;
  readonly output: OutputQuantizer | undefined;
  readonly seed: number;
  readonly stream: number;
  /** AP.COUNT values. */
  readonly params: Float64Array;
}

/** Event counts of one accumulated product (the mask goes into the caller's array). */
export interface AccumulationCounts {
  swamped: number;
  overflow: number;
  underflow: number;
}

/** Checks accumulatedGemm's arguments: gemm's, and an overflow mask of m·n bytes. */
export function checkAccumulate(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, overflowed: Uint8Array): void {
  checkGemm(m, n, k, a, b, c);
  if (!(overflowed instanceof Uint8Array) || overflowed.length < m * n) {
    throw new TypeError(`accumulatedGemm: overflowed must be a Uint8Array of at least m·n = ${m * n} bytes`);
  }
  // Random words are indexed 4·(e·(k+1) + t) + purpose: every index must stay below 2^53.
  if ((m * n + 1) * (k + 1) * 4 > 2 ** 53) throw new RangeError(`accumulatedGemm: m=${m}, n=${n}, k=${k} exceed the random counter's 2^53 words`);
}
