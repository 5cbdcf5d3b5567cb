/**
 * A quantizer: one format with its rounding, overflow, subnormal and
 * tensor-scaling choices, as a precision policy names it for one role of one
 * layer. It rounds float32 tensors through the active backend's quantize
 * kernel and reports what happened (saturations, flushes, NaNs, error).
 */
import type { QuantizeCounts } from '../backend/kernels.js';
import { PrecisError } from '../errors.js';
import { parseFormat, type Format } from '../formats/format.js';
import { ROUNDINGS, type Rounding } from '../formats/grid.js';
import type { Overflow, Subnormals } from '../formats/options.js';
import { quantize } from '../formats/quantize.js';

/** A recipe or policy field that is not valid; `field` is its dotted path ('precision.default.weight.format'). */
export class PolicyError extends PrecisError {
  constructor(readonly field: string, readonly problem: string, hint: string) {
    super('E_POLICY', `${field}: ${problem}`, hint);
    this.name = 'PolicyError';
  }
}

/**
 * Per-tensor scaling (for FP8 and other narrow formats): values are
 * multiplied by s = maxFinite / amax before rounding and divided by s after,
 * so the tensor's largest magnitude lands at the top of the format.
 */
export interface ScalingSpec {
  /** 'current': this tensor's amax; 'delayed': the largest amax of the last `history` uses (this one excluded). */
  amax: 'current' | 'delayed';
  /** Window of the delayed amax (default 16). */
  history?: number;
  /** Round s down to a power of two, so scaling is exact (default true). */
  pow2?: boolean;
  /** Keep 2^margin of headroom: s = maxFinite / amax / 2^margin (default 0). */
  margin?: number;
}

export interface QuantizerSpec {
  format: string;
  /** Default 'nearest'. */
  rounding?: Rounding;
  /** Default 'format' (the format's own Inf/NaN or saturation). */
  overflow?: Overflow;
  /** Default 'keep'. */
  subnormals?: Subnormals;
  /** Random bits of stochastic rounding, 1..24 (default 24). */
  randomBits?: number;
  /** Default none. */
  scaling?: ScalingSpec | null;
}

/** A spec as written in a recipe: a format string (round to nearest, nothing else) or the full object. */
export type QuantizerInput = string | QuantizerSpec;

/** Events and error measured at one quantization point, summed over the tensors it rounded. */
export interface QuantizeStats {
  /** Elements rounded. */
  count: number;
  overflow: number;
  flushed: number;
  nan: number;
  /** Σ(q − x)² and Σx² over the elements whose error was measured (finite inputs and outputs). */
  errorSquares: number;
  signalSquares: number;
  /** Elements whose error was measured. */
  measured: number;
}

export function emptyStats(): QuantizeStats {
  return { count: 0, overflow: 0, flushed: 0, nan: 0, errorSquares: 0, signalSquares: 0, measured: 0 };
}

export function addStats(into: QuantizeStats, s: QuantizeStats): void {
  into.count += s.count;
  into.overflow += s.overflow;
  into.flushed += s.flushed;
  into.nan += s.nan;
  into.errorSquares += s.errorSquares;
  into.signalSquares += s.signalSquares;
  into.measured += s.measured;
}

/** The random key of one rounding: stochastic rounding draws word (offset + i) of stream `stream` under `seed`. */
export interface RandomKey {
  seed: number;
  stream: number;
  offset: number;
}

const SPEC_FIELDS = ['format', 'rounding', 'overflow', 'subnormals', 'randomBits', 'scaling'];
const SCALING_FIELDS = ['amax', 'history', 'pow2', 'margin'];

function checkFields(field: string, o: object, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw new PolicyError(`${field}.${k}`, 'is not a known field', `the fields are ${known.join(', ')}`);
  }
}

