/**
 * Learning-rate schedules as pure functions of the position in training, so
 * that a run resumed at any step computes the same learning rate as one that
 * never stopped. A position is (epoch, step within the epoch, steps per
 * epoch, and for cosine the total number of epochs); the global step is
 * t = epoch·stepsPerEpoch + step.
 *
 * Grammar of the CLI form (`precis train --schedule`):
 *
 *   schedule := [warmup '+'] base
 *   base     := 'constant'
 *             | 'step:' EVERY [':' GAMMA]       lr·GAMMA^⌊epoch / EVERY⌋; GAMMA defaults to 0.1
 *             | 'cosine' [':min=' LR]          per step, from lr down to LR (default 0) at the end
 *   warmup   := 'warmup:' N ['steps' | 'epochs'] [':start=' F]
 *
 * e.g. `constant`, `step:4:0.5`, `cosine`, `cosine:min=0.0001`,
 * `warmup:500+cosine`, `warmup:2epochs:start=0.1+step:30`. `warmup:N` alone
 * means `warmup:N+constant`.
 *
 * - **step** is PyTorch's StepLR stepped once per epoch: it changes only at
 *   epoch boundaries (epochs 0..EVERY−1 use lr).
 * - **cosine** is CosineAnnealingLR stepped per *step* (not per epoch):
 *   lr(t) = min + (lr − min)·(1 + cos(π·t/T))/2 with T = epochs·stepsPerEpoch;
 *   t ≥ T gives min (no second period).
 * - **warmup** multiplies the base schedule by a linear ramp over its first
 *   W steps (N steps, or N·stepsPerEpoch for epochs), from F (default 0) to
 *   1: factor(t) = F + (1 − F)·t/W for t < W, 1 after. The base schedule is
 *   not shifted (step boundaries stay at their epochs; the cosine spans the
 *   whole run), and the product is continuous at t = W. At t = 0 with F = 0
 *   the learning rate is 0, as with PyTorch's LinearLR(start_factor=0).
 *
 * The JSON form (recipe.json) is the parsed object itself:
 * {kind: 'constant' | 'step' | 'cosine', every?, gamma?, min?, warmup?: {length, unit, start}};
 * `scheduleFromJSON` validates it, `formatSchedule` gives the canonical CLI
 * string, and both round-trip with `parseSchedule`.
 */
import { OptionError } from '../errors.js';

export interface Warmup {
  /** In `unit`s; a positive integer. */
  readonly length: number;
  readonly unit: 'steps' | 'epochs';
  /** The ramp's starting factor, in [0, 1]. */
  readonly start: number;
}

export type Schedule =
  | { readonly kind: 'constant'; readonly warmup?: Warmup }
  | { readonly kind: 'step'; readonly every: number; readonly gamma: number; readonly warmup?: Warmup }
  | { readonly kind: 'cosine'; readonly min: number; readonly warmup?: Warmup };

export interface SchedulePosition {
  /** 0-based epoch. */
  readonly epoch: number;
  /** 0-based step within the epoch. */
  readonly step: number;
  readonly stepsPerEpoch: number;
  /** Total epochs of the run; needed by cosine. */
  readonly epochs?: number;
}

/** The accepted CLI forms, for help text and error hints. */
export const SCHEDULE_FORMS = [
  'constant',
  'step:EVERY[:GAMMA]         e.g. step:4:0.5 (× 0.5 every 4 epochs; GAMMA defaults to 0.1)',
  'cosine[:min=LR]            e.g. cosine, cosine:min=0.0001 (per step, over the whole run)',
  'warmup:N[steps|epochs][:start=F]+BASE   e.g. warmup:500+cosine, warmup:2epochs+step:30',
] as const;

const HINT = `valid schedules: ${SCHEDULE_FORMS.map((f) => f.split(/\s{2,}/)[0]).join(' | ')}; e.g. constant, step:4:0.5, cosine:min=0.0001, warmup:500+cosine`;

function bad(text: string, part: string, reason: string): OptionError {
  return new OptionError(`learning-rate schedule '${text}': ${reason} in '${part}'`, HINT);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function num(text: string, part: string, value: string, what: string, ok: (x: number) => boolean, range: string): number {
  const x = NUMBER.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(x) || !ok(x)) throw bad(text, part, `${what} '${value}' is not ${range}`);
  return x;
}

const posInt = (x: number) => Number.isSafeInteger(x) && x > 0;

