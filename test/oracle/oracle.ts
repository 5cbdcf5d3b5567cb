/**
 * An independent, first-principles oracle for every precis number format.
 *
 * It decodes codes to exact rationals with BigInt (test/oracle/exact.ts) and
 * rounds by listing a format's values and picking between the two neighbours
 * of the input: it never calls precis's decode, encode, grid or round
 * functions. Only the spec parser (src/formats/spec.ts) is used, to read a
 * spec's E, M, flavour, bias, width, F and es.
 *
 * What comes from the standards
 *  - IEEE 754-2019 binary interchange formats (flavour 'ieee'): sign,
 *    biased exponent, trailing significand; exponent all ones is ±Inf
 *    (mantissa 0) or NaN; exponent 0 is ±0 and subnormals (§3.4).
 *    Rounding (§4.3): roundTiesToEven, roundTiesToAway, roundTowardZero,
 *    roundTowardNegative, roundTowardPositive, as if the exponent range
 *    were unbounded; overflow (§7.4): nearest modes give ±Inf, a directed
 *    mode gives ±Inf only away from zero and ±max toward zero; an exact zero
 *    result keeps the sign of the operand (§6.3); NaN in, NaN out; Inf in,
 *    Inf out.
 *  - OCP 8-bit floating point (OFP8, 2023): E4M3 has no Inf and only
 *    S.1111.111 is NaN (max 448); E5M2 is IEEE-like. Conversion may saturate
 *    (clamp to ±max) or not (E4M3 overflow → NaN, E5M2 → Inf).
 *  - OCP Microscaling (MX) v1.0: FP6 E3M2/E2M3 and FP4 E2M1 have no Inf or
 *    NaN; MXINT8 elements are 8-bit two's complement times 2^-6; the shared
 *    scale is X = 2^(floor(log2 amax) - emax_elem), an E8M0 exponent in
 *    [-127, 127]; elements are rounded to nearest even and clamped to the
 *    element's max (§6.3); a NaN/Inf input gives a NaN scale.
 *  - Posit Standard (2022): sign, regime run (r ones then 0: k = r - 1;
 *    r zeros then 1: k = -r), es exponent bits (missing bits are 0),
 *    fraction; value (1 + f)·2^(k·2^es + e); 0 = 0b0..0, NaR = 0b10..0,
 *    negation is two's complement. Rounding: nearest with ties to the even
 *    pattern on the bit string (equivalently: x against the (n+1)-bit posit
 *    between the two neighbours), a nonzero never rounds to 0 (→ ±minpos)
 *    nor to NaR (→ ±maxpos). NaN and ±Inf convert to NaR.
 *  - Two's complement / unsigned fixed point: a W-bit integer n read as
 *    n·2^-F.
 *
 * What is precis's own convention (not fixed by any standard)
 *  - 'fnuz' (AMD/Graphcore FP8 practice): no Inf, no -0, the code 0b10..0 is
 *    the single NaN, default bias 2^(E-1). A zero result is always +0, and
 *    (with `nosub`) a negative subnormal code reads as +0.
 *  - 'fn' for any E/M (OFP8 only defines E4M3), 'none' for any E/M.
 *  - The tie at the top of the range: like IEEE (unbounded exponent), the
 *    tie between ±max and the next grid value beyond it goes to the even
 *    code, where the value beyond is given the code max + 1. So e4m3: 464
 *    → 448 (max code 0x7E is even); e4m3fnuz: 248 overflows (0x7F is odd).
 *  - Overflow 'format' in fn/fnuz gives NaN (OFP8's non-saturating E4M3;
 *    extended to every fn/fnuz format), also for ±Inf inputs; toward-zero
 *    directed modes give ±max for finite inputs, as in IEEE.
 *  - Overflow 'saturate' never changes an Inf input in an 'ieee' format
 *    (saturation applies to finite results).
 *  - Formats without NaN ('none', fixed point) turn a NaN input into +0 and
 *    ±Inf into the max/min finite value, whatever the overflow option.
 *  - Fixed point with `wrap` (and overflow 'format'): the input is rounded to
 *    an integer with the chosen mode, then reduced modulo 2^W (also for
 *    directed modes); ±Inf still saturate. Fixed point has no -0.
 *  - Subnormals 'flush' (and `nosub` formats): round on the grid that has
 *    subnormals first, then a nonzero result below the min normal becomes
 *    zero with the input's sign (+0 in fnuz).
 *  - Posits: generic posit<N,ES> with ES in 0..4 (the 2022 standard fixes
 *    es = 2; earlier drafts had any es). The directed modes act on the bit
 *    string (truncation = toward zero, etc.) and are also clamped to
 *    [minpos, maxpos]. The overflow and subnormals options are ignored. A -0
 *    input gives 0.
 *  - Blocks: the 'up' scale rule (smallest k with amax <= elemMax·2^k); a
 *    block of zeros gets k = -127; elements saturate under every rounding
 *    mode; the subnormals option applies to the element grid at the block's
 *    scale. bfp<W,B>: W-bit sign-magnitude elements weighing 2^-(W-2) at
 *    scale 1, with the floor rule and elemMax = (2^(W-1)-1)·2^-(W-2), zero
 *    results +0.
 */