function parseScaling(field: string, v: unknown): ScalingSpec | null {
  if (v === undefined || v === null || v === 'none') return null;
  if (v === 'current' || v === 'delayed') return { amax: v };
  if (typeof v !== 'object' || Array.isArray(v)) throw new PolicyError(field, `expected 'none', 'current', 'delayed' or an object, got ${JSON.stringify(v)}`, 'e.g. "scaling": {"amax": "delayed", "history": 16}');
  const s = v as Record<string, unknown>;
  checkFields(field, s, SCALING_FIELDS);
  if (s.amax !== 'current' && s.amax !== 'delayed') throw new PolicyError(`${field}.amax`, `expected 'current' or 'delayed', got ${JSON.stringify(s.amax)}`, '"current" uses this tensor\'s amax, "delayed" the largest of the previous ones');
  const history = s.history ?? 16;
  if (typeof history !== 'number' || !Number.isInteger(history) || history < 1 || history > 1024) throw new PolicyError(`${field}.history`, `expected an integer in 1..1024, got ${JSON.stringify(s.history)}`, 'e.g. "history": 16');
  const pow2 = s.pow2 ?? true;
  if (typeof pow2 !== 'boolean') throw new PolicyError(`${field}.pow2`, `expected true or false, got ${JSON.stringify(s.pow2)}`, 'power-of-two scales make scaling exact');
  const margin = s.margin ?? 0;
  if (typeof margin !== 'number' || !Number.isInteger(margin) || margin < 0 || margin > 64) throw new PolicyError(`${field}.margin`, `expected an integer in 0..64, got ${JSON.stringify(s.margin)}`, 'e.g. "margin": 1 keeps one binade of headroom');
  return { amax: s.amax, history, pow2, margin };
}

/** Validates a quantizer as written in a recipe; errors name `field` and the bad part. */
export function parseQuantizer(field: string, v: unknown): Quantizer {
  const spec: Record<string, unknown> = typeof v === 'string' ? { format: v } : (v as Record<string, unknown>);
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new PolicyError(field, `expected a format string or an object, got ${JSON.stringify(v)}`, 'e.g. "e5m2" or {"format": "fixed<16,8>", "rounding": "stochastic"}');
  }
  checkFields(field, spec, SPEC_FIELDS);
  if (typeof spec.format !== 'string') throw new PolicyError(`${field}.format`, `expected a format spec string, got ${JSON.stringify(spec.format)}`, 'e.g. "format": "e4m3" (see `precis formats`)');
  let format: Format;
  try {
    format = parseFormat(spec.format);
  } catch (e) {
    throw new PolicyError(`${field}.format`, (e as Error).message.split('\n')[0], (e as PrecisError).hint ?? 'see `precis formats` for the grammar');
  }
  const rounding = spec.rounding ?? 'nearest';
  if (typeof rounding !== 'string' || !(ROUNDINGS as readonly string[]).includes(rounding)) throw new PolicyError(`${field}.rounding`, `expected one of ${ROUNDINGS.join(', ')}, got ${JSON.stringify(spec.rounding)}`, 'e.g. "rounding": "stochastic"');
  const overflow = spec.overflow ?? 'format';
  if (overflow !== 'saturate' && overflow !== 'format') throw new PolicyError(`${field}.overflow`, `expected 'saturate' or 'format', got ${JSON.stringify(spec.overflow)}`, '"format" keeps the format\'s own Inf/NaN, which loss scaling needs to see overflow');
  const subnormals = spec.subnormals ?? 'keep';
  if (subnormals !== 'keep' && subnormals !== 'flush') throw new PolicyError(`${field}.subnormals`, `expected 'keep' or 'flush', got ${JSON.stringify(spec.subnormals)}`, 'e.g. "subnormals": "flush"');
  const randomBits = spec.randomBits ?? 24;
  if (typeof randomBits !== 'number' || !Number.isInteger(randomBits) || randomBits < 1 || randomBits > 24) throw new PolicyError(`${field}.randomBits`, `expected an integer in 1..24, got ${JSON.stringify(spec.randomBits)}`, 'fewer bits model cheaper stochastic-rounding hardware');
  const scaling = parseScaling(`${field}.scaling`, spec.scaling);
  return new Quantizer({ format: spec.format, rounding: rounding as Rounding, overflow, subnormals, randomBits, scaling }, format);
}

