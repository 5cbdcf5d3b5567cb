/**
 * Deterministic float32 inputs for the cross-backend tests: random bit
 * patterns (NaN, Inf, subnormals and ±0 included) mixed with values
 * concentrated in a format's range, its grid points, the midpoints between
 * them (ties) and their float32 neighbours.
 */
import { f32Floor } from '../../src/formats/bits.js';
import { BlockFormat } from '../../src/formats/block.js';
import type { Format } from '../../src/formats/format.js';
import { PositFormat } from '../../src/formats/posit.js';
import type { ScalarFormat } from '../../src/formats/scalar.js';

import { Rng } from '../support/rng.js';

/** A string hash, to derive per-case seeds from names. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bitsOf(x: number): number { f32[0] = x; return u32[0]; }
function ofBits(b: number): number { u32[0] = b >>> 0; return f32[0]; }

/** Float32 patterns every format must see. */
export const SPECIAL_BITS: readonly number[] = [
  0x00000000, 0x80000000, // ±0
  0x7f800000, 0xff800000, // ±Inf
  0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fbfffff, 0x7fffffff, 0xffffffff, 0x7fc00001, // NaNs, quiet and signalling
  0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00400000, 0x00000003, // subnormals
  0x00800000, 0x80800000, 0x7f7fffff, 0xff7fffff, 0x3f800000, 0xbf800000, 0x3f000000, 0x3fc00000,
];

/** A float32 value with the given binade and a significand of `topBits` random bits (the rest zero, so ties are common). */
function valueIn(rng: Rng, e: number, topBits: number): number {
  const mantissa = topBits >= 23 ? rng.u32() & 0x7fffff : topBits <= 0 ? 0 : ((rng.u32() >>> (32 - topBits)) << (23 - topBits));
  const v = (1 + mantissa / 8388608) * 2 ** e;
  return Math.fround(v);
}

/** The float32 neighbour of x one unit in the last place up (dir 1) or down (dir -1) in magnitude. */
function nudge(x: number, dir: 1 | -1): number {
  const b = bitsOf(x);
  if ((b & 0x7fffffff) === 0 && dir < 0) return x;
  if ((b & 0x7fffffff) >= 0x7f800000) return x;
  return ofBits(b + dir);
}

function log2Floor(x: number): number {
  return Math.floor(Math.log2(x));
}

/** The exponent window [lo, hi] concentrated on: a few binades either side of the format's range, within float32. */
function rangeOf(minPositive: number, maxFinite: number): [number, number] {
  const lo = Math.max(-149, (minPositive > 0 ? log2Floor(minPositive) : -149) - 4);
  const hi = Math.min(127, (Number.isFinite(maxFinite) ? log2Floor(maxFinite) : 127) + 3);
  return [lo, Math.max(lo, hi)];
}

function gridSample(f: ScalarFormat, rng: Rng): number {
  // a decoded code of the format, so exact grid points and their neighbours appear
  const code = f.bits >= 32 ? rng.u32() : rng.int(0, 2 ** f.bits - 1);
  return f.decode(code);
}

/** Significand bits worth of randomness around the format's precision. */
function topBitsFor(f: Format | ScalarFormat, rng: Rng): number {
  let m: number;
  if (f instanceof PositFormat) m = Math.max(0, f.bits - 3);
  else if (f instanceof BlockFormat) m = f.element && f.element.spec.family === 'float' ? f.element.spec.mantissaBits : f.bits;
  else if (f.spec.family === 'float') m = f.spec.mantissaBits;
  else if (f.spec.family === 'posit') m = f.spec.width;
  else m = f.bits;
  const r = rng.u32() % 8;
  if (r === 0) return 23;
  if (r === 1) return 0;
  return Math.min(23, Math.max(0, m + rng.int(-1, 3)));
}

/** The kernels' tile: a tile whose lanes need no special case takes the vector fast path. */
export const TILE = 512;

/**
 * A value no rounding mode takes beyond the format's range: finite, at most
 * maxFinite in magnitude (within -minFinite..maxFinite), zero, or tiny.
 * Whole tiles of these keep the kernels on their fast path.
 */
function cleanValue(f: ScalarFormat, rng: Rng, lo: number): number {
  const r = rng.u32() % 8;
  let x: number;
  if (r === 0) x = 0;
  else if (r < 4) {
    const a = gridSample(f, rng);
    const b = gridSample(f, rng);
    x = Number.isFinite(a) && Number.isFinite(b) ? (rng.chance(0.5) ? a : (a + b) / 2) : 1;
  } else {
    const top = Number.isFinite(f.maxFinite) ? Math.min(127, log2Floor(f.maxFinite)) : 127;
    x = valueIn(rng, rng.int(lo, top), topBitsFor(f, rng));
    if (rng.chance(0.5)) x = -x;
  }
  x = Math.fround(x);
  if (!(x <= f.maxFinite)) x = Number.isFinite(f.maxFinite) && f.maxFinite < 3.4e38 ? f32Floor(f.maxFinite) : 1;
  if (!(x >= -f.minFinite)) x = f.minFinite === 0 ? 0 : -f32Floor(Math.min(f.minFinite, 3.4e38));
  return x;
}

