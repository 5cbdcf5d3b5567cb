/** Validation of optimizer options: every error names the option and the accepted range. */
import { OptionError } from '../errors.js';

/** A number option: finite and within [min, max] (or the open end where `open` says so). */
export function numberOption(owner: string, name: string, value: unknown, min: number, max: number, open: { min?: boolean; max?: boolean } = {}): number {
  const ok = typeof value === 'number' && Number.isFinite(value)
    && (open.min ? value > min : value >= min) && (open.max ? value < max : value <= max);
  if (!ok) {
    const range = `${open.min ? '(' : '['}${min}, ${max === Infinity ? '∞' : max}${open.max || max === Infinity ? ')' : ']'}`;
    throw new OptionError(`${owner} option ${name} = ${String(value)} is not a finite number in ${range}`, `give ${name} a value in ${range}`);
  }
  return value;
}

/** Rejects option names the optimizer does not have (a typo would otherwise be silently ignored). */
export function checkKnown(owner: string, options: object, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new OptionError(`${owner} options must be an object`, `options: ${known.join(', ')}`);
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined && !known.includes(k)) throw new OptionError(`${owner} has no option '${k}'`, `${owner} options: ${known.join(', ')}`);
  }
}
