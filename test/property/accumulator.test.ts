/**
 * Accumulator models against exact rational arithmetic: the quire is exact
 * for float32 inputs across the whole exponent range and for posit-, fp8-
 * and fixed-valued inputs; per-add rounding equals a from-first-principles
 * simulation (accumulator-oracle.ts) on hundreds of thousands of terms, for
 * float and fixed formats and every rounding mode; posit accumulators round
 * each exact sum as the posit oracle does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accumulatedGemm } from '../../src/precision/accumulator.js';
import { Quire } from '../../src/precision/accumulator-quire.js';
import { parseAccumulator, type RoundedAccumulator } from '../../src/precision/accumulator-spec.js';
import { parseScalarFormat } from '../../src/formats/format.js';
import { ROUNDINGS } from '../../src/formats/grid.js';
import { PhiloxStream } from '../../src/rng/philox.js';
import { ORACLE_ROUNDINGS, oracleFor } from '../oracle/oracle.js';
import { Rng } from '../support/rng.js';
import {
  addVal, exactSumToOdd, mulVal, numberOf, oracleFormat, roundVal, simulate, valOf, type OracleModel, type Val,
} from './accumulator-oracle.js';

const rng = new Rng(0xacc0);
const same = (x: number, y: number): boolean => Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));

/** A float32 with a random sign and significand and an exponent in [lo, hi] (below -126: subnormal). */
function f32In(lo: number, hi: number): number {
  const e = rng.int(lo, hi);
  const sig = 1 + rng.int(0, 2 ** 23 - 1) / 2 ** 23;
  return Math.fround((rng.chance(0.5) ? -1 : 1) * sig * 2 ** e);
}

/** A finite float32 from anywhere in its range, subnormals and zeros included. */
function anyF32(): number {
  const r = rng.float();
  if (r < 0.02) return rng.chance(0.5) ? 0 : -0;
  if (r < 0.1) return Math.fround((rng.chance(0.5) ? -1 : 1) * rng.int(1, 2 ** 23 - 1) * 2 ** -149);
  return f32In(-126, 127);
}

test('the quire reads back the exact sum rounded to odd, for float32 products across the whole exponent range', () => {
  const q = new Quire();
  for (let trial = 0; trial < 3000; trial++) {
    const k = rng.int(0, 80);
    const mode = rng.int(0, 3); // 0: anywhere; 1: one window; 2: cancelling pairs; 3: a huge term and tiny ones
    const centre = rng.int(-140, 120);
    const terms: Val[] = [];
    const start = mode === 3 ? f32In(100, 127) : anyF32();
    q.reset(start);
    terms.push(valOf(start));
    const products: [number, number][] = [];
    for (let p = 0; p < k; p++) {
      let a: number, b: number;
      if (mode === 0) { a = anyF32(); b = anyF32(); }
      else if (mode === 1) { a = f32In(Math.max(-149, centre - 5), Math.min(127, centre + 5)); b = f32In(-10, 10); }
      else if (mode === 2 && p % 2 === 1) { [a, b] = products[p - 1]; b = -b; if (rng.chance(0.2)) a = f32In(-149, -120); }
      else if (mode === 3) { a = f32In(-149, -100); b = f32In(-149, -100); }
      else { a = anyF32(); b = anyF32(); }
      products.push([a, b]);
      q.add(a * b);
      terms.push(mulVal(valOf(a), valOf(b)));
    }
    const got = q.toOdd();
    const want = exactSumToOdd(terms);
    assert.ok(same(got, want), `trial ${trial}: quire ${got}, exact ${want}`);
    assert.ok(same(q.toOdd(), want), 'reading the quire twice gives the same sum');
  }
});

test('exact: the one rounding into float32 equals the exact sum rounded, in every directed and nearest mode', () => {
  const fp32 = oracleFormat('float<8,23>');
  const k = 48;
  for (let trial = 0; trial < 600; trial++) {
    const centre = rng.int(-150, 110);
    const a = new Float32Array(k), b = new Float32Array(k);
    for (let p = 0; p < k; p++) {
      a[p] = rng.chance(0.5) ? anyF32() : f32In(Math.max(-149, centre - 8), Math.min(127, centre + 8));
      b[p] = rng.chance(0.3) ? (p > 0 ? -b[p - 1] * (a[p - 1] / (a[p] || 1)) : 1) : f32In(-20, 20);
      b[p] = Math.fround(b[p]);
      if (!Number.isFinite(b[p])) b[p] = 1;
    }
    const c0 = f32In(-149, 127);
    const terms: Val[] = [valOf(c0)];
    for (let p = 0; p < k; p++) terms.push(mulVal(valOf(a[p]), valOf(b[p])));
    let exact: Val = valOf(0);
    for (const t of terms) exact = addVal(exact, t, false);
    for (const rounding of ORACLE_ROUNDINGS) {
      const c = new Float32Array([c0]);
      accumulatedGemm('exact', false, false, 1, 1, k, a, b, c, true, { output: { format: 'fp32', rounding } });
      const want = numberOf(roundVal(fp32, exact, { rounding, saturate: false, flush: false, randomBits: 24 }, 0).v);
      assert.ok(same(c[0], want), `trial ${trial} ${rounding}: got ${c[0]}, want ${want}`);
    }
  }
});