import type { BlockSpec, FixedSpec, FloatSpec, PositSpec, ScalarSpec } from '../../src/formats/spec.js';
import { parseSpec } from '../../src/formats/spec.js';
import {
  add, bitLength, cmp, dyadic, floorLog2, half, ofDouble, toDouble, ZERO, type Dyadic,
} from './exact.js';

// ---------------------------------------------------------------------------
// Exact values
// ---------------------------------------------------------------------------

export type OracleValue =
  | { readonly kind: 'nan' }
  | { readonly kind: 'inf'; readonly neg: boolean }
  | { readonly kind: 'finite'; readonly neg: boolean; readonly mag: Dyadic };

const NAN: OracleValue = { kind: 'nan' };
function inf(neg: boolean): OracleValue {
  return { kind: 'inf', neg };
}
function finite(neg: boolean, mag: Dyadic): OracleValue {
  return { kind: 'finite', neg, mag };
}

/** The double holding an oracle value exactly (throws when none does). */
export function oracleToNumber(v: OracleValue): number {
  if (v.kind === 'nan') return NaN;
  if (v.kind === 'inf') return v.neg ? -Infinity : Infinity;
  return toDouble(v.neg, v.mag);
}

/** Exact comparison of a double with an oracle value: NaN only equals NaN, -0 differs from +0. */
export function matchesOracle(x: number, v: OracleValue): boolean {
  if (v.kind === 'nan') return Number.isNaN(x);
  if (Number.isNaN(x)) return false;
  if (v.kind === 'inf') return x === (v.neg ? -Infinity : Infinity);
  if (!Number.isFinite(x)) return false;
  const d = ofDouble(x);
  return d.neg === v.neg && cmp(d.mag, v.mag) === 0;
}

export function describeOracle(v: OracleValue): string {
  if (v.kind === 'nan') return 'NaN';
  if (v.kind === 'inf') return v.neg ? '-Inf' : '+Inf';
  return `${v.neg ? '-' : '+'}${v.mag.m}·2^${v.mag.e}`;
}

// ---------------------------------------------------------------------------
// Decoding, from the standards
// ---------------------------------------------------------------------------

/** IEEE-style float decode; `withSubnormals` false reads exponent-field-0 codes as zero. */
export function decodeFloat(s: FloatSpec, code: number, withSubnormals = s.subnormals): OracleValue {
  const E = s.exponentBits, M = s.mantissaBits;
  const c = BigInt(code);
  const neg = ((c >> BigInt(E + M)) & 1n) === 1n;
  const expAllOnes = 2 ** E - 1;
  const exp = Number((c >> BigInt(M)) & BigInt(expAllOnes));
  const manAllOnes = (1n << BigInt(M)) - 1n;
  const man = c & manAllOnes;
  switch (s.flavour) {
    case 'ieee':
      if (exp === expAllOnes) return man === 0n ? inf(neg) : NAN;
      break;
    case 'fn':
      if (exp === expAllOnes && man === manAllOnes) return NAN;
      break;
    case 'fnuz':
      if (neg && exp === 0 && man === 0n) return NAN;
      break;
    case 'none':
      break;
  }
  const zeroSign = neg && s.flavour !== 'fnuz';
  if (exp === 0) {
    if (man === 0n || !withSubnormals) return finite(zeroSign, ZERO);
    return finite(neg, dyadic(man, 1 - s.bias - M));
  }
  return finite(neg, dyadic((1n << BigInt(M)) | man, exp - s.bias - M));
}

/** W-bit two's complement (or unsigned) integer times 2^-F. */
export function decodeFixed(s: FixedSpec, code: number): OracleValue {
  const W = BigInt(s.width);
  let n = BigInt(code) & ((1n << W) - 1n);
  if (s.signed && n >= 1n << (W - 1n)) n -= 1n << W;
  return finite(n < 0n, dyadic(n < 0n ? -n : n, -s.fraction));
}

