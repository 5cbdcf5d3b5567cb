/**
 * The parameter vector every kernel takes: one Float64Array laid out as in
 * kernels/precis.h. Building it is the only place TypeScript formats meet
 * the C kernels, so the two layouts are kept side by side here and there.
 */
import type { BlockParams } from '../formats/block.js';
import type { GridParams, RoundingParams } from '../formats/grid.js';

export const P = {
  MANTISSA_BITS: 0, TMIN: 1, MAX_POS: 2, MAX_NEG: 3, MIN_NORMAL: 4, FLAGS: 5, WRAP_WIDTH: 6, WRAP_FRACTION: 7,
  PARITY_OFFSET: 8, MODE: 9, SATURATE: 10, FLUSH: 11, RANDOM_BITS: 12, SEED: 13, STREAM: 14, OFFSET: 15,
  POSIT_WIDTH: 16, POSIT_ES: 17, BLOCK_ELEMENT_MAX: 18, BLOCK_ELEMENT_EMAX: 19, BLOCK_SIZE: 20, BLOCK_ROUND_UP: 21,
  COUNT: 22,
} as const;

/** Which kernel: elementwise grid rounding, posit rounding, or block formats. */
export const enum KernelKind { Grid = 0, Posit = 1, Blocks = 2 }

/** Where stochastic rounding draws from: Philox keyed by seed, counted by (stream, offset + index). */
export interface RandomSource {
  readonly seed: number;
  readonly stream: number;
  readonly offset: number;
}

export function packGrid(p: Float64Array, g: GridParams): void {
  p[P.MANTISSA_BITS] = g.mantissaBits;
  p[P.TMIN] = g.tmin;
  p[P.MAX_POS] = g.maxPos;
  p[P.MAX_NEG] = g.maxNeg;
  p[P.MIN_NORMAL] = g.minNormal;
  p[P.FLAGS] = g.flags;
  p[P.WRAP_WIDTH] = g.wrapWidth;
  p[P.WRAP_FRACTION] = g.wrapFraction;
  p[P.PARITY_OFFSET] = g.parityOffset;
}

export function unpackGrid(p: Float64Array): GridParams {
  return {
    mantissaBits: p[P.MANTISSA_BITS], tmin: p[P.TMIN], maxPos: p[P.MAX_POS], maxNeg: p[P.MAX_NEG],
    minNormal: p[P.MIN_NORMAL], flags: p[P.FLAGS], wrapWidth: p[P.WRAP_WIDTH], wrapFraction: p[P.WRAP_FRACTION],
    parityOffset: p[P.PARITY_OFFSET],
  };
}

export function packRounding(p: Float64Array, r: RoundingParams, s: RandomSource): void {
  p[P.MODE] = r.mode;
  p[P.SATURATE] = r.saturate ? 1 : 0;
  p[P.FLUSH] = r.flush ? 1 : 0;
  p[P.RANDOM_BITS] = r.randomBits;
  p[P.SEED] = s.seed;
  p[P.STREAM] = s.stream;
  p[P.OFFSET] = s.offset;
}

export function unpackRounding(p: Float64Array): RoundingParams {
  return { mode: p[P.MODE], saturate: p[P.SATURATE] !== 0, flush: p[P.FLUSH] !== 0, randomBits: p[P.RANDOM_BITS] };
}

export function unpackRandom(p: Float64Array): RandomSource {
  return { seed: p[P.SEED], stream: p[P.STREAM], offset: p[P.OFFSET] };
}

export function packBlocks(p: Float64Array, b: BlockParams): void {
  packGrid(p, b.element);
  p[P.BLOCK_ELEMENT_MAX] = b.elementMax;
  p[P.BLOCK_ELEMENT_EMAX] = b.elementEmax;
  p[P.BLOCK_SIZE] = b.blockSize;
  p[P.BLOCK_ROUND_UP] = b.roundUp ? 1 : 0;
}

export function unpackBlocks(p: Float64Array): BlockParams {
  return {
    element: unpackGrid(p), elementMax: p[P.BLOCK_ELEMENT_MAX], elementEmax: p[P.BLOCK_ELEMENT_EMAX],
    blockSize: p[P.BLOCK_SIZE], roundUp: p[P.BLOCK_ROUND_UP] !== 0,
  };
}