/** Parses a CLI schedule string (grammar in the module comment). */
export function parseSchedule(text: string): Schedule {
  if (typeof text !== 'string') throw new OptionError(`learning-rate schedule ${String(text)} is not a string`, HINT);
  const src = text.trim();
  if (src === '') throw new OptionError('empty learning-rate schedule', HINT);
  // The '+' joining a warm-up to its base (not an exponent's sign, as in 1e+3).
  const plus = src.search(/(?<![0-9.][eE])\+/);
  let warmup: Warmup | undefined;
  let basePart = src;
  if (src.startsWith('warmup')) {
    const w = plus < 0 ? src : src.slice(0, plus);
    warmup = parseWarmup(text, w.trim());
    basePart = plus < 0 ? 'constant' : src.slice(plus + 1).trim();
    if (basePart === '') throw bad(text, src, 'nothing after \'+\'');
  } else if (plus >= 0) {
    throw bad(text, src.slice(plus), 'only a warm-up can come before \'+\' (warmup:N+BASE)');
  }
  const base = parseBase(text, basePart);
  return warmup ? { ...base, warmup } : base;
}

function parseWarmup(text: string, part: string): Warmup {
  const fields = part.split(':');
  if (fields[0] !== 'warmup' || fields.length < 2 || fields.length > 3) throw bad(text, part, 'a warm-up is warmup:N[steps|epochs][:start=F]');
  const m = /^(\d+)(steps|epochs)?$/.exec(fields[1]);
  if (!m) throw bad(text, part, `warm-up length '${fields[1]}' is not a positive integer optionally followed by 'steps' or 'epochs'`);
  const length = num(text, part, m[1], 'warm-up length', posInt, 'a positive integer');
  let start = 0;
  if (fields.length === 3) {
    const kv = /^start=(.*)$/.exec(fields[2]);
    if (!kv) throw bad(text, part, `unknown warm-up option '${fields[2]}' (the only one is start=F)`);
    start = num(text, part, kv[1], 'warm-up start', (x) => x >= 0 && x <= 1, 'a number in [0, 1]');
  }
  return { length, unit: m[2] === 'epochs' ? 'epochs' : 'steps', start };
}

function parseBase(text: string, part: string): Schedule {
  const fields = part.split(':');
  switch (fields[0]) {
    case 'constant':
      if (fields.length > 1) throw bad(text, part, 'constant takes no arguments');
      return { kind: 'constant' };
    case 'step': {
      if (fields.length < 2 || fields.length > 3) throw bad(text, part, 'step is step:EVERY[:GAMMA]');
      const every = num(text, part, fields[1], 'step interval (epochs)', posInt, 'a positive integer');
      const gamma = fields.length === 3 ? num(text, part, fields[2], 'step factor', (x) => x > 0, 'a positive number') : 0.1;
      return { kind: 'step', every, gamma };
    }
    case 'cosine': {
      if (fields.length > 2) throw bad(text, part, 'cosine is cosine[:min=LR]');
      let min = 0;
      if (fields.length === 2) {
        const kv = /^min=(.*)$/.exec(fields[1]);
        if (!kv) throw bad(text, part, `unknown cosine option '${fields[1]}' (the only one is min=LR)`);
        min = num(text, part, kv[1], 'cosine minimum', (x) => x >= 0, 'a non-negative number');
      }
      return { kind: 'cosine', min };
    }
    case 'warmup':
      throw bad(text, part, 'a warm-up comes first and once (warmup:N+BASE)');
    default:
      throw bad(text, part, `unknown schedule '${fields[0]}'`);
  }
}

/** The canonical CLI string; `parseSchedule(formatSchedule(s))` deep-equals `s`. */
export function formatSchedule(s: Schedule): string {
  const base = s.kind === 'constant' ? 'constant'
    : s.kind === 'step' ? `step:${s.every}:${s.gamma}`
    : s.min === 0 ? 'cosine' : `cosine:min=${s.min}`;
  if (!s.warmup) return base;
  const w = s.warmup;
  return `warmup:${w.length}${w.unit === 'epochs' ? 'epochs' : ''}${w.start !== 0 ? `:start=${w.start}` : ''}+${base}`;
}

/** One line of English for logs and reports. */
export function describeSchedule(s: Schedule): string {
  const base = s.kind === 'constant' ? 'constant learning rate'
    : s.kind === 'step' ? `learning rate × ${s.gamma} every ${s.every} epoch${s.every === 1 ? '' : 's'}`
    : `cosine decay per step to ${s.min} over the run`;
  if (!s.warmup) return base;
  const w = s.warmup;
  return `linear warm-up over ${w.length} ${w.length === 1 ? w.unit.slice(0, -1) : w.unit} from ${w.start}·lr, times ${base}`;
}

/** The plain-object form for recipe.json (a copy of the schedule). */
export function scheduleToJSON(s: Schedule): Schedule {
  return scheduleFromJSON(JSON.parse(JSON.stringify(s)));
}

