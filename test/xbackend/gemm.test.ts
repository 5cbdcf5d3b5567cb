/**
 * gemm gives the same bits on js, wasm (the relaxed-madd kernel and the
 * exact-emulation kernel, each forced) and native (every ISA, 1 and 2
 * threads). js is the specification but slow, so it checks small shapes;
 * larger shapes, around the block sizes of every ISA (MR 4/6/14, NR 8/16/32,
 * KC 256, MC 128..168, MBIG, NC 4096), compare everything else with the
 * wasm SIMD128 kernel, itself checked against js on the small ones. NaN
 * payloads are unspecified: a NaN matches any NaN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kernels } from '../../src/backend/index.js';
import { jsKernels } from '../../src/backend/js.js';
import { loadWasmKernels } from '../../src/backend/wasm.js';
import { UnsupportedError } from '../../src/errors.js';
import { ON_CI, forEachBackend, requireBackends } from './backends.js';
import { Rng } from '../support/rng.js';


interface Case { m: number; n: number; k: number; transA: boolean; transB: boolean; accumulate: boolean; a: Float32Array; b: Float32Array; c: Float32Array }

const rng = new Rng(0x9e3779b9);
const rand32 = (): number => rng.u32();
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);

/** Values that stress rounding: mixed magnitudes, subnormals, exact cancellation partners; a few NaN/Inf when `special`. */
function fill(len: number, style: number, special: boolean): Float32Array {
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    const r = rand32() % 16;
    const sign = rand32() & 1 ? -1 : 1;
    if (style === 0) out[i] = sign * (1 + (rand32() % 1024) / 1024); // few significant bits: many exact cancellations
    else if (r < 10) out[i] = sign * (1 + (rand32() & 0x7fffff) / 2 ** 23) * 2 ** ((rand32() % 40) - 20);
    else if (r < 12) out[i] = sign * (rand32() & 0x7fffff) * 2 ** -149; // subnormal
    else if (r < 14 && i > 0) out[i] = -out[i - 1];
    else if (r < 15) out[i] = sign * 2 ** ((rand32() % 60) - 30);
    else out[i] = sign * (1 + (rand32() & 0x7fffff) / 2 ** 23) * 2 ** ((rand32() % 200) - 130);
    if (special && rand32() % 97 === 0) out[i] = [NaN, Infinity, -Infinity][rand32() % 3];
  }
  return out;
}

function makeCase(m: number, n: number, k: number, variant: number): Case {
  const special = variant % 5 === 4;
  return {
    m, n, k, transA: (variant & 1) === 1, transB: (variant & 2) === 2, accumulate: (variant & 4) === 4,
    a: fill(m * k, variant % 3, special), b: fill(k * n, (variant + 1) % 3, special), c: fill(m * n, 1, false),
  };
}

function run(kern: Kernels, cs: Case): Float32Array {
  const c = cs.c.slice();
  kern.gemm(cs.transA, cs.transB, cs.m, cs.n, cs.k, cs.a, cs.b, c, cs.accumulate);
  return c;
}

function assertSame(got: Float32Array, want: Float32Array, what: string): void {
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length), w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < want.length; i++) {
    if (g[i] === w[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i]))) continue;
    f32[0] = want[i];
    assert.fail(`${what}: C[${i}] = ${got[i]} (0x${g[i].toString(16)}), expected ${want[i]} (0x${u32[0].toString(16)})`);
  }
}

/** The wasm kernels, each forced; a build this engine cannot use is skipped (a failure on CI for SIMD128). */
function wasmKernels(): { label: string; kernels: Kernels }[] {
  const out: { label: string; kernels: Kernels }[] = [];
  for (const v of ['simd128', 'relaxed'] as const) {
    try {
      out.push({ label: `wasm/${v}`, kernels: loadWasmKernels(v) });
    } catch (e) {
      if (!(e instanceof UnsupportedError) || (ON_CI && v === 'simd128')) throw e;
    }
  }
  return out;
}

const SMALL: [number, number, number][] = [[1, 1, 1], [1, 7, 3], [5, 1, 9], [3, 4, 0], [2, 3, 1], [7, 9, 16], [13, 17, 5], [15, 33, 2], [16, 9, 31], [4, 40, 7]];
const BIG: [number, number, number][] = [
  [1, 1, 700], [6, 25, 1200], [14, 32, 256], [15, 33, 257], [13, 31, 255], [29, 65, 513], [100, 10, 300], [40, 7, 90],
  [169, 129, 40], [200, 300, 300], [97, 101, 260], [6, 1000, 30], [1400, 40, 20], [3, 4100, 5], [300, 3, 600],
];

