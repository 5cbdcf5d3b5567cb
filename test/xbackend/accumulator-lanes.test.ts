/**
 * The per-add float, fixed-point and posit accumulators that native AVX-512
 * runs in float lanes (kernels/accum_f32.h: float grids of at most 21
 * fraction bits, signed fixed point of at most 22 bits, posits of at most 21
 * fraction bits where their grid is uniform; nearest / toward zero / down /
 * up) give the TypeScript reference's bits, counts and overflow mask, like every
 * other path. The inputs keep most tiles inside the grid's range so that the
 * float lanes do the work (a tile that leaves the range, or meets a NaN or
 * Inf, is redone by the double-lane tiles): columns scaled down toward the
 * subnormal and flush range, exact cancellations, ties, zeros. The shapes
 * cover whole and padded tiles (4 rows x 48 columns), both transposes,
 * accumulation into C, k = 0, and chunks shorter and longer than k.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../../src/backend/js.js';
import { lowerAccumulator } from '../../src/precision/accumulator-lower.js';
import { accumulatedGemm, type OutputQuantizer } from '../../src/precision/accumulator.js';
import { parseAccumulator, type RoundedAccumulator } from '../../src/precision/accumulator-spec.js';
import { setBackend } from '../../src/backend/index.js';
import { assertSame, runPlan, type ProductCase, type Result } from './accumulated.js';
import { forEachBackend, requireBackends } from './backends.js';
import { NEIGHBOUR_SIGNIFICANDS, powerOfTwoNeighbours } from './inputs.js';
import { Rng } from '../support/rng.js';

interface Model { readonly spec: string; readonly output?: OutputQuantizer }

const M7E4 = 'float<4,7,none,bias=10> product=float<4,7,none,bias=12> rounding=down order=chunk:16 underflow=flush overflow=saturate';
const ROUNDINGS = ['nearest', 'zero', 'down', 'up'] as const;

/** Models the float lanes take: every rounding with a plain grid, a flushing one, and a product grid first. */
const MODELS: readonly Model[] = [
  ...ROUNDINGS.map((r) => ({ spec: `float<5,10> rounding=${r}` })),
  ...ROUNDINGS.map((r) => ({ spec: `float<4,5> rounding=${r} underflow=flush order=chunk:7` })),
  ...ROUNDINGS.map((r) => ({ spec: `float<5,6> product=e5m2 rounding=${r} order=chunk:16` })),
  { spec: M7E4 },
  { spec: 'float<4,3> product=float<4,3> rounding=zero underflow=flush overflow=saturate order=chunk:1' },
  { spec: 'float<5,2,fnuz> rounding=down' }, // no -0
  { spec: 'float<8,7> rounding=up order=chunk:64' }, // bfloat16's grid
  { spec: 'float<6,21> rounding=nearest' }, // the widest grid the lanes take
  { spec: 'float<5,10>', output: { format: 'e4m3' } }, // an output rounding after the lanes
  // signed fixed point of at most 22 bits: the float grid with M = W - 1 and steps of 2^-F over its whole range
  ...ROUNDINGS.map((r) => ({ spec: `fixed<16,10> rounding=${r}` })),
  { spec: 'fixed<22,16> rounding=down order=chunk:8' }, // the widest word the lanes take
  { spec: 'fixed<20,12> overflow=wrap rounding=up' },
  { spec: 'fixed<12,8> product=fixed<12,10> rounding=zero order=chunk:16' },
  // posits, where their grid is uniform (elsewhere the tile goes to the double lanes)
  ...ROUNDINGS.map((r) => ({ spec: `posit<16,1> rounding=${r}` })),
  { spec: 'posit<12,1> product=posit<10,1> rounding=up order=chunk:16' },
  { spec: 'posit<20,0> rounding=down order=chunk:7' },
];

const rng = new Rng(0x5eed1a7e);

