/**
 * Column sums of a row-major [rows, n] array (a linear layer's bias
 * gradient), the one reference copy: the js backend runs it on float32
 * arrays and src/tensor/ops on float64 ones, and the C kernel
 * (kernels/layers.h) matches it bit for bit. Each column is summed from +0
 * down the rows in order, every add rounded where it is stored.
 */
import { overlaps } from './overlap.js';

type FloatArray = Float32Array | Float64Array;

/** Checks sumRows' arrays (every backend calls this first). */
export function checkSumRows(g: FloatArray, out: FloatArray, rows: number, n: number): void {
  for (const [name, v] of [['rows', rows], ['n', n]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`sumRows: ${name} must be a non-negative integer, got ${v}`);
  }
  if (g.length < rows * n || out.length < n) throw new RangeError(`sumRows: arrays of ${g.length} and ${out.length} elements; [${rows}, ${n}] needs ${rows * n} and ${n}`);
  if (n > 0 && overlaps(g, out)) {
    throw new RangeError('sumRows: out must not overlap g');
  }
}

export function referenceSumRows(g: FloatArray, out: FloatArray, rows: number, n: number): void {
  out.fill(0, 0, n);
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) out[j] += g[o + j];
  }
}
