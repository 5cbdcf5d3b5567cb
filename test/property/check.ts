/** Comparison of precis's quantize/encode with the oracle, collecting described mismatches. */
import assert from 'node:assert/strict';
import { parseFormat, quantize, ScalarFormat } from '../../src/index.js';
import { parseSpec } from '../../src/formats/spec.js';
import { positFitsF32 } from '../oracle/catalog.js';
import { describe, hex, same } from '../oracle/exact.js';
import { BlockOracle, oracleFor, type OracleOptions } from '../oracle/oracle.js';

export interface Tally {
  checked: number;
  failures: number;
  examples: string[];
}

export function newTally(): Tally {
  return { checked: 0, failures: 0, examples: [] };
}

export function note(t: Tally, msg: string): void {
  t.failures++;
  if (t.examples.length < 12) t.examples.push(msg);
}

export function assertClean(t: Tally, what: string): void {
  if (t.failures > 0) assert.fail(`${what}: ${t.failures} of ${t.checked} results differ from the oracle, e.g.\n  ${t.examples.join('\n  ')}`);
}

export function optText(o: OracleOptions): string {
  return `${o.rounding}/${o.overflow}/${o.subnormals}`;
}

/** True when a scalar format's values need the float64 carrier (posits beyond float32's range). */
export function needsF64(spec: string): boolean {
  const s = parseSpec(spec);
  return s.family === 'posit' && !positFitsF32(s.width, s.es);
}

/**
 * quantize(src → dst) with the js backend under each option set, against the
 * oracle's value for every element. dst is a Float32Array unless `f64`.
 */
export function checkQuantize(
  t: Tally, spec: string, src: Float32Array | Float64Array, options: readonly OracleOptions[], f64 = needsF64(spec),
): void {
  const o = oracleFor(spec);
  const n = src.length;
  const dst = f64 ? new Float64Array(n) : new Float32Array(n);
  for (const opt of options) {
    quantize(src, dst, spec, { ...opt, backend: 'js' });
    for (let i = 0; i < n; i++) {
      const want = o.round(src[i], opt).value;
      if (!same(dst[i], want)) note(t, `${spec} ${optText(opt)} x=${describe(src[i])}: precis ${describe(dst[i])}, oracle ${describe(want)}`);
    }
    t.checked += n;
  }
}

/** encode(x, options) codes against the oracle's codes (any NaN code where the oracle says NaN). */
export function checkEncode(t: Tally, spec: string, xs: ArrayLike<number>, options: readonly OracleOptions[]): void {
  const f = parseFormat(spec);
  assert.ok(f instanceof ScalarFormat);
  const o = oracleFor(spec);
  for (const opt of options) {
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      const want = o.round(x, opt);
      const got = f.encode(x, opt);
      const ok = want.code === -1 ? Number.isNaN(f.decode(got)) : got === want.code;
      if (!ok) note(t, `${spec} encode ${optText(opt)} x=${describe(x)}: precis ${hex(got, f.bits)}, oracle ${want.code === -1 ? 'NaN' : hex(want.code, f.bits)}`);
    }
    t.checked += xs.length;
  }
}

const blockOracles = new Map<string, BlockOracle>();
export function blockOracle(spec: string): BlockOracle {
  let b = blockOracles.get(spec);
  if (!b) {
    const s = parseSpec(spec);
    if (s.family !== 'mx' && s.family !== 'bfp') throw new Error(`${spec} is not a block format`);
    blockOracles.set(spec, (b = new BlockOracle(s)));
  }
  return b;
}

/** Block quantize (js backend) against the block oracle, element by element. */
export function checkBlocks(
  t: Tally, spec: string, src: Float32Array | Float64Array, options: readonly OracleOptions[], f64 = false,
): void {
  const b = blockOracle(spec);
  const n = src.length;
  const dst = f64 ? new Float64Array(n) : new Float32Array(n);
  for (const opt of options) {
    quantize(src, dst, spec, { ...opt, backend: 'js' });
    const exact = b.quantize(src, opt);
    // A float32 dst holds the nearest float32 of the exact block value: values of
    // 2^128 and beyond (scale 2^126..2^127 with large elements) become ±Inf, as
    // for posits beyond float32 (docs/design.md, "The carrier").
    const want = f64 ? exact : exact.map((v) => Math.fround(v));
    for (let i = 0; i < n; i++) {
      if (!same(dst[i], want[i])) {
        const start = i - (i % b.blockSize);
        const k = b.scaleExponent(Array.prototype.slice.call(src, start, Math.min(n, start + b.blockSize)) as number[]);
        note(t, `${spec} ${optText(opt)} element ${i} (block scale 2^${k}) x=${describe(src[i])}: precis ${describe(dst[i])}, oracle ${describe(want[i])}`);
      }
    }
    t.checked += n;
  }
}