test('gemm: js = wasm = native, small shapes, every transpose and accumulate', (t) => {
  if (!requireBackends(t)) return;
  const wasm = wasmKernels();
  for (const [m, n, k] of SMALL) {
    for (let variant = 0; variant < 8; variant++) {
      const cs = makeCase(m, n, k, variant + (m * 5 + n) % 2 * 8);
      const want = run(jsKernels, cs);
      const label = `${m}x${n}x${k} tA=${cs.transA} tB=${cs.transB} acc=${cs.accumulate}`;
      for (const w of wasm) assertSame(run(w.kernels, cs), want, `${w.label} ${label}`);
      for (const cfg of forEachBackend({ includeJs: false })) {
        if (cfg.backend === 'native') assertSame(run(cfg.kernels, cs), want, `${cfg.label} ${label}`);
      }
    }
  }
  // a medium shape against js too, so the SIMD128 reference below is itself anchored across k blocks
  const cs = makeCase(9, 40, 300, 5);
  const want = run(jsKernels, cs);
  for (const w of wasm) assertSame(run(w.kernels, cs), want, `${w.label} 9x40x300`);
});

test('gemm: wasm (both kernels) = native (every ISA, 1 and 2 threads) around block boundaries', (t) => {
  if (!requireBackends(t, ['wasm', 'native'])) return;
  const [ref, ...others] = wasmKernels();
  const cases = BIG.flatMap(([m, n, k], i) => [0, 1, 2, 3, 4, 5, 6, 7].filter((v) => (v + i) % 2 === 0 || m * n * k < 1e6).map((v) => makeCase(m, n, k, v)));
  for (let i = 0; i < 60; i++) cases.push(makeCase(1 + (rand32() % 180), 1 + (rand32() % 180), 1 + (rand32() % 600), rand32() % 8));
  const wants = cases.map((cs) => run(ref.kernels, cs));
  const label = (cs: Case): string => `${cs.m}x${cs.n}x${cs.k} tA=${cs.transA} tB=${cs.transB} acc=${cs.accumulate}`;
  for (const w of others) cases.forEach((cs, i) => assertSame(run(w.kernels, cs), wants[i], `${w.label} ${label(cs)}`));
  for (const cfg of forEachBackend({ includeJs: false })) {
    if (cfg.backend !== 'native') continue;
    cases.forEach((cs, i) => assertSame(run(cfg.kernels, cs), wants[i], `${cfg.label} ${label(cs)}`));
  }
});

test('gemm edge cases on every backend: k = 0, empty C, views, short arrays', (t) => {
  if (!requireBackends(t)) return;
  const all: { label: string; kernels: Kernels }[] = [{ label: 'js', kernels: jsKernels }, ...wasmKernels()];
  for (const cfg of forEachBackend({ includeJs: false })) if (cfg.backend === 'native') all.push({ label: cfg.label, kernels: cfg.kernels });
  for (const { label, kernels } of all) {
    const c = new Float32Array([1, 2, 3, 4, 5, 6]);
    kernels.gemm(false, true, 2, 3, 0, new Float32Array(0), new Float32Array(0), c, true);
    assert.deepEqual([...c], [1, 2, 3, 4, 5, 6], label);
    kernels.gemm(true, false, 2, 3, 0, new Float32Array(0), new Float32Array(0), c, false);
    assert.deepEqual([...c], [0, 0, 0, 0, 0, 0], label);
    kernels.gemm(false, false, 3, 0, 2, new Float32Array(6), new Float32Array(0), new Float32Array(0), false);
    // views at odd offsets: op(A) = [[1, 2], [3, 4]] stored transposed, B = I
    const big = new Float32Array([9, 1, 3, 2, 4, 1, 0, 0, 1, 9]);
    const out = new Float32Array(6).fill(7);
    kernels.gemm(true, false, 2, 2, 2, big.subarray(1, 5), big.subarray(5, 9), out.subarray(1, 5), false);
    assert.deepEqual([...out], [7, 1, 2, 3, 4, 7], label);
    assert.throws(() => kernels.gemm(false, false, 2, 2, 2, new Float32Array(4), new Float32Array(3), new Float32Array(4), false), TypeError, label);
  }
});
