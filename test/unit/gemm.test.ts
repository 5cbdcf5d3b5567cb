/**
 * The gemm specification (src/backend/gemm.ts): the scalar fused
 * multiply-add against an exact BigInt oracle, the reference gemm against
 * chains of oracle fmas, and the argument edge cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGemm, fmaf32 } from '../../src/backend/gemm.js';
import { jsKernels } from '../../src/backend/js.js';
import { Rng } from '../support/rng.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fromBits = (b: number): number => { u32[0] = b; return f32[0]; };
const bitsOf = (x: number): number => { f32[0] = x; return u32[0]; };

/** A finite float32 as sign, integer significand and exponent: x = ±sig·2^exp, exp >= -149. */
function decompose(x: number): { neg: boolean; sig: bigint; exp: number } {
  const b = bitsOf(x);
  const e = (b >>> 23) & 0xff, f = b & 0x7fffff;
  return { neg: b >>> 31 === 1, sig: BigInt(e === 0 ? f : f | 0x800000), exp: (e === 0 ? 1 : e) - 150 };
}

/** fma(a, b, c) rounded once to float32, exactly: the sum is an integer multiple of 2^-298. */
function oracleFma(a: number, b: number, c: number): number {
  if (Number.isNaN(a) || Number.isNaN(b) || Number.isNaN(c)) return NaN;
  const infProduct = !Number.isFinite(a) || !Number.isFinite(b);
  if (infProduct) {
    if (a === 0 || b === 0) return NaN;
    const p = (a > 0) === (b > 0) ? Infinity : -Infinity;
    return !Number.isFinite(c) && c !== p ? NaN : p;
  }
  if (!Number.isFinite(c)) return c;
  const da = decompose(a), db = decompose(b), dc = decompose(c);
  const pNeg = da.neg !== db.neg;
  const p = (da.sig * db.sig) << BigInt(da.exp + db.exp + 298);
  const q = dc.sig << BigInt(dc.exp + 298);
  const sum = (pNeg ? -p : p) + (dc.neg ? -q : q);
  if (sum === 0n) {
    // exact zero: -0 only when both addends are -0 (a zero product has the sign of a·b)
    const productZeroNeg = p === 0n && pNeg;
    const cZeroNeg = q === 0n && dc.neg;
    return p === 0n && q === 0n && productZeroNeg && cZeroNeg ? -0 : 0;
  }
  const neg = sum < 0n;
  const mag = neg ? -sum : sum;
  const e = mag.toString(2).length - 1 - 298; // mag·2^-298 lies in [2^e, 2^(e+1))
  const quantum = Math.max(e - 23, -149);
  const shift = BigInt(quantum + 298);
  let m = mag >> shift;
  const rem = mag - (m << shift), half = 1n << (shift - 1n);
  if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
  let v = Number(m) * 2 ** quantum;
  if (v > 3.4028234663852886e38) v = Infinity;
  assert.equal(Math.fround(v), v);
  return neg ? -v : v;
}

function sameFloat(x: number, y: number): boolean {
  return Number.isNaN(x) ? Number.isNaN(y) : Object.is(x, y);
}

const rng = new Rng(0x12345678);
const rand32 = (): number => rng.u32();
const randFloat = (): number => fromBits(rand32()); // every exponent, NaN and Inf included
/** A float with exponent in [lo, hi] and random significand and sign. */
function randIn(lo: number, hi: number): number {
  const e = lo + (rand32() % (hi - lo + 1));
  return Math.fround((rand32() & 1 ? -1 : 1) * (1 + (rand32() & 0x7fffff) / 2 ** 23) * 2 ** e);
}
const ulp = (x: number): number => 2 ** Math.max(Math.floor(Math.log2(Math.abs(x))) - 23, -149);

const EDGE = [0, -0, 1, -1, 2 ** -149, -(2 ** -149), 2 ** -126, 2 ** -127 * 3, 3.4028234663852886e38, -3.4028234663852886e38,
  Infinity, -Infinity, NaN, 1 + 2 ** -23, 1 - 2 ** -24, 0.5, 3, 2 ** 64, 2 ** -64, 2 ** 127, 2 ** -100];