/** The delayed-amax state of one quantization point (saved in checkpoints). */
export class AmaxHistory {
  readonly values: Float64Array;
  /** Amaxes recorded so far (the window is full once this reaches its length). */
  recorded = 0;
  constructor(length: number) {
    this.values = new Float64Array(length);
  }
  /** The largest amax in the window; 0 when nothing was recorded. */
  max(): number {
    let m = 0;
    const n = Math.min(this.recorded, this.values.length);
    for (let i = 0; i < n; i++) m = Math.max(m, this.values[i]);
    return m;
  }
  record(amax: number): void {
    this.values[this.recorded % this.values.length] = amax;
    this.recorded++;
  }
}

function amaxOf(x: Float32Array | Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > m) m = a; // NaN never wins, so one NaN does not wreck the scale; the quantizer counts it.
  }
  return m;
}

/** A validated quantizer. */
export class Quantizer {
  constructor(readonly spec: Readonly<QuantizerSpec>, readonly format: Format) {}

  get stochastic(): boolean {
    return this.spec.rounding === 'stochastic';
  }

  /** The spec as a recipe writes it back (the short string form when nothing but the format is set). */
  toJSON(): QuantizerInput {
    const s = this.spec;
    const plain = (s.rounding ?? 'nearest') === 'nearest' && (s.overflow ?? 'format') === 'format' && (s.subnormals ?? 'keep') === 'keep' && (s.randomBits ?? 24) === 24 && !s.scaling;
    return plain ? s.format : { ...s, scaling: s.scaling ?? null };
  }

  /** The scale factor for a tensor with this amax (1 when the amax is 0 or not finite). */
  scaleFor(amax: number): number {
    const sc = this.spec.scaling;
    if (!sc || !(amax > 0) || !Number.isFinite(amax)) return 1;
    let s = this.format.maxFinite / amax / 2 ** (sc.margin ?? 0);
    if (sc.pow2 ?? true) s = 2 ** Math.floor(Math.log2(s));
    return Number.isFinite(s) && s > 0 ? s : 1;
  }

  /**
   * Rounds src into dst (they may be the same array); a float64 src is
   * rounded straight from its float64 values. `lastAxis` is the
   * innermost dimension, along which block formats form their blocks.
   * With `stats`, events are added to it, and with `measure` also the error.
   */
  apply(src: Float32Array | Float64Array, dst: Float32Array, key: RandomKey, lastAxis: number, stats: QuantizeStats | null, measure: boolean, history: AmaxHistory | null = null): void {
    const sc = this.spec.scaling;
    // The error is measured against the input: a copy only when rounding overwrites it.
    const reference = measure ? (src === dst ? src.slice() : src) : null;
    let scale = 1;
    let input: Float32Array | Float64Array = src;
    if (sc) {
      const amax = amaxOf(src);
      scale = this.scaleFor(sc.amax === 'delayed' && history && history.recorded > 0 ? history.max() : amax);
      history?.record(amax);
      if (scale !== 1) {
        // The hardware multiplies in fp32 and converts: one fp32 rounding (none with power-of-two scales), then the format's.
        input = new Float32Array(src.length);
        for (let i = 0; i < src.length; i++) input[i] = src[i] * scale;
      }
    }
    const opts = {
      rounding: this.spec.rounding, overflow: this.spec.overflow, subnormals: this.spec.subnormals, randomBits: this.spec.randomBits,
      seed: key.seed, stream: key.stream, offset: key.offset,
      lastAxis: this.format.kind === 'block' && lastAxis > 0 && src.length % lastAxis === 0 ? lastAxis : undefined,
    };
    const counts: QuantizeCounts = quantize(input, dst, this.format, opts);
    if (scale !== 1) {
      const inv = 1 / scale;
      for (let i = 0; i < src.length; i++) dst[i] *= inv;
    }
    if (!stats) return;
    stats.count += src.length;
    stats.overflow += counts.overflow;
    stats.flushed += counts.flushed;
    stats.nan += counts.nan;
    if (reference) {
      let e = 0, s = 0, m = 0;
      for (let i = 0; i < reference.length; i++) {
        const x = reference[i], q = dst[i];
        const d = q - x;
        if (Number.isFinite(d)) {
          e += d * d;
          s += x * x;
          m++;
        }
      }
      stats.errorSquares += e;
      stats.signalSquares += s;
      stats.measured += m;
    }
  }
}
