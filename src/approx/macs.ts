/** Multiply-add accounting: what an approximated layer computed, beside what the exact layer would have. */

export interface MacTotals {
  /** Multiply-adds of the products actually computed (sampled pairs only). */
  macs: number;
  /** Multiply-adds the exact products would have taken. */
  exactMacs: number;
}

export class MacCount implements MacTotals {
  macs = 0;
  exactMacs = 0;

  /** One product of n pairs of perPair multiply-adds each, of which `kept` were computed. */
  add(perPair: number, n: number, kept: number): void {
    this.macs += perPair * kept;
    this.exactMacs += perPair * n;
  }
}

/** The fraction of the exact multiply-adds that were not done (0 when nothing was counted). */
export function macReduction(t: MacTotals): number {
  return t.exactMacs > 0 ? 1 - t.macs / t.exactMacs : 0;
}

/** The totals of a run's `approx` metric lines (each holds the multiply-adds since the previous one). */
export function sumMacLines(lines: readonly Readonly<Record<string, unknown>>[]): MacTotals & { macReduction: number } {
  let macs = 0;
  let exactMacs = 0;
  for (const l of lines) {
    if (l.type !== 'approx') continue;
    macs += Number(l.macs);
    exactMacs += Number(l.exactMacs);
  }
  return { macs, exactMacs, macReduction: macReduction({ macs, exactMacs }) };
}