/** Posit Standard (2022) decoding, generalised to any es. */
export function decodePosit(n: number, es: number, code: number): OracleValue {
  let p = BigInt(code) & ((1n << BigInt(n)) - 1n);
  if (p === 0n) return finite(false, ZERO);
  const nar = 1n << BigInt(n - 1);
  if (p === nar) return NAN;
  const neg = p > nar;
  if (neg) p = (1n << BigInt(n)) - p; // two's complement negation
  const body = p.toString(2).padStart(n, '0').slice(1); // the n-1 bits after the sign
  const r0 = body[0];
  let run = 0;
  while (run < body.length && body[run] === r0) run++;
  const k = r0 === '1' ? run - 1 : -run;
  const rest = body.slice(run + 1); // after the terminating bit, if any
  const expBits = rest.slice(0, es).padEnd(es, '0'); // missing exponent bits are 0
  const fracBits = rest.slice(es);
  const ex = es === 0 ? 0 : parseInt(expBits, 2);
  const fb = fracBits.length;
  const f = fb > 0 ? BigInt(`0b${fracBits}`) : 0n;
  return finite(neg, dyadic((1n << BigInt(fb)) | f, k * 2 ** es + ex - fb));
}

/** bfp<W,B> element at scale 1: sign and W-1 magnitude bits weighing 2^-(W-2). */
export function decodeBfpElement(width: number, code: number): OracleValue {
  const signBit = 2 ** (width - 1);
  const mag = code % signBit;
  return finite(code >= signBit, dyadic(BigInt(mag), 2 - width));
}

export function decodeScalar(s: ScalarSpec, code: number): OracleValue {
  switch (s.family) {
    case 'float': return decodeFloat(s, code);
    case 'fixed': return decodeFixed(s, code);
    case 'posit': return decodePosit(s.width, s.es, code);
  }
}

export function scalarBits(s: ScalarSpec): number {
  return s.family === 'float' ? 1 + s.exponentBits + s.mantissaBits : s.width;
}

// ---------------------------------------------------------------------------
// Properties by enumeration
// ---------------------------------------------------------------------------

export interface OracleStats {
  /** Every distinct finite value, ascending, zero once (as +0). */
  readonly values: Float64Array;
  readonly maxFinite: number;
  /** Magnitude of the most negative finite value (0 for unsigned). */
  readonly minFinite: number;
  readonly minPositive: number;
  /** Floats: the smallest positive value of a code with a nonzero exponent field; others: minPositive. */
  readonly minNormal: number;
  readonly nans: number;
  readonly infinities: number;
  readonly zeroCodes: number;
  readonly subnormalCodes: number;
}

export function scalarStats(s: ScalarSpec): OracleStats {
  const bits = scalarBits(s);
  const seen = new Set<number>();
  let nans = 0, infinities = 0, zeroCodes = 0, subnormalCodes = 0;
  let minNormal = Infinity;
  for (let c = 0; c < 2 ** bits; c++) {
    const v = decodeScalar(s, c);
    if (v.kind === 'nan') { nans++; continue; }
    if (v.kind === 'inf') { infinities++; continue; }
    const x = oracleToNumber(v);
    if (x === 0) zeroCodes++;
    seen.add(x === 0 ? 0 : x);
    if (s.family === 'float') {
      const expField = Math.floor(c / 2 ** s.mantissaBits) % 2 ** s.exponentBits;
      if (expField === 0 && c % 2 ** s.mantissaBits !== 0 && s.subnormals) subnormalCodes++;
      if (expField !== 0 && x > 0) minNormal = Math.min(minNormal, x);
    }
  }
  const values = Float64Array.from([...seen].sort((a, b) => a - b));
  const positives = values.filter((v) => v > 0);
  const minPositive = positives[0];
  return {
    values,
    maxFinite: values[values.length - 1],
    minFinite: values[0] < 0 ? -values[0] : 0,
    minPositive,
    minNormal: s.family === 'float' ? minNormal : minPositive,
    nans, infinities, zeroCodes, subnormalCodes,
  };
}

// ---------------------------------------------------------------------------
// Rounding
// ---------------------------------------------------------------------------

export type OracleRounding = 'nearest' | 'nearest-away' | 'zero' | 'down' | 'up';
export const ORACLE_ROUNDINGS: readonly OracleRounding[] = ['nearest', 'nearest-away', 'zero', 'down', 'up'];

export interface OracleOptions {
  readonly rounding: OracleRounding;
  readonly overflow: 'format' | 'saturate';
  readonly subnormals: 'keep' | 'flush';
}

/** Every combination of rounding, overflow and subnormals. */
export const ALL_OPTIONS: readonly OracleOptions[] = ORACLE_ROUNDINGS.flatMap((rounding) =>
  (['format', 'saturate'] as const).flatMap((overflow) =>
    (['keep', 'flush'] as const).map((subnormals) => ({ rounding, overflow, subnormals }))));

/** A rounding result: the code (-1: any NaN code) and its exact value. */
export interface Rounded {
  readonly code: number;
  readonly value: number;
}

const NAN_RESULT: Rounded = { code: -1, value: NaN };

