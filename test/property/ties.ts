/**
 * The tie-point check shared by encode-ties*.test.ts: every value of a
 * format, every tie point between neighbours (for posits also the (n+1)-bit
 * posit between them) with the float32 values just below and above it, the
 * overflow threshold and beyond, the bottom of the range and the specials.
 */
import assert from 'node:assert/strict';
import { parseFormat, ScalarFormat } from '../../src/index.js';
import { parseSpec } from '../../src/formats/spec.js';
import { decisionPoints, f32Around, SPECIALS, toF32Array } from '../oracle/inputs.js';
import { ALL_OPTIONS, ORACLE_ROUNDINGS, type OracleOptions } from '../oracle/oracle.js';
import { checkEncode, checkQuantize, type Tally } from './check.js';

export const DEFAULTS: readonly OracleOptions[] = ORACLE_ROUNDINGS.map((rounding) => ({ rounding, overflow: 'format', subnormals: 'keep' }));

export function tieInputs(spec: string): Float32Array {
  const s = parseSpec(spec);
  if (s.family !== 'float' && s.family !== 'fixed' && s.family !== 'posit') throw new Error('scalar expected');
  return toF32Array([...SPECIALS, ...f32Around(decisionPoints(s))]);
}

/**
 * The inputs where the overflow and subnormals options can matter: the
 * subnormal range and the top binades (floats), the last steps at each end
 * (fixed point), the clamped ends (posits).
 */
export function nearEnds(spec: string, xs: Float32Array, cap = Infinity): Float32Array {
  const f = parseFormat(spec);
  assert.ok(f instanceof ScalarFormat);
  const s = parseSpec(spec);
  const vals = f.values();
  const belowTop = vals[vals.length - 2], aboveBottom = vals[1];
  let keep: (x: number) => boolean;
  if (s.family === 'posit') {
    // The options do not apply to posits: a few points at each end show they are ignored.
    keep = (x) => Math.abs(x) <= 2 * f.minPositive || Math.abs(x) >= f.maxFinite / 2;
  } else {
    // Overflow can only happen past the last step; flushing only below the min normal.
    const smallest = s.family === 'float' ? f.minNormal : 4 * f.minPositive;
    keep = (x) => x >= belowTop || x <= aboveBottom || (-x >= belowTop && s.family === 'float') || Math.abs(x) <= smallest;
  }
  const out = xs.filter((x) => !Number.isFinite(x) || keep(x));
  if (out.length <= cap) return out;
  const stride = Math.ceil(out.length / cap);
  return out.filter((x, i) => i % stride === 0 || !Number.isFinite(x));
}

/**
 * 'full': every input under all 20 option sets, quantize and encode.
 * 'wide': every input under the five modes (quantize; encode for nearest and
 * down), and the inputs near the ends under all 20.
 * 'sampled': like 'wide' on a 1-in-`sample` deterministic sample of the
 * inputs, plus every input near the ends.
 */
export function checkTies(t: Tally, spec: string, level: 'full' | 'wide' | 'sampled', sample = 8): void {
  let all = tieInputs(spec);
  const ends = nearEnds(spec, all, level === 'sampled' ? 6000 : Infinity);
  if (level === 'full') {
    checkQuantize(t, spec, all, ALL_OPTIONS);
    checkEncode(t, spec, all, ALL_OPTIONS);
    return;
  }
  if (level === 'sampled') all = all.filter((_, i) => i % sample === 0);
  checkQuantize(t, spec, all, DEFAULTS);
  checkEncode(t, spec, all, [DEFAULTS[0], DEFAULTS[3]]);
  checkQuantize(t, spec, ends, ALL_OPTIONS);
  checkEncode(t, spec, ends, ALL_OPTIONS);
}
