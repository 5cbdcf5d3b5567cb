/**
 * One view serves every product an approximated layer computes: an operand
 * is a row-major array read as [outer, pairs, inner], and pair i of the
 * product is the slice [:, i, :] of each operand (a column of A or a row of
 * B, an input channel, an output channel, or a batch entry). Norms,
 * gathering and scattering are written once against that view.
 */
import type { FloatArray } from '../tensor/tensor.js';

export interface PairOperand {
  readonly data: FloatArray;
  readonly outer: number;
  readonly pairs: number;
  readonly inner: number;
}

export function operand(data: FloatArray, outer: number, pairs: number, inner: number): PairOperand {
  if (data.length !== outer * pairs * inner) throw new Error(`internal: ${data.length} elements viewed as [${outer}, ${pairs}, ${inner}]`);
  return { data, outer, pairs, inner };
}

/** ‖slice i‖² for every pair, in float64, each sum in element order. */
export function pairSquares(op: PairOperand): Float64Array {
  const { data, outer, pairs, inner } = op;
  const sq = new Float64Array(pairs);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < pairs; i++) {
      let s = 0;
      for (let j = 0, base = (o * pairs + i) * inner; j < inner; j++) s += data[base + j] * data[base + j];
      sq[i] += s;
    }
  }
  return sq;
}

/**
 * ‖slice i‖² estimated from `rows` of the outer·inner positions of every
 * slice (row r is outer index ⌊r / inner⌋, inner index r mod inner), as the
 * top-k variant that does not read whole operands does. The common factor
 * (outer·inner / rows) is left out: it changes no ranking.
 */
export function estimatedPairSquares(op: PairOperand, rows: Int32Array): Float64Array {
  const { data, pairs, inner } = op;
  const sq = new Float64Array(pairs);
  for (const r of rows) {
    const o = Math.floor(r / inner);
    const j = r - o * inner;
    for (let i = 0, base = o * pairs * inner + j; i < pairs; i++) {
      const v = data[base + i * inner];
      sq[i] += v * v;
    }
  }
  return sq;
}

/** wᵢ = ‖A slice i‖·‖B slice i‖ from the two operands' squared norms. */
export function pairWeights(sqA: Float64Array, sqB: Float64Array): Float64Array {
  const w = new Float64Array(sqA.length);
  for (let i = 0; i < w.length; i++) w[i] = Math.sqrt(sqA[i]) * Math.sqrt(sqB[i]);
  return w;
}

/** The kept slices side by side, [outer, k, inner], slice j multiplied by scale[j] when given. */
export function gatherPairs(op: PairOperand, index: Int32Array, scale: Float64Array | null): FloatArray {
  const { data, outer, pairs, inner } = op;
  const k = index.length;
  const out = new (data.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(outer * k * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const src = (o * pairs + index[j]) * inner;
      const dst = (o * k + j) * inner;
      if (scale === null) {
        out.set(data.subarray(src, src + inner), dst);
      } else {
        const f = scale[j];
        for (let t = 0; t < inner; t++) out[dst + t] = data[src + t] * f;
      }
    }
  }
  return out;
}

/** The adjoint of gatherPairs: adds slice j of g (times scale[j]) into slice index[j] of dst [outer, pairs, inner]. */
export function scatterPairs(g: FloatArray, dst: PairOperand, index: Int32Array, scale: Float64Array | null): void {
  const { data, outer, pairs, inner } = dst;
  const k = index.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const src = (o * k + j) * inner;
      const at = (o * pairs + index[j]) * inner;
      const f = scale === null ? 1 : scale[j];
      for (let t = 0; t < inner; t++) data[at + t] += g[src + t] * f;
    }
  }
}
