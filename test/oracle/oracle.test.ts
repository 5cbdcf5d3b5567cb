/**
 * Self-checks of the oracle against facts quoted from the standards (hand
 * written, not computed by precis), so that agreement between precis and the
 * oracle means something.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/formats/spec.js';
import type { FloatSpec, PositSpec } from '../../src/formats/spec.js';
import { allPosits } from './catalog.js';
import { f32Bracket, f32FromBits, f32Neighbours } from './exact.js';
import {
  ALL_OPTIONS, BlockOracle, FixedOracle, ORACLE_ROUNDINGS, decodeFixed, decodeFloat, decodePosit, oracleFor, oracleToNumber,
  positRoundBitString, scalarStats, type OracleOptions, type OracleRounding,
} from './oracle.js';
import { Rng } from '../support/rng.js';

function floatSpec(s: string): FloatSpec {
  const p = parseSpec(s);
  assert.equal(p.family, 'float');
  return p as FloatSpec;
}

const dec = (spec: string, code: number): number => {
  const p = parseSpec(spec);
  if (p.family === 'float') return oracleToNumber(decodeFloat(p, code));
  if (p.family === 'fixed') return oracleToNumber(decodeFixed(p, code));
  if (p.family === 'posit') return oracleToNumber(decodePosit(p.width, p.es, code));
  throw new Error('block');
};

const opts = (rounding: OracleRounding, overflow: 'format' | 'saturate' = 'format', subnormals: 'keep' | 'flush' = 'keep'): OracleOptions =>
  ({ rounding, overflow, subnormals });

test('oracle: IEEE binary16 and bfloat16 facts (IEEE 754-2019 Table 3.5)', () => {
  assert.equal(dec('fp16', 0x7bff), 65504);
  assert.equal(dec('fp16', 0x0001), 2 ** -24);
  assert.equal(dec('fp16', 0x0400), 2 ** -14);
  assert.equal(dec('fp16', 0x3c00), 1);
  assert.equal(dec('fp16', 0x3c01), 1 + 2 ** -10);
  assert.equal(dec('fp16', 0xc000), -2);
  assert.equal(dec('fp16', 0x7c00), Infinity);
  assert.equal(dec('fp16', 0xfc00), -Infinity);
  assert.ok(Number.isNaN(dec('fp16', 0x7e00)));
  assert.ok(Object.is(dec('fp16', 0x8000), -0));
  assert.equal(dec('bf16', 0x7f7f), (2 - 2 ** -7) * 2 ** 127);
  assert.equal(dec('bf16', 0x0001), 2 ** -133);
  assert.equal(dec('bf16', 0x3f80), 1);
  const s = scalarStats(floatSpec('fp16'));
  assert.equal(s.nans, 2046);
  assert.equal(s.infinities, 2);
  assert.equal(s.values.length, 2 ** 16 - 2046 - 2 - 1);
});

test('oracle: OCP OFP8 E4M3 and E5M2 facts (OFP8 spec Table 1)', () => {
  assert.equal(dec('e4m3', 0x7e), 448);
  assert.ok(Number.isNaN(dec('e4m3', 0x7f)));
  assert.ok(Number.isNaN(dec('e4m3', 0xff)));
  assert.equal(dec('e4m3', 0x78), 256); // S.1111.000 is finite in E4M3
  assert.equal(dec('e4m3', 0x08), 2 ** -6);
  assert.equal(dec('e4m3', 0x01), 2 ** -9);
  assert.ok(Object.is(dec('e4m3', 0x80), -0));
  assert.equal(dec('e5m2', 0x7b), 57344);
  assert.equal(dec('e5m2', 0x7c), Infinity);
  assert.ok(Number.isNaN(dec('e5m2', 0x7d)));
  assert.equal(dec('e5m2', 0x04), 2 ** -14);
  assert.equal(dec('e5m2', 0x01), 2 ** -16);
  assert.equal(scalarStats(floatSpec('e4m3')).nans, 2);
  assert.equal(scalarStats(floatSpec('e5m2')).nans, 6);
});

test('oracle: FNUZ FP8 facts (bias 8 and 16, 0x80 the only NaN)', () => {
  assert.equal(dec('e4m3fnuz', 0x7f), 240);
  assert.equal(dec('e4m3fnuz', 0x01), 2 ** -10);
  assert.equal(dec('e4m3fnuz', 0x08), 2 ** -7);
  assert.ok(Number.isNaN(dec('e4m3fnuz', 0x80)));
  assert.equal(dec('e4m3fnuz', 0xff), -240);
  assert.equal(dec('e5m2fnuz', 0x7f), 57344);
  assert.equal(dec('e5m2fnuz', 0x01), 2 ** -17);
  const s = scalarStats(floatSpec('e4m3fnuz'));
  assert.equal(s.nans, 1);
  assert.equal(s.zeroCodes, 1);
  assert.equal(s.values.length, 255);
});

test('oracle: OCP MX element facts (MX v1.0 Tables 1-3)', () => {
  assert.equal(scalarStats(floatSpec('e3m2')).maxFinite, 28);
  assert.equal(scalarStats(floatSpec('e3m2')).minPositive, 0.0625);
  assert.equal(scalarStats(floatSpec('e2m3')).maxFinite, 7.5);
  assert.equal(scalarStats(floatSpec('e2m3')).minPositive, 0.125);
  assert.deepEqual([...scalarStats(floatSpec('e2m1')).values].filter((v) => v >= 0), [0, 0.5, 1, 1.5, 2, 3, 4, 6]);
});

test('oracle: MXINT8 element is two\'s complement times 2^-6, max 127/64 (MX v1.0 §5.3)', () => {
  const b = new BlockOracle(parseSpecBlock('mxint8'));
  assert.equal(b.elementMax, 127 / 64);
  assert.equal(b.element.min, -2);
  assert.equal(b.elementEmax, 0);
  const e4 = new BlockOracle(parseSpecBlock('mxfp8_e4m3'));
  assert.equal(e4.elementEmax, 8); // emax of E4M3 (OCP MX Table 2)
  assert.equal(new BlockOracle(parseSpecBlock('mxfp8_e5m2')).elementEmax, 15);
  assert.equal(new BlockOracle(parseSpecBlock('mxfp4')).elementEmax, 2);
});

function parseSpecBlock(s: string): import('../../src/formats/spec.js').BlockSpec {
  const p = parseSpec(s);
  if (p.family !== 'mx' && p.family !== 'bfp') throw new Error(`${s} is not a block format`);
  return p;
}

test('oracle: fixed point and integer facts', () => {
  assert.equal(dec('int8', 0x80), -128);
  assert.equal(dec('int8', 0x7f), 127);
  assert.equal(dec('uint8', 0xff), 255);
  assert.equal(dec('fixed<16,14>', 0x4000), 1);
  assert.equal(dec('fixed<16,14>', 0x8000), -2);
  assert.equal(dec('fixed<4,-3>', 0x7), 56);
  assert.equal(dec('ufixed<5,9>', 0x1f), 31 / 512);
});

test('oracle: posit facts (Posit Standard 2022 examples)', () => {
  // posit<8,0>
  assert.equal(dec('posit<8,0>', 0x40), 1);
  assert.equal(dec('posit<8,0>', 0x60), 2);
  assert.equal(dec('posit<8,0>', 0x50), 1.5);
  assert.equal(dec('posit<8,0>', 0x7f), 64);
  assert.equal(dec('posit<8,0>', 0x01), 1 / 64);
  assert.equal(dec('posit<8,0>', 0xc0), -1);
  assert.ok(Number.isNaN(dec('posit<8,0>', 0x80)));
  // posit8 = posit<8,2>: maxpos 2^24, minpos 2^-24, 0x48 = 1 + 1/2... 0b0100_1000: k=0, e=01, f=000 → 2
  assert.equal(dec('posit8', 0x7f), 2 ** 24);
  assert.equal(dec('posit8', 0x01), 2 ** -24);
  assert.equal(dec('posit8', 0x48), 2);
  assert.equal(dec('posit8', 0x41), 1 + 1 / 8);
  // Missing exponent bits read as 0: 0b0111_1110 in posit<8,2> is regime k=5, no exponent bits: 2^20.
  assert.equal(dec('posit8', 0x7e), 2 ** 20);
  // posit16 (es = 2): maxpos 2^56, minpos 2^-56
  assert.equal(dec('posit16', 0x7fff), 2 ** 56);
  assert.equal(dec('posit16', 0x0001), 2 ** -56);
  assert.equal(dec('posit16', 0x4000), 1);
  // posit<3,0>: 0, 0.5, 1, 2 and negatives
  assert.deepEqual([0, 1, 2, 3].map((c) => dec('posit<3,0>', c)), [0, 0.5, 1, 2]);
});

test('oracle: rounding facts from the standards', () => {
  const e4m3 = oracleFor('e4m3');
  assert.equal(e4m3.round(464, opts('nearest')).value, 448);
  assert.ok(Number.isNaN(e4m3.round(465, opts('nearest')).value));
  assert.equal(e4m3.round(465, opts('nearest', 'saturate')).value, 448);
  assert.equal(e4m3.round(1e9, opts('zero')).value, 448);
  const fp16 = oracleFor('fp16');
  assert.equal(fp16.round(65519.99609375, opts('nearest')).value, 65504);
  assert.equal(fp16.round(65520, opts('nearest')).value, Infinity); // IEEE 754 §7.4 threshold
  assert.equal(fp16.round(65520, opts('zero')).value, 65504);
  assert.equal(fp16.round(-65520, opts('up')).value, -65504);
  assert.equal(fp16.round(-65520, opts('down')).value, -Infinity);
  assert.equal(fp16.round(1 + 2 ** -11, opts('nearest')).value, 1); // tie to even
  assert.equal(fp16.round(1 + 3 * 2 ** -11, opts('nearest')).value, 1 + 2 ** -9);
  assert.equal(fp16.round(1 + 2 ** -11, opts('nearest-away')).value, 1 + 2 ** -10);
  assert.ok(Object.is(fp16.round(-(2 ** -26), opts('nearest')).value, -0));
  assert.equal(fp16.round(2 ** -25, opts('nearest')).value, 0); // tie between 0 and minsub → 0 (even)
  assert.equal(fp16.round(2 ** -25 + 2 ** -40, opts('nearest')).value, 2 ** -24);
  assert.equal(fp16.round(2 ** -14 - 2 ** -25, opts('nearest', 'format', 'flush')).value, 2 ** -14); // rounds first, then flush
  assert.equal(fp16.round(2 ** -14 - 2 ** -24, opts('nearest', 'format', 'flush')).value, 0);
  const fnuz = oracleFor('e4m3fnuz');
  assert.ok(Object.is(fnuz.round(-1e-9, opts('nearest')).value, 0));
  assert.ok(Number.isNaN(fnuz.round(248, opts('nearest')).value));
  assert.equal(fnuz.round(247, opts('nearest')).value, 240);
  const int8 = oracleFor('int8');
  assert.equal(int8.round(2.5, opts('nearest')).value, 2);
  assert.equal(int8.round(-2.5, opts('nearest')).value, -2);
  assert.equal(int8.round(-2.5, opts('nearest-away')).value, -3);
  assert.equal(int8.round(-2.5, opts('down')).value, -3);
  assert.equal(int8.round(1000, opts('nearest')).value, 127);
  assert.equal(int8.round(-1000, opts('nearest')).value, -128);
  const wrap = oracleFor('fixed<8,0,wrap>');
  assert.equal(wrap.round(128, opts('nearest')).value, -128);
  assert.equal(wrap.round(1000.3, opts('nearest')).value, 1000 - 1024);
  assert.equal(wrap.round(1000.3, opts('nearest', 'saturate')).value, 127);
  // posit8: bit-string rounding differs from nearest-by-value where exponent bits are cut.
  const p8 = oracleFor('posit8');
  assert.equal(p8.round(2 ** 22, opts('nearest')).value, 2 ** 20); // tie pattern 0111_1110|1 → even
  assert.equal(p8.round(2 ** 23, opts('nearest')).value, 2 ** 24); // above the (n+1)-bit midpoint 2^22
  assert.equal(p8.round(2 ** 30, opts('nearest')).value, 2 ** 24);
  assert.equal(p8.round(2 ** -30, opts('nearest')).value, 2 ** -24);
  assert.equal(p8.round(-(2 ** -30), opts('zero')).value, -(2 ** -24));
  assert.equal(positRoundBitString(8, 2, 2 ** 23, 'nearest'), 0x7f);
  assert.equal(positRoundBitString(8, 2, 2 ** 22, 'nearest'), 0x7e);
  assert.equal(positRoundBitString(8, 2, -(2 ** 40), 'nearest'), 0x81);
});

test('oracle: MX scale rules (OCP MX v1.0 §6.3) and the up rule', () => {
  const mx = new BlockOracle(parseSpecBlock('mxfp8_e4m3'));
  assert.equal(mx.scaleExponent([1]), -8);
  assert.equal(mx.scaleExponent([448]), 0);
  assert.equal(mx.scaleExponent([500]), 0);
  assert.equal(mx.scaleExponent([0, -0]), -127);
  assert.equal(mx.scaleExponent([2 ** -140]), -127);
  assert.ok(Number.isNaN(mx.scaleExponent([1, Infinity])));
  const up = new BlockOracle(parseSpecBlock('mx<e4m3,scale=up>'));
  assert.equal(up.scaleExponent([448]), 0);
  assert.equal(up.scaleExponent([449]), 1);
  assert.equal(up.scaleExponent([256]), 0);
  assert.equal(up.scaleExponent([224]), -1);
  const q = mx.quantize([500, 1, -0], opts('nearest'));
  assert.deepEqual([...q], [448, 1, -0]);
});

test('oracle: posit table rounding equals literal bit-string rounding', () => {
  const rng = new Rng(12345);
  let checked = 0;
  for (const spec of allPosits()) {
    const s = parseSpec(spec) as PositSpec;
    const o = oracleFor(spec);
    const inputs: number[] = [];
    // Every (n+1)-bit posit value (tie points and values), their float32 neighbours, and random values.
    // All codes of the (n+1)-bit posit for small n, an evenly spread sample for large n.
    const total = 2 ** s.width;
    const stride = Math.max(1, Math.floor(total / 1024));
    for (let c0 = 0; c0 < total; c0 += stride) {
      const c = Math.min(total - 1, c0 + (stride > 1 ? rng.int(0, stride - 1) : 0));
      const v = oracleToNumber(decodePosit(s.width + 1, s.es, c));
      if (!Number.isFinite(v)) continue;
      inputs.push(v);
      const [lo, hi] = f32Bracket(v);
      const [a, b] = f32Neighbours(lo === v ? v : lo);
      inputs.push(lo, hi, a, b, v * (1 + 2 ** -40), v * (1 - 2 ** -40));
    }
    for (let i = 0; i < 200; i++) inputs.push(f32FromBits(rng.u32()));
    for (const x of inputs) {
      for (const r of ORACLE_ROUNDINGS) {
        const a = positRoundBitString(s.width, s.es, x, r);
        const b = o.round(x, opts(r)).code;
        if (a !== b) assert.fail(`${spec} ${r} x=${x}: bit string ${a}, table ${b}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 1_000_000, `checked ${checked}`);
  console.log(`posit bit-string vs table: ${checked} roundings agree`);
});

test('oracle: fixed point rounding in doubles equals the BigInt rounding', () => {
  const rng = new Rng(777);
  let checked = 0;
  for (const spec of ['int8', 'uint16', 'fixed<16,14>', 'fixed<8,-96>', 'fixed<16,149>', 'fixed<12,6,wrap>', 'ufixed<8,2,wrap>', 'int<5,wrap>']) {
    const o = oracleFor(spec) as FixedOracle;
    for (let i = 0; i < 20000; i++) {
      const e = rng.int(-150, 127);
      let x = f32FromBits(rng.u32());
      if (i % 2) x = Math.fround((rng.float() * 2 - 1) * 2 ** e);
      if (i % 3 === 0) x = Math.fround(Math.round(x * 2 ** rng.int(0, 12)) / 2 ** rng.int(0, 12));
      if (i % 5 === 0) x = (rng.float() - 0.5) * 2 ** rng.int(-1074, 1023); // float64 inputs, subnormals included
      if (!Number.isFinite(x)) continue;
      for (const opt of ALL_OPTIONS) {
        const a = o.roundNumber(x, opt), b = o.roundBigInt(x, opt);
        if (a === null) continue;
        if (a.code !== b.code || !Object.is(a.value, b.value)) assert.fail(`${spec} ${opt.rounding}/${opt.overflow} x=${x}: ${a.code}/${a.value} vs ${b.code}/${b.value}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 1_000_000);
  // The double path must step aside where x·2^F underflows (float64 inputs).
  assert.equal((oracleFor('fixed<8,-96>') as FixedOracle).roundNumber(5e-324, opts('up')), null);
  assert.equal(oracleFor('fixed<8,-96>').round(5e-324, opts('up')).value, 2 ** 96);
});

test('oracle: ALL_OPTIONS has 20 combinations', () => {
  assert.equal(ALL_OPTIONS.length, 20);
});
