/**
 * accumulatedGemm's models on worked examples: PositNN's posit example, the
 * fp32 model against the project GEMM, chunked order, wrapping and
 * saturating integers, stochastic reproducibility, the counts and the
 * overflow mask, the quire's carries, and argument errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceGemm } from '../../src/backend/gemm.js';
import { OptionError } from '../../src/errors.js';
import { FixedFormat } from '../../src/formats/fixed.js';
import { parseFormat } from '../../src/formats/format.js';
import { resolveRounding } from '../../src/formats/options.js';
import { accumulatedGemm, type AccumulateOptions } from '../../src/precision/accumulator.js';
import { addToOdd, FixedRounder } from '../../src/precision/accumulator-round.js';
import { Quire } from '../../src/precision/accumulator-quire.js';
import { Rng } from '../support/rng.js';

const rng = new Rng(0xacc1);
const bits = (x: Float32Array): number[] => [...new Uint32Array(x.buffer, x.byteOffset, x.length)];
/** Bits, with every NaN made the same (NaN payloads are unspecified). */
const canon = (x: Float32Array): number[] => [...x].map((v, i) => (Number.isNaN(v) ? 0x7fc00000 : bits(x)[i]));

/** One dot product Σ a[p]·b[p] (a 1×k by k×1 product) under a model. */
function dot(model: string, a: number[], b: number[], opts: AccumulateOptions = {}): { v: number; report: ReturnType<typeof accumulatedGemm> } {
  const c = new Float32Array(1);
  const report = accumulatedGemm(model, false, false, 1, 1, a.length, Float32Array.from(a), Float32Array.from(b), c, false, opts);
  return { v: c[0], report };
}

test("PositNN's example: 2×10 + 2×10 + 2×10 + 2×2 in posit<8,0> is 32 rounding every step, 64 with the quire", () => {
  const a = [2, 2, 2, 2], b = [10, 10, 10, 2];
  assert.equal(dot('posit<8,0> product=posit<8,0>', a, b).v, 32);
  assert.equal(dot('exact', a, b, { output: { format: 'posit<8,0>' } }).v, 64);
});

test('exact rounds once, straight into the output format: never through float32 first', () => {
  // 1 + 2^-24 + 2^-60: float32 first would give 1 (ties to even), then e.g. fp16 round-up mode gives 1.
  const a = [1, 2 ** -24, 2 ** -30], b = [1, 1, 2 ** -30];
  assert.equal(dot('exact', a, b, { output: { format: 'fp16', rounding: 'up' } }).v, 1 + 2 ** -10);
  assert.equal(dot('exact', a, b).v, 1 + 2 ** -23); // float32 nearest: above the tie by 2^-60
  assert.equal(dot('fp32', a, b).v, 1); // the fma chain: 1 + 2^-24 ties to 1, then 2^-60 is swamped
});

function randomMatrix(len: number, specials: boolean, range = 30): Float32Array {
  return Float32Array.from({ length: len }, () => {
    if (specials && rng.chance(0.03)) return rng.pick([0, -0, Infinity, -Infinity, NaN, 2 ** -149, 3e38]);
    return Math.fround((rng.chance(0.5) ? -1 : 1) * (1 + rng.float()) * 2 ** rng.int(-range, range));
  });
}

test('fp32 is the project GEMM bit for bit, and so is the per-add float<8,23> model (with counts)', () => {
  for (let trial = 0; trial < 40; trial++) {
    const [m, n, k] = [rng.int(1, 9), rng.int(1, 9), rng.int(0, 70)];
    const transA = rng.chance(0.5), transB = rng.chance(0.5), accumulate = rng.chance(0.5);
    const specials = trial % 4 === 0;
    const a = randomMatrix(m * k, specials), b = randomMatrix(k * n, specials), c0 = randomMatrix(m * n, specials);
    if (trial === 1) c0.fill(-0); // -0 start with -0 products keeps -0
    const want = c0.slice();
    referenceGemm(transA, transB, m, n, k, a, b, want, accumulate);
    const fast = c0.slice();
    assert.equal(accumulatedGemm('fp32', transA, transB, m, n, k, a, b, fast, accumulate), null);
    assert.deepEqual(canon(fast), canon(want), `fp32 trial ${trial}`);
    const perAdd = c0.slice();
    const report = accumulatedGemm('float<8,23>', transA, transB, m, n, k, a, b, perAdd, accumulate);
    assert.ok(report);
    assert.deepEqual(canon(perAdd), canon(want), `float<8,23> trial ${trial}`);
  }
});

