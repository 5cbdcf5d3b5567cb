/**
 * Gradient checking in float64: every op's backward is compared with central
 * finite differences of its forward. The loss is Σ r·f(inputs) with fixed
 * random weights r, so every output element's gradient is exercised.
 */
import assert from 'node:assert/strict';
import { backward } from '../../src/tensor/autograd.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from './rng.js';

export interface GradCheckOptions {
  /** Finite-difference step. */
  eps?: number;
  /** Allowed |analytic - numeric| ≤ atol + rtol·|numeric|. */
  atol?: number;
  rtol?: number;
  seed?: number;
}

/** A float64 leaf with values uniform in [lo, hi). */
export function randomLeaf(shape: readonly number[], seed: number, lo = -1, hi = 1): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rng.float();
  return new Tensor(data, shape, true);
}

function weightedSum(out: Tensor, r: Float64Array): number {
  let s = 0;
  for (let i = 0; i < out.size; i++) s += out.data[i] * r[i];
  return s;
}

/** Checks d(Σ r·f)/d(input) for every input against central differences. */
export function gradCheck(f: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradCheckOptions = {}): void {
  const { eps = 1e-6, atol = 1e-7, rtol = 1e-5, seed = 7 } = options;
  for (const t of inputs) t.grad = null;
  const out = f(...inputs);
  const rng = new Rng(seed);
  const r = new Float64Array(out.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.float() * 2 - 1;
  backward(out, r);
  inputs.forEach((t, which) => {
    if (!t.requiresGrad) return;
    const analytic = t.grad ?? new Float64Array(t.size);
    for (let i = 0; i < t.size; i++) {
      const keep = t.data[i];
      t.data[i] = keep + eps;
      const up = weightedSum(f(...inputs), r);
      t.data[i] = keep - eps;
      const down = weightedSum(f(...inputs), r);
      t.data[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const err = Math.abs(analytic[i] - numeric);
      assert.ok(err <= atol + rtol * Math.abs(numeric), `input ${which} element ${i}: analytic ${analytic[i]} vs numeric ${numeric} (|diff| ${err})`);
    }
  });
}
