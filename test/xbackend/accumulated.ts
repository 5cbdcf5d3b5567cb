/**
 * Shared by the accumulator cross-backend tests: one accumulated product run
 * on a backend from a lowered plan, and the comparison of two runs (bits of
 * C, event counts, overflow mask; NaN payloads are unspecified, so a NaN
 * matches any NaN).
 */
import assert from 'node:assert/strict';
import type { Kernels } from '../../src/backend/index.js';
import type { AccumulationCounts, AccumulatorPlan } from '../../src/backend/accumulate.js';

/** The operands of one product: gemm's arguments. */
export interface ProductCase {
  readonly m: number; readonly n: number; readonly k: number;
  readonly transA: boolean; readonly transB: boolean; readonly accumulate: boolean;
  readonly a: Float32Array; readonly b: Float32Array; readonly c: Float32Array;
}

export interface Result { c: Float32Array; overflowed: Uint8Array; counts: AccumulationCounts }

/** The product on `kern`, C copied first and the mask pre-filled with 7 (so an element left unwritten shows). */
export function runPlan(kern: Kernels, plan: AccumulatorPlan, cs: ProductCase): Result {
  const c = cs.c.slice(), overflowed = new Uint8Array(cs.m * cs.n).fill(7);
  const counts = kern.accumulatedGemm(plan, cs.transA, cs.transB, cs.m, cs.n, cs.k, cs.a, cs.b, c, cs.accumulate, overflowed);
  return { c, overflowed, counts };
}

export function assertSame(got: Result, want: Result, what: string): void {
  const g = new Uint32Array(got.c.buffer), w = new Uint32Array(want.c.buffer);
  for (let i = 0; i < w.length; i++) {
    if (g[i] === w[i] || (Number.isNaN(got.c[i]) && Number.isNaN(want.c[i]))) continue;
    assert.fail(`${what}: c[${i}] = ${got.c[i]} (0x${g[i].toString(16)}), want ${want.c[i]} (0x${w[i].toString(16)})`);
  }
  assert.deepEqual(got.counts, want.counts, `${what}: counts`);
  assert.deepEqual(got.overflowed, want.overflowed, `${what}: overflow mask`);
}
