/**
 * Accumulated products give the same bits, counts and overflow masks on js
 * (the TypeScript reference), wasm and native (every ISA, 1 and 2 threads)
 * for every kind of model: exact into float, posit and fixed outputs,
 * per-add float (Blumenfeld's M7E4, M10E5..M6E5), posit and fixed/int
 * accumulators, product formats, every rounding incl. stochastic, chunks,
 * flush, saturate/inf/wrap. Shapes are odd, with transposes and
 * accumulation; inputs mix extreme exponents, subnormals, exact
 * cancellations and NaN/Inf. NaN payloads are unspecified: a NaN matches any
 * NaN. Larger shapes (the vector paths' tiles and edges) compare native and
 * wasm with each other, each checked against js on the small ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernels } from '../../src/backend/index.js';
import { jsKernels } from '../../src/backend/js.js';
import { lowerAccumulator } from '../../src/precision/accumulator-lower.js';
import type { OutputQuantizer } from '../../src/precision/accumulator.js';
import { parseAccumulator, type ExactAccumulator, type RoundedAccumulator } from '../../src/precision/accumulator-spec.js';
import { assertSame, runPlan, type Result } from './accumulated.js';
import { forEachBackend, requireBackends } from './backends.js';
import { hashString, powerOfTwoNeighbours } from './inputs.js';
import { Rng } from '../support/rng.js';

interface Model { readonly spec: string; readonly output?: OutputQuantizer }

const M7E4 = 'float<4,7,none,bias=10> product=float<4,7,none,bias=12> rounding=down order=chunk:16 underflow=flush overflow=saturate';

/** Every kind of model the kernels implement. */
const MODELS: readonly Model[] = [
  { spec: 'exact' },
  { spec: 'exact', output: { format: 'posit<8,0>' } },
  { spec: 'exact', output: { format: 'posit<16,1>', rounding: 'stochastic', randomBits: 12 } },
  { spec: 'exact', output: { format: 'posit<32,2>', rounding: 'down' } },
  { spec: 'exact', output: { format: 'fixed<16,8>' } },
  { spec: 'exact', output: { format: 'int<8>', rounding: 'stochastic' } },
  { spec: 'exact', output: { format: 'float<5,10>', rounding: 'zero', overflow: 'saturate' } },
  { spec: 'exact', output: { format: 'e4m3', rounding: 'nearest-away', subnormals: 'flush' } },
  { spec: M7E4 },
  { spec: 'float<5,10>' },
  { spec: 'float<5,6> rounding=stochastic random-bits=11' },
  { spec: 'float<5,8> order=chunk:3 rounding=up overflow=inf' },
  { spec: 'float<5,7> product=float<5,7> rounding=zero underflow=flush' },
  { spec: 'float<4,3,fn> rounding=nearest-away overflow=saturate order=chunk:5' },
  { spec: 'float<8,23>' },
  { spec: 'float<6,4,nosub> product=e5m2 rounding=stochastic order=chunk:4' },
  { spec: 'float<5,2,fnuz> rounding=down' },
  { spec: 'posit<16,1>' },
  { spec: 'posit<8,0> rounding=stochastic order=chunk:2', output: { format: 'posit<8,0>' } },
  { spec: 'posit<12,2> product=posit<8,1> rounding=down' },
  { spec: 'fixed<16,8>' },
  { spec: 'fixed<12,4> overflow=wrap rounding=stochastic random-bits=8' },
  { spec: 'int<16,wrap> product=int<8>' },
  { spec: 'ufixed<10,6> rounding=up overflow=saturate order=chunk:7' },
  { spec: 'fixed<24,20> rounding=down', output: { format: 'fixed<8,4,wrap>' } },
];

const rng = new Rng(0x2545f491);

