/**
 * Fixed point: a W-bit two's complement (or unsigned) integer n read as
 * n · 2^-F. Overflow saturates unless the spec says `wrap`. Integers are
 * fixed point with F = 0.
 */
import { f32Floor, pow2 } from './bits.js';
import {
  FIXED_POINT_M, GRID_UNSIGNED, GRID_WRAP, roundToGrid, type GridParams, type RoundingParams,
} from './grid.js';
import { ScalarFormat, type CodeCounts } from './scalar.js';
import { specToString, type FixedSpec } from './spec.js';

/** Sign, integer and fraction fields; when the binary point lies outside the word, the magnitude and its step. */
function fixedLayout(W: number, F: number, signed: boolean): { field: string; bits: number }[] {
  const magnitude = signed ? W - 1 : W;
  const fields = signed ? [{ field: 'sign', bits: 1 }] : [];
  if (F >= 0 && F <= magnitude) {
    fields.push({ field: 'integer', bits: magnitude - F }, { field: 'fraction', bits: F });
  } else {
    fields.push({ field: `magnitude (step 2^${-F})`, bits: magnitude });
  }
  return fields.filter((f) => f.bits > 0);
}

export class FixedFormat extends ScalarFormat {
  readonly spec: FixedSpec;
  /** Exact grid, for float64 results. */
  readonly grid: GridParams;
  /**
   * The grid for the float32 carrier: a saturated maximum with more than 24
   * significant bits is stored as the largest float32 below it.
   */
  readonly grid32: GridParams;

  constructor(spec: FixedSpec) {
    const { width: W, fraction: F, signed, wrap } = spec;
    const step = pow2(-F);
    const maxFinite = (2 ** (signed ? W - 1 : W) - 1) * step;
    const minFinite = signed ? 2 ** (W - 1) * step : 0;
    super({
      name: specToString(spec),
      bits: W,
      maxFinite,
      minFinite,
      minPositive: step,
      minNormal: step,
      epsilon: step,
      hasInf: false,
      hasNaN: false,
      layout: fixedLayout(W, F, signed),
    });
    this.spec = spec;
    this.grid = {
      mantissaBits: FIXED_POINT_M,
      tmin: -F,
      maxPos: maxFinite,
      maxNeg: minFinite,
      minNormal: 0,
      flags: (wrap ? GRID_WRAP : 0) | (signed ? 0 : GRID_UNSIGNED),
      wrapWidth: W,
      wrapFraction: F,
      parityOffset: 0,
    };
    this.grid32 = { ...this.grid, maxPos: f32Floor(maxFinite) };
  }

  decode(bits: number): number {
    this.checkCode(bits);
    const { width: W, fraction: F, signed } = this.spec;
    let n = bits % 2 ** W;
    if (signed && n >= 2 ** (W - 1)) n -= 2 ** W;
    return n * pow2(-F);
  }

  /** The code of a value on the grid. */
  codeOf(v: number): number {
    const n = v * pow2(this.spec.fraction);
    return n < 0 ? n + 2 ** this.spec.width : n;
  }

  encodeWith(x: number, r: RoundingParams, rnd: number): number {
    return this.codeOf(roundToGrid(x, this.grid, r, rnd));
  }

  codeCounts(): CodeCounts {
    const total = 2 ** this.bits;
    return { total, finiteValues: total, zeros: 1, subnormals: 0, infinities: 0, nans: 0 };
  }
}