/**
 * A sorted table of a format's finite values with their codes and the exact
 * midpoints between neighbours, plus the value one step beyond each end.
 * `pick` returns the index of the chosen neighbour: 0..n-1, n (beyond the
 * top) or -1 (beyond the bottom).
 */
export class ValueTable {
  readonly vals: Float64Array;
  readonly codes: Int32Array;
  /** mids[i]: the exact tie point between vals[i] and vals[i+1]. */
  readonly mids: Float64Array;
  readonly midTop: number;
  readonly midBottom: number;

  /**
   * entries: (code, value) for every finite value; for duplicates the first
   * code wins (callers list the +0 code first). beyondTop/beyondBottom: the
   * next grid values past the ends (exact).
   */
  constructor(entries: readonly { code: number; value: Dyadic; neg: boolean }[], beyondTop: Dyadic, beyondBottom: { neg: boolean; mag: Dyadic }) {
    const byValue = new Map<number, { code: number; value: Dyadic; neg: boolean }>();
    for (const e of entries) {
      const x = toDouble(e.neg, e.value) + 0; // -0 → +0
      if (!byValue.has(x)) byValue.set(x, e);
    }
    const sorted = [...byValue.entries()].sort((a, b) => a[0] - b[0]);
    const n = sorted.length;
    this.vals = Float64Array.from(sorted.map((s) => s[0]));
    this.codes = Int32Array.from(sorted.map((s) => s[1].code));
    this.mids = new Float64Array(Math.max(0, n - 1));
    const signed = (e: { value: Dyadic; neg: boolean }): { neg: boolean; mag: Dyadic } => ({ neg: e.neg && e.value.m !== 0n, mag: e.value });
    for (let i = 0; i + 1 < n; i++) this.mids[i] = exactMid(signed(sorted[i][1]), signed(sorted[i + 1][1]));
    this.midTop = exactMid(signed(sorted[n - 1][1]), { neg: false, mag: beyondTop });
    this.midBottom = exactMid(beyondBottom, signed(sorted[0][1]));
  }

  get length(): number {
    return this.vals.length;
  }

  /** Index of the largest value <= x (x within [vals[0], vals[n-1]]). */
  floorIndex(x: number): number {
    const v = this.vals;
    let lo = 0, hi = v.length - 1;
    while (lo < hi) {
      const m = (lo + hi + 1) >> 1;
      if (v[m] <= x) lo = m;
      else hi = m - 1;
    }
    return lo;
  }

  pick(x: number, mode: OracleRounding): number {
    const v = this.vals, n = v.length;
    let lo: number, mid: number, loEven: boolean;
    if (x > v[n - 1]) {
      lo = n - 1; mid = this.midTop; loEven = (this.codes[n - 1] & 1) === 0;
    } else if (x < v[0]) {
      // Beyond the bottom: the value past the end has the opposite parity of the bottom code.
      lo = -1; mid = this.midBottom; loEven = (this.codes[0] & 1) !== 0;
    } else {
      lo = this.floorIndex(x);
      if (v[lo] === x) return lo;
      mid = this.mids[lo];
      loEven = (this.codes[lo] & 1) === 0;
    }
    const hi = lo + 1;
    const neg = x < 0;
    switch (mode) {
      case 'nearest': return x < mid ? lo : x > mid ? hi : loEven ? lo : hi;
      case 'nearest-away': return x < mid ? lo : x > mid ? hi : neg ? lo : hi;
      case 'zero': return neg ? hi : lo;
      case 'down': return lo;
      case 'up': return hi;
    }
  }
}

function exactMid(a: { neg: boolean; mag: Dyadic }, b: { neg: boolean; mag: Dyadic }): number {
  // (a + b) / 2 with signs, exactly.
  if (a.neg === b.neg) return toDouble(a.neg, half(add(a.mag, b.mag)));
  const [big, small, neg] = cmp(a.mag, b.mag) >= 0 ? [a.mag, b.mag, a.neg] : [b.mag, a.mag, b.neg];
  const e = Math.min(big.e, small.e);
  const m = (big.m << BigInt(big.e - e)) - (small.m << BigInt(small.e - e));
  return toDouble(neg, half(dyadic(m, e)));
}

export interface ScalarOracle {
  readonly spec: ScalarSpec;
  readonly bits: number;
  /** Rounds a finite or special double (a float32 or float64 input) into the format. */
  round(x: number, o: OracleOptions): Rounded;
}

interface TableFlags {
  readonly hasInf: boolean;
  readonly hasNaN: boolean;
  readonly signedZero: boolean;
  /** Results below this magnitude flush when flushing (0: never). */
  readonly minNormal: number;
  /** The format itself flushes (nosub). */
  readonly alwaysFlush: boolean;
  readonly negZeroCode: number;
  readonly posInfCode: number;
  readonly negInfCode: number;
}

