/** Known properties of the formats, known codes, and rounding option validation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BlockFormat, FixedFormat, FloatFormat, OptionError, PositFormat, ROUNDINGS, UnsupportedError,
  blockScaleExponent, parseFormat, quantize, tryParseFormat, type Format, type RoundOptions,
} from '../../src/index.js';

function scalar(spec: string): FloatFormat | FixedFormat | PositFormat {
  const f = parseFormat(spec);
  assert.ok(!(f instanceof BlockFormat), `${spec} is a block format`);
  return f;
}

function block(spec: string): BlockFormat {
  const f = parseFormat(spec);
  assert.ok(f instanceof BlockFormat, `${spec} is not a block format`);
  return f;
}

interface Known {
  readonly maxFinite?: number;
  readonly minFinite?: number;
  readonly minPositive?: number;
  readonly minNormal?: number;
  readonly epsilon?: number;
  readonly finiteCount?: number;
  readonly bits?: number;
  readonly hasInf?: boolean;
  readonly hasNaN?: boolean;
}

const KNOWN: Record<string, Known> = {
  e4m3: { maxFinite: 448, minPositive: 2 ** -9, minNormal: 2 ** -6, epsilon: 2 ** -3, finiteCount: 253, bits: 8, hasInf: false, hasNaN: true },
  e5m2: { maxFinite: 57344, minPositive: 2 ** -16, minNormal: 2 ** -14, epsilon: 2 ** -2, finiteCount: 247, hasInf: true, hasNaN: true },
  fp16: { maxFinite: 65504, minPositive: 2 ** -24, minNormal: 2 ** -14, epsilon: 2 ** -10, finiteCount: 63487, bits: 16, hasInf: true },
  bf16: { maxFinite: (2 - 2 ** -7) * 2 ** 127, minPositive: 2 ** -133, minNormal: 2 ** -126, epsilon: 2 ** -7, bits: 16, finiteCount: 65536 - 2 * 127 - 2 - 1 },
  tf32: { maxFinite: (2 - 2 ** -10) * 2 ** 127, minPositive: 2 ** -136, minNormal: 2 ** -126, epsilon: 2 ** -10, bits: 19 },
  fp32: { maxFinite: 3.4028234663852886e38, minPositive: 2 ** -149, minNormal: 2 ** -126, epsilon: 2 ** -23, bits: 32 },
  e4m3fnuz: { maxFinite: 240, minPositive: 2 ** -10, minNormal: 2 ** -7, finiteCount: 255, hasInf: false, hasNaN: true },
  e5m2fnuz: { maxFinite: 57344, minPositive: 2 ** -17, minNormal: 2 ** -15, finiteCount: 255, hasInf: false, hasNaN: true },
  e2m1: { maxFinite: 6, minPositive: 0.5, minNormal: 1, epsilon: 0.5, finiteCount: 15, bits: 4, hasInf: false, hasNaN: false },
  e3m2: { maxFinite: 28, minPositive: 2 ** -4, minNormal: 0.25, finiteCount: 63, bits: 6, hasNaN: false },
  e2m3: { maxFinite: 7.5, minPositive: 2 ** -3, minNormal: 1, finiteCount: 63, bits: 6, hasNaN: false },
  'float<4,0,fn>': { maxFinite: 128, minPositive: 2 ** -6, minNormal: 2 ** -6, epsilon: 1 },
  'float<5,2,nosub>': { maxFinite: 57344, minPositive: 2 ** -14, minNormal: 2 ** -14, finiteCount: 256 - 6 - 2 - 2 - 6 + 1 },
  posit8: { maxFinite: 2 ** 24, minPositive: 2 ** -24, epsilon: 2 ** -3, finiteCount: 255, bits: 8, hasInf: false, hasNaN: true },
  'posit<16,1>': { maxFinite: 2 ** 28, minPositive: 2 ** -28, finiteCount: 65535 },
  'posit<8,0>': { maxFinite: 64, minPositive: 2 ** -6, epsilon: 2 ** -5 },
  posit16: { maxFinite: 2 ** 56, minPositive: 2 ** -56 },
  posit32: { maxFinite: 2 ** 120, minPositive: 2 ** -120, bits: 32 },
  'fixed<16,14>': { maxFinite: (2 ** 15 - 1) * 2 ** -14, minFinite: 2, minPositive: 2 ** -14, epsilon: 2 ** -14, finiteCount: 65536, hasInf: false, hasNaN: false },
  uint8: { maxFinite: 255, minFinite: 0, minPositive: 1, finiteCount: 256 },
  int8: { maxFinite: 127, minFinite: 128, minPositive: 1 },
  'int<32>': { maxFinite: 2 ** 31 - 1, minFinite: 2 ** 31, bits: 32 },
  'fixed<32,-96,wrap>': { maxFinite: (2 ** 31 - 1) * 2 ** 96, minFinite: 2 ** 127, minPositive: 2 ** 96 },
};

test('known properties of named and generic formats', () => {
  for (const [spec, want] of Object.entries(KNOWN)) {
    const f = scalar(spec);
    for (const [key, value] of Object.entries(want) as [keyof Known, number | boolean][]) {
      const got = f[key];
      assert.equal(got, value, `${spec}.${key}`);
    }
  }
});

test('fp16 code counts by kind', () => {
  assert.deepEqual(scalar('fp16').codeCounts(), { total: 65536, finiteValues: 63487, zeros: 2, subnormals: 2046, infinities: 2, nans: 2046 });
  assert.deepEqual(scalar('e4m3fnuz').codeCounts(), { total: 256, finiteValues: 255, zeros: 1, subnormals: 14, infinities: 0, nans: 1 });
});

test('dynamic range in binades', () => {
  assert.equal(scalar('posit8').dynamicRange, 48);
  assert.equal(scalar('posit<16,1>').dynamicRange, 56);
  assert.ok(Math.abs(scalar('e4m3').dynamicRange - (Math.log2(448) + 9)) < 1e-12);
  assert.ok(Math.abs(scalar('fp16').dynamicRange - (Math.log2(65504) + 24)) < 1e-12);
  assert.equal(scalar('e2m1').dynamicRange, Math.log2(12));
  assert.equal(scalar('uint8').dynamicRange, Math.log2(255));
  assert.equal(block('mxfp4').dynamicRange, Math.log2(6 * 2 ** 127 / 2 ** -128));
});

const SMALL_FORMATS = [
  'e4m3', 'e5m2', 'e4m3fnuz', 'e5m2fnuz', 'fp16', 'bf16', 'e2m1', 'e3m2', 'e2m3', 'float<4,0,fn>', 'float<5,2,nosub>',
  'float<3,0,none>', 'float<2,1,ieee>', 'float<1,1,fn>', 'float<1,0,none>', 'float<2,0,fnuz>', 'float<2,0,fn>',
  'fixed<8,3>', 'ufixed<8,3,wrap>', 'int8', 'uint8', 'fixed<16,14>', 'fixed<2,0>',
  'posit8', 'posit<8,0>', 'posit<16,1>', 'posit<5,3>', 'posit<2,0>', 'posit<3,1>', 'posit16',
];

test('values(): ascending, zero once, finiteCount long, from -minFinite to maxFinite, smallest positive minPositive', () => {
  for (const spec of SMALL_FORMATS) {
    const f = scalar(spec);
    const v = f.values();
    assert.equal(v.length, f.finiteCount, `${spec}: length`);
    for (let i = 1; i < v.length; i++) assert.ok(v[i] > v[i - 1], `${spec}: values()[${i}] = ${v[i]} not above ${v[i - 1]}`);
    assert.equal(v.filter((x) => x === 0).length, 1, `${spec}: zero once`);
    assert.equal(v[v.length - 1], f.maxFinite, `${spec}: largest value vs maxFinite`);
    assert.ok(v[0] === -f.minFinite, `${spec}: smallest value ${v[0]} vs -minFinite ${-f.minFinite}`);
    const firstPositive = v.find((x) => x > 0);
    assert.equal(firstPositive, f.minPositive, `${spec}: smallest positive value vs minPositive`);
    // every value is a fixed point of round()
    for (const x of v) assert.equal(f.round(x), x, `${spec}: round(${x})`);
  }
});

test('float<1,0,fn> (codes: ±0 and NaN only) is rejected, or its maxFinite is its largest value, 0', () => {
  // Its one exponent bit is taken by NaN, so no nonzero finite value remains; maxFinite must not claim 1.
  const r = tryParseFormat('float<1,0,fn>');
  if (r.error) return;
  const f = r.format;
  assert.ok(!(f instanceof BlockFormat));
  assert.deepEqual([...f.values()], [0]);
  assert.equal(f.maxFinite, 0, `maxFinite is ${f.maxFinite} (minPositive ${f.minPositive}), but values() is [0]`);
});

test('values() on formats wider than 16 bits throws UnsupportedError', () => {
  for (const spec of ['fp32', 'tf32', 'posit32', 'int<32>', 'posit<17,1>', 'fixed<24,8>']) {
    assert.throws(() => scalar(spec).values(), (e: unknown) => {
      assert.ok(e instanceof UnsupportedError, `${spec}: ${String(e)}`);
      assert.equal(e.code, 'E_UNSUPPORTED');
      assert.match(e.message, /16 bits/);
      assert.ok(e.hint.length > 0);
      return true;
    });
  }
  assert.equal(scalar('fixed<16,0>').values().length, 65536);
});

test('decode of known codes', () => {
  const e4m3 = scalar('e4m3');
  assert.equal(e4m3.decode(0x7e), 448);
  assert.equal(e4m3.decode(0xfe), -448);
  assert.ok(Number.isNaN(e4m3.decode(0x7f)));
  assert.ok(Number.isNaN(e4m3.decode(0xff)));
  assert.equal(e4m3.decode(0x78), 256);
  assert.equal(e4m3.decode(0x01), 2 ** -9);
  assert.equal(e4m3.decode(0x08), 2 ** -6);
  assert.ok(Object.is(e4m3.decode(0x80), -0));
  const e5m2 = scalar('e5m2');
  assert.equal(e5m2.decode(0x7c), Infinity);
  assert.equal(e5m2.decode(0xfc), -Infinity);
  assert.ok(Number.isNaN(e5m2.decode(0x7d)));
  assert.equal(e5m2.decode(0x7b), 57344);
  const fnuz = scalar('e4m3fnuz');
  assert.ok(Number.isNaN(fnuz.decode(0x80)));
  assert.equal(fnuz.decode(0x7f), 240);
  assert.equal(fnuz.decode(0xff), -240);
  const p8 = scalar('posit8');
  assert.equal(p8.decode(0x40), 1);
  assert.equal(p8.decode(0x7f), 2 ** 24);
  assert.equal(p8.decode(0x01), 2 ** -24);
  assert.equal(p8.decode(0xc0), -1);
  assert.equal(p8.decode(0xff), -(2 ** -24));
  assert.equal(p8.decode(0x00), 0);
  assert.ok(Number.isNaN(p8.decode(0x80)));
  assert.equal(p8.decode(0x48), 2); // 0 10 01 000: regime k = 0, exponent 1
  assert.equal(p8.decode(0x50), 4); // 0 10 10 000: exponent 2
  assert.equal(p8.decode(0x60), 16); // 0 110 00 00: regime k = 1, useed = 16
  assert.equal(p8.decode(0x44), 1.5); // 0 10 00 100: fraction .1
  assert.equal(scalar('posit<8,0>').decode(0x60), 2);
  const e2m1 = scalar('e2m1');
  assert.deepEqual([...Array(8).keys()].map((c) => e2m1.decode(c)), [0, 0.5, 1, 1.5, 2, 3, 4, 6]);
  assert.equal(scalar('fixed<8,3,wrap>').decode(0x80), -16);
  assert.equal(scalar('ufixed<8,3>').decode(0xff), 31.875);
});

test('encode of known values: ties to even, overflow to NaN, Inf or saturation', () => {
  const e4m3 = scalar('e4m3');
  assert.equal(e4m3.encode(448), 0x7e);
  assert.equal(e4m3.encode(464), 0x7e, '464 is the tie between 448 and 480: even mantissa');
  assert.equal(e4m3.encode(465), 0x7f, "465 rounds beyond 448: NaN with overflow 'format'");
  assert.equal(e4m3.encode(465, { overflow: 'saturate' }), 0x7e);
  assert.equal(e4m3.encode(-465, { overflow: 'saturate' }), 0xfe);
  assert.equal(e4m3.encode(Infinity), 0x7f);
  assert.equal(e4m3.encode(-Infinity, { overflow: 'saturate' }), 0xfe);
  assert.equal(e4m3.encode(465, { rounding: 'zero' }), 0x7e, 'toward zero never overflows');
  assert.equal(e4m3.encode(2 ** -10), 0x00, 'half the smallest subnormal ties to zero');
  assert.equal(e4m3.encode(1.5 * 2 ** -10), 0x01);
  assert.equal(e4m3.encode(-0), 0x80);
  assert.equal(e4m3.encode(NaN), 0x7f);

  const e5m2 = scalar('e5m2');
  assert.equal(e5m2.encode(Infinity), 0x7c);
  assert.equal(e5m2.encode(-Infinity), 0xfc);
  assert.equal(e5m2.encode(61440), 0x7c, '61440 ties between 57344 and 65536: rounds to the even code (Inf)');
  assert.equal(e5m2.encode(61439), 0x7b);
  assert.ok(Number.isNaN(e5m2.decode(e5m2.encode(NaN))));

  const fnuz = scalar('e4m3fnuz');
  assert.equal(fnuz.encode(-0), 0x00, 'FNUZ has no -0');
  assert.equal(fnuz.encode(NaN), 0x80);
  assert.equal(fnuz.encode(-(2 ** -12)), 0x00, 'a negative underflow is +0 in FNUZ');
  assert.equal(fnuz.encode(1000), 0x80);

  const fp16 = scalar('fp16');
  assert.equal(fp16.round(65520), Infinity);
  assert.equal(fp16.round(65519.99), 65504);
  assert.equal(fp16.round(65520, { rounding: 'zero' }), 65504);
  assert.equal(fp16.round(-65520, { rounding: 'up' }), -65504);
  assert.equal(fp16.round(-65520, { rounding: 'down' }), -Infinity);
  assert.equal(fp16.encode(2 ** -24), 0x0001);
  assert.equal(fp16.encode(2 ** -24, { subnormals: 'flush' }), 0x0000);
  assert.equal(fp16.encode(-(2 ** -24), { subnormals: 'flush' }), 0x8000);

  const p8 = scalar('posit8');
  assert.equal(p8.encode(1), 0x40);
  assert.equal(p8.encode(-1), 0xc0);
  assert.equal(p8.encode(1e30), 0x7f, 'above maxpos gives maxpos');
  assert.equal(p8.encode(1e-30), 0x01, 'a nonzero value never rounds to zero');
  assert.equal(p8.encode(-1e-30), 0xff);
  assert.equal(p8.encode(NaN), 0x80);
  assert.equal(p8.encode(Infinity), 0x80);
  assert.equal(p8.encode(0), 0x00);

  // M = 0: ties go to the even exponent field
  const m0 = scalar('float<4,0,fn>');
  assert.equal(m0.round(1.5), 2);
  assert.equal(m0.round(3), 2);
  assert.equal(m0.round(6), 8);
  assert.equal(m0.round(0.75), 0.5);

  assert.equal(scalar('fixed<8,3,wrap>').round(16), -16, 'wraps');
  assert.equal(scalar('fixed<8,3>').round(16), 15.875, 'saturates');
  assert.equal(scalar('ufixed<8,3,wrap>').round(-1), 31);
  assert.equal(scalar('ufixed<8,3>').round(-1), 0);
});

test('rounding modes on one tie and one non-tie', () => {
  const e4m3 = scalar('e4m3');
  const r = (x: number, o: RoundOptions & { random?: number }): number => e4m3.round(x, o);
  assert.equal(r(1.0625, { rounding: 'nearest' }), 1);
  assert.equal(r(1.0625, { rounding: 'nearest-away' }), 1.125);
  assert.equal(r(-1.0625, { rounding: 'nearest-away' }), -1.125);
  assert.equal(r(1.1875, { rounding: 'nearest' }), 1.25);
  assert.equal(r(1.1875, { rounding: 'zero' }), 1.125);
  assert.equal(r(-1.1875, { rounding: 'down' }), -1.25);
  assert.equal(r(-1.1875, { rounding: 'up' }), -1.125);
  assert.equal(r(1.1, { rounding: 'up' }), 1.125);
  assert.equal(r(1.1, { rounding: 'down' }), 1);
  // stochastic: P(up) = floor(frac · 2^R) / 2^R against the top R bits of the random word
  assert.equal(r(1.0625, { rounding: 'stochastic', random: 0 }), 1.125);
  assert.equal(r(1.0625, { rounding: 'stochastic', random: 0xffffffff }), 1);
  assert.equal(r(1.0625, { rounding: 'stochastic', randomBits: 1, random: 0x7fffffff }), 1.125);
  assert.equal(r(1.0625, { rounding: 'stochastic', randomBits: 1, random: 0x80000000 }), 1);
  assert.equal(r(1.125, { rounding: 'stochastic', random: 0 }), 1.125, 'exact values never move');
  assert.deepEqual([...ROUNDINGS], ['nearest', 'nearest-away', 'zero', 'down', 'up', 'stochastic']);
});

test('block formats: ranges and the shared scale', () => {
  const mxfp4 = block('mxfp4');
  assert.equal(mxfp4.blockSize, 32);
  assert.equal(mxfp4.bits, 4);
  assert.equal(mxfp4.maxFinite, 6 * 2 ** 127);
  assert.equal(mxfp4.minPositive, 2 ** -128);
  const p = mxfp4.params;
  assert.equal(blockScaleExponent(6, p), 0);
  assert.equal(blockScaleExponent(7, p), 0, "'floor' lets the block maximum clip");
  assert.equal(blockScaleExponent(7, block('mx<e2m1,scale=up>').params), 1, "'up' makes room for it");
  assert.equal(blockScaleExponent(6, block('mx<e2m1,scale=up>').params), 0);
  assert.equal(blockScaleExponent(0, p), -127);
  assert.ok(Number.isNaN(blockScaleExponent(NaN, p)));
  assert.ok(Number.isNaN(blockScaleExponent(Infinity, p)));
  assert.equal(blockScaleExponent(2 ** -200, p), -127);
  assert.equal(blockScaleExponent(2 ** 200, p), 127);
  assert.equal(block('mxfp8_e4m3').maxFinite, 448 * 2 ** 127);
  assert.equal(block('mxint8').element?.maxFinite, 127 / 64);
  const bfp = block('bfp<8,16>');
  assert.equal(bfp.maxFinite, (127 / 64) * 2 ** 127);
  assert.equal(bfp.minPositive, 2 ** -133);
  assert.equal(bfp.blockSize, 16);
  // one block: amax 6 in mxfp4 keeps the grid of e2m1
  const src = new Float32Array([6, 5, 0.7, -0.25, 0.2, 2.5, 3.5]);
  const dst = new Float32Array(src.length);
  quantize(src, dst, mxfp4, { backend: 'js' });
  assert.deepEqual([...dst], [6, 4, 0.5, -0, 0, 2, 4]);
});

function optionError(f: () => unknown, ...mentions: string[]): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof OptionError, `expected OptionError, got ${String(e)}`);
    assert.equal(e.code, 'E_OPTION');
    for (const m of mentions) assert.ok(e.message.includes(m), `'${e.message}' lacks '${m}'`);
    return true;
  });
}

test('rounding options are validated with OptionError', () => {
  const e4m3: Format = parseFormat('e4m3');
  const f = scalar('e4m3');
  const bad = (o: Record<string, unknown>): RoundOptions => o as RoundOptions;
  optionError(() => f.encode(1, bad({ rounding: 'bogus' })), 'bogus', 'nearest', 'stochastic');
  optionError(() => f.encode(1, bad({ rounding: 'Nearest' })), 'Nearest');
  optionError(() => f.encode(1, { rounding: 'stochastic', randomBits: 0 }), '0');
  optionError(() => f.encode(1, { rounding: 'stochastic', randomBits: 25 }), '25');
  optionError(() => f.encode(1, { rounding: 'stochastic', randomBits: 1.5 }), '1.5');
  optionError(() => f.encode(1, bad({ overflow: 'wrap' })), 'wrap', 'saturate');
  optionError(() => f.encode(1, bad({ subnormals: 'drop' })), 'drop', 'flush');
  const src = new Float32Array(4);
  optionError(() => quantize(src, new Float32Array(4), e4m3, bad({ rounding: 'bogus' })), 'bogus');
  optionError(() => quantize(src, new Float32Array(4), e4m3, { rounding: 'stochastic', seed: -1 }), 'seed');
  optionError(() => quantize(src, new Float32Array(4), e4m3, { rounding: 'stochastic', seed: 1.5 }), 'seed');
  optionError(() => quantize(src, new Float32Array(4), e4m3, { rounding: 'stochastic', seed: 2 ** 53 }), 'seed');
  optionError(() => quantize(src, new Float32Array(4), e4m3, { stream: -2 }), 'stream');
  optionError(() => quantize(src, new Float32Array(4), e4m3, { offset: NaN }), 'offset');
  optionError(() => quantize(src, new Float32Array(3), e4m3), 'dst');
  optionError(() => quantize(src, new Float32Array(4), e4m3, bad({ backend: 'gpu' })), 'gpu', 'native', 'wasm', 'js');
  // every valid value passes
  for (const rounding of ROUNDINGS) assert.equal(typeof f.encode(1, { rounding, randomBits: 1 }), 'number');
  assert.equal(typeof f.encode(1, { rounding: 'stochastic', randomBits: 24, overflow: 'saturate', subnormals: 'flush' }), 'number');
});
