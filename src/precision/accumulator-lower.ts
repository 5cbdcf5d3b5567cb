/**
 * Lowers an accumulator model into the plan a backend runs: the model for
 * the TypeScript reference and its parameter vector for the C kernels
 * (src/backend/accumulate.ts AP/AR, kernels/precis.h). The rounders are the
 * ones the reference builds (accumulator-reference.ts), packed field by
 * field; every float, fixed and posit format the spec grammar accepts fits
 * the vector, so no model needs another route.
 */
import { AP, AR, ApKind, ArFamily, type AccumulatorPlan } from '../backend/accumulate.js';
import { FixedFormat } from '../formats/fixed.js';
import { FloatFormat } from '../formats/float.js';
import { GRID_WRAP } from '../formats/grid.js';
import { outputSpec, perAddSpecs, type OutputQuantizer, type RounderSpec } from './accumulator-reference.js';
import type { ExactAccumulator, RoundedAccumulator } from './accumulator-spec.js';

function packRounder(p: Float64Array, at: number, s: RounderSpec): void {
  const f = s.format;
  p[at + AR.MODE] = s.r.mode;
  p[at + AR.SATURATE] = s.r.saturate ? 1 : 0;
  p[at + AR.FLUSH] = s.r.flush ? 1 : 0;
  p[at + AR.RANDOM_BITS] = s.r.randomBits;
  if (f instanceof FloatFormat || f instanceof FixedFormat) {
    const g = f.grid; // the exact grid, as FloatRounder and FixedRounder use it
    p[at + AR.FAMILY] = f instanceof FloatFormat ? ArFamily.Float : ArFamily.Fixed;
    p[at + AR.MANTISSA_BITS] = g.mantissaBits;
    p[at + AR.TMIN] = g.tmin;
    p[at + AR.MAX_POS] = g.maxPos;
    p[at + AR.MAX_NEG] = g.maxNeg;
    p[at + AR.MIN_NORMAL] = g.minNormal;
    p[at + AR.FLAGS] = f instanceof FixedFormat ? (s.wrap ? g.flags | GRID_WRAP : g.flags & ~GRID_WRAP) : g.flags;
    p[at + AR.WRAP_WIDTH] = g.wrapWidth;
    p[at + AR.WRAP_FRACTION] = g.wrapFraction;
    p[at + AR.PARITY_OFFSET] = g.parityOffset;
  } else {
    p[at + AR.FAMILY] = ArFamily.Posit;
    p[at + AR.POSIT_WIDTH] = f.spec.width;
    p[at + AR.POSIT_ES] = f.spec.es;
  }
}

/**
 * The plan of an exact or per-add model; throws OptionError for an output the model cannot feed (see outputSpec).
 * Without `events` the caller drops the counts, and the kernels may skip counting them.
 */
export function lowerAccumulator(
  model: ExactAccumulator | RoundedAccumulator, output: OutputQuantizer | undefined, seed: number, stream: number, events = true,
): AccumulatorPlan {
  const p = new Float64Array(AP.COUNT);
  p[AP.SEED] = seed;
  p[AP.STREAM] = stream;
  p[AP.EVENTS] = events ? 1 : 0;
  packRounder(p, AP.OUTPUT, outputSpec(output, model.kind === 'exact'));
  if (model.kind === 'exact') p[AP.KIND] = ApKind.Exact;
  else {
    p[AP.KIND] = ApKind.PerAdd;
    p[AP.CHUNK] = model.chunk ?? 0;
    const s = perAddSpecs(model);
    packRounder(p, AP.ACC, s.acc);
    if (s.product) packRounder(p, AP.PRODUCT, s.product);
  }
  return { model, output, seed, stream, params: p };
}