/** Rounds onto a value table with IEEE-style overflow, signed zeros and flushing. */
export class TableOracle {
  constructor(readonly table: ValueTable, readonly flags: TableFlags) {}

  get max(): number {
    return this.table.vals[this.table.length - 1];
  }

  get min(): number {
    return this.table.vals[0];
  }

  private zero(neg: boolean): Rounded {
    return neg && this.flags.signedZero ? { code: this.flags.negZeroCode, value: -0 } : { code: 0, value: 0 };
  }

  private end(neg: boolean): Rounded {
    const t = this.table;
    const i = neg ? 0 : t.length - 1;
    return { code: t.codes[i], value: t.vals[i] };
  }

  private overflow(neg: boolean, saturate: boolean): Rounded {
    const f = this.flags;
    if (saturate || (!f.hasInf && !f.hasNaN)) return this.end(neg);
    if (f.hasInf) return neg ? { code: f.negInfCode, value: -Infinity } : { code: f.posInfCode, value: Infinity };
    return NAN_RESULT;
  }

  round(x: number, o: OracleOptions): Rounded {
    const f = this.flags;
    if (Number.isNaN(x)) return f.hasNaN ? NAN_RESULT : { code: 0, value: 0 };
    const neg = x < 0 || Object.is(x, -0);
    if (x === Infinity || x === -Infinity) {
      if (f.hasInf) return neg ? { code: f.negInfCode, value: x } : { code: f.posInfCode, value: x };
      return this.overflow(neg, o.overflow === 'saturate');
    }
    if (x === 0) return this.zero(neg);
    const t = this.table;
    const i = t.pick(x, o.rounding);
    if (i < 0 || i >= t.length) return this.overflow(neg, o.overflow === 'saturate');
    const v = t.vals[i];
    if (v === 0) return this.zero(neg);
    if ((o.subnormals === 'flush' || f.alwaysFlush) && Math.abs(v) < f.minNormal) return this.zero(neg);
    return { code: t.codes[i], value: v };
  }
}

/** IEEE-style floats: the table holds the grid with subnormals (a nosub format flushes after rounding). */
export class FloatOracle implements ScalarOracle {
  readonly bits: number;
  readonly inner: TableOracle;

  constructor(readonly spec: FloatSpec) {
    const E = spec.exponentBits, M = spec.mantissaBits;
    this.bits = 1 + E + M;
    const entries: { code: number; value: Dyadic; neg: boolean }[] = [];
    let posInf = -1, negInf = -1, negZero = -1, maxCode = -1, maxVal: Dyadic = ZERO;
    let minNormal: Dyadic | null = null;
    for (let c = 0; c < 2 ** this.bits; c++) {
      const v = decodeFloat(spec, c, true);
      if (v.kind === 'inf') { if (v.neg) negInf = c; else posInf = c; continue; }
      if (v.kind !== 'finite') continue;
      if (v.mag.m === 0n && v.neg) { negZero = c; continue; }
      entries.push({ code: c, value: v.mag, neg: v.neg });
      if (!v.neg && cmp(v.mag, maxVal) > 0) { maxVal = v.mag; maxCode = c; }
      const expField = Math.floor(c / 2 ** M) % 2 ** E;
      if (!v.neg && expField !== 0 && (minNormal === null || cmp(v.mag, minNormal) < 0)) minNormal = v.mag;
    }
    // The next grid value past the top: significand field max + 1 in the top binade (unbounded exponent).
    const maxExp = Math.floor(maxCode / 2 ** M) % 2 ** E;
    const maxMan = maxCode % 2 ** M;
    const beyond = dyadic(BigInt(2 ** M + maxMan + 1), maxExp - spec.bias - M);
    this.inner = new TableOracle(new ValueTable(entries, beyond, { neg: true, mag: beyond }), {
      hasInf: spec.flavour === 'ieee',
      hasNaN: spec.flavour !== 'none',
      signedZero: spec.flavour !== 'fnuz',
      minNormal: minNormal === null ? 0 : toDouble(false, minNormal),
      alwaysFlush: !spec.subnormals,
      negZeroCode: negZero,
      posInfCode: posInf,
      negInfCode: negInf,
    });
  }

  round(x: number, o: OracleOptions): Rounded {
    return this.inner.round(x, o);
  }
}

/** Fixed point, by exact integer rounding of x·2^F (BigInt). */
export class FixedOracle implements ScalarOracle {
  readonly bits: number;
  private readonly lo: bigint;
  private readonly hi: bigint;
  private readonly span: bigint;

  constructor(readonly spec: FixedSpec) {
    this.bits = spec.width;
    const W = BigInt(spec.width);
    this.span = 1n << W;
    this.lo = spec.signed ? -(1n << (W - 1n)) : 0n;
    this.hi = spec.signed ? (1n << (W - 1n)) - 1n : (1n << W) - 1n;
  }

