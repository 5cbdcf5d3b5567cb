/**
 * The statistics of the pair samplers: CRS and Bernoulli-CRS are unbiased
 * (their Monte Carlo mean converges to the exact product within a
 * statistical bound), norm-proportional probabilities beat uniform ones at
 * equal k, and top-k beats CRS when the norms are skewed and k is small.
 * Draws come from Philox through createSampler, exactly as in training.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSampler, operand, pairBudget, topK, type PairSample, type SamplerSettings, type SamplingMethod } from '../../src/approx/index.js';
import { uniforms } from '../../src/rng/uniform.js';
import { Rng } from '../support/rng.js';

/** A [m, n] and B [n, p] with column i of A and row i of B scaled by colScale(i). */
function operands(m: number, n: number, p: number, seed: number, colScale: (i: number) => number): { A: Float64Array; B: Float64Array } {
  const rng = new Rng(seed);
  const A = new Float64Array(m * n);
  const B = new Float64Array(n * p);
  for (let r = 0; r < m; r++) for (let i = 0; i < n; i++) A[r * n + i] = (rng.float() * 2 - 1) * colScale(i);
  for (let i = 0; i < n; i++) for (let c = 0; c < p; c++) B[i * p + c] = (rng.float() * 2 - 1) * colScale(i);
  return { A, B };
}

/** Σ over kept pairs j of scale_j·A[:, i_j]·B[i_j, :]. */
function estimate(A: Float64Array, B: Float64Array, m: number, n: number, p: number, s: PairSample | null): Float64Array {
  const C = new Float64Array(m * p);
  const index = s ? s.index : Int32Array.from({ length: n }, (_, i) => i);
  index.forEach((i, j) => {
    const f = s?.scale ? s.scale[j] : 1;
    for (let r = 0; r < m; r++) for (let c = 0; c < p; c++) C[r * p + c] += f * A[r * n + i] * B[i * p + c];
  });
  return C;
}

const settings = (method: SamplingMethod, ratio: number): SamplerSettings => ({ method, ratio, minK: 1, epsilon: 0.1, normSample: 0.25 });

/** The sample of trial t: each trial draws from its own Philox stream, as each training step does. */
function sampleOf(method: SamplingMethod, ratio: number, A: Float64Array, B: Float64Array, m: number, n: number, p: number, t: number): PairSample | null {
  const sampler = createSampler(settings(method, ratio), () => (count, part) => uniforms(11, 1000 + t, count, part * 2 ** 31));
  return sampler('forward', operand(A, m, n, 1), operand(B, 1, n, p));
}

function sqError(C: Float64Array, exact: Float64Array): number {
  let e = 0;
  for (let i = 0; i < C.length; i++) e += (C[i] - exact[i]) ** 2;
  return e;
}

/** Mean squared Frobenius error over T trials. */
function meanError(method: SamplingMethod, ratio: number, A: Float64Array, B: Float64Array, m: number, n: number, p: number, T: number): number {
  const exact = estimate(A, B, m, n, p, null);
  let e = 0;
  for (let t = 0; t < T; t++) e += sqError(estimate(A, B, m, n, p, sampleOf(method, ratio, A, B, m, n, p, t)), exact);
  return e / T;
}