/** Values with few significant bits (ties, exact cancellations), some zeros, magnitudes 2^-6 .. 2^-1. */
function values(len: number): Float32Array {
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    const r = rng.u32() % 16;
    const sign = rng.u32() & 1 ? -1 : 1;
    if (r === 0) out[i] = 0;
    else if (r === 1 && i > 0) out[i] = -out[i - 1];
    else if (r < 4) out[i] = sign * (1 + (rng.u32() & 0x7fffff) / 2 ** 23) * 2 ** -((rng.u32() % 6) + 1);
    else out[i] = sign * (1 + (rng.u32() % 16) / 16) * 2 ** -((rng.u32() % 6) + 1);
  }
  return out;
}

/**
 * A product whose op(B) columns are scaled by 2^0 .. 2^-18 in turn (toward the subnormals and the flush range);
 * `poison`: one element of A becomes NaN, or B's column 7 grows until it overflows the grid.
 */
function makeCase(m: number, n: number, k: number, variant: number, poison: 'none' | 'nan' | 'overflow'): ProductCase {
  const transA = (variant & 1) === 1, transB = (variant & 2) === 2, accumulate = (variant & 4) === 4;
  const a = values(m * k), b = values(k * n), c = values(m * n);
  for (let p = 0; p < k; p++) {
    for (let j = 0; j < n; j++) {
      const at = transB ? j * k + p : p * n + j;
      b[at] *= 2 ** -(3 * (j % 7));
      if (poison === 'overflow' && j === 7) b[at] = 2 ** 20;
    }
  }
  if (poison === 'nan' && m * k > 0) a[(m * k) >> 1] = NaN;
  return { m, n, k, transA, transB, accumulate, a, b, c };
}

function plan(model: Model, seed: number, events = true) {
  return lowerAccumulator(parseAccumulator(model.spec) as RoundedAccumulator, model.output, seed, 99, events);
}

const SHAPES: readonly [number, number, number][] = [[4, 48, 37], [9, 100, 64], [5, 17, 20], [13, 50, 3], [8, 96, 0], [1, 49, 130]];

test('accumulated products: per-add floats in float lanes give js\'s bits, counts and mask (whole and padded tiles, both transposes, accumulate)', (t) => {
  if (!requireBackends(t)) return;
  const totals = { swamped: 0, underflow: 0, overflow: 0, nonzero: 0 };
  let compared = 0;
  for (const model of MODELS) {
    SHAPES.forEach(([m, n, k], s) => {
      for (const variant of [s % 8, (s + 3) % 8, 7 - s]) {
        const cs = makeCase(m, n, k, variant, 'none');
        const p = plan(model, variant * 31 + s);
        const want = runPlan(jsKernels, p, cs);
        totals.swamped += want.counts.swamped;
        totals.underflow += want.counts.underflow;
        totals.overflow += want.counts.overflow;
        totals.nonzero += want.c.filter((v) => v !== 0).length;
        for (const cfg of forEachBackend({ includeJs: false })) {
          assertSame(runPlan(cfg.kernels, p, cs), want, `${cfg.label} ${model.spec} m=${m} n=${n} k=${k} variant ${variant}`);
          compared++;
        }
      }
    });
  }
  assert.ok(compared > 0);
  // The inputs reach swamping and flushing, and stay clear of overflow (which would send tiles to the double lanes).
  assert.ok(totals.swamped > 0 && totals.underflow > 0 && totals.nonzero > 0, JSON.stringify(totals));
  assert.equal(totals.overflow, 0, 'these inputs stay inside every grid');
});

test('accumulated products: float-lane tiles that overflow or meet a NaN are redone exactly (saturation, Inf, the overflow mask)', (t) => {
  if (!requireBackends(t)) return;
  let overflowed = 0;
  for (const model of [...MODELS, { spec: 'float<5,10> overflow=saturate' }, { spec: 'float<4,3,fn> rounding=zero' }]) {
    for (const poison of ['nan', 'overflow'] as const) {
      const cs = makeCase(9, 100, 40, poison === 'nan' ? 1 : 6, poison);
      const p = plan(model, 7);
      const want = runPlan(jsKernels, p, cs);
      overflowed += want.overflowed.reduce((s, v) => s + v, 0);
      for (const cfg of forEachBackend({ includeJs: false })) assertSame(runPlan(cfg.kernels, p, cs), want, `${cfg.label} ${model.spec} ${poison}`);
    }
  }
  assert.ok(overflowed > 0, 'some elements overflowed');
});