  private result(n: bigint): Rounded {
    const code = Number(((n % this.span) + this.span) % this.span);
    const neg = n < 0n;
    return { code, value: toDouble(neg, dyadic(neg ? -n : n, -this.spec.fraction)) + 0 };
  }

  round(x: number, o: OracleOptions): Rounded {
    if (Number.isNaN(x)) return { code: 0, value: 0 };
    if (x === Infinity) return this.result(this.hi);
    if (x === -Infinity) return this.result(this.lo);
    if (x === 0) return this.result(0n);
    const fast = this.roundNumber(x, o);
    return fast ?? this.roundBigInt(x, o);
  }

  /**
   * The same rounding in doubles where that is provably exact: y = x·2^F is
   * a power-of-two scaling of a double, exact unless it overflows or leaves
   * the normal range (checked), and below 2^52 floor(y) and y - floor(y)
   * are exact (Sterbenz). Returns null outside that range.
   */
  roundNumber(x: number, o: OracleOptions): Rounded | null {
    const F = this.spec.fraction;
    const y = x * 2 ** F;
    // x is nonzero here; a y near or below the double's subnormal range may have lost bits.
    if (!(Math.abs(y) < 2 ** 52) || Math.abs(y) < 2 ** -1000) return null;
    const neg = x < 0;
    const a = Math.abs(y);
    const q = Math.floor(a);
    const r = a - q;
    let up: boolean;
    switch (o.rounding) {
      case 'nearest': up = r > 0.5 || (r === 0.5 && q % 2 === 1); break;
      case 'nearest-away': up = r >= 0.5; break;
      case 'zero': up = false; break;
      case 'down': up = neg && r > 0; break;
      case 'up': up = !neg && r > 0; break;
    }
    const mag = up ? q + 1 : q;
    let n = neg ? -mag : mag;
    const lo = Number(this.lo), hi = Number(this.hi), span = 2 ** this.spec.width;
    if (n < lo || n > hi) {
      if (this.spec.wrap && o.overflow === 'format') {
        n = ((n % span) + span) % span;
        if (n > hi) n -= span;
      } else n = n < lo ? lo : hi;
    }
    n += 0; // -0 → +0
    return { code: n < 0 ? n + span : n, value: n * 2 ** -F };
  }

  /** The rounding with BigInt integers, for any input. */
  roundBigInt(x: number, o: OracleOptions): Rounded {
    if (Number.isNaN(x)) return { code: 0, value: 0 };
    if (x === Infinity) return this.result(this.hi);
    if (x === -Infinity) return this.result(this.lo);
    if (x === 0) return this.result(0n);
    const { neg, mag } = ofDouble(x);
    let n = roundToInteger(neg, mag.m, mag.e + this.spec.fraction, o.rounding);
    if (n < this.lo || n > this.hi) {
      if (this.spec.wrap && o.overflow === 'format') {
        n = ((n % this.span) + this.span) % this.span;
        if (n > this.hi) n -= this.span;
      } else n = n < this.lo ? this.lo : this.hi;
    }
    return this.result(n);
  }
}

/** Rounds ±m·2^s to an integer with the mode; ties to even, or away from zero. */
export function roundToInteger(neg: boolean, m: bigint, s: number, mode: OracleRounding): bigint {
  let q: bigint;
  if (s >= 0) q = m << BigInt(s);
  else {
    const sh = BigInt(-s);
    q = m >> sh;
    const r = m - (q << sh);
    const halfUnit = 1n << (sh - 1n);
    let up: boolean;
    switch (mode) {
      case 'nearest': up = r > halfUnit || (r === halfUnit && (q & 1n) === 1n); break;
      case 'nearest-away': up = r >= halfUnit; break;
      case 'zero': up = false; break;
      case 'down': up = neg && r > 0n; break;
      case 'up': up = !neg && r > 0n; break;
    }
    if (up) q += 1n;
  }
  return neg ? -q : q;
}

/** The magnitude-wise direction of a mode for a sign. */
type MagMode = 'nearest' | 'away' | 'truncate' | 'extend';
function magMode(mode: OracleRounding, neg: boolean): MagMode {
  switch (mode) {
    case 'nearest': return 'nearest';
    case 'nearest-away': return 'away';
    case 'zero': return 'truncate';
    case 'down': return neg ? 'extend' : 'truncate';
    case 'up': return neg ? 'truncate' : 'extend';
  }
}

/**
 * Posits, the literal way: write the infinite bit string of |x| (regime,
 * es exponent bits, fraction), cut after n-1 bits and round on the pattern;
 * clamp to [minpos, maxpos]. Returns the code (NaR for NaN/Inf).
 */
