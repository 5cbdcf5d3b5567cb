/**
 * The TypeScript reference of the accumulator models (see accumulator.ts for
 * what they mean): the js backend's kernel and the definition the C kernels
 * (kernels/accum.h) match bit for bit. Also the resolution of a model's
 * rounders, which accumulator-lower.ts packs for the C kernels.
 */
import type { AccumulationCounts } from '../backend/accumulate.js';
import { OptionError } from '../errors.js';
import { FixedFormat } from '../formats/fixed.js';
import { FloatFormat } from '../formats/float.js';
import { parseFormat, type Format } from '../formats/format.js';
import { EVENT_FLUSH, EVENT_NONE, EVENT_OVERFLOW, Mode, type RoundingParams } from '../formats/grid.js';
import { resolveRounding, type RoundOptions } from '../formats/options.js';
import { PositFormat } from '../formats/posit.js';
import { PhiloxStream } from '../rng/philox.js';
import { FixedRounder, FloatRounder, PositRounder, type Rounder } from './accumulator-round.js';
import { Quire } from './accumulator-quire.js';
import type { ExactAccumulator, RoundedAccumulator } from './accumulator-spec.js';

/** Where results go: a scalar format and how to round into it. */
export interface OutputQuantizer extends RoundOptions {
  readonly format: Format | string;
}

const FP32 = parseFormat('fp32') as FloatFormat;

/** What one rounder rounds into and how: a float, fixed or posit format, its rounding, and (fixed point) whether it wraps. */
export interface RounderSpec {
  readonly format: FloatFormat | FixedFormat | PositFormat;
  readonly r: RoundingParams;
  readonly wrap: boolean;
}

function rounderSpec(format: Format, r: RoundingParams, wrap: boolean, role: string): RounderSpec {
  if (format instanceof FloatFormat || format instanceof FixedFormat || format instanceof PositFormat) return { format, r, wrap };
  throw new OptionError(`${role} '${format.name}' is a block format`, 'round into a float, fixed or posit format');
}

export function rounderOf(s: RounderSpec): Rounder {
  if (s.format instanceof FloatFormat) return new FloatRounder(s.format, s.r);
  if (s.format instanceof FixedFormat) return new FixedRounder(s.format, s.r, s.wrap);
  return new PositRounder(s.format, s.r);
}

/** The output rounding (default: float32, nearest); `exact`: checks that the quire's to-odd sum can feed it. */
export function outputSpec(out: OutputQuantizer | undefined, exact: boolean): RounderSpec {
  if (!out) return rounderSpec(FP32, resolveRounding(), false, 'output format');
  const f = typeof out.format === 'string' ? parseFormat(out.format) : out.format;
  const r = resolveRounding(out);
  if (exact) {
    // The quire's sum arrives rounded to odd in float64 (52 exact bits): enough for every format but these.
    if (f instanceof FixedFormat && f.spec.wrap) {
      throw new OptionError(`the quire's output '${f.name}' wraps: the wrapped value needs bits of the sum below float64's 53`,
        'use a saturating fixed format for the output of an exact accumulator');
    }
    const precision = f instanceof FixedFormat ? f.spec.width : f instanceof PositFormat ? f.spec.width - 2 - f.spec.es : 24;
    if (r.mode === Mode.Stochastic && precision + r.randomBits > 52) {
      throw new OptionError(`stochastic rounding of the quire into '${f.name}' with ${r.randomBits} random bits needs ${precision + r.randomBits} exact bits (at most 52)`,
        `use randomBits ${52 - precision} or fewer`);
    }
  }
  return rounderSpec(f, r, f instanceof FixedFormat && f.spec.wrap, 'output format');
}

/** The rounders of a per-add model: the accumulator's, and the product's (null: products exact). */
export function perAddSpecs(m: RoundedAccumulator): { acc: RounderSpec; product: RounderSpec | null } {
  const ro = { rounding: m.rounding, randomBits: m.randomBits, subnormals: m.underflow, overflow: m.overflow === 'saturate' ? 'saturate' : 'format' } as const;
  const r = resolveRounding(ro);
  const wrap = (f: Format): boolean => f instanceof FixedFormat && (m.overflow === 'wrap' || (m.overflow === 'format' && f.spec.wrap));
  const accFormat = parseFormat(m.format);
  const prodFormat = m.product === null ? null : parseFormat(m.product);
  return {
    acc: rounderSpec(accFormat, r, wrap(accFormat), 'accumulator format'),
    product: prodFormat === null ? null : rounderSpec(prodFormat, r, wrap(prodFormat), 'product format'),
  };
}