test('chunked order: sums of N products from zero, then combined in order', () => {
  // float<5,2>: 8 + 1 = 9 ties to 8 (even), so ones added to 8 are swamped; the exact sum is 15.
  const a = [8, 1, 1, 1, 1, 1, 1, 1], b = a.map(() => 1);
  const seq = dot('float<5,2>', a, b);
  assert.equal(seq.v, 8);
  assert.equal(seq.report?.swamped, 7);
  const chunked = dot('float<5,2> order=chunk:4', a, b); // [8,1,1,1] → 8 (3 swamped), [1,1,1,1] → 4, then 8 + 4 = 12
  assert.equal(chunked.v, 12);
  assert.equal(chunked.report?.swamped, 3);
  // The last, shorter chunk is combined too; chunk:1 adds rounded products in order, like sequential here.
  // [8,1,1] → 8, [1,1,1] → 3, [1,1] → 2; then 8 + 3 = 11 ties to 12 (even), and 12 + 2 = 14.
  assert.equal(dot('float<5,2> order=chunk:3', a, b).v, 14);
  assert.equal(dot('float<5,2> order=chunk:1', a, b).v, 8);
});

test("the M7E4 accumulator saturates at its format's top: 31.875 as IEEE, 63.75 with flavour none (docs/design.md)", () => {
  const tail = 'rounding=down order=chunk:16 underflow=flush overflow=saturate';
  const sevens = (n: number): number[] => new Array<number>(n).fill(7); // 7 fits the product format (bias 12: max 7.97)
  assert.equal(dot(`float<4,7,bias=10> product=float<4,7,bias=12> ${tail}`, sevens(5), sevens(5).fill(1)).v, 31.875);
  assert.equal(dot(`float<4,7,none,bias=10> product=float<4,7,none,bias=12> ${tail}`, sevens(10), sevens(10).fill(1)).v, 63.75);
  // Products beyond the product format saturate before they are added: 30 becomes 7.96875.
  assert.equal(dot(`float<4,7,bias=10> product=float<4,7,bias=12> ${tail}`, [30], [1]).v, 7.96875);
});

test('integer accumulators wrap or saturate', () => {
  const a = [100, 100, -100, -100], b = [1, 1, 1, 1];
  const sat = dot('int<8>', a, b); // 100, 127 (saturated), 27, -73
  assert.equal(sat.v, -73);
  assert.equal(sat.report?.overflow, 1);
  assert.deepEqual([...sat.report!.overflowed], [1]);
  for (const spec of ['int<8,wrap>', 'int<8> overflow=wrap']) {
    const wrap = dot(spec, a, b); // 100, 200 - 256 = -56, -156 + 256 = 100, 0
    assert.equal(wrap.v, 0, spec);
    assert.equal(wrap.report?.overflow, 2, spec);
  }
  assert.equal(dot('uint<8,wrap>', [3], [-1]).v, 253);
  assert.equal(dot('uint<8>', [3], [-1]).v, 0);
  // Fixed point: the step is 2^-4; 7.9375 is the top of fixed<8,4>.
  assert.equal(dot('fixed<8,4>', [4, 4], [1, 1]).v, 7.9375);
  assert.equal(dot('fixed<8,4,wrap>', [4, 4], [1, 1]).v, -8);
  // A product far beyond the word (2^60 steps) still wraps exactly: 2^60 + 5 ≡ 5 (mod 2^8).
  assert.equal(dot('int<8,wrap>', [5, 2 ** 30], [1, 2 ** 30]).v, 5);
  assert.equal(dot('int<8>', [5, 2 ** 30], [1, -(2 ** 30)]).v, -128);
  // The output format wraps or saturates on its own terms: a 16-bit sum of 200 written as int<8>.
  assert.equal(dot('int<16>', [100, 100], [1, 1], { output: { format: 'int<8,wrap>' } }).v, -56);
  assert.equal(dot('int<16>', [100, 100], [1, 1], { output: { format: 'int<8>' } }).v, 127);
  assert.equal(dot('int<16>', [100, 100], [1, 1], { output: { format: 'int<8,wrap>', overflow: 'saturate' } }).v, 127);
});