function cases(): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const a of EDGE) for (const b of EDGE) for (const c of EDGE) out.push([a, b, c]);
  for (let i = 0; i < 60000; i++) out.push([randFloat(), randFloat(), randFloat()]);
  for (let i = 0; i < 60000; i++) out.push([randIn(-20, 20), randIn(-20, 20), randIn(-40, 40)]);
  for (let i = 0; i < 40000; i++) {
    // cancellation: c ≈ -a·b, exact and off by a few ulps
    const a = randIn(-60, 60), b = randIn(-60, 60);
    const p = Math.fround(a * b);
    out.push([a, b, -p], [a, b, Math.fround(-p + (rand32() % 7 - 3) * ulp(p))]);
  }
  for (let i = 0; i < 40000; i++) {
    // ties and near-ties: a·b about half an ulp of c, with low bits far below double precision
    const c = randIn(-30, 30);
    const h = ulp(c) / 2;
    const a = Math.fround(1 + (rand32() % 4) * 2 ** -23 * (rand32() & 1 ? 1 : -1));
    out.push([a, Math.fround(h * (rand32() & 1 ? 1 : -1)), c], [a, Math.fround(h * (1 + 2 ** -23)), c]);
  }
  for (let i = 0; i < 30000; i++) {
    // subnormal results and operands, tiny products
    out.push([randIn(-149, -100), randIn(-40, 10), randIn(-149, -120)], [randIn(-80, -60), randIn(-80, -60), rand32() & 1 ? 0 : -0]);
  }
  for (let i = 0; i < 20000; i++) {
    // overflow to Inf, and huge products cancelling
    const a = randIn(60, 127), b = randIn(60, 127);
    out.push([a, b, randIn(100, 127)], [a, b, -3.4028234663852886e38]);
  }
  for (let i = 0; i < 10000; i++) out.push([rand32() & 1 ? 0 : -0, randIn(-149, 127), rand32() & 1 ? 0 : -0]);
  return out;
}

test('fmaf32 equals the exact oracle on edge and random inputs', () => {
  const all = cases();
  assert.ok(all.length >= 300000, `only ${all.length} cases`);
  let checked = 0;
  for (const [a, b, c] of all) {
    const want = oracleFma(a, b, c), got = fmaf32(a, b, c);
    if (!sameFloat(got, want)) assert.fail(`fma(${a}, ${b}, ${c}): got ${got}, want ${want}`);
    checked++;
  }
  assert.equal(checked, all.length);
});

function gen(len: number, kind: number): Float32Array {
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = kind === 0 ? randIn(-8, 8) : kind === 1 ? randIn(-140, -110) : randIn(-30, 30);
  return a;
}

test('js gemm equals chains of oracle fmas (all transposes, accumulate)', () => {
  for (const [m, n, k] of [[1, 1, 1], [2, 3, 5], [7, 5, 3], [4, 9, 17], [3, 1, 40]]) {
    for (let variant = 0; variant < 8; variant++) {
      const transA = (variant & 1) === 1, transB = (variant & 2) === 2, accumulate = (variant & 4) === 4;
      const a = gen(m * k, variant % 3), b = gen(k * n, (variant + 1) % 3), c0 = gen(m * n, 2);
      const c = c0.slice();
      jsKernels.gemm(transA, transB, m, n, k, a, b, c, accumulate);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = accumulate ? c0[i * n + j] : 0;
          for (let p = 0; p < k; p++) acc = oracleFma(transA ? a[p * m + i] : a[i * k + p], transB ? b[j * k + p] : b[p * n + j], acc);
          assert.ok(sameFloat(c[i * n + j], acc), `m=${m} n=${n} k=${k} variant ${variant} C[${i},${j}]`);
        }
      }
    }
  }
});

test('gemm edge cases: k = 0, empty C, views, bad arguments', () => {
  const c = new Float32Array([1, 2, 3, 4, 5, 6]);
  jsKernels.gemm(false, false, 2, 3, 0, new Float32Array(0), new Float32Array(0), c, true);
  assert.deepEqual([...c], [1, 2, 3, 4, 5, 6]);
  jsKernels.gemm(false, false, 2, 3, 0, new Float32Array(0), new Float32Array(0), c, false);
  assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
  jsKernels.gemm(false, false, 0, 3, 4, new Float32Array(0), new Float32Array(12), new Float32Array(0), false);
  // views: A = [[1, 2]], B = [[3], [4]] sit at offsets inside larger buffers
  const big = new Float32Array([9, 1, 2, 3, 4, 9, 9]);
  const out = new Float32Array([7, 7, 7]);
  jsKernels.gemm(false, false, 1, 1, 2, big.subarray(1, 3), big.subarray(3, 5), out.subarray(1, 2), false);
  assert.deepEqual([...out], [7, 11, 7]);
  assert.throws(() => checkGemm(2, 2, 2, new Float32Array(3), new Float32Array(4), new Float32Array(4)), /a has 3 elements.*m·k = 4/);
  assert.throws(() => checkGemm(2, 2, 2, new Float32Array(4), new Float32Array(4), new Float32Array(3)), TypeError);
  assert.throws(() => checkGemm(-1, 2, 2, new Float32Array(4), new Float32Array(4), new Float32Array(4)), RangeError);
  assert.throws(() => checkGemm(1.5, 2, 2, new Float32Array(4), new Float32Array(4), new Float32Array(4)), RangeError);
  const shared = new Float32Array(8);
  assert.throws(() => checkGemm(2, 2, 2, shared.subarray(0, 4), new Float32Array(4), shared.subarray(2, 6)), /overlap/);
  assert.throws(() => checkGemm(1, 1, 1, [1] as unknown as Float32Array, new Float32Array(1), new Float32Array(1)), TypeError);
});