/** Counts events into the report. */
class Tally {
  swamped = 0;
  overflow = 0;
  underflow = 0;
  hit = false;
  note(ev: number): void {
    if (ev === EVENT_OVERFLOW) { this.overflow++; this.hit = true; } else if (ev === EVENT_FLUSH) this.underflow++;
  }
}

/** The per-add machinery of a rounded model. */
interface PerAdd {
  readonly acc: Rounder;
  readonly product: Rounder | null;
  readonly chunk: number;
  readonly stochastic: boolean;
}

function perAdd(m: RoundedAccumulator): PerAdd {
  const s = perAddSpecs(m);
  return {
    acc: rounderOf(s.acc),
    product: s.product === null ? null : rounderOf(s.product),
    chunk: m.chunk ?? 0,
    stochastic: m.rounding === 'stochastic',
  };
}

/**
 * C = op(A)·op(B) (+ C when accumulate) with an exact or per-add model
 * (arguments already checked); overflowed[e] gets 1 where element e
 * overflowed, else 0.
 */
export function referenceAccumulate(
  model: ExactAccumulator | RoundedAccumulator, output: OutputQuantizer | undefined, seed: number, stream: number,
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Float32Array, b: Float32Array, c: Float32Array, accumulate: boolean, overflowed: Uint8Array,
): AccumulationCounts {
  const out = rounderOf(outputSpec(output, model.kind === 'exact'));
  const tally = new Tally();
  const rng = new PhiloxStream(seed, stream);
  // op(A)[i,p] = a[i*sai + p*sap], op(B)[p,j] = b[p*sbp + j*sbj]
  const sai = transA ? 1 : k, sap = transA ? m : 1;
  const sbp = transB ? 1 : n, sbj = transB ? k : 1;
  const quire = model.kind === 'exact' ? new Quire() : null;
  const pa = model.kind === 'rounded' ? perAdd(model) : null;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const e = i * n + j;
      const base = e * (k + 1); // this element's first term index
      tally.hit = false;
      let sum: number;
      if (quire) {
        quire.reset(accumulate ? c[e] : 0);
        for (let p = 0, ia = i * sai, ib = j * sbj; p < k; p++, ia += sap, ib += sbp) quire.add(a[ia] * b[ib]);
        sum = quire.toOdd();
      } else {
        sum = accumulateOne(pa!, tally, rng, base, k, a, i * sai, sap, b, j * sbj, sbp, accumulate ? c[e] : 0);
      }
      const v = out.round(sum, out.stochastic ? rng.word(4 * (base + k) + 1) : 0);
      tally.note(out.event);
      c[e] = v;
      overflowed[e] = tally.hit ? 1 : 0;
    }
  }
  return { swamped: tally.swamped, overflow: tally.overflow, underflow: tally.underflow };
}

/** One element's per-add accumulation; returns the final accumulator value. */
function accumulateOne(
  pa: PerAdd, tally: Tally, rng: PhiloxStream, base: number, k: number,
  a: Float32Array, ia: number, sap: number, b: Float32Array, ib: number, sbp: number, start: number,
): number {
  const { acc: R, product: P, chunk, stochastic } = pa;
  const word = (t: number, purpose: number): number => (stochastic ? rng.word(4 * (base + t) + purpose) : 0);
  /** acc + x rounded once, counting swamping and events. */
  const add = (acc: number, x: number, w: number): number => {
    const v = R.add(acc, x, w);
    // Swamped: a nonzero term lost in a sum that neither overflowed nor underflowed.
    if (R.event === EVENT_NONE) {
      if (v === acc && x !== 0 && Number.isFinite(x) && Number.isFinite(acc)) tally.swamped++;
    } else tally.note(R.event);
    return v;
  };
  let total = R.round(start, word(k, 0));
  tally.note(R.event);
  let run = 0; // the current chunk's sum (chunked order)
  for (let p = 0; p < k; p++, ia += sap, ib += sbp) {
    let x = a[ia] * b[ib];
    if (P) {
      x = P.round(x, word(p, 1));
      tally.note(P.event);
    }
    if (chunk === 0) total = add(total, x, word(p, 0));
    else {
      run = add(run, x, word(p, 0));
      if ((p + 1) % chunk === 0 || p === k - 1) {
        total = add(total, run, word(p, 2));
        run = 0;
      }
    }
  }
  return total;
}