test('fixed point rounds a sum just below a step by its exact value, not by 1 - fraction in float64', () => {
  // 5 - 2^-70 in int<8>: the fraction above 4 is 1 - 2^-70, whose top 24 bits are all ones (float64 would say 1).
  const r = new FixedRounder(parseFormat('int<8>') as FixedFormat, resolveRounding({ rounding: 'stochastic' }), false);
  assert.equal(r.add(5, -(2 ** -70), 0xffffffff), 4); // floor((1 - 2^-70)·2^24) = 2^24 - 1 is not above the word's 2^24 - 1
  assert.equal(r.add(5, -(2 ** -70), 0xfffffeff), 5);
  const nearest = new FixedRounder(parseFormat('int<8>') as FixedFormat, resolveRounding(), false);
  assert.equal(nearest.add(5, -0.5 - 2 ** -60, 0), 4);
  assert.equal(nearest.add(5, -0.5, 0), 4); // 4.5 ties to even
  assert.equal(nearest.add(5, 0.5, 0), 6);
});

test('addToOdd: exact sums pass, inexact ones get an odd last bit in the exact sum\'s binade, zeros get IEEE signs', () => {
  assert.equal(addToOdd(1, 2 ** -30, 0), 1 + 2 ** -30);
  assert.equal(addToOdd(1, 2 ** -60, 0), 1 + 2 ** -52);
  assert.equal(addToOdd(1, -(2 ** -60), 0), 1 - 2 ** -53); // below 1: the largest double under it (odd)
  assert.equal(addToOdd(2 ** 60, 1 + 2 ** -40, 0), 2 ** 60 + 256); // 2^60 + 1 + ...: odd at 2^8
  assert.ok(Object.is(addToOdd(1, -1, 0), 0));
  assert.ok(Object.is(addToOdd(1, -1, 3 /* down */), -0));
  assert.ok(Object.is(addToOdd(-0, -0, 0), -0));
  assert.ok(Object.is(addToOdd(0, -0, 3), -0));
  assert.ok(Object.is(addToOdd(0, 0, 3), 0));
  assert.ok(Number.isNaN(addToOdd(Infinity, -Infinity, 0)));
  assert.equal(addToOdd(Infinity, 1, 0), Infinity);
});

test('stochastic rounding is reproducible: same seed, same bits; the seed and stream change them', () => {
  const [m, n, k] = [5, 6, 40];
  const a = randomMatrix(m * k, false, 3), b = randomMatrix(k * n, false, 3);
  const run = (seed: number, stream: number, transA = false): number[] => {
    const c = new Float32Array(m * n);
    const at = transA ? Float32Array.from({ length: m * k }, (_, x) => a[(x % m) * k + Math.floor(x / m)]) : a;
    accumulatedGemm('fp16 product=bf16 rounding=stochastic order=chunk:8', transA, false, m, n, k, at, b, c, false, { seed, stream });
    return bits(c);
  };
  const base = run(7, 3);
  assert.deepEqual(run(7, 3), base);
  assert.deepEqual(run(7, 3, true), base, 'the counter depends on the element and term, not on the storage order');
  assert.notDeepEqual(run(8, 3), base);
  assert.notDeepEqual(run(7, 4), base);
});