test('exact: posit-, fp8- and fixed-valued products summed exactly and rounded once into the output format', () => {
  // Sources whose sums of up to 40 products fit in a double (the posit oracle rounds doubles).
  const sources = ['posit<8,0>', 'posit<6,1>', 'e4m3', 'e3m2', 'fixed<8,4>'];
  const outputs = ['posit<8,0>', 'posit<16,1>', 'e4m3', 'e5m2', 'fp16', 'fixed<16,8>', 'float<3,4,none>'];
  for (const src of sources) {
    const values = parseScalarFormat(src).values();
    const pick = (): number => values[rng.int(0, values.length - 1)];
    for (let trial = 0; trial < 150; trial++) {
      const k = rng.int(1, 40);
      const a = Float32Array.from({ length: k }, pick), b = Float32Array.from({ length: k }, pick);
      let sum: Val = valOf(0);
      for (let p = 0; p < k; p++) sum = addVal(sum, mulVal(valOf(a[p]), valOf(b[p])), false);
      const x = numberOf(sum); // these sums fit in a double: the oracle rounds doubles
      for (const out of outputs) {
        const oracle = oracleFor(out);
        for (const rounding of ORACLE_ROUNDINGS) {
          for (const overflow of ['format', 'saturate'] as const) {
            const c = new Float32Array(1);
            accumulatedGemm('exact', false, false, 1, 1, k, a, b, c, false, { output: { format: out, rounding, overflow } });
            const want = oracle.round(x, { rounding, overflow, subnormals: 'keep' }).value;
            assert.ok(same(c[0], Math.fround(want)), `${src} → ${out} ${rounding} ${overflow}: sum ${x} gave ${c[0]}, want ${want}`);
          }
        }
      }
    }
  }
});

interface Config {
  readonly spec: string;
  /** Exponent window of the inputs. */
  readonly lo: number;
  readonly hi: number;
}

/** Formats for the per-add simulation, with input windows that reach their edges. */
const CONFIGS: readonly Config[] = [
  { spec: 'float<4,7,bias=10> product=float<4,7,bias=12> order=chunk:16 underflow=flush overflow=saturate', lo: -9, hi: 1 },
  { spec: 'fp16', lo: -14, hi: 5 },
  { spec: 'bf16 product=e5m2', lo: -30, hi: 20 },
  { spec: 'e4m3', lo: -6, hi: 2 },
  { spec: 'float<5,10,nosub> order=chunk:7', lo: -12, hi: 4 },
  { spec: 'fp16 underflow=flush overflow=saturate', lo: -14, hi: 5 },
  { spec: 'float<8,23>', lo: -80, hi: 60 },
  { spec: 'fixed<16,8>', lo: -12, hi: 3 },
  { spec: 'fixed<12,4> overflow=wrap', lo: -8, hi: 3 },
  { spec: 'ufixed<10,2,wrap> product=fixed<12,6>', lo: -6, hi: 3 },
  { spec: 'int<8> overflow=saturate order=chunk:5', lo: -4, hi: 3 },
  { spec: 'fixed<32,16,wrap>', lo: -20, hi: 12 },
];

/** Inputs in the window, with some far smaller and a few far larger (swamping, exponents far apart, overflow). */
function inputs(len: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: len }, () => {
    const r = rng.float();
    if (r < 0.03) return 0;
    if (r < 0.1) return f32In(lo - 40, lo - 10);
    if (r < 0.105) return f32In(hi + 10, hi + 30);
    return f32In(lo, hi);
  });
}

function oracleModel(m: RoundedAccumulator): OracleModel {
  return {
    acc: oracleFormat(m.format, m.overflow === 'wrap'),
    product: m.product === null ? null : oracleFormat(m.product, m.overflow === 'wrap'),
    round: { rounding: m.rounding, saturate: m.overflow === 'saturate', flush: m.underflow === 'flush', randomBits: m.randomBits },
    chunk: m.chunk ?? 0,
  };
}