/** Validates a schedule read from JSON (recipe.json); missing optional fields take their defaults. */
export function scheduleFromJSON(value: unknown): Schedule {
  const text = JSON.stringify(value) ?? String(value);
  const obj = (v: unknown, what: string): Record<string, unknown> => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new OptionError(`learning-rate schedule ${what} ${text} is not an object`, HINT);
    return v as Record<string, unknown>;
  };
  const o = obj(value, 'JSON');
  const field = (r: Record<string, unknown>, key: string, dflt: number | undefined, ok: (x: number) => boolean, range: string, owner: string): number => {
    const x = r[key] ?? dflt;
    if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw new OptionError(`learning-rate schedule ${text}: ${owner}.${key} = ${JSON.stringify(r[key])} is not ${range}`, HINT);
    return x;
  };
  const only = (r: Record<string, unknown>, keys: string[], owner: string) => {
    for (const k of Object.keys(r)) if (!keys.includes(k)) throw new OptionError(`learning-rate schedule ${text}: unknown field ${owner}.${k}`, `${owner} fields: ${keys.join(', ')}`);
  };
  let warmup: Warmup | undefined;
  if (o.warmup !== undefined) {
    const w = obj(o.warmup, 'warmup');
    only(w, ['length', 'unit', 'start'], 'warmup');
    const unit = w.unit ?? 'steps';
    if (unit !== 'steps' && unit !== 'epochs') throw new OptionError(`learning-rate schedule ${text}: warmup.unit ${JSON.stringify(unit)} is not 'steps' or 'epochs'`, HINT);
    warmup = {
      length: field(w, 'length', undefined, posInt, 'a positive integer', 'warmup'),
      unit,
      start: field(w, 'start', 0, (x) => x >= 0 && x <= 1, 'a number in [0, 1]', 'warmup'),
    };
  }
  let base: Schedule;
  switch (o.kind) {
    case 'constant':
      only(o, ['kind', 'warmup'], 'constant');
      base = { kind: 'constant' };
      break;
    case 'step':
      only(o, ['kind', 'every', 'gamma', 'warmup'], 'step');
      base = { kind: 'step', every: field(o, 'every', undefined, posInt, 'a positive integer', 'step'), gamma: field(o, 'gamma', 0.1, (x) => x > 0, 'a positive number', 'step') };
      break;
    case 'cosine':
      only(o, ['kind', 'min', 'warmup'], 'cosine');
      base = { kind: 'cosine', min: field(o, 'min', 0, (x) => x >= 0, 'a non-negative number', 'cosine') };
      break;
    default:
      throw new OptionError(`learning-rate schedule ${text}: kind ${JSON.stringify(o.kind)} is not 'constant', 'step' or 'cosine'`, HINT);
  }
  return warmup ? { ...base, warmup } : base;
}

function checkPosition(at: SchedulePosition, needEpochs: boolean): void {
  const ok = (x: unknown, min: number) => typeof x === 'number' && Number.isSafeInteger(x) && x >= min;
  if (!ok(at.stepsPerEpoch, 1)) throw new OptionError(`stepsPerEpoch ${at.stepsPerEpoch} is not a positive integer`, 'pass the number of optimizer steps in one epoch');
  if (!ok(at.epoch, 0)) throw new OptionError(`epoch ${at.epoch} is not a non-negative integer`, 'epochs count from 0');
  if (!ok(at.step, 0) || at.step >= at.stepsPerEpoch) throw new OptionError(`step ${at.step} is not an integer in [0, ${at.stepsPerEpoch})`, 'the step within the epoch counts from 0');
  if (needEpochs && !ok(at.epochs, 1)) throw new OptionError(`a cosine schedule needs the total number of epochs, got ${at.epochs}`, 'pass epochs: the length of the run');
}

/** The learning rate at a position, for base learning rate `lr`. */
export function learningRate(s: Schedule, lr: number, at: SchedulePosition): number {
  checkPosition(at, s.kind === 'cosine');
  const t = at.epoch * at.stepsPerEpoch + at.step;
  let value: number;
  switch (s.kind) {
    case 'constant':
      value = lr;
      break;
    case 'step':
      value = lr * s.gamma ** Math.floor(at.epoch / s.every);
      break;
    case 'cosine': {
      const T = at.epochs! * at.stepsPerEpoch;
      value = t >= T ? s.min : s.min + ((lr - s.min) * (1 + Math.cos((Math.PI * t) / T))) / 2;
      break;
    }
  }
  if (s.warmup) {
    const w = s.warmup;
    const W = w.unit === 'epochs' ? w.length * at.stepsPerEpoch : w.length;
    if (t < W) value *= w.start + ((1 - w.start) * t) / W;
  }
  return value;
}
