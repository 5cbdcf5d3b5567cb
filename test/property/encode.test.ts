/**
 * encode and quantize against the oracle: the round trip encode(decode(b)) = b
 * for every code of every format up to 16 bits, named boundary facts from the
 * standards, and block formats at their elements' tie points. The tie points
 * of the scalar formats are in encode-ties*.test.ts, random inputs in
 * encode-random.test.ts, float64 arrays in encode-f64.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockFormat, FormatSpecError, parseFormat, quantize, ScalarFormat } from '../../src/index.js';
import { allScalarSpecs, BFP_SPECS, MX_SPECS } from '../oracle/catalog.js';
import { describe, f32Bracket, f32Neighbours, hex, isF32 } from '../oracle/exact.js';
import { toF32Array } from '../oracle/inputs.js';
import {
  ALL_OPTIONS, ORACLE_ROUNDINGS, oracleFor, type OracleOptions,
} from '../oracle/oracle.js';
import { assertClean, blockOracle, checkBlocks, newTally, note, type Tally } from './check.js';

const DEFAULTS: readonly OracleOptions[] = ORACLE_ROUNDINGS.map((rounding) => ({ rounding, overflow: 'format', subnormals: 'keep' }));
const ROUND_TRIP_OPTIONS: readonly OracleOptions[] = [
  ...DEFAULTS.filter((o) => o.rounding !== 'nearest-away'), { rounding: 'nearest', overflow: 'saturate', subnormals: 'keep' },
];

const SPECS = allScalarSpecs();

test('encode: every code round-trips, encode(decode(b)) = b (zeros to the canonical zero of their sign)', () => {
  const t = newTally();
  for (const spec of SPECS) {
    const f = parseFormat(spec);
    assert.ok(f instanceof ScalarFormat);
    const o = oracleFor(spec);
    const bits = oracleFor(spec).bits;
    for (let c = 0; c < 2 ** bits; c++) {
      const v = f.decode(c);
      if (Number.isNaN(v)) continue;
      for (const opt of ROUND_TRIP_OPTIONS) {
        const got = f.encode(v, opt);
        // A nonzero value has one code; a zero read from a flushed subnormal code goes to the zero code of its sign.
        const want = v === 0 ? o.round(v, opt).code : c;
        if (got !== want) note(t, `${spec} ${opt.rounding}/${opt.overflow}: encode(decode(${hex(c, bits)}) = ${describe(v)}) = ${hex(got, bits)}, want ${hex(want, bits)}`);
        t.checked++;
      }
    }
    if (f.hasNaN) assert.ok(Number.isNaN(f.decode(f.encode(NaN))), `${spec}: encode(NaN) is a NaN code`);
  }
  assertClean(t, 'round trip');
  console.log(`round trip: ${t.checked} encodes`);
});

test('encode: the canonical zero codes are the all-zero code and (with -0) the sign-bit code', () => {
  for (const spec of ['fp16', 'e4m3', 'e3m2', 'bf16', 'float<5,2,nosub>']) {
    const f = parseFormat(spec);
    assert.ok(f instanceof ScalarFormat);
    assert.equal(f.encode(0), 0, `${spec} +0`);
    assert.equal(f.encode(-0), 2 ** (f.bits - 1), `${spec} -0`);
  }
  for (const spec of ['e4m3fnuz', 'e5m2fnuz', 'int8', 'uint8', 'fixed<16,14>', 'posit8', 'posit<16,0>']) {
    const f = parseFormat(spec);
    assert.ok(f instanceof ScalarFormat);
    assert.equal(f.encode(-0), 0, `${spec} -0 has no code of its own`);
  }
});

test('quantize: named boundary facts (IEEE 754, OFP8, MX, posit)', () => {
  const q = (spec: string, x: number, o: Partial<OracleOptions> = {}): number => {
    const dst = new Float32Array(1);
    quantize(Float32Array.of(x), dst, spec, { ...o, backend: 'js' });
    return dst[0];
  };
  // OFP8 E4M3: max 448; 464 is the tie with the next step (480, the NaN code): to the even code 0x7E.
  assert.equal(q('e4m3', 464), 448);
  assert.ok(Number.isNaN(q('e4m3', 465)));
  assert.equal(q('e4m3', 465, { overflow: 'saturate' }), 448);
  assert.ok(Number.isNaN(q('e4m3', Infinity)));
  assert.equal(q('e4m3', Infinity, { overflow: 'saturate' }), 448);
  assert.equal(q('e4m3', -1e6, { rounding: 'up' }), -448);
  assert.ok(Number.isNaN(q('e4m3', -1e6, { rounding: 'down' })));
  // E4M3 FNUZ: max 240, 248 is the tie with 256 and 0x7F is odd: it overflows.
  assert.ok(Number.isNaN(q('e4m3fnuz', 248)));
  assert.equal(q('e4m3fnuz', 247.99998474121094), 240);
  assert.ok(Object.is(q('e4m3fnuz', -1e-10), 0));
  // E5M2 and binary16: IEEE overflow threshold max + ulp/2.
  assert.equal(q('e5m2', 61439.99609375), 57344);
  assert.equal(q('e5m2', 61440), Infinity);
  assert.equal(q('fp16', 65520), Infinity);
  assert.equal(q('fp16', 65519.99609375), 65504);
  assert.equal(q('fp16', 65520, { rounding: 'zero' }), 65504);
  assert.equal(q('fp16', 65520, { overflow: 'saturate' }), 65504);
  assert.equal(q('fp16', Infinity, { overflow: 'saturate' }), Infinity);
  assert.equal(q('fp16', 2 ** -25), 0);
  assert.equal(q('fp16', 2 ** -25, { rounding: 'nearest-away' }), 2 ** -24);
  assert.equal(q('fp16', 1.5 * 2 ** -24), 2 ** -23);
  assert.ok(Object.is(q('fp16', -(2 ** -26)), -0));
  assert.equal(q('fp16', 2 ** -15, { subnormals: 'flush' }), 0);
  assert.equal(q('fp16', 2 ** -14 - 2 ** -25, { subnormals: 'flush' }), 2 ** -14);
  // bf16 keeps float32's range.
  assert.equal(q('bf16', 3.4028234663852886e38), Infinity);
  assert.equal(q('bf16', 3.4028234663852886e38, { rounding: 'zero' }), 3.3895313892515355e38);
  // MX FP4 (E2M1): no Inf/NaN, saturates; NaN becomes +0.
  assert.equal(q('e2m1', 7), 6);
  assert.equal(q('e2m1', 1e9), 6);
  assert.ok(Object.is(q('e2m1', NaN), 0));
  assert.equal(q('e2m1', 2.5), 2);
  assert.equal(q('e2m1', 5), 4);
  assert.equal(q('e2m1', 0.25), 0);
  // Integers: ties to even, saturation, wrap.
  assert.equal(q('int8', 127.5), 127);
  assert.equal(q('int8', -128.5), -128);
  assert.equal(q('int<8,wrap>', 128), -128);
  assert.equal(q('int<8,wrap>', 300.2, { rounding: 'up' }), 301 - 256);
  assert.equal(q('uint8', -3), 0);
  assert.equal(q('uint<8,wrap>', -3), 253);
  // Posits: never 0 or NaR for a nonzero finite input.
  assert.equal(q('posit8', 1e-30), 2 ** -24);
  assert.equal(q('posit8', -1e30), -(2 ** 24));
  assert.equal(q('posit8', 2 ** 22), 2 ** 20);
  assert.equal(q('posit8', 2 ** 23), 2 ** 24);
  assert.ok(Number.isNaN(q('posit8', Infinity)));
  assert.equal(q('posit<8,0>', 1 + 1 / 64), 1);
  assert.equal(q('posit<8,0>', 1 + 3 / 64), 1 + 1 / 16);
});

test('float specs with no nonzero finite value are rejected (float<1,0,fn>: codes are only ±0 and NaN)', () => {
  // Were it accepted, its maxFinite/minPositive could not be values of the format.
  assert.throws(() => parseFormat('float<1,0,fn>'), (e: unknown) => e instanceof FormatSpecError);
  assert.throws(() => parseFormat('float<1,0,fn,bias=3>'), (e: unknown) => e instanceof FormatSpecError);
});

test('block formats: element codes round-trip at several scales', () => {
  for (const spec of [...MX_SPECS, ...BFP_SPECS]) {
    const b = parseFormat(spec);
    assert.ok(b instanceof BlockFormat);
    for (const k of [-127, -10, 0, 3, 100]) {
      for (let c = 0; c < 2 ** b.bits; c++) {
        const v = b.decodeElement(c, k);
        if (!Number.isFinite(v)) continue;
        const got = b.encodeElement(v, k);
        if (v !== 0) assert.equal(got, c, `${spec} k=${k}: encodeElement(decodeElement(${hex(c, b.bits)}))`);
        else assert.ok(b.decodeElement(got, k) === 0, `${spec} k=${k}: a zero encodes to a zero code`);
      }
    }
  }
});

/**
 * Blocks whose scale is pinned by an anchor element, holding the element grid's
 * tie points (and their float32 neighbours) at that scale.
 */
