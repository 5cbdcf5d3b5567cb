/**
 * Block formats: a block of K consecutive elements (along the last axis)
 * shares one power-of-two scale 2^k. OCP MX (v1.0) stores k as E8M0 and its
 * elements in e4m3/e5m2/e3m2/e2m3/e2m1 or int8 (fixed<8,6>); bfp<W,B>
 * stores W-bit sign-magnitude elements under the block's largest exponent.
 *
 * Scale rules, from the block's largest finite magnitude amax:
 *  - 'floor' (the OCP spec): k = floor(log2 amax) - emax(element); the
 *    block maximum may exceed the element's range and is then clamped;
 *  - 'up': the smallest k with amax <= maxElement * 2^k, so nothing clips.
 * k is clamped to the E8M0 range [-127, 127]; a block of zeros gets -127.
 * A NaN or Inf anywhere in a block makes its scale NaN (all elements NaN).
 * Elements round on the scaled element grid directly from the input, and
 * saturate (OCP: clamp to the element's maximum).
 */
import { exponentOf, pow2 } from './bits.js';
import { FIXED_POINT_M, GRID_WRAP, type GridParams } from './grid.js';
import { FixedFormat } from './fixed.js';
import { FloatFormat } from './float.js';
import { specToString, type BlockSpec, type ScaleRule } from './spec.js';

export const SCALE_MIN = -127;
export const SCALE_MAX = 127;

export interface BlockParams {
  readonly element: GridParams;
  /** Largest element magnitude at scale 1. */
  readonly elementMax: number;
  /** floor(log2(elementMax)): the element's top binade. */
  readonly elementEmax: number;
  readonly blockSize: number;
  readonly roundUp: boolean;
}

/** The shared scale exponent of a block with largest finite magnitude amax (NaN: the block holds NaN or Inf). */
export function blockScaleExponent(amax: number, p: BlockParams): number {
  if (!(amax < Infinity)) return NaN;
  if (amax === 0) return SCALE_MIN;
  let k = exponentOf(amax) - p.elementEmax;
  if (k < SCALE_MIN) return SCALE_MIN;
  if (p.roundUp && amax > p.elementMax * pow2(k)) k += 1;
  return Math.min(k, SCALE_MAX);
}

/** The scale exponent of the block xs[start, end): from its largest magnitude (NaN if it holds NaN or Inf). */
export function blockScaleOf(xs: ArrayLike<number>, start: number, end: number, p: BlockParams): number {
  let amax = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(xs[i]);
    if (Number.isNaN(a)) return NaN;
    if (a > amax) amax = a;
  }
  return blockScaleExponent(amax, p);
}

/** The element grid of a block with scale 2^k. */
export function scaleGrid(g: GridParams, k: number): GridParams {
  const s = pow2(k);
  return { ...g, tmin: g.tmin + k, maxPos: g.maxPos * s, maxNeg: g.maxNeg * s, minNormal: g.minNormal * s, parityOffset: g.parityOffset - k };
}

/** bfp elements: sign and W-1 magnitude bits, weighing 2^-(W-2) at scale 1 (so the top binade is [1, 2)). */
function bfpElementGrid(width: number): GridParams {
  const max = (2 ** (width - 1) - 1) * pow2(2 - width);
  return { mantissaBits: FIXED_POINT_M, tmin: 2 - width, maxPos: max, maxNeg: max, minNormal: 0, flags: 0, wrapWidth: 0, wrapFraction: 0, parityOffset: 0 };
}

export class BlockFormat {
  readonly kind = 'block' as const;
  readonly spec: BlockSpec;
  readonly name: string;
  /** Bits per element code (the shared scale has 8 more per block). */
  readonly bits: number;
  readonly scaleBits = 8;
  readonly blockSize: number;
  readonly scaleRule: ScaleRule;
  /** The element format at scale 1 (null for bfp, whose elements are sign-magnitude integers). */
  readonly element: FloatFormat | FixedFormat | null;
  readonly params: BlockParams;
  readonly maxFinite: number;
  readonly minPositive: number;
  readonly epsilon: number;

  constructor(spec: BlockSpec) {
    this.spec = spec;
    this.name = specToString(spec);
    if (spec.family === 'mx') {
      this.element = spec.element.family === 'float' ? new FloatFormat(spec.element) : new FixedFormat(spec.element);
      this.bits = this.element.bits;
      this.blockSize = spec.blockSize;
      this.scaleRule = spec.scaleRule;
      const g = this.element.grid;
      this.params = {
        element: { ...g, wrapWidth: 0, wrapFraction: 0, flags: g.flags & ~GRID_WRAP },
        elementMax: this.element.maxFinite,
        elementEmax: exponentOf(this.element.maxFinite),
        blockSize: spec.blockSize,
        roundUp: spec.scaleRule === 'up',
      };
      this.minPositive = this.element.minPositive * pow2(SCALE_MIN);
      this.epsilon = this.element.epsilon;
    } else {
      this.element = null;
      this.bits = spec.width;
      this.blockSize = spec.blockSize;
      this.scaleRule = 'floor';
      const g = bfpElementGrid(spec.width);
      this.params = { element: g, elementMax: g.maxPos, elementEmax: 0, blockSize: spec.blockSize, roundUp: false };
      this.minPositive = pow2(g.tmin + SCALE_MIN);
      this.epsilon = pow2(g.tmin);
    }
    this.maxFinite = this.params.elementMax * pow2(SCALE_MAX);
  }

  get dynamicRange(): number {
    return Math.log2(this.maxFinite / this.minPositive);
  }

  /** The element code of a value already on the block's scaled grid. */
  encodeElement(value: number, k: number): number {
    const v = value * pow2(-k);
    if (this.element) return this.element.codeOf(v);
    const mag = Math.abs(v) * pow2(this.spec.family === 'bfp' ? this.spec.width - 2 : 0);
    return (v < 0 ? 2 ** (this.bits - 1) : 0) + mag;
  }

  /** The value of an element code at scale 2^k. */
  decodeElement(code: number, k: number): number {
    if (Number.isNaN(k)) return NaN;
    if (this.element) return this.element.decode(code) * pow2(k);
    const signBit = 2 ** (this.bits - 1);
    const mag = (code % signBit) * pow2(this.params.element.tmin + k);
    return code >= signBit ? -mag : mag;
  }

  /** Element values at scale 1, for `formats show` and `formats table`. */
  elementValues(): Float64Array {
    if (this.element) return this.element.values();
    const out: number[] = [];
    const n = 2 ** (this.bits - 1) - 1;
    for (let i = -n; i <= n; i++) out.push(i * pow2(this.params.element.tmin));
    return Float64Array.from(out);
  }
}
