/**
 * The exact accumulator's filter (kernels/accum_exact.h) settles most
 * elements from a double GEMM and an error bound, the rest from a
 * compensated sum, and only what neither can decide from the quire. Whatever
 * the path, wasm and native must give the quire's bits, counts and overflow
 * mask, which the js backend computes directly. The inputs here are chosen to
 * send elements down each path: well-scaled data (settled by the double sum),
 * sums that cancel to a tiny residual (the compensated sum), sums that cancel
 * exactly, zero rows and signed-zero starts (the quire), Inf/NaN, long k,
 * narrow outputs (the GEMM's transposed form), accumulation into C, and
 * output formats with every kind of rounding and event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernels } from '../../src/backend/index.js';
import { jsKernels } from '../../src/backend/js.js';
import { lowerAccumulator } from '../../src/precision/accumulator-lower.js';
import type { OutputQuantizer } from '../../src/precision/accumulator.js';
import { parseAccumulator, type ExactAccumulator } from '../../src/precision/accumulator-spec.js';
import { Rng } from '../support/rng.js';
import { assertSame, runPlan, type Result } from './accumulated.js';
import { forEachBackend, requireBackends } from './backends.js';

const OUTPUTS: readonly (OutputQuantizer | undefined)[] = [
  undefined,
  { format: 'posit<8,0>' },
  { format: 'posit<8,2>' },
  { format: 'posit<16,1>', rounding: 'stochastic', randomBits: 12 },
  { format: 'fixed<8,4>', rounding: 'nearest-away' },
  { format: 'e4m3', rounding: 'down', subnormals: 'flush', overflow: 'saturate' },
  { format: 'bf16', rounding: 'stochastic' },
];

interface Case {
  readonly label: string;
  readonly m: number; readonly n: number; readonly k: number;
  readonly transA: boolean; readonly transB: boolean; readonly accumulate: boolean;
  readonly a: Float32Array; readonly b: Float32Array; readonly c: Float32Array;
}

const rng = new Rng(0x51f15eed);
const uniform = (scale: number) => ((rng.u32() / 2 ** 32) * 2 - 1) * scale;

/** Values like a trained layer's: uniform in ±scale, every bit of the significand in use. */
function scaled(len: number, scale: number): Float32Array {
  return Float32Array.from({ length: len }, () => uniform(scale));
}

/** op(A) as stored (row-major m×k, or k×m when transposed) from a function of (i, p). */
function storeA(m: number, k: number, trans: boolean, f: (i: number, p: number) => number): Float32Array {
  const a = new Float32Array(m * k);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) a[trans ? p * m + i : i * k + p] = f(i, p);
  return a;
}

/** op(B) as stored (row-major k×n, or n×k when transposed) from a function of (p, j). */
function storeB(k: number, n: number, trans: boolean, f: (p: number, j: number) => number): Float32Array {
  const b = new Float32Array(k * n);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) b[trans ? j * k + p : p * n + j] = f(p, j);
  return b;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const [m, n, k, transA, transB, accumulate] of [
    [37, 45, 130, false, false, false], [29, 40, 77, true, false, true], [33, 36, 64, false, true, false], [18, 52, 90, true, true, true],
  ] as const) {
    out.push({ label: 'well-scaled', m, n, k, transA, transB, accumulate, a: scaled(m * k, 0.5), b: scaled(k * n, 0.1), c: scaled(m * n, 1) });
  }
  // Each column pairs every product with its negation and adds one tiny term: the sum nearly cancels, far below
  // the double sum's bound, so only the compensated sum (or the quire) can settle it.
  {
    const m = 20, n = 33, k = 61;
    const base = scaled(m * 30, 1);
    const a = storeA(m, k, false, (i, p) => (p < 60 ? base[i * 30 + (p % 30)] : 2 ** -40 * (1 + (i % 7) / 8)));
    const col = scaled(30 * n, 1);
    const b = storeB(k, n, false, (p, j) => (p < 30 ? col[p * n + j] : p < 60 ? -col[(p - 30) * n + j] : 1 + j / 64));
    out.push({ label: 'near-cancellation', m, n, k, transA: false, transB: false, accumulate: false, a, b, c: new Float32Array(m * n) });
  }
  // Exact cancellation (a zero sum whose sign the quire decides), zero rows, and ±0 starts when accumulating.
  {
    const m = 19, n = 34, k = 24;
    const base = scaled(m * 12, 1);
    const a = storeA(m, k, true, (i, p) => (i % 4 === 0 ? -0 : base[i * 12 + (p % 12)]));
    const col = scaled(12 * n, 1);
    // column 1 is positive, so a -0 row times it gives only -0 products: with a -0 start, the sum is -0
    const b = storeB(k, n, false, (p, j) =>
      j === 1 ? Math.abs(col[(p % 12) * n + j]) : j % 3 === 0 ? col[(p % 12) * n + j] * (p < 12 ? 1 : -1) : col[(p % 12) * n + j]);
    const c = Float32Array.from({ length: m * n }, (_, e) => (e % 5 === 0 ? -0 : e % 5 === 1 ? 0 : uniform(1)));
    out.push({ label: 'exact zeros', m, n, k, transA: true, transB: false, accumulate: true, a, b, c });
  }
  // Disjoint supports, as ReLU and max-pooling leave gradients: every product is a signed zero though no row or
  // column is all zero. Rows of -0 against positive columns give -0 products, so with a -0 start the sum is -0.
  {
    const m = 18, n = 35, k = 40;
    const a = storeA(m, k, false, (i, p) => (p % 2 === 0 ? Math.abs(uniform(1)) + 0.01 : i % 2 === 0 ? -0 : 0));
    const b = storeB(k, n, false, (p, j) => (p % 2 === 0 ? -0 : j % 2 === 0 ? Math.abs(uniform(1)) + 0.01 : uniform(1)));
    const c = Float32Array.from({ length: m * n }, (_, e) => (e % 3 === 0 ? -0 : e % 3 === 1 ? 0 : uniform(1)));
    out.push({ label: 'disjoint supports', m, n, k, transA: false, transB: false, accumulate: true, a, b, c });
  }
  // Inf and NaN among well-scaled values: their elements go to the quire.
  {
    const m = 17, n = 40, k = 50;
    const a = scaled(m * k, 1), b = scaled(k * n, 1);
    a[3 * k + 7] = Infinity;
    a[9 * k + 1] = NaN;
    b[20 * n + 5] = -Infinity;
    out.push({ label: 'Inf and NaN', m, n, k, transA: false, transB: false, accumulate: false, a, b, c: new Float32Array(m * n) });
  }
  // Long k (the bound grows with k) and a narrow output (n below the GEMM's tile width: the transposed form).
  out.push({ label: 'long k', m: 6, n: 20, k: 3000, transA: false, transB: true, accumulate: false, a: scaled(6 * 3000, 1), b: scaled(3000 * 20, 1), c: new Float32Array(120) });
  out.push({ label: 'narrow n', m: 70, n: 3, k: 45, transA: false, transB: false, accumulate: true, a: scaled(70 * 45, 2), b: scaled(45 * 3, 2), c: scaled(210, 4) });
  // Sums beyond the output's range and below its smallest value: overflow and underflow events, saturation.
  {
    const m = 16, n = 24, k = 20;
    const a = storeA(m, k, false, (i) => 2 ** (i - 8) * (1 + uniform(0.5)));
    const b = storeB(k, n, false, (_, j) => 2 ** (j % 12 - 6) * uniform(1));
    out.push({ label: 'wide range', m, n, k, transA: false, transB: false, accumulate: false, a, b, c: new Float32Array(m * n) });
  }
  return out;
}