function blockBoundaryInputs(spec: string, k: number): Float32Array {
  const b = blockOracle(spec);
  const t = b.element.table;
  const pts: number[] = [];
  for (let i = 0; i < t.length; i++) pts.push(t.vals[i]);
  for (let i = 0; i + 1 < t.length; i++) pts.push(t.mids[i]);
  pts.push(t.midTop, t.midBottom, b.elementMax * 1.5, -b.elementMax * 1.5);
  const scaled: number[] = [];
  for (const p of pts) {
    const v = p * 2 ** k;
    if (!Number.isFinite(v) || Math.abs(v) > 3.4e38) continue;
    if (isF32(v)) scaled.push(v, ...(v !== 0 ? f32Neighbours(v) : []));
    else scaled.push(...f32Bracket(v));
  }
  const elems = [...toF32Array(scaled)];
  // Anchor: the element's max at scale 2^k pins the floor rule to k (and the up rule too).
  const anchor = b.elementMax * 2 ** k;
  const out: number[] = [];
  const per = b.blockSize - 1;
  for (let i = 0; i < elems.length; i += per) {
    const chunk = elems.slice(i, i + per);
    out.push(anchor, ...chunk);
    while (out.length % b.blockSize !== 0) out.push(0);
  }
  return Float32Array.from(out);
}

