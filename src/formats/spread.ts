/**
 * How a format's positive finite values spread over binades [2^e, 2^(e+1)):
 * counted from values() for formats up to 16 bits, from each family's
 * structure above that.
 */
import { exponentOf } from './bits.js';
import { BlockFormat } from './block.js';
import { FixedFormat } from './fixed.js';
import { FloatFormat } from './float.js';
import type { Format } from './format.js';
import { PositFormat } from './posit.js';

/** Binade exponent → number of positive finite values in it, ascending by exponent. */
export function binadeCounts(format: Format): Map<number, number> {
  const counts = new Map<number, number>();
  const add = (e: number, n: number): void => { if (n > 0) counts.set(e, (counts.get(e) ?? 0) + n); };
  const fromValues = (vals: Float64Array): void => { for (const v of vals) if (v > 0) add(exponentOf(v), 1); };
  if (format instanceof BlockFormat) fromValues(format.elementValues());
  else if (format.bits <= 16) fromValues(format.values());
  else if (format instanceof FloatFormat) {
    const { mantissaBits: M, bias, subnormals } = format.spec;
    const emin = 1 - bias;
    if (subnormals) for (let j = 0; j < M; j++) add(emin - M + j, 2 ** j);
    for (let e = emin; e < format.emax; e++) add(e, 2 ** M);
    add(format.emax, Math.round(format.maxFinite / 2 ** format.emax * 2 ** M) - 2 ** M + 1);
  } else if (format instanceof FixedFormat) {
    const F = format.spec.fraction;
    const maxSteps = format.maxFinite * 2 ** F;
    for (let j = 0; 2 ** j <= maxSteps; j++) add(j - F, Math.min(2 ** (j + 1) - 1, maxSteps) - 2 ** j + 1);
  } else if (format instanceof PositFormat) {
    const { width: n, es } = format.spec;
    for (let k = -(n - 2); k <= n - 2; k++) {
      const rl = k >= 0 ? Math.min(k + 2, n - 1) : Math.min(-k + 1, n - 1);
      const avail = n - 1 - rl;
      if (avail >= es) for (let ex = 0; ex < 2 ** es; ex++) add(k * 2 ** es + ex, 2 ** (avail - es));
      else for (let hi = 0; hi < 2 ** avail; hi++) add(k * 2 ** es + hi * 2 ** (es - avail), 1);
    }
  }
  return new Map([...counts.entries()].sort((a, b) => a[0] - b[0]));
}
