/**
 * Telemetry: what rounding did to each layer × role. Counts come from the
 * quantize kernels for free on every step; the error (Σ(q − x)² against
 * Σx²) costs a pass and is measured only on logged steps.
 */
import type { Quantizer, QuantizeStats } from './quantizer.js';

/** One layer × role over a telemetry window, as metrics.jsonl and summary.json record it. */
export interface RoleReport {
  format: string;
  /** Elements rounded. */
  values: number;
  /** Fraction beyond the largest finite value (saturated, wrapped, or Inf/NaN: see overflowAs). */
  overflow: number;
  overflowAs: 'saturate' | 'inf-nan' | 'wrap';
  /** Fraction of nonzero values flushed to zero. */
  flushed: number;
  /** Fraction of NaN inputs. */
  nan: number;
  /** ‖q − x‖ / ‖x‖ over the measured elements (absent when none were measured). */
  relativeRms?: number;
  /** 10·log10(‖x‖² / ‖q − x‖²) in dB (absent when none were measured, or when the rounding was exact). */
  snrDb?: number;
}

export type LayerReport = Record<string, RoleReport>;

/** A layer's emulated accumulator over a telemetry window. */
export interface AccumulatorReport {
  model: string;
  /** Multiply-adds done through the model. */
  products: number;
  /** Fraction of the adds whose nonzero term left the sum unchanged (swamping). */
  swamped: number;
  /** Roundings beyond the largest finite value (products, sums, outputs). */
  overflow: number;
  /** Roundings of a nonzero value to zero. */
  underflow: number;
}

/** How a quantizer's overflow events show up in its output. */
export function overflowAs(q: Quantizer): RoleReport['overflowAs'] {
  if (q.spec.overflow === 'saturate') return 'saturate';
  const f = q.format;
  if (f.kind === 'block') return 'saturate'; // block elements always saturate against their shared scale
  if (f.spec.family === 'fixed') return f.spec.wrap ? 'wrap' : 'saturate';
  if (f.spec.family === 'posit') return 'saturate'; // posits round to ±maxpos, never to NaR
  return f.hasInf || f.hasNaN ? 'inf-nan' : 'saturate';
}

const fraction = (n: number, d: number): number => (d > 0 ? n / d : 0);

export function roleReport(q: Quantizer, s: QuantizeStats): RoleReport {
  const r: RoleReport = {
    format: q.spec.format,
    values: s.count,
    overflow: fraction(s.overflow, s.count),
    overflowAs: overflowAs(q),
    flushed: fraction(s.flushed, s.count),
    nan: fraction(s.nan, s.count),
  };
  if (s.measured > 0) {
    r.relativeRms = s.signalSquares > 0 ? Math.sqrt(s.errorSquares / s.signalSquares) : s.errorSquares > 0 ? Infinity : 0;
    // JSON has no Infinity: an exact window has relativeRms 0 and no snrDb.
    if (s.errorSquares > 0) r.snrDb = 10 * Math.log10(s.signalSquares / s.errorSquares);
  }
  return r;
}

/** One layer × role over a whole run: event fractions weighted by values, the error averaged over the logged steps. */
export interface RoleSummary {
  format: string;
  values: number;
  overflow: number;
  overflowAs: RoleReport['overflowAs'];
  flushed: number;
  nan: number;
  /** Quadratic mean of the logged steps' relative RMS errors (each step weighs the same). */
  relativeRms?: number;
  /** −20·log10(relativeRms): the SNR of that mean error (absent when every step was exact). */
  snrDb?: number;
}

/** One telemetry window, as Emulation.report() returns it. */
export interface TelemetryReport {
  layers: Record<string, LayerReport>;
  accumulators?: Record<string, AccumulatorReport>;
  loss?: RoleReport;
  lossScale?: number;
  /** Steps skipped for overflow since the start of the run. */
  skippedSteps?: number;
}

/** A telemetry line of metrics.jsonl: a report and the position it was logged at. */
export interface TelemetryLine extends TelemetryReport {
  type: 'telemetry';
  globalStep: number;
}

export interface PrecisionSummary {
  layers: Record<string, Record<string, RoleSummary>>;
  /** Per layer: the accumulator model, multiply-adds, the fraction swamped, overflow and underflow counts, over the logged windows. */
  accumulators?: Record<string, AccumulatorReport>;
  loss?: RoleSummary;
  lossScale?: number;
  skippedSteps?: number;
}

class RoleTotals {
  values = 0; overflow = 0; flushed = 0; nan = 0;
  rms2 = 0; measured = 0;
  constructor(readonly format: string, readonly overflowAs: RoleReport['overflowAs']) {}
  add(r: RoleReport): void {
    this.values += r.values;
    this.overflow += r.overflow * r.values;
    this.flushed += r.flushed * r.values;
    this.nan += r.nan * r.values;
    if (r.relativeRms !== undefined && Number.isFinite(r.relativeRms)) {
      this.rms2 += r.relativeRms * r.relativeRms;
      this.measured++;
    }
  }
  summary(): RoleSummary {
    const s: RoleSummary = {
      format: this.format, values: this.values, overflowAs: this.overflowAs,
      overflow: fraction(this.overflow, this.values), flushed: fraction(this.flushed, this.values), nan: fraction(this.nan, this.values),
    };
    if (this.measured > 0) {
      s.relativeRms = Math.sqrt(this.rms2 / this.measured);
      if (s.relativeRms > 0) s.snrDb = -20 * Math.log10(s.relativeRms);
    }
    return s;
  }
}

/** Sums a run's telemetry lines (any order of layers and roles; lines of other types are ignored). */
export function summarizeTelemetry(lines: readonly object[]): PrecisionSummary {
  const layers = new Map<string, Map<string, RoleTotals>>();
  let loss: RoleTotals | null = null;
  const out: PrecisionSummary = { layers: {} };
  for (const raw of lines) {
    const line = raw as TelemetryLine;
    if (line.type !== 'telemetry') continue;
    for (const [layer, roles] of Object.entries(line.layers ?? {})) {
      let m = layers.get(layer);
      if (!m) layers.set(layer, (m = new Map()));
      for (const [role, r] of Object.entries(roles)) {
        let t = m.get(role);
        if (!t || t.format !== r.format) m.set(role, (t = new RoleTotals(r.format, r.overflowAs))); // a precision switch starts afresh
        t.add(r);
      }
    }
    if (line.loss) {
      if (!loss || loss.format !== line.loss.format) loss = new RoleTotals(line.loss.format, line.loss.overflowAs);
      loss.add(line.loss);
    }
    for (const [layer, a] of Object.entries(line.accumulators ?? {})) {
      const t = (out.accumulators ??= {})[layer];
      if (!t || t.model !== a.model) out.accumulators[layer] = { ...a };
      else {
        t.swamped = (t.swamped * t.products + a.swamped * a.products) / Math.max(1, t.products + a.products);
        t.products += a.products;
        t.overflow += a.overflow;
        t.underflow += a.underflow;
      }
    }
    if (line.lossScale !== undefined) out.lossScale = line.lossScale;
    if (line.skippedSteps !== undefined) out.skippedSteps = line.skippedSteps;
  }
  for (const [layer, m] of layers) out.layers[layer] = Object.fromEntries([...m].map(([role, t]) => [role, t.summary()]));
  if (loss) out.loss = loss.summary();
  return out;
}