test('counts: swamped terms, overflows and underflows, and the per-element overflow mask', () => {
  // op(A) 2×3 and op(B) 3×2: every output is a large term plus ones or tiny terms that fp16 cannot hold.
  const a = Float32Array.from([1, 1, 2 ** -20, 1, 1, 1]);
  const c = new Float32Array(4);
  const r = accumulatedGemm('fp16 overflow=saturate', false, false, 2, 2, 3, a, Float32Array.from([1, 60000, 2 ** -40, 1, 2 ** -30, 1]), c, false);
  assert.deepEqual([...c], [1, 60000, 1, 60000]); // fp16's step at 60000 is 32: + 1 is lost
  assert.equal(r?.swamped, 8);
  assert.equal(r?.overflow, 0);
  assert.deepEqual([...r!.overflowed], [0, 0, 0, 0]);
  const big = new Float32Array(4);
  const r2 = accumulatedGemm('fp16 overflow=saturate', false, false, 2, 2, 3, a, Float32Array.from([1, 40000, 1, 40000, 1, 1]), big, false);
  assert.deepEqual([...big], [2, 65504, 3, 65504]); // 40000 + 40000 saturates; what follows is swamped
  assert.deepEqual([r2?.overflow, r2?.swamped], [2, 3]);
  assert.deepEqual([...r2!.overflowed], [0, 1, 0, 1]);
  // Underflow: a product that flushes in the product format, and a sum that cancels below the smallest normal.
  const u = dot('fp16 product=fp16 underflow=flush', [2 ** -20, 1, -1], [2 ** -20, 2 ** -14 + 2 ** -24, 2 ** -14]);
  assert.equal(u.v, 0);
  assert.equal(u.report?.underflow, 2);
  assert.equal(u.report?.overflow, 0);
});

test('the quire propagates carries: four million large products stay exact', () => {
  const q = new Quire();
  // A float32 product of 48 significant bits whose piece in limb 10 (bits 2^0..2^31) is about 2^32 and odd (0xfedcba01):
  // without carries, 2^22 of them would pass 2^53 in that limb and lose bits.
  const x = (2 ** 24 - 1) * 0xfedcbb * 2 ** -16;
  q.reset(0);
  const N = 2 ** 22 + 3;
  for (let i = 0; i < N; i++) q.add(x);
  // N·x has 48 + 23 bits: compare with the exact product rounded to odd.
  const exact = BigInt(N) * BigInt(x * 2 ** 16);
  const top = exact.toString(2).length;
  const r = exact >> BigInt(top - 53);
  const odd = (exact & ((1n << BigInt(top - 53)) - 1n)) !== 0n ? r | 1n : r;
  assert.equal(q.toOdd(), Number(odd) * 2 ** (top - 53 - 16));
});

test('arguments: the GEMM checks, block and wrapping outputs, seeds', () => {
  const a = new Float32Array(4), b = new Float32Array(4), c = new Float32Array(4);
  assert.throws(() => accumulatedGemm('exact', false, false, 2, 2, 3, a, b, c, false), /a has 4 elements/);
  assert.throws(() => accumulatedGemm('exact', false, false, 2, 2, 2, a, b, a, false), /must not overlap/);
  assert.throws(() => accumulatedGemm('exact', false, false, 2, 2, 2, a, b, c, false, { output: { format: 'mxfp4' } }), /block format/);
  assert.throws(() => accumulatedGemm('exact', false, false, 2, 2, 2, a, b, c, false, { output: { format: 'int<8,wrap>' } }), OptionError);
  assert.throws(() => accumulatedGemm('exact', false, false, 2, 2, 2, a, b, c, false, { output: { format: 'posit<32,0>', rounding: 'stochastic' } }), /randomBits 22 or fewer/);
  assert.throws(() => accumulatedGemm('fp16', false, false, 2, 2, 2, a, b, c, false, { seed: -1 }), /seed must be an integer/);
  assert.throws(() => accumulatedGemm('fp16 rounding=flor', false, false, 2, 2, 2, a, b, c, false), /rounding must be one of/);
  // A model object and its JSON are accepted as well as strings.
  assert.ok(accumulatedGemm({ format: 'fp16' }, false, false, 2, 2, 2, a, b, c, false));
});
