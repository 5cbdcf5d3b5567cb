/**
 * quantize from a Float64Array into a Float64Array (the reference kernels)
 * against the oracle, for inputs with more than 24 significant bits: random
 * doubles across and beyond each format's range, every tie point of the
 * format nudged by a relative 2^-50 either way, doubles beyond float32's range
 * and float64 subnormals. All rounding modes, overflow and subnormal settings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFormat, ScalarFormat } from '../../src/index.js';
import { parseSpec } from '../../src/formats/spec.js';
import { decisionPoints } from '../oracle/inputs.js';
import { ALL_OPTIONS, ORACLE_ROUNDINGS, type OracleOptions } from '../oracle/oracle.js';
import { Rng } from '../support/rng.js';
import { binade } from '../oracle/inputs.js';
import { assertClean, blockOracle, checkBlocks, checkQuantize, newTally } from './check.js';

const F64_SPECIALS = [
  0, -0, NaN, Infinity, -Infinity, 1e300, -1e300, 5e-324, -5e-324, 1e-310, -2.5e-320, 2 ** -1000, -(2 ** -1060),
  2.2250738585072014e-308, 3.4028235677973366e38,
  -3.4028235677973366e38, 1 + 2 ** -52, 1 - 2 ** -53,
];

/** A random double with a full 53-bit significand in binade [lo, hi]. */
function randomDouble(rng: Rng, lo: number, hi: number): number {
  const e = rng.int(lo, hi);
  const sig = 1 + rng.float(); // 53 random bits after the point (float() has 53)
  return (rng.u32() & 1 ? -1 : 1) * sig * 2 ** e;
}

function f64Inputs(spec: string, rng: Rng, random: number): Float64Array {
  const f = parseFormat(spec);
  assert.ok(f instanceof ScalarFormat);
  const s = parseSpec(spec);
  if (s.family === 'mx' || s.family === 'bfp') throw new Error('scalar expected');
  const xs: number[] = [...F64_SPECIALS];
  for (const p of decisionPoints(s)) {
    if (!Number.isFinite(p)) continue;
    xs.push(p, p * (1 + 2 ** -50), p * (1 - 2 ** -50));
  }
  const lo = binade(f.minPositive) - 3, hi = binade(f.maxFinite) + 3;
  for (let i = 0; i < random; i++) xs.push(randomDouble(rng, lo, hi));
  return Float64Array.from(xs);
}

test('Float64Array → Float64Array quantize equals the oracle (scalar formats)', () => {
  const t = newTally();
  const rng = new Rng(64);
  for (const spec of [
    'e4m3', 'e5m2', 'bf16', 'fp16', 'e2m1', 'e4m3fnuz', 'float<5,10,fnuz,nosub>', 'float<8,7,bias=143>', 'int8', 'uint16',
    'fixed<16,14>', 'fixed<12,6,wrap>', 'fixed<16,149>', 'posit16', 'posit<16,4>', 'posit<8,0>',
    // Grids whose finest step is 2^1 or coarser: tiny float64 inputs must still round up to the first step.
    'fixed<8,-96>', 'fixed<8,-1>', 'ufixed<6,-3,wrap>', 'float<6,3,fnuz,bias=-64>',
  ]) {
    const src = f64Inputs(spec, rng, 40000);
    // Every tie point under the five modes; the random part under all 20 option sets.
    checkQuantize(t, spec, src, ORACLE_ROUNDINGS.map((rounding): OracleOptions => ({ rounding, overflow: 'format', subnormals: 'keep' })), true);
    checkQuantize(t, spec, src.subarray(src.length - 40000), ALL_OPTIONS, true);
  }
  assertClean(t, 'float64 scalar');
  console.log(`float64 scalar: ${t.checked} roundings`);
});

test('tiny float64 inputs round away from zero to the first step in directed modes (fixed<8,-96>, blocks)', () => {
  // 5e-324 > 0, so rounding up gives the smallest positive value of the grid, never 0.
  const t = newTally();
  const src = Float64Array.of(5e-324, -5e-324, 1e-310, 2 ** -1000);
  for (const spec of ['fixed<8,-96>', 'fixed<8,-1>', 'int8', 'fixed<16,149>']) {
    checkQuantize(t, spec, src, ORACLE_ROUNDINGS.map((rounding): OracleOptions => ({ rounding, overflow: 'format', subnormals: 'keep' })), true);
  }
  // A block whose scale is pinned high by its first element.
  checkBlocks(t, 'mx<e4m3,block=2>', Float64Array.of(2 ** 100, 5e-324, -(2 ** 100), -5e-324), [{ rounding: 'up', overflow: 'format', subnormals: 'keep' }, { rounding: 'down', overflow: 'format', subnormals: 'keep' }], true);
  assertClean(t, 'tiny float64 inputs');
});

test('Float64Array → Float64Array quantize equals the oracle (block formats)', () => {
  const t = newTally();
  const rng = new Rng(65);
  for (const spec of ['mxfp8_e4m3', 'mxint8', 'mx<e2m1,scale=up>', 'bfp<8,16>', 'mxfp8_e5m2']) {
    const b = blockOracle(spec);
    const n = b.blockSize * 3000;
    const src = new Float64Array(n);
    for (let start = 0; start < n; start += b.blockSize) {
      const base = rng.int(0, 3) === 0 ? rng.int(-1074, 1023) : rng.int(-160, 140);
      for (let i = start; i < start + b.blockSize; i++) {
        src[i] = rng.int(0, 20) === 0 ? 0 : randomDouble(rng, Math.max(-1074, base - rng.int(0, 30)), base);
      }
    }
    src[5] = 5e-324;
    src[b.blockSize + 1] = NaN;
    checkBlocks(t, spec, src, ALL_OPTIONS.filter((o) => o.overflow === 'format'), true);
  }
  assertClean(t, 'float64 blocks');
  console.log(`float64 blocks: ${t.checked} elements`);
});
