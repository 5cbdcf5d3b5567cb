/** A small, strict flag parser: `--name value`, `--name=value`, boolean `--flag`; unknown flags are errors. */
import { PrecisError } from '../errors.js';

export class UsageError extends PrecisError {
  constructor(message: string, hint: string) {
    super('E_USAGE', message, hint);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** Flags that take a value. */
  readonly values?: readonly string[];
  /** Flags that are on or off. */
  readonly booleans?: readonly string[];
}

export interface ParsedArgs {
  readonly positional: string[];
  readonly flags: Map<string, string>;
  readonly booleans: Set<string>;
}

export function parseArgs(argv: readonly string[], spec: FlagSpec, usage: string): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  const booleans = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (!a.startsWith('--') || a === '-') { positional.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (spec.values?.includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`, usage);
      flags.set(name, v);
    } else if (spec.booleans?.includes(name) && eq < 0) {
      booleans.add(name);
    } else {
      throw new UsageError(`unknown option --${name}`, usage);
    }
  }
  return { positional, flags, booleans };
}

/** An integer flag in [lo, hi]. */
export function intFlag(args: ParsedArgs, name: string, lo: number, hi: number): number | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < lo || n > hi) {
    throw new UsageError(`--${name} must be an integer in ${lo}..${hi}, got '${v}'`, `e.g. --${name} ${lo}`);
  }
  return n;
}

/** A flag restricted to a list of choices. */
export function choiceFlag<T extends string>(args: ParsedArgs, name: string, choices: readonly T[]): T | undefined {
  const v = args.flags.get(name);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${v}'`, `e.g. --${name} ${choices[0]}`);
  }
  return v as T;
}