describe('approx sampling', () => {
  for (const method of ['crs', 'bernoulli-crs'] as const) {
    it(`${method}: the Monte Carlo mean converges to the exact product (every element within 5 standard errors)`, () => {
      const [m, n, p, T] = [6, 40, 5, 4000];
      const { A, B } = operands(m, n, p, 3, (i) => 0.2 + (i % 7));
      const exact = estimate(A, B, m, n, p, null);
      const sum = new Float64Array(m * p);
      const sumSq = new Float64Array(m * p);
      for (let t = 0; t < T; t++) {
        const s = sampleOf(method, 0.25, A, B, m, n, p, t);
        assert.ok(s !== null && s.index.length < n, 'a sampled product');
        const C = estimate(A, B, m, n, p, s);
        for (let i = 0; i < C.length; i++) {
          sum[i] += C[i];
          sumSq[i] += C[i] * C[i];
        }
      }
      let worst = 0;
      for (let i = 0; i < exact.length; i++) {
        const mean = sum[i] / T;
        const sd = Math.sqrt(Math.max(0, sumSq[i] / T - mean * mean));
        const z = Math.abs(mean - exact[i]) / (sd / Math.sqrt(T));
        worst = Math.max(worst, z);
      }
      assert.ok(worst < 5, `largest deviation ${worst.toFixed(2)} standard errors`);
    });
  }

  it('top-k is biased: its estimate, the same every step, differs from the exact product', () => {
    const [m, n, p] = [6, 40, 5];
    const { A, B } = operands(m, n, p, 3, (i) => 0.2 + (i % 7));
    const exact = estimate(A, B, m, n, p, null);
    const C = estimate(A, B, m, n, p, sampleOf('topk', 0.25, A, B, m, n, p, 0));
    assert.ok(sqError(C, exact) > 1e-6);
  });

  it('CRS (norm-proportional) has a lower error than uniform sampling at equal k', () => {
    const [m, n, p] = [8, 64, 8];
    const { A, B } = operands(m, n, p, 5, (i) => (i % 8 === 0 ? 4 : 0.25));
    const crs = meanError('crs', 0.25, A, B, m, n, p, 400);
    const uni = meanError('uniform', 0.25, A, B, m, n, p, 400);
    assert.ok(crs < 0.5 * uni, `crs ${crs} vs uniform ${uni}`);
  });

  it('top-k has a lower error than CRS on skewed norms at small k', () => {
    const [m, n, p] = [8, 64, 8];
    const { A, B } = operands(m, n, p, 7, (i) => 0.8 ** i);
    const topk = meanError('topk', 0.1, A, B, m, n, p, 1);
    const crs = meanError('crs', 0.1, A, B, m, n, p, 400);
    assert.ok(topk < crs, `top-k ${topk} vs crs ${crs}`);
    // The estimated-norm variant finds nearly the same pairs here.
    const est = meanError('topk-est', 0.1, A, B, m, n, p, 50);
    assert.ok(est < crs, `top-k (estimated norms) ${est} vs crs ${crs}`);
  });

  it('top-k keeps the largest weights, ties to the lower index, in increasing order', () => {
    const s = topK(Float64Array.from([1, 5, 3, 5, 0, 4]), 3);
    assert.deepEqual([...s.index], [1, 3, 5]);
    assert.equal(s.scale, null);
  });

  it('budgets: ⌈ratio·n⌉, at least minK, at most n; a budget covering every pair means exact', () => {
    assert.equal(pairBudget(500, 0.9, 1), 450);
    assert.equal(pairBudget(32, 0.5, 1), 16);
    assert.equal(pairBudget(10, 0.01, 3), 3);
    assert.equal(pairBudget(2, 0.5, 4), 2);
    const A = new Float64Array(4).fill(1);
    assert.equal(createSampler(settings('crs', 0.5), () => () => new Float64Array(8))('forward', operand(A, 1, 1, 4), operand(A, 1, 1, 4)), null);
  });

  it('CRS draws are counted once per pair with their multiplicity in the factor, so the product has at most k pairs', () => {
    const [m, n, p] = [3, 10, 3];
    const { A, B } = operands(m, n, p, 9, (i) => (i === 0 ? 100 : 1));
    const s = sampleOf('crs', 0.5, A, B, m, n, p, 0)!;
    assert.ok(s.index.length <= 5);
    assert.ok(s.index.every((v, j) => j === 0 || v > s.index[j - 1]));
    // the heavy pair was drawn several times: its factor is multiplicity/(k·q) > 1/(k·q)
    assert.equal(s.index[0], 0);
  });

  it('sampling is a function of the seed and stream alone', () => {
    const [m, n, p] = [4, 30, 4];
    const { A, B } = operands(m, n, p, 1, () => 1);
    for (const method of ['crs', 'bernoulli-crs', 'uniform', 'topk-est'] as const) {
      const a = sampleOf(method, 0.3, A, B, m, n, p, 5)!;
      const b = sampleOf(method, 0.3, A, B, m, n, p, 5)!;
      const c = sampleOf(method, 0.3, A, B, m, n, p, 6)!;
      assert.deepEqual([...a.index], [...b.index], method);
      assert.deepEqual(a.scale && [...a.scale], b.scale && [...b.scale], method);
      if (method !== 'topk-est') assert.notDeepEqual([...a.index], [...c.index], method);
    }
  });
});
