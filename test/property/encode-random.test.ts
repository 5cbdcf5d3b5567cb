/**
 * At least 1,000,000 random float32 inputs per format family (float, fixed
 * point, posit, block), quantized with the js backend under every rounding
 * mode, overflow and subnormal setting, against the oracle. A third of the
 * inputs are uniformly random bit patterns (NaN, Inf, subnormals, anything),
 * a third random values whose binade lies in the format's range ± 3, and a
 * third the same with short mantissas, so that exact values and ties are
 * frequent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFormat, quantize, ScalarFormat } from '../../src/index.js';
import { describe, f32FromBits, same } from '../oracle/exact.js';
import { binade, randomF32InRange, SPECIALS, F32_MAX } from '../oracle/inputs.js';
import { ALL_OPTIONS, ORACLE_ROUNDINGS, oracleFor, type OracleOptions } from '../oracle/oracle.js';
import { Rng } from '../support/rng.js';
import { assertClean, blockOracle, checkBlocks, checkEncode, checkQuantize, needsF64, newTally, note, optText, type Tally } from './check.js';

const PER_FAMILY = 1_000_000;

/** Random float32 inputs for a scalar format: random bits, in-range values, in-range short mantissas. */
function scalarInputs(spec: string, n: number, rng: Rng): Float32Array {
  const f = parseFormat(spec);
  assert.ok(f instanceof ScalarFormat);
  const lo = binade(f.minPositive), hi = Math.min(127, binade(f.maxFinite));
  const m = f.spec.family === 'float' ? f.spec.mantissaBits : f.spec.family === 'fixed' ? f.spec.width : f.spec.width - 2;
  const out = new Float32Array(n);
  out.set(SPECIALS.slice(0, Math.min(n, SPECIALS.length)));
  for (let i = SPECIALS.length; i < n; i++) {
    switch (i % 3) {
      case 0: out[i] = f32FromBits(rng.u32()); break;
      case 1: out[i] = randomF32InRange(rng, Math.max(-149, lo), hi, 3); break;
      default: out[i] = randomF32InRange(rng, Math.max(-149, lo), hi, 3, Math.min(23, m + rng.int(1, 3))); break;
    }
  }
  return out;
}

/** Splits a family's budget over its formats, checks every option set, and encode() on a slice. */
function runFamily(specs: readonly string[], seed: number): Tally {
  const t = newTally();
  const rng = new Rng(seed);
  const per = Math.ceil(PER_FAMILY / specs.length);
  let inputs = 0;
  for (const spec of specs) {
    const src = scalarInputs(spec, per, rng);
    inputs += src.length;
    checkQuantize(t, spec, src, ALL_OPTIONS);
    checkEncode(t, spec, src.subarray(0, 20000), ALL_OPTIONS);
  }
  assert.ok(inputs >= PER_FAMILY, `${inputs} inputs`);
  return t;
}

test('random float32 inputs, float family (1M inputs, 20 option sets each)', () => {
  const t = runFamily([
    'fp16', 'bf16', 'e5m2', 'e4m3', 'e4m3fnuz', 'e5m2fnuz', 'e3m2', 'e2m3', 'e2m1', 'float<3,0,fn>', 'float<4,2,none,nosub>',
    'float<6,5,bias=40>', 'float<8,7,bias=143>', 'float<1,14,fn>', 'float<8,0,fnuz>', 'float<5,10,fnuz,nosub>',
  ], 1);
  assertClean(t, 'float family');
  console.log(`random floats: ${t.checked} roundings`);
});

test('random float32 inputs, fixed-point family (1M inputs, 20 option sets each)', () => {
  const t = runFamily([
    'int8', 'int16', 'uint8', 'uint16', 'fixed<16,14>', 'fixed<8,12>', 'fixed<12,6,wrap>', 'ufixed<8,2,wrap>',
    'fixed<8,-96>', 'fixed<16,149>', 'int<5,wrap>', 'ufixed<5,9>',
  ], 2);
  assertClean(t, 'fixed family');
  console.log(`random fixed: ${t.checked} roundings`);
});

test('random float32 inputs, posit family (1M inputs, every mode)', () => {
  const t = runFamily([
    'posit8', 'posit16', 'posit<8,0>', 'posit<16,0>', 'posit<12,1>', 'posit<16,3>', 'posit<16,4>', 'posit<10,4>',
    'posit<5,2>', 'posit<2,0>', 'posit<3,1>', 'posit<14,2>',
  ], 3);
  assertClean(t, 'posit family');
  console.log(`random posits: ${t.checked} roundings`);
});

