/** Attaching sampled products to a model's layers, and the run's multiply-add totals. */
import { ApproxConfigError, layerSettings, matchesPattern, type ApproxConfig } from './config.js';
import { ApproxLayer, type StepClock } from './layer.js';
import { macReduction, type MacTotals } from './macs.js';

/** A layer that can compute sampled products (Linear, Conv2d): it uses `approx` in training when set. */
export interface Approximable {
  approx: ApproxLayer | null;
}

const isApproximable = (m: unknown): m is Approximable => typeof m === 'object' && m !== null && 'approx' in m;

/** Streams are numbered by an 8-bit layer index (see streamOf). */
const MAX_LAYERS = 256;

/** The approximated layers of a run and their multiply-add counts. */
export class ApproxRun {
  private taken: MacTotals = { macs: 0, exactMacs: 0 };
  constructor(readonly layers: readonly ApproxLayer[]) {}

  /** Everything counted since the run was set up. */
  totals(): MacTotals {
    let macs = 0;
    let exactMacs = 0;
    for (const l of this.layers) {
      macs += l.macs.macs;
      exactMacs += l.macs.exactMacs;
    }
    return { macs, exactMacs };
  }

  /** What was counted since the previous take(), with its reduction. */
  take(): MacTotals & { macReduction: number } {
    const now = this.totals();
    const d = { macs: now.macs - this.taken.macs, exactMacs: now.exactMacs - this.taken.exactMacs };
    this.taken = now;
    return { ...d, macReduction: macReduction(d) };
  }
}

/**
 * Gives every approximable module the config selects an ApproxLayer (the
 * others are left exact), numbered in the order given. Every layer pattern
 * must select something: a typo never leaves a layer silently exact.
 */
export function applyApprox(modules: readonly (readonly [string, unknown])[], config: ApproxConfig, clock: StepClock, field = 'approx'): ApproxRun {
  const candidates = modules.filter((e): e is readonly [string, Approximable] => isApproximable(e[1]));
  for (const pattern of Object.keys(config.layers ?? {})) {
    if (!candidates.some(([name]) => matchesPattern(pattern, name))) {
      throw new ApproxConfigError(`${field}.layers.${pattern}`, 'matches no Linear or Conv2d layer of the model', `the model's layers are: ${candidates.map(([n]) => n).join(', ')}`);
    }
  }
  const layers: ApproxLayer[] = [];
  for (const [name, m] of candidates) {
    const s = layerSettings(config, name);
    if (s === null) continue;
    if (layers.length === MAX_LAYERS) throw new ApproxConfigError(`${field}.layers`, `selects more than ${MAX_LAYERS} layers`, 'approximate fewer layers');
    m.approx = new ApproxLayer(name, s, clock, layers.length);
    layers.push(m.approx);
  }
  return new ApproxRun(layers);
}