/** Mixed magnitudes (extreme exponents, subnormals), exact cancellation partners, a few NaN/Inf when `special`. */
function fill(len: number, style: number, special: boolean): Float32Array {
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    const r = rng.u32() % 16;
    const sign = rng.u32() & 1 ? -1 : 1;
    if (style === 0) out[i] = sign * (1 + (rng.u32() % 64) / 64) * 2 ** ((rng.u32() % 6) - 3); // few bits: ties and cancellation
    else if (r < 9) out[i] = sign * (1 + (rng.u32() & 0x7fffff) / 2 ** 23) * 2 ** ((rng.u32() % 24) - 12);
    else if (r < 10) out[i] = sign * (rng.u32() & 0x7fffff) * 2 ** -149; // subnormal
    else if (r < 12 && i > 0) out[i] = -out[i - 1];
    else if (r < 13) out[i] = 0;
    else if (r < 15) out[i] = sign * 2 ** ((rng.u32() % 60) - 30);
    else out[i] = sign * (1 + (rng.u32() & 0x7fffff) / 2 ** 23) * 2 ** ((rng.u32() % 250) - 125);
    if (special && rng.u32() % 89 === 0) out[i] = [NaN, Infinity, -Infinity][rng.u32() % 3];
  }
  return out;
}

interface Case { m: number; n: number; k: number; transA: boolean; transB: boolean; accumulate: boolean; a: Float32Array; b: Float32Array; c: Float32Array; seed: number }

function makeCase(m: number, n: number, k: number, variant: number): Case {
  const special = variant % 4 === 3;
  return {
    m, n, k, transA: (variant & 1) === 1, transB: (variant & 2) === 2, accumulate: (variant & 4) === 4,
    a: fill(m * k, variant % 3, special), b: fill(k * n, (variant + 1) % 3, special), c: fill(m * n, 1, special), seed: variant * 7919 + 3,
  };
}

function run(kern: Kernels, model: Model, cs: Case): Result {
  const mod = parseAccumulator(model.spec) as ExactAccumulator | RoundedAccumulator;
  return runPlan(kern, lowerAccumulator(mod, model.output, cs.seed, 12345), cs);
}

const SMALL: readonly [number, number, number][] = [[1, 1, 1], [3, 5, 7], [7, 3, 17], [2, 9, 33], [5, 4, 0], [0, 3, 4], [4, 0, 2], [9, 35, 20]];

test('accumulated products: every model gives js\'s bits, counts and mask on wasm and native (every ISA, 1 and 2 threads)', (t) => {
  if (!requireBackends(t)) return;
  let compared = 0;
  for (const model of MODELS) {
    SMALL.forEach(([m, n, k], s) => {
      for (let variant = 0; variant < 8; variant++) {
        const cs = makeCase(m, n, k, variant + 8 * s + hashString(model.spec + (model.output ? String(model.output.format) : '')) % 5);
        const want = run(jsKernels, model, cs);
        for (const cfg of forEachBackend({ includeJs: false })) {
          assertSame(run(cfg.kernels, model, cs), want, `${cfg.label} ${model.spec} -> ${model.output?.format ?? 'fp32'} m=${m} n=${n} k=${k} variant ${variant}`);
          compared++;
        }
      }
    });
  }
  assert.ok(compared > 0);
});

test('accumulated products: the reference counts what happened (the comparison above is not of empty reports)', () => {
  const cs = makeCase(7, 3, 17, 3);
  const totals = { swamped: 0, overflow: 0, underflow: 0, masked: 0 };
  for (const model of MODELS) {
    const r = run(jsKernels, model, cs);
    totals.swamped += r.counts.swamped;
    totals.overflow += r.counts.overflow;
    totals.underflow += r.counts.underflow;
    totals.masked += r.overflowed.reduce((s, v) => s + v, 0);
    assert.ok(r.overflowed.every((v) => v === 0 || v === 1), `${model.spec}: the mask is written everywhere`);
  }
  assert.ok(totals.swamped > 0 && totals.overflow > 0 && totals.underflow > 0 && totals.masked > 0, JSON.stringify(totals));
});

test('accumulated products: larger shapes (vector tiles and their edges) agree between native and wasm', (t) => {
  if (!requireBackends(t, ['wasm', 'native'])) return;
  const shapes: readonly [number, number, number][] = [[13, 37, 70], [33, 19, 129], [9, 70, 40]];
  const models = MODELS.filter((_, i) => i % 2 === 0 || i === 8);
  for (const model of models) {
    shapes.forEach(([m, n, k], s) => {
      for (const variant of [0, 3, 5, 6]) {
        const cs = makeCase(m, n, k, variant + s);
        let want: Result | null = null, from = '';
        for (const cfg of forEachBackend({ includeJs: false })) {
          const got = run(cfg.kernels, model, cs);
          if (!want) { want = got; from = cfg.label; continue; }
          assertSame(got, want, `${cfg.label} vs ${from}: ${model.spec} m=${m} n=${n} k=${k} variant ${variant}`);
        }
      }
    });
  }
});