export function positRoundBitString(n: number, es: number, x: number, mode: OracleRounding): number {
  const nar = 2 ** (n - 1);
  if (Number.isNaN(x) || !Number.isFinite(x)) return nar;
  if (x === 0) return 0;
  const { neg, mag } = ofDouble(x);
  const scale = floorLog2(mag);
  const useed = 2 ** es;
  const k = Math.floor(scale / useed);
  const ex = scale - k * useed;
  const regime = k >= 0 ? `${'1'.repeat(k + 1)}0` : `${'0'.repeat(-k)}1`;
  const expBits = es === 0 ? '' : ex.toString(2).padStart(es, '0');
  const L = bitLength(mag.m);
  const fracBits = L > 1 ? (mag.m - (1n << BigInt(L - 1))).toString(2).padStart(L - 1, '0') : '';
  const full = regime + expBits + fracBits;
  const cut = n - 1;
  let p: number, guard: boolean, sticky: boolean;
  if (full.length <= cut) {
    p = parseInt(full.padEnd(cut, '0'), 2);
    guard = false; sticky = false;
  } else {
    p = parseInt(full.slice(0, cut), 2);
    guard = full[cut] === '1';
    sticky = full.slice(cut + 1).includes('1');
  }
  let up: boolean;
  switch (magMode(mode, neg)) {
    case 'nearest': up = guard && (sticky || (p & 1) === 1); break;
    case 'away': up = guard; break;
    case 'truncate': up = false; break;
    case 'extend': up = guard || sticky; break;
  }
  if (up) p += 1;
  if (p === 0) p = 1; // never round a nonzero to zero
  if (p >= nar) p = nar - 1; // nor to NaR
  return neg ? 2 ** n - p : p;
}

/**
 * Posits, the table way (Posit Standard 2022 §4 wording): between the
 * neighbours u < w, compare |x| with v, the (n+1)-bit posit whose pattern is
 * u's followed by a 1; at v choose the even pattern. Directed modes pick u or
 * w. The oracle self-test checks this equals positRoundBitString.
 */
export class PositOracle implements ScalarOracle {
  readonly bits: number;
  /** Positive posit values by pattern 0..2^(n-1)-1. */
  readonly positive: Float64Array;
  /** Tie points: mids[p] = value of the (n+1)-bit pattern 2p+1. */
  readonly mids: Float64Array;
  readonly maxpos: number;
  readonly minpos: number;

  constructor(readonly spec: PositSpec) {
    const n = spec.width;
    this.bits = n;
    const count = 2 ** (n - 1);
    this.positive = new Float64Array(count);
    this.mids = new Float64Array(count);
    for (let p = 0; p < count; p++) {
      this.positive[p] = oracleToNumber(decodePosit(n, spec.es, p));
      this.mids[p] = oracleToNumber(decodePosit(n + 1, spec.es, 2 * p + 1));
    }
    this.maxpos = this.positive[count - 1];
    this.minpos = this.positive[1];
  }

  /** Value of a code (NaN for NaR). */
  valueOf(code: number): number {
    const n = this.bits;
    if (code === 2 ** (n - 1)) return NaN;
    return code < 2 ** (n - 1) ? this.positive[code] : -this.positive[2 ** n - code];
  }

  round(x: number, o: OracleOptions): Rounded {
    const n = this.bits;
    if (Number.isNaN(x) || !Number.isFinite(x)) return { code: 2 ** (n - 1), value: NaN };
    if (x === 0) return { code: 0, value: 0 };
    const neg = x < 0;
    const a = Math.abs(x);
    let p: number;
    if (a >= this.maxpos) p = 2 ** (n - 1) - 1;
    else if (a <= this.minpos) p = 1;
    else {
      const v = this.positive;
      let lo = 1, hi = v.length - 1; // v[lo] <= a < v[hi]
      while (hi - lo > 1) {
        const m = (lo + hi) >> 1;
        if (v[m] <= a) lo = m;
        else hi = m;
      }
      if (v[lo] === a) p = lo;
      else {
        const mid = this.mids[lo];
        switch (magMode(o.rounding, neg)) {
          case 'nearest': p = a < mid ? lo : a > mid ? hi : (lo & 1) === 0 ? lo : hi; break;
          case 'away': p = a < mid ? lo : hi; break;
          case 'truncate': p = lo; break;
          case 'extend': p = hi; break;
        }
      }
    }
    const code = neg ? 2 ** n - p : p;
    return { code, value: neg ? -this.positive[p] : this.positive[p] };
  }
}

export function scalarOracle(s: ScalarSpec): ScalarOracle {
  switch (s.family) {
    case 'float': return new FloatOracle(s);
    case 'fixed': return new FixedOracle(s);
    case 'posit': return new PositOracle(s);
  }
}

