/** Rounding options as users write them, validated into the numeric form kernels take. */
import { OptionError } from '../errors.js';
import { Mode, ROUNDINGS, type Rounding, type RoundingParams } from './grid.js';

export type Overflow = 'saturate' | 'format';
export type Subnormals = 'keep' | 'flush';

export interface RoundOptions {
  /** Default 'nearest' (ties to even). */
  readonly rounding?: Rounding;
  /** 'format' (default): the format's own overflow (Inf, NaN, or saturation/wrap for fixed point). */
  readonly overflow?: Overflow;
  /** Default 'keep'. */
  readonly subnormals?: Subnormals;
  /** Random bits for stochastic rounding, 1..24 (default 24). */
  readonly randomBits?: number;
}

export const DEFAULT_RANDOM_BITS = 24;

export function resolveRounding(o: RoundOptions = {}): RoundingParams {
  const rounding = o.rounding ?? 'nearest';
  const mode = ROUNDINGS.indexOf(rounding);
  if (mode < 0) throw new OptionError(`unknown rounding '${String(rounding)}'`, `use one of: ${ROUNDINGS.join(', ')}`);
  const overflow = o.overflow ?? 'format';
  if (overflow !== 'saturate' && overflow !== 'format') {
    throw new OptionError(`unknown overflow '${String(overflow)}'`, 'use saturate or format');
  }
  const subnormals = o.subnormals ?? 'keep';
  if (subnormals !== 'keep' && subnormals !== 'flush') {
    throw new OptionError(`unknown subnormals '${String(subnormals)}'`, 'use keep or flush');
  }
  const randomBits = o.randomBits ?? DEFAULT_RANDOM_BITS;
  if (!Number.isInteger(randomBits) || randomBits < 1 || randomBits > 24) {
    throw new OptionError(`randomBits must be an integer in 1..24, got ${String(randomBits)}`, 'fewer bits model cheaper stochastic-rounding hardware');
  }
  return { mode: mode as Mode, saturate: overflow === 'saturate', flush: subnormals === 'flush', randomBits };
}
