/**
 * Loss scaling: the initial error is multiplied by a scale so that small
 * errors and gradients stay inside a narrow format's range; the gradients
 * are divided by it again, in fp32, before the optimizer sees them.
 *
 * - static: a fixed scale.
 * - dynamic: ×growth after `interval` overflow-free steps; on an overflow
 *   (a non-finite gradient) ×backoff and the step is skipped.
 * - enhanced (Mellempudi et al.): dynamic, but never below a minimum that
 *   rises on an epoch schedule, so a spurious overflow late in training does
 *   not collapse the scale.
 */
import { PolicyError } from './quantizer.js';

export type LossScalingMode = 'static' | 'dynamic' | 'enhanced';

export interface LossScalingInput {
  mode: LossScalingMode;
  /** The (initial) scale. Default 2^15 for dynamic/enhanced, required for static. */
  scale?: number;
  /** Dynamic: multiply by this after `interval` clean steps (default 2). */
  growth?: number;
  /** Dynamic: multiply by this on overflow (default 0.5). */
  backoff?: number;
  /** Dynamic: clean steps before growing (default 2000). */
  interval?: number;
  /** Enhanced: [epoch, minimum scale] pairs, epochs increasing; the minimum from each epoch on. */
  minimum?: [number, number][];
}

export interface LossScalerState {
  scale: number;
  /** Overflow-free steps since the scale last changed. */
  cleanSteps: number;
  /** Steps skipped for overflow, over the run. */
  skipped: number;
}

const FIELDS = ['mode', 'scale', 'growth', 'backoff', 'interval', 'minimum'];

function positive(field: string, v: unknown, fallback: number | undefined, ok: (x: number) => boolean, want: string, example: string): number {
  const x = v ?? fallback;
  if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw new PolicyError(field, `expected ${want}, got ${JSON.stringify(v)}`, `e.g. ${example}`);
  return x;
}

export class LossScaler {
  readonly state: LossScalerState;

  private constructor(readonly spec: Readonly<Required<Omit<LossScalingInput, 'minimum'>>> & { minimum: [number, number][] }) {
    this.state = { scale: spec.scale, cleanSteps: 0, skipped: 0 };
  }

  /** Validates a recipe's lossScaling field (errors name `field` and the bad part). */
  static parse(v: unknown, field = 'lossScaling'): LossScaler {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PolicyError(field, `expected an object, got ${JSON.stringify(v)}`, 'e.g. "lossScaling": {"mode": "dynamic"}');
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!FIELDS.includes(k)) throw new PolicyError(`${field}.${k}`, 'is not a known field', `the fields are ${FIELDS.join(', ')}`);
    const mode = o.mode;
    if (mode !== 'static' && mode !== 'dynamic' && mode !== 'enhanced') throw new PolicyError(`${field}.mode`, `expected 'static', 'dynamic' or 'enhanced', got ${JSON.stringify(mode)}`, 'e.g. "mode": "dynamic"');
    const scale = positive(`${field}.scale`, o.scale, mode === 'static' ? undefined : 2 ** 15, (x) => x > 0, 'a positive number', '"scale": 1024');
    const growth = positive(`${field}.growth`, o.growth, 2, (x) => x > 1, 'a number above 1', '"growth": 2');
    const backoff = positive(`${field}.backoff`, o.backoff, 0.5, (x) => x > 0 && x < 1, 'a number in (0, 1)', '"backoff": 0.5');
    const interval = positive(`${field}.interval`, o.interval, 2000, (x) => Number.isInteger(x) && x >= 1, 'a positive integer', '"interval": 2000');
    const minimum: [number, number][] = [];
    if (o.minimum !== undefined) {
      if (mode !== 'enhanced') throw new PolicyError(`${field}.minimum`, `applies to the enhanced mode only, not ${mode}`, 'set "mode": "enhanced" or drop "minimum"');
      if (!Array.isArray(o.minimum)) throw new PolicyError(`${field}.minimum`, `expected [[epoch, scale], …], got ${JSON.stringify(o.minimum)}`, 'e.g. "minimum": [[0, 1], [2, 64], [4, 1024]]');
      o.minimum.forEach((pair: unknown, i: number) => {
        const f = `${field}.minimum[${i}]`;
        const prev = i > 0 ? minimum[i - 1][0] : -1;
        if (!Array.isArray(pair) || pair.length !== 2 || !Number.isInteger(pair[0]) || (pair[0] as number) <= prev || typeof pair[1] !== 'number' || !(pair[1] > 0) || !Number.isFinite(pair[1])) {
          throw new PolicyError(f, `expected [epoch, minimum scale] with epochs increasing, got ${JSON.stringify(pair)}`, 'e.g. [2, 64]: from epoch 2 on the scale stays ≥ 64');
        }
        minimum.push([pair[0] as number, pair[1] as number]);
      });
    } else if (mode === 'enhanced') {
      throw new PolicyError(`${field}.minimum`, 'the enhanced mode needs its minimum schedule', 'e.g. "minimum": [[0, 1], [2, 64], [4, 1024]]');
    }
    return new LossScaler({ mode, scale, growth, backoff, interval, minimum });
  }

  get scale(): number {
    return this.state.scale;
  }

  /** The enhanced mode's floor at an epoch (0 for the other modes). */
  minimumAt(epoch: number): number {
    let m = 0;
    for (const [e, s] of this.spec.minimum) if (e <= epoch) m = s;
    return m;
  }

  /** Raises the scale to the epoch's minimum (enhanced). Call at the start of every step. */
  beginStep(epoch: number): void {
    const m = this.minimumAt(epoch);
    if (this.state.scale < m) {
      this.state.scale = m;
      this.state.cleanSteps = 0;
    }
  }

  /** Records a step's outcome; returns whether to apply it (false: skip, the gradients overflowed). */
  endStep(overflow: boolean, epoch: number): boolean {
    const s = this.state;
    if (this.spec.mode === 'static') {
      if (overflow) s.skipped++;
      return !overflow;
    }
    if (overflow) {
      s.scale = Math.max(s.scale * this.spec.backoff, this.minimumAt(epoch));
      s.cleanSteps = 0;
      s.skipped++;
      return false;
    }
    if (++s.cleanSteps >= this.spec.interval) {
      s.scale *= this.spec.growth;
      s.cleanSteps = 0;
    }
    return true;
  }

  /** The state as three float64 values (checkpoints). */
  save(): Float64Array {
    return Float64Array.of(this.state.scale, this.state.cleanSteps, this.state.skipped);
  }

  load(v: ArrayLike<number>): void {
    this.state.scale = v[0];
    this.state.cleanSteps = v[1];
    this.state.skipped = v[2];
  }
}