function run(kern: Kernels, output: OutputQuantizer | undefined, cs: Case): Result {
  return runPlan(kern, lowerAccumulator(parseAccumulator('exact') as ExactAccumulator, output, 99, 7), cs);
}

const CASES = cases();

test('exact accumulator: the filtered kernels give the quire\'s bits, counts and mask on every path', (t) => {
  if (!requireBackends(t)) return;
  let compared = 0;
  for (const cs of CASES) {
    for (const output of OUTPUTS) {
      const want = run(jsKernels, output, cs);
      for (const cfg of forEachBackend({ includeJs: false })) {
        assertSame(run(cfg.kernels, output, cs), want, `${cfg.label} ${cs.label} -> ${output?.format ?? 'fp32'}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 0);
});

test('exact accumulator: the inputs reach what they are meant to (tiny residuals, signed zeros, events)', () => {
  const near = run(jsKernels, undefined, CASES.find((c) => c.label === 'near-cancellation')!);
  // every sum is the residual alone: 2^-40·(1 + i%7/8)·(1 + j/64), far below the cancelled terms' magnitude
  assert.ok(near.c.every((v) => v > 0 && v < 2 ** -37), 'near-cancellation sums are tiny and positive');
  const zeros = run(jsKernels, undefined, CASES.find((c) => c.label === 'exact zeros')!);
  assert.ok(zeros.c.some((v) => Object.is(v, -0)) && zeros.c.some((v) => Object.is(v, 0)), 'both signed zeros occur');
  const disjoint = run(jsKernels, undefined, CASES.find((c) => c.label === 'disjoint supports')!);
  assert.ok(disjoint.c.some((v) => Object.is(v, -0)) && disjoint.c.some((v) => Object.is(v, 0)), 'sums of zeros of both signs');
  const wide = CASES.find((c) => c.label === 'wide range')!;
  const e4m3 = run(jsKernels, OUTPUTS.find((o) => o?.format === 'e4m3'), wide);
  assert.ok(e4m3.counts.overflow > 0 && e4m3.counts.underflow > 0, JSON.stringify(e4m3.counts));
  const fixed = run(jsKernels, OUTPUTS.find((o) => o?.format === 'fixed<8,4>'), wide);
  assert.ok(fixed.overflowed.some((v) => v === 1) && fixed.overflowed.some((v) => v === 0), 'some sums saturate, others do not');
});

test('exact accumulator: a float32 tie broken only by an error the compensated sum loses goes on to the quire', (t) => {
  if (!requireBackends(t)) return;
  // Products 1, 2^-24, 2^-80, 2^-140, -2^-80: the exact sum 1 + 2^-24 + 2^-140 lies just above the tie between
  // 1 and 1 + 2^-23, but the compensated sum's error term drops 2^-140 (2^-80 + 2^-140 is not a double) and
  // then cancels to 0, so it sees the tie itself.
  const m = 8, n = 32, k = 5;
  const a = new Float32Array(m * k), b = new Float32Array(k * n);
  for (let i = 0; i < m; i++) a.set([1, 2 ** -12, 2 ** -40, 2 ** -70, -(2 ** -40)], i * k);
  for (let j = 0; j < n; j++) [1, 2 ** -12, 2 ** -40, 2 ** -70, 2 ** -40].forEach((v, p) => { b[p * n + j] = v; });
  const cs: Case = { label: 'lost tie', m, n, k, transA: false, transB: false, accumulate: false, a, b, c: new Float32Array(m * n) };
  const want = run(jsKernels, undefined, cs);
  assert.ok(want.c.every((v) => v === 1 + 2 ** -23), 'the quire rounds the exact sum up');
  for (const cfg of forEachBackend({ includeJs: false })) assertSame(run(cfg.kernels, undefined, cs), want, cfg.label);
});