test('block formats: element tie points at pinned scales, all options', () => {
  const t: Tally = newTally();
  for (const spec of [...MX_SPECS, 'mx<e2m1,scale=up>', 'mx<e4m3,block=8,scale=up>', 'mx<int8,block=4>', ...BFP_SPECS]) {
    const b = blockOracle(spec);
    // Wide bfp elements have many tie points: fewer scales for them.
    const scales = b.element.table.length > 1000 ? [-127, 0, 125] : [-127, -126, -120, -20, 0, 5, 60, 125 - b.elementEmax];
    for (const k of scales) {
      const src = blockBoundaryInputs(spec, k);
      checkBlocks(t, spec, src, ALL_OPTIONS);
    }
  }
  assertClean(t, 'block tie points');
  console.log(`block tie points: ${t.checked} elements compared`);
});

test('block formats: NaN or Inf anywhere makes the whole block NaN; zero blocks stay zero', () => {
  const t = newTally();
  for (const spec of ['mxfp8_e4m3', 'mx<e5m2,block=4>', 'mxint8', 'mx<e2m1,scale=up,block=3>', 'bfp<8,16>']) {
    const b = blockOracle(spec);
    const n = b.blockSize * 4;
    const src = new Float32Array(n);
    for (let i = 0; i < n; i++) src[i] = (i % 7) - 3 + i / 8;
    src[1] = NaN;
    src[b.blockSize + 2] = Infinity;
    src[2 * b.blockSize + b.blockSize - 1] = -Infinity;
    for (let i = 3 * b.blockSize; i < n; i++) src[i] = i % 2 ? -0 : 0;
    checkBlocks(t, spec, src, ALL_OPTIONS);
  }
  assertClean(t, 'block specials');
});