test('per-add rounding equals the exact rational simulation: 12 formats × 6 roundings, ~300k terms', () => {
  let terms = 0;
  for (const cfg of CONFIGS) {
    for (const rounding of ROUNDINGS) {
      const spec = `${cfg.spec} rounding=${rounding}${rounding === 'stochastic' && rng.chance(0.5) ? ' random-bits=7' : ''}`;
      const model = parseAccumulator(spec) as RoundedAccumulator;
      const [m, n, k] = [4, 4, 256];
      const transA = rng.chance(0.5), transB = rng.chance(0.5);
      const a = inputs(m * k, cfg.lo, cfg.hi), b = inputs(k * n, -2, 2);
      const accumulate = rng.chance(0.5);
      const c = inputs(m * n, cfg.lo, cfg.hi + 2);
      const seed = rng.int(0, 2 ** 30), stream = rng.int(0, 1000);
      const want = simulate(oracleModel(model), transA, transB, m, n, k, a, b, c, accumulate, seed, stream);
      const report = accumulatedGemm(model, transA, transB, m, n, k, a, b, c, accumulate, { seed, stream });
      assert.ok(report);
      for (let e = 0; e < m * n; e++) assert.ok(same(c[e], want.c[e]), `${spec}: C[${e}] = ${c[e]}, want ${want.c[e]}`);
      assert.deepEqual([report.swamped, report.overflow, report.underflow], [want.swamped, want.overflow, want.underflow], `${spec}: counts`);
      assert.deepEqual([...report.overflowed], [...want.overflowed], `${spec}: overflow mask`);
      terms += m * n * k;
    }
  }
  assert.ok(terms >= 250_000);
});

test('posit accumulators round each exact sum (and product) as the posit oracle does, in every mode', () => {
  const values = parseScalarFormat('posit<8,0>').values();
  const pick = (): number => values[rng.int(0, values.length - 1)];
  for (const spec of ['posit<16,1>', 'posit<8,0> product=posit<8,0>', 'posit<12,2> order=chunk:4']) {
    for (const rounding of ROUNDINGS) {
      const model = parseAccumulator(`${spec} rounding=${rounding}`) as RoundedAccumulator;
      const acc = parseScalarFormat(model.format);
      const oracle = oracleFor(model.format);
      const [m, n, k] = [3, 3, 64];
      const a = Float32Array.from({ length: m * k }, pick), b = Float32Array.from({ length: k * n }, pick);
      const c = new Float32Array(m * n);
      accumulatedGemm(model, false, false, m, n, k, a, b, c, false, { seed: 9 });
      const words = new PhiloxStream(9, 0);
      /** One rounding of an exact double sum: the oracle for the deterministic modes, the format's own stochastic rounding from the documented word. */
      const round = (x: number, word: number, f = acc, o = oracle): number => (rounding === 'stochastic'
        ? f.round(x, { rounding, random: word })
        : o.round(x, { rounding: rounding as (typeof ORACLE_ROUNDINGS)[number], overflow: 'format', subnormals: 'keep' }).value);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          const e = i * n + j;
          const w = (t: number, purpose: number): number => words.word(4 * (e * (k + 1) + t) + purpose);
          let total = 0, run = 0;
          for (let p = 0; p < k; p++) {
            let x = numberOf(mulVal(valOf(a[i * k + p]), valOf(b[p * n + j])));
            if (model.product) x = round(x, w(p, 1), parseScalarFormat(model.product), oracleFor(model.product));
            const exactSum = (s: number, t: number): number => numberOf(addVal(valOf(s), valOf(t), rounding === 'down'));
            if (!model.chunk) total = round(exactSum(total, x), w(p, 0));
            else {
              run = round(exactSum(run, x), w(p, 0));
              if ((p + 1) % model.chunk === 0 || p === k - 1) { total = round(exactSum(total, run), w(p, 2)); run = 0; }
            }
          }
          assert.ok(same(c[e], Math.fround(total)), `${spec} ${rounding}: C[${e}] = ${c[e]}, want ${total}`);
        }
      }
    }
  }
});

test('stochastic per-add rounding is unbiased: the mean of many sums of the same terms approaches the exact sum', () => {
  const k = 64;
  const a = new Float32Array(k).fill(1), b = Float32Array.from({ length: k }, () => f32In(-12, -8));
  const exact = b.reduce((s, x) => s + x, 0); // exact: few bits, one binade window
  let mean = 0;
  const runs = 400;
  for (let s = 0; s < runs; s++) {
    const c = new Float32Array(1);
    accumulatedGemm('float<5,4> rounding=stochastic', false, false, 1, 1, k, a, b, c, false, { seed: s });
    mean += c[0] / runs;
  }
  const nearest = new Float32Array(1);
  accumulatedGemm('float<5,4>', false, false, 1, 1, k, a, b, nearest, false);
  // float<5,4> steps near the sum are 2^-8..2^-6; nearest rounding drifts, stochastic stays within a small fraction of a step.
  assert.ok(Math.abs(mean - exact) < 2 ** -9, `stochastic mean ${mean} vs exact ${exact} (nearest gives ${nearest[0]})`);
});