/** n scalar inputs for a scalar format: tiles of mixed inputs, and every third tile clean (see cleanValue). */
export function scalarInputs(f: ScalarFormat, n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const [lo, hi] = rangeOf(f.minPositive, f.maxFinite);
  const edges = [f.maxFinite, -f.minFinite, f.minPositive, -f.minPositive, f.minNormal, f.minPositive / 2, f.maxFinite * 1.5, 1, -1, 0.5];
  let i = 0;
  for (const b of SPECIAL_BITS) if (i < n) bits[i++] = b;
  for (const v of edges) {
    for (const x of [Math.fround(v), nudge(Math.fround(v), 1), nudge(Math.fround(v), -1)]) if (i < n) out[i++] = x;
  }
  for (; i < n; i++) {
    if (Math.floor(i / TILE) % 3 === 1) {
      out[i] = cleanValue(f, rng, lo);
      continue;
    }
    const r = rng.u32() % 16;
    if (r < 4) {
      bits[i] = rng.u32(); // any pattern: NaN, Inf, subnormal, huge, tiny
    } else if (r < 11) {
      const v = valueIn(rng, rng.int(lo, hi), topBitsFor(f, rng));
      out[i] = rng.chance(0.5) ? -v : v;
    } else {
      // a grid point, a midpoint to a neighbour code (a tie), or a float32 neighbour of either
      const a = gridSample(f, rng);
      const b = gridSample(f, rng);
      let x = a;
      const k = rng.u32() % 5;
      if (k === 1 && Number.isFinite(a) && Number.isFinite(b)) x = a + (b - a) / 2 ** rng.int(1, 30);
      else if (k === 2) x = (a + f.decode((f.encode(a) + 1) % 2 ** f.bits)) / 2;
      const fx = Math.fround(x);
      const s = rng.u32() % 3;
      out[i] = s === 0 ? fx : s === 1 ? nudge(fx, 1) : nudge(fx, -1);
    }
  }
  return out;
}

/**
 * n inputs for a block format, laid out block by block so blocks see a
 * spread of scales: structured blocks around a random base binade (with
 * zeros, subnormals and ties), a few with NaN or Inf, all-zero ones, and
 * blocks of random bit patterns.
 */
export function blockInputs(f: BlockFormat, n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const K = f.blockSize;
  const elementValues = f.elementValues();
  let i = 0;
  for (let start = 0; start < n; start += K) {
    const end = Math.min(n, start + K);
    const kind = rng.u32() % 20;
    if (kind === 0) {
      for (i = start; i < end; i++) bits[i] = rng.u32();
      continue;
    }
    if (kind === 1) {
      for (i = start; i < end; i++) bits[i] = rng.chance(0.5) ? 0x80000000 : 0;
      continue;
    }
    const base = kind === 2 ? rng.int(-149, -120) : kind === 3 ? rng.int(110, 127) : rng.int(-140, 127);
    const spread = rng.int(0, 40);
    const onGrid = kind < 8;
    const k = base - f.params.elementEmax;
    for (i = start; i < end; i++) {
      const r = rng.u32() % 32;
      let x: number;
      if (r === 0) x = 0;
      else if (r === 1) x = ofBits(rng.int(1, 0x7fffff));
      else if (onGrid) {
        // element grid values and midpoints at the block's likely scale
        const a = elementValues[rng.int(0, elementValues.length - 1)];
        const b = elementValues[rng.int(0, elementValues.length - 1)];
        const v = rng.chance(0.5) ? a : (a + b) / 2;
        x = Math.fround(v * 2 ** Math.max(-149, Math.min(127, k)));
        if (rng.chance(0.2)) x = nudge(x, rng.chance(0.5) ? 1 : -1);
      } else {
        const e = Math.max(-149, base - rng.int(0, spread));
        x = valueIn(rng, e, topBitsFor(f, rng));
      }
      out[i] = rng.chance(0.5) ? -x : x;
    }
    if (kind === 4 && end > start) bits[rng.int(start, end - 1)] = [0x7fc00000, 0xff800000, 0x7f800000, 0x7f800001][rng.u32() % 4];
    if (kind === 5 && end > start) out[rng.int(start, end - 1)] = rng.chance(0.5) ? 3.4028234663852886e38 : -3.4028234663852886e38;
  }
  return out;
}

/** Inputs suited to any format. */
export function inputsFor(f: Format, n: number, seed: number): Float32Array {
  return f instanceof BlockFormat ? blockInputs(f, n, seed) : scalarInputs(f, n, seed);
}

export function hex(b: number): string {
  return `0x${(b >>> 0).toString(16).padStart(8, '0')}`;
}

export function f32Bits(x: number): number {
  return bitsOf(x);
}

/** The significands of powerOfTwoNeighbours, 1 first: ties and their neighbours at a few fraction widths. */
export const NEIGHBOUR_SIGNIFICANDS: readonly number[] = [1, 1 + 2 ** -23, 1.25, 1.5, 1.5 + 2 ** -23, 1.75, 2 - 2 ** -23];

/**
 * ±m·2^e as float32 for each exponent e in turn and each m of NEIGHBOUR_SIGNIFICANDS (positive, then negative):
 * powers of two, where a posit whose regime cut its exponent short has its ties, and values of few bits around them.
 */
export function powerOfTwoNeighbours(exponents: Iterable<number>): number[] {
  const out: number[] = [];
  for (const e of exponents) {
    for (const m of NEIGHBOUR_SIGNIFICANDS) {
      const v = Math.fround(m * 2 ** e);
      out.push(v, -v);
    }
  }
  return out;
}
