/**
 * fp32 GEMM: the specification every backend matches bit for bit, and the
 * argument checks they share.
 *
 * C = op(A)·op(B) (+ C when accumulate). Each C[i,j] is a chain of fused
 * multiply-adds in increasing k, starting from C[i,j] (accumulate) or +0,
 * each rounded once to float32 (round to nearest even, IEEE subnormals,
 * Inf/NaN propagate; NaN payloads are unspecified). No other reassociation:
 * the C kernels block over k only by storing C and continuing the chain, and
 * split work over output tiles only.
 */
import { overlaps } from './overlap.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer); // little-endian: u32[0] holds the low bits of the significand

/**
 * fma(a, b, c) rounded once to float32, for float32 a, b, c. a*b is exact in
 * double (48 significant bits); the double sum s is made round-to-odd (if
 * inexact and its last bit is even, step one ulp toward the error), which
 * keeps enough to round again, to float32, exactly as the fused operation
 * (Boldo & Melquiond: 53 >= 24 + 2). The sum never overflows double and is
 * normal in double when nonzero; an Inf/NaN sum gets a NaN error term and is
 * left alone.
 */
export function fmaf32(a: number, b: number, c: number): number {
  const x = a * b;
  const s = x + c;
  const bb = s - x;
  const e = x - (s - bb) + (c - bb);
  if (e < 0 || e > 0) {
    f64[0] = s;
    const lo = u32[0];
    if ((lo & 1) === 0) {
      if (e > 0 === s > 0) u32[0] = lo + 1; // away from zero; lo is even, so no carry
      else if (lo !== 0) u32[0] = lo - 1;
      else {
        u32[0] = 0xffffffff;
        u32[1] -= 1;
      }
      return Math.fround(f64[0]);
    }
  }
  return Math.fround(s);
}

function dim(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`gemm: ${name} must be a non-negative integer, got ${v}`);
}

/** Checks gemm's arguments (every backend calls this first): sizes, array types and lengths, and that C aliases neither input. */
export function checkGemm(m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  dim('m', m);
  dim('n', n);
  dim('k', k);
  for (const [name, arr] of [['a', a], ['b', b], ['c', c]] as const) {
    if (!(arr instanceof Float32Array)) throw new TypeError(`gemm: ${name} must be a Float32Array`);
  }
  const need: [string, Float32Array, number, string][] = [['a', a, m * k, 'm·k'], ['b', b, k * n, 'k·n'], ['c', c, m * n, 'm·n']];
  for (const [name, arr, len, what] of need) {
    if (arr.length < len) throw new TypeError(`gemm: ${name} has ${arr.length} elements but m=${m}, n=${n}, k=${k} need ${what} = ${len}`);
  }
  if (m * n > 0 && ((m * k > 0 && overlaps(c, a)) || (k * n > 0 && overlaps(c, b)))) {
    throw new RangeError('gemm: c must not overlap a or b');
  }
}

/** The reference gemm: plain loops over fmaf32 (arguments already checked). */
export function referenceGemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean,
): void {
  // op(A)[i,p] = a[i*sai + p*sap], op(B)[p,j] = b[p*sbp + j*sbj]
  const sai = transA ? 1 : k, sap = transA ? m : 1;
  const sbp = transB ? 1 : n, sbj = transB ? k : 1;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = accumulate ? c[i * n + j] : 0;
      let ia = i * sai, ib = j * sbj;
      for (let p = 0; p < k; p++, ia += sap, ib += sbp) acc = fmaf32(a[ia], b[ib], acc);
      c[i * n + j] = acc;
    }
  }
}
