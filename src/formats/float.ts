/**
 * IEEE-style binary floats with E exponent and M mantissa bits, in four
 * flavours: 'ieee' (Inf and NaNs at the top exponent), 'fn' (OCP e4m3: no
 * Inf, only all-ones is NaN), 'fnuz' (no Inf, no -0: the -0 code is the one
 * NaN) and 'none' (OCP MX element types: every code is finite).
 * Without subnormals, codes with a zero exponent field read as zero.
 */
import { exponentOf, pow2 } from './bits.js';
import {
  GRID_EXP_PARITY, GRID_FLUSH, GRID_INF, GRID_NAN, GRID_SIGNED_ZERO, roundToGrid, type GridParams, type RoundingParams,
} from './grid.js';
import { ScalarFormat, type CodeCounts } from './scalar.js';
import { specToString, type FloatSpec } from './spec.js';

/** The largest finite value and its binade: ieee stops below the all-ones exponent; fn loses its all-ones mantissa to NaN. */
function floatMax(spec: FloatSpec): { maxFinite: number; emax: number } {
  const { exponentBits: E, mantissaBits: M, flavour, bias } = spec;
  let maxExp = flavour === 'ieee' ? 2 ** E - 2 : 2 ** E - 1;
  let maxMan = flavour === 'fn' ? 2 ** M - 2 : 2 ** M - 1;
  if (maxMan < 0) { maxExp -= 1; maxMan = 2 ** M - 1; }
  return { maxFinite: (2 ** M + maxMan) * pow2(maxExp - bias - M), emax: maxExp - bias };
}

export class FloatFormat extends ScalarFormat {
  readonly spec: FloatSpec;
  /** The grid for float64 results and the float32 carrier alike (every value fits in float32). */
  readonly grid: GridParams;
  /** Exponent of the top binade. */
  readonly emax: number;
  private readonly topExpCode: number;
  private readonly nanCode: number;

  constructor(spec: FloatSpec) {
    const { exponentBits: E, mantissaBits: M, flavour, bias } = spec;
    const { maxFinite, emax } = floatMax(spec);
    const minNormal = pow2(1 - bias);
    super({
      name: specToString(spec),
      bits: 1 + E + M,
      maxFinite,
      minFinite: maxFinite,
      minPositive: spec.subnormals && M > 0 ? pow2(1 - bias - M) : minNormal,
      minNormal,
      epsilon: minNormal <= 1 ? pow2(-M) : pow2(1 - bias - M), // the step at 1 (a subnormal step when 1 < minNormal)
      hasInf: flavour === 'ieee',
      hasNaN: flavour !== 'none',
      layout: [{ field: 'sign', bits: 1 }, { field: 'exponent', bits: E }, { field: 'mantissa', bits: M }].filter((f) => f.bits > 0),
    });
    this.spec = spec;
    this.emax = emax;
    this.topExpCode = 2 ** E - 1;
    this.nanCode = flavour === 'fnuz' ? 2 ** (E + M) : flavour === 'fn' ? 2 ** (E + M) - 1 : (this.topExpCode << M) | (M > 0 ? 1 << (M - 1) : 0);
    this.grid = {
      mantissaBits: M,
      tmin: 1 - bias - M, // without subnormals, results below minNormal are flushed after rounding
      maxPos: maxFinite,
      maxNeg: maxFinite,
      minNormal,
      flags: (this.hasInf ? GRID_INF : 0) | (this.hasNaN ? GRID_NAN : 0) | (flavour === 'fnuz' ? 0 : GRID_SIGNED_ZERO)
        | (M === 0 ? GRID_EXP_PARITY : 0) | (spec.subnormals ? 0 : GRID_FLUSH),
      wrapWidth: 0,
      wrapFraction: 0,
      parityOffset: bias,
    };
  }

  decode(bits: number): number {
    this.checkCode(bits);
    const { exponentBits: E, mantissaBits: M, flavour, bias, subnormals } = this.spec;
    const sign = Math.floor(bits / 2 ** (E + M)) & 1;
    const exp = Math.floor(bits / 2 ** M) & this.topExpCode;
    const man = bits % 2 ** M;
    if (flavour === 'fnuz' && sign === 1 && exp === 0 && man === 0) return NaN;
    if (exp === this.topExpCode) {
      if (flavour === 'ieee') return man === 0 ? (sign ? -Infinity : Infinity) : NaN;
      if (flavour === 'fn' && man === 2 ** M - 1) return NaN;
    }
    let v: number;
    if (exp === 0) v = subnormals ? man * pow2(1 - bias - M) : 0;
    else v = (2 ** M + man) * pow2(exp - bias - M);
    if (v === 0 && flavour === 'fnuz') return 0; // FNUZ has no -0 (nosub codes read as +0)
    return sign ? -v : v;
  }

  /** The code of a value on the grid (a result of roundToGrid). */
  codeOf(v: number): number {
    const { exponentBits: E, mantissaBits: M, flavour, bias } = this.spec;
    if (v !== v) return this.nanCode;
    const neg = v < 0 || (v === 0 && 1 / v < 0 && flavour !== 'fnuz');
    const signBit = neg ? 2 ** (E + M) : 0;
    const a = Math.abs(v);
    if (a === Infinity) return signBit + this.topExpCode * 2 ** M;
    if (a < this.minNormal) return signBit + a * pow2(bias - 1 + M);
    const e = exponentOf(a);
    return signBit + (e + bias) * 2 ** M + (a * pow2(M - e) - 2 ** M);
  }

  encodeWith(x: number, r: RoundingParams, rnd: number): number {
    return this.codeOf(roundToGrid(x, this.grid, r, rnd));
  }

  codeCounts(): CodeCounts {
    const { mantissaBits: M, flavour, subnormals } = this.spec;
    const total = 2 ** this.bits;
    const nans = flavour === 'ieee' ? 2 * (2 ** M - 1) : flavour === 'none' ? 0 : flavour === 'fn' ? 2 : 1;
    const infinities = flavour === 'ieee' ? 2 : 0;
    const zeroCodes = flavour === 'fnuz' ? 1 : 2;
    const subCodes = 2 * (2 ** M - 1);
    const nonzeroFinite = total - nans - infinities - zeroCodes - (subnormals ? 0 : subCodes);
    return {
      total, finiteValues: nonzeroFinite + 1, zeros: subnormals ? zeroCodes : zeroCodes + subCodes,
      subnormals: subnormals ? subCodes : 0, infinities, nans,
    };
  }
}
