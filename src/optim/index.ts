/** Optimizers (SGD, Adam, AdamW) and learning-rate schedules. */
import { OptionError } from '../errors.js';
import { Adam, AdamW, ADAM_OPTIONS, type AdamOptions } from './adam.js';
import { checkKnown } from './options.js';
import type { NamedParameters, Optimizer, OptimizerName } from './optimizer.js';
import { SGD, SGD_OPTIONS, type SGDOptions } from './sgd.js';

export { Optimizer, type NamedParameters, type OptimizerName, type StateTensors } from './optimizer.js';
export { SGD, SGD_OPTIONS, type SGDOptions } from './sgd.js';
export { Adam, AdamW, ADAM_OPTIONS, type AdamOptions } from './adam.js';
export {
  parseSchedule, formatSchedule, describeSchedule, scheduleToJSON, scheduleFromJSON, learningRate, SCHEDULE_FORMS,
  type Schedule, type SchedulePosition, type Warmup,
} from './schedule.js';

export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'adamw'];

/**
 * Options for `createOptimizer`: the union of every optimizer's options, so
 * that one recipe can name them all. Options of another optimizer are
 * ignored (momentum means nothing to Adam); a name no optimizer has is an
 * error. The classes' constructors accept only their own options.
 */
export interface OptimizerOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

const ALL_OPTIONS: readonly string[] = [...new Set<string>([...SGD_OPTIONS, ...ADAM_OPTIONS])];

function pick<T>(options: OptimizerOptions, keys: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const k of keys) if ((options as unknown as Record<string, unknown>)[k] !== undefined) out[k] = (options as unknown as Record<string, unknown>)[k];
  return out as T;
}

/**
 * An optimizer by name. Options are validated (each error names the option):
 * lr > 0; sgd: momentum in [0, 1), dampening in [0, 1], weightDecay ≥ 0,
 * nesterov needs momentum > 0 and dampening 0; adam/adamw: betas in [0, 1),
 * eps ≥ 0, weightDecay ≥ 0 (defaults 0 for adam, 0.01 for adamw).
 */
export function createOptimizer(name: 'sgd', params: NamedParameters, options: OptimizerOptions): SGD;
export function createOptimizer(name: 'adam', params: NamedParameters, options: OptimizerOptions): Adam;
export function createOptimizer(name: 'adamw', params: NamedParameters, options: OptimizerOptions): AdamW;
export function createOptimizer(name: OptimizerName, params: NamedParameters, options: OptimizerOptions): Optimizer;
export function createOptimizer(name: OptimizerName, params: NamedParameters, options: OptimizerOptions): Optimizer {
  if (!OPTIMIZER_NAMES.includes(name)) throw new OptionError(`unknown optimizer '${String(name)}'`, `optimizers: ${OPTIMIZER_NAMES.join(', ')}`);
  checkKnown(name, options, ALL_OPTIONS);
  switch (name) {
    case 'sgd':
      return new SGD(params, pick<SGDOptions>(options, SGD_OPTIONS));
    case 'adam':
      return new Adam(params, pick<AdamOptions>(options, ADAM_OPTIONS));
    case 'adamw':
      return new AdamW(params, pick<AdamOptions>(options, ADAM_OPTIONS));
  }
}