test('accumulated products: an exact sum just above a float32 tie rounds up on every backend (no double rounding in the vector paths)', (t) => {
  if (!requireBackends(t)) return;
  // Each element sums 1 + 2^-24 + 2^-80 (+ zeros): above the tie between 1 and 1 + 2^-23, so it rounds up.
  const m = 8, n = 32, k = 5;
  const a = new Float32Array(m * k), b = new Float32Array(k * n).fill(1);
  for (let i = 0; i < m; i++) a.set([1, 2 ** -24, 2 ** -80, 0, -0], i * k);
  for (const spec of ['exact', 'float<8,23>', 'float<8,23> order=chunk:2']) {
    const model: Model = { spec };
    const cs: Case = { m, n, k, transA: false, transB: false, accumulate: false, a, b, c: new Float32Array(m * n), seed: 1 };
    const want = run(jsKernels, model, cs);
    if (spec === 'exact') assert.ok(want.c.every((v) => v === 1 + 2 ** -23), 'the reference rounds the exact sum');
    for (const cfg of forEachBackend({ includeJs: false })) assertSame(run(cfg.kernels, model, cs), want, `${cfg.label} ${spec}`);
  }
});

/** Per-add models the vector tiles run (kernels/accum.h, acc_peradd_tile): every rounding, order and flavour. */
const ROUNDINGS = ['nearest', 'nearest-away', 'zero', 'down', 'up', 'stochastic'] as const;
const VECTOR_MODELS: readonly Model[] = [
  ...ROUNDINGS.map((r) => ({ spec: `float<5,10> rounding=${r}` })),
  ...ROUNDINGS.map((r) => ({ spec: `float<4,3> product=float<4,3> rounding=${r} order=chunk:1 underflow=flush overflow=saturate` })),
  ...ROUNDINGS.map((r) => ({ spec: `float<4,5> rounding=${r} order=chunk:16 overflow=inf` })),
  ...ROUNDINGS.map((r) => ({ spec: `float<5,6> product=e5m2 rounding=${r} order=chunk:64 underflow=flush` })),
  { spec: M7E4 },
  { spec: 'float<8,23> rounding=stochastic random-bits=20 order=chunk:16' },
  { spec: 'float<5,4> product=float<5,4> rounding=stochastic random-bits=2 order=chunk:5' }, // fractions on the random grid
  { spec: 'float<4,3,fn> rounding=up' },
  { spec: 'float<5,2,fnuz> product=float<5,2,fnuz> rounding=down order=chunk:3', output: { format: 'e4m3' } },
  // fixed point in the same tiles: saturating and wrapping, signed and unsigned, with and without a product grid
  ...ROUNDINGS.map((r) => ({ spec: `fixed<16,8> rounding=${r}` })),
  ...ROUNDINGS.map((r) => ({ spec: `fixed<12,6> overflow=wrap rounding=${r} order=chunk:16` })),
  ...ROUNDINGS.map((r) => ({ spec: `ufixed<10,6> product=ufixed<8,7> overflow=wrap rounding=${r}` })),
  { spec: 'int<8> product=int<8,wrap> overflow=wrap rounding=stochastic random-bits=24 order=chunk:5' },
  { spec: 'ufixed<14,10> rounding=stochastic random-bits=24' },
  { spec: 'fixed<32,16> overflow=wrap rounding=stochastic random-bits=24' }, // too wide for the lanes: the scalar path
  // posits, whose grid changes with the regime: uniform steps, an exponent cut short (es 2..4), maxpos and minpos
  ...ROUNDINGS.map((r) => ({ spec: `posit<6,2> rounding=${r}` })),
  ...ROUNDINGS.map((r) => ({ spec: `posit<10,0> product=posit<8,0> rounding=${r} order=chunk:16` })),
  { spec: 'posit<5,3> rounding=stochastic random-bits=20' },
  { spec: 'posit<16,1> rounding=stochastic order=chunk:4' },
  { spec: 'posit<12,4> rounding=nearest-away' },
  { spec: 'posit<32,2> rounding=down' },
  { spec: 'posit<8,2> product=float<4,3>' }, // a product grid of another family: the scalar path
];

