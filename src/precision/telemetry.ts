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
  /** 10·log10(‖x‖² / ‖q − x‖²) in dB (absent when none were measured; Infinity when exact). */
  snrDb?: number;
}

export type LayerReport = Record<string, RoleReport>;

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
    r.snrDb = s.errorSquares > 0 ? 10 * Math.log10(s.signalSquares / s.errorSquares) : Infinity;
  }
  return r;
}