function sameValues(got: Result, want: Result, what: string): void {
  assert.deepEqual(new Uint32Array(got.c.buffer), new Uint32Array(want.c.buffer), `${what}: c`);
  assert.deepEqual(got.overflowed, want.overflowed, `${what}: overflow mask`);
}

test('accumulated products: without events the values and the overflow mask are the same, and every count reads 0', (t) => {
  if (!requireBackends(t)) return;
  for (const model of [MODELS[0], MODELS[6], { spec: M7E4 }, { spec: 'float<5,10> rounding=stochastic' }, { spec: 'posit<8,0>' }, { spec: 'exact' }]) {
    for (const poison of ['none', 'overflow'] as const) {
      const cs = makeCase(9, 100, 40, 2, poison);
      const want = runPlan(jsKernels, plan(model, 3), cs);
      for (const cfg of forEachBackend({ includeJs: true })) {
        sameValues(runPlan(cfg.kernels, plan(model, 3, false), cs), want, `${cfg.label} ${model.spec} ${poison}`);
      }
    }
  }
  setBackend('js');
  const cs = makeCase(4, 48, 30, 0, 'overflow');
  const r = accumulatedGemm('float<5,10>', false, false, 4, 48, 30, cs.a, cs.b, cs.c.slice(), false, { events: false });
  assert.deepEqual({ swamped: r!.swamped, overflow: r!.overflow, underflow: r!.underflow }, { swamped: 0, overflow: 0, underflow: 0 });
  assert.ok(r!.overflowed.includes(1), 'the mask is still written');
});

/** The exponents where posit<width,es> is a uniform grid (the regime leaves it fraction bits: fb >= 0). */
function uniformExponents(width: number, es: number): number[] {
  const out: number[] = [];
  for (let e = -130; e <= 130; e++) {
    const k = Math.floor(e / 2 ** es);
    if (width - 1 - es - (k >= 0 ? k + 2 : 1 - k) >= 0) out.push(e);
  }
  return out;
}

test('accumulated products: posits in float lanes round every value of few bits across their uniform range like js (ties, exact zeros)', (t) => {
  if (!requireBackends(t)) return;
  // Widths and exponent sizes the float lanes take (at most 21 fraction bits, maxpos within 2^120), es = 0 among them
  // (where the last bit of a pattern without fraction bits is the regime's); posit<24,3>, whose maxpos is 2^176,
  // runs in the double lanes, its values past float32's range infinite.
  const configs: readonly [number, number][] = [[6, 2], [8, 0], [8, 1], [12, 1], [16, 1], [16, 2], [20, 0], [24, 3], [9, 4]];
  const perExponent = 2 * NEIGHBOUR_SIGNIFICANDS.length;
  let compared = 0;
  for (const [width, es] of configs) {
    const row = powerOfTwoNeighbours(uniformExponents(width, es));
    const n = row.length;
    // k = 1: one rounding of each value; k = 2: a power of two and then its negation, an exact zero sum
    const single: ProductCase = { m: 2, n, k: 1, transA: false, transB: false, accumulate: false, a: new Float32Array([1, 1]), b: new Float32Array(row), c: new Float32Array(2 * n) };
    const b2 = new Float32Array(2 * n);
    for (let j = 0; j < n; j++) {
      b2[j] = j % perExponent < 2 ? row[j] : row[j] / 4; // ±2^e exactly, the others a quarter
      b2[n + j] = -b2[j];
    }
    const cancel: ProductCase = { m: 2, n, k: 2, transA: false, transB: false, accumulate: false, a: new Float32Array([1, 1, 1, 1]), b: b2, c: new Float32Array(2 * n) };
    for (const r of ROUNDINGS) {
      const p = plan({ spec: `posit<${width},${es}> rounding=${r}` }, width + es);
      for (const cs of [single, cancel]) {
        const want = runPlan(jsKernels, p, cs);
        for (const cfg of forEachBackend({ includeJs: false })) {
          assertSame(runPlan(cfg.kernels, p, cs), want, `${cfg.label} posit<${width},${es}> rounding=${r} k=${cs.k}`);
          compared++;
        }
      }
    }
  }
  assert.ok(compared > 0);
});