test('posits beyond float32 overflow the float32 carrier the IEEE way (nearest float32 of the exact posit)', () => {
  // docs/design.md: posits whose range exceeds float32 are exact in a Float64Array and
  // overflow the float32 carrier the IEEE way.
  const t = newTally();
  const rng = new Rng(4);
  for (const spec of ['posit<16,4>', 'posit<12,4>', 'posit<10,4>']) {
    assert.ok(needsF64(spec));
    const o = oracleFor(spec);
    const src = scalarInputs(spec, 30000, rng);
    const dst = new Float32Array(src.length);
    for (const opt of ALL_OPTIONS.filter((x) => x.overflow === 'format' && x.subnormals === 'keep')) {
      quantize(src, dst, spec, { ...opt, backend: 'js' });
      for (let i = 0; i < src.length; i++) {
        const want = Math.fround(o.round(src[i], opt).value);
        if (!same(dst[i], want)) note(t, `${spec} ${optText(opt)} x=${describe(src[i])}: precis ${describe(dst[i])}, fround(oracle) ${describe(want)}`);
      }
      t.checked += src.length;
    }
  }
  assertClean(t, 'posit float32 carrier');
});

/**
 * Random blocks: each block draws a base binade (anywhere in float32, or
 * near the element's range, or at the float32 ends) and elements spread
 * 0..14 binades below it with random signs and mantissas (some short); some
 * blocks are random bit patterns (NaN/Inf poison them), some hold zeros.
 */
function blockInputs(spec: string, n: number, rng: Rng): Float32Array {
  const b = blockOracle(spec);
  const K = b.blockSize;
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += K) {
    const kind = rng.int(0, 9);
    const base = kind <= 3 ? rng.int(-149, 127) : kind <= 6 ? rng.int(-20, 20) : kind === 7 ? rng.int(120, 127) : rng.int(-149, -120);
    for (let i = start; i < Math.min(n, start + K); i++) {
      let x: number;
      if (kind === 9 && rng.int(0, 3) === 0) x = f32FromBits(rng.u32());
      else if (rng.int(0, 15) === 0) x = rng.int(0, 1) ? 0 : -0;
      else {
        const e = Math.max(-149, base - rng.int(0, 14));
        x = randomF32InRange(rng, e, e, 0, rng.int(0, 1) ? 23 : rng.int(1, 6));
      }
      out[i] = Math.abs(x) > F32_MAX ? Math.sign(x) * F32_MAX : x;
    }
  }
  return out;
}

test('random float32 inputs, block family: mxfp8_e4m3, mxint8, mx<e2m1,scale=up>, bfp<8,16> and more (1M inputs)', () => {
  const t = newTally();
  const rng = new Rng(5);
  const specs = ['mxfp8_e4m3', 'mxint8', 'mx<e2m1,scale=up>', 'bfp<8,16>', 'mxfp8_e5m2', 'mxfp6_e3m2', 'mx<e2m3,block=7>', 'mxfp4', 'bfp<4,5>'];
  const per = Math.ceil(PER_FAMILY / specs.length);
  let inputs = 0;
  for (const spec of specs) {
    const src = blockInputs(spec, per, rng);
    inputs += src.length;
    checkBlocks(t, spec, src, ALL_OPTIONS.filter((o) => o.overflow === 'format'));
  }
  assert.ok(inputs >= PER_FAMILY);
  assertClean(t, 'block family');
  console.log(`random blocks: ${t.checked} elements`);
});

test('blocks whose exact values pass 2^128 are exact in a Float64Array and overflow a Float32Array to ±Inf', () => {
  // mx<e2m1,scale=up>: amax in (1.5·2^127, 2^128) needs k = 126, and elements 3.5·2^126.. round to 4·2^126 = 2^128.
  // mxint8 (floor rule): the element -2 (code 0x80) at scale 2^127 is -2^128.
  // mx<e4m3,scale=up>: 3.35e38 needs k = 120 and rounds up to 256·2^120 = 2^128.
  const cases: [string, number[], OracleOptions, number][] = [
    ['mx<e2m1,scale=up>', [3.3e38], { rounding: 'nearest', overflow: 'format', subnormals: 'keep' }, 2 ** 128],
    ['mxint8', [-3.4e38], { rounding: 'down', overflow: 'format', subnormals: 'keep' }, -(2 ** 128)],
    ['mx<e4m3,scale=up>', [3.35e38], { rounding: 'up', overflow: 'format', subnormals: 'keep' }, 256 * 2 ** 120],
  ];
  for (const [spec, xs, opt, exact] of cases) {
    const src = Float32Array.from(xs);
    const o = blockOracle(spec).quantize(src, opt);
    assert.equal(o[0], exact, `${spec}: oracle`);
    const d64 = new Float64Array(1), d32 = new Float32Array(1);
    quantize(src, d64, spec, { ...opt, backend: 'js' });
    quantize(src, d32, spec, { ...opt, backend: 'js' });
    assert.equal(d64[0], exact, `${spec}: Float64Array dst holds the exact value`);
    assert.equal(d32[0], Math.sign(exact) * Infinity, `${spec}: Float32Array dst overflows`);
  }
});

test('block formats ignore the overflow option (elements always saturate)', () => {
  const t = newTally();
  const rng = new Rng(6);
  for (const spec of ['mxfp8_e5m2', 'mxfp8_e4m3', 'mxint8']) {
    const src = blockInputs(spec, 20000, rng);
    const sat: OracleOptions[] = ORACLE_ROUNDINGS.map((rounding) => ({ rounding, overflow: 'saturate', subnormals: 'flush' }));
    checkBlocks(t, spec, src, sat);
  }
  assertClean(t, 'block saturate option');
});