const oracleCache = new Map<string, ScalarOracle>();
/** The oracle for a scalar spec text (cached). */
export function oracleFor(spec: string): ScalarOracle {
  let o = oracleCache.get(spec);
  if (!o) {
    const s = parseSpec(spec);
    if (s.family === 'mx' || s.family === 'bfp') throw new Error(`${spec} is a block format`);
    o = scalarOracle(s);
    oracleCache.set(spec, o);
  }
  return o;
}

// ---------------------------------------------------------------------------
// Block formats
// ---------------------------------------------------------------------------

/** The element of a block format at scale 1, as a table with saturating rounding. */
function elementOracle(spec: BlockSpec): TableOracle {
  if (spec.family === 'mx' && spec.element.family === 'float') return new FloatOracle(spec.element).inner;
  const entries: { code: number; value: Dyadic; neg: boolean }[] = [];
  let bits: number;
  let decode: (c: number) => OracleValue;
  if (spec.family === 'mx') {
    const el = spec.element as FixedSpec;
    bits = el.width;
    decode = (c) => decodeFixed(el, c);
  } else {
    bits = spec.width;
    decode = (c) => decodeBfpElement(spec.width, c);
  }
  for (let c = 0; c < 2 ** bits; c++) {
    const v = decode(c);
    if (v.kind === 'finite') entries.push({ code: c, value: v.mag, neg: v.neg && v.mag.m !== 0n });
  }
  // Values past the ends (only tie parity would need them; elements saturate).
  const vals = entries.map((e) => toDouble(e.neg, e.value));
  const top = Math.max(...vals), bottom = Math.min(...vals);
  const step = ofDouble(vals.filter((v) => v > 0).reduce((a, b) => Math.min(a, b)));
  const beyondTop = add(ofDouble(top).mag, step.mag);
  const beyondBottom = add(ofDouble(bottom).mag, step.mag);
  return new TableOracle(new ValueTable(entries, beyondTop, { neg: true, mag: beyondBottom }), {
    hasInf: false, hasNaN: false, signedZero: false, minNormal: 0, alwaysFlush: false,
    negZeroCode: -1, posInfCode: -1, negInfCode: -1,
  });
}

export class BlockOracle {
  readonly element: TableOracle;
  readonly elementMax: number;
  readonly elementEmax: number;
  readonly elementMinPositive: number;
  readonly blockSize: number;
  readonly up: boolean;

  constructor(readonly spec: BlockSpec) {
    this.element = elementOracle(spec);
    this.elementMax = this.element.max;
    this.elementEmax = floorLog2(ofDouble(this.elementMax).mag);
    this.elementMinPositive = this.element.table.vals.filter((v) => v > 0)[0];
    this.blockSize = spec.blockSize;
    this.up = spec.family === 'mx' && spec.scaleRule === 'up';
  }

  /** The block's scale exponent k (NaN when it holds a NaN or an Inf). */
  scaleExponent(block: ArrayLike<number>): number {
    let amax = 0;
    for (let i = 0; i < block.length; i++) {
      const x = block[i];
      if (!Number.isFinite(x)) return NaN;
      amax = Math.max(amax, Math.abs(x));
    }
    if (amax === 0) return -127;
    let k: number;
    if (this.up) {
      // The smallest k with amax <= elementMax·2^k (exact: power-of-two scaling of doubles).
      k = floorLog2(ofDouble(amax).mag) - this.elementEmax - 2;
      while (amax > this.elementMax * 2 ** k) k++;
    } else {
      k = floorLog2(ofDouble(amax).mag) - this.elementEmax;
    }
    return Math.max(-127, Math.min(127, k));
  }

  /** Exact block quantization of src (values as doubles; NaN for a NaN scale). */
  quantize(src: ArrayLike<number>, o: OracleOptions): Float64Array {
    const out = new Float64Array(src.length);
    const sat: OracleOptions = { ...o, overflow: 'saturate' };
    for (let start = 0; start < src.length; start += this.blockSize) {
      const end = Math.min(src.length, start + this.blockSize);
      const block = Array.prototype.slice.call(src, start, end) as number[];
      const k = this.scaleExponent(block);
      for (let i = start; i < end; i++) {
        if (Number.isNaN(k)) { out[i] = NaN; continue; }
        let scaled = src[i] * 2 ** -k;
        if (src[i] !== 0 && Math.abs(scaled) < 2 ** -1000) {
          // x·2^-k underflows the double (float64 inputs only): every value strictly between 0
          // and half the element's smallest step rounds alike, so stand in with a quarter step.
          scaled = Math.sign(src[i]) * this.elementMinPositive / 4;
        } else if (scaled * 2 ** k !== src[i]) throw new Error('block oracle: inexact scaling');
        const r = this.element.round(scaled, sat).value;
        out[i] = r * 2 ** k;
      }
    }
    return out;
  }
}