/**
 * Columns of op(B) scaled by 2^-8 .. 2^8 in turn, so that within one tile some lanes flush or saturate and others do
 * not; with `poison`, one lane of the first tile meets a NaN and another an Inf.
 */
function scaledCase(m: number, n: number, k: number, variant: number, poison: boolean): Case {
  const cs = makeCase(m, n, k, variant & 7);
  const b = fill(k * n, 0, false);
  for (let p = 0; p < k; p++) {
    for (let j = 0; j < n; j++) {
      const at = cs.transB ? j * k + p : p * n + j;
      b[at] *= 2 ** (4 * (j % 5) - 8);
      if (poison && p === Math.min(3, k - 1) && (j === 5 || j === 2)) b[at] = j === 5 ? NaN : -Infinity;
    }
  }
  return { ...cs, a: fill(m * k, 0, false), b, c: fill(m * n, 0, false), seed: variant * 104729 + 11 };
}

test('accumulated products: per-add float tiles (every rounding, chunk:1/16/64, flush and saturate in some lanes, NaN and Inf lanes) give js\'s bits, counts and mask', (t) => {
  if (!requireBackends(t)) return;
  // Whole tiles of every ISA (up to 2 rows x 32 columns) with edge rows and columns, k below and above the chunk sizes.
  const shapes: readonly [number, number, number][] = [[4, 40, 37], [5, 33, 20], [3, 17, 70], [2, 16, 1], [2, 64, 0]];
  let compared = 0;
  const totals = { swamped: 0, overflow: 0, underflow: 0, mixedMasks: 0 };
  for (const model of VECTOR_MODELS) {
    shapes.forEach(([m, n, k], s) => {
      for (const variant of [s, 5 + s, 14 - s]) {
        const cs = scaledCase(m, n, k, variant, variant === 5 + s);
        const want = run(jsKernels, model, cs);
        totals.swamped += want.counts.swamped;
        totals.overflow += want.counts.overflow;
        totals.underflow += want.counts.underflow;
        if (want.overflowed.includes(0) && want.overflowed.includes(1)) totals.mixedMasks++;
        for (const cfg of forEachBackend({ includeJs: false })) {
          assertSame(run(cfg.kernels, model, cs), want, `${cfg.label} ${model.spec} m=${m} n=${n} k=${k} variant ${variant}`);
          compared++;
        }
      }
    });
  }
  assert.ok(compared > 0);
  assert.ok(totals.swamped > 0 && totals.overflow > 0 && totals.underflow > 0 && totals.mixedMasks > 0, JSON.stringify(totals));
});

/**
 * Every float32 power of two and its neighbourhood (the ties of a posit whose exponent the regime has cut short lie
 * exactly on powers of two), both signs: with k = 1 and A = 1 each element is one rounding of its B value.
 */
function boundaryValues(): Float32Array {
  // float32's whole exponent range: every value nonzero and finite
  const exponents = Array.from({ length: 127 + 149 + 1 }, (_, i) => i - 149);
  return new Float32Array([0, ...powerOfTwoNeighbours(exponents)]);
}

test('accumulated products: posit lanes round every power of two and its neighbours like js (N 3..32, ES 0..4, every rounding)', (t) => {
  if (!requireBackends(t)) return;
  const b = boundaryValues(), n = b.length;
  const cs = { m: 2, n, k: 1, transA: false, transB: false, accumulate: false, a: new Float32Array([1, 1]), b, c: new Float32Array(2 * n) };
  let compared = 0;
  for (const width of [3, 5, 6, 8, 11, 16, 32]) {
    for (let es = 0; es <= 4; es++) {
      for (const r of ROUNDINGS) {
        const model: Model = { spec: `posit<${width},${es}> rounding=${r}${r === 'stochastic' ? ' random-bits=12' : ''}` };
        const plan = lowerAccumulator(parseAccumulator(model.spec) as RoundedAccumulator, undefined, width * 8 + es, 77);
        const want = runPlan(jsKernels, plan, cs);
        for (const cfg of forEachBackend({ includeJs: false })) {
          assertSame(runPlan(cfg.kernels, plan, cs), want, `${cfg.label} ${model.spec}`);
          compared++;
        }
      }
    }
  }
  assert.ok(compared > 0);
});
