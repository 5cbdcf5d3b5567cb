/** What every scalar format (float, fixed, posit) offers; each family file fills in the arithmetic. */
import { OptionError, UnsupportedError } from '../errors.js';
import type { RoundingParams } from './grid.js';
import { resolveRounding, type RoundOptions } from './options.js';
import type { ScalarSpec } from './spec.js';

/** Counts of the code points of a format, by kind. */
export interface CodeCounts {
  readonly total: number;
  readonly finiteValues: number;
  readonly zeros: number;
  readonly subnormals: number;
  readonly infinities: number;
  readonly nans: number;
}

/** The properties every scalar format states, computed by its family. */
export interface ScalarProperties {
  /** Canonical spec text. */
  readonly name: string;
  readonly bits: number;
  readonly maxFinite: number;
  /** Magnitude of the most negative finite value (maxFinite for symmetric formats). */
  readonly minFinite: number;
  readonly minPositive: number;
  readonly minNormal: number;
  /** The gap between 1 and the next larger value (fixed point: the step 2^-F). */
  readonly epsilon: number;
  readonly hasInf: boolean;
  readonly hasNaN: boolean;
  /** Field widths from the most significant bit, for `formats show`. */
  readonly layout: readonly { readonly field: string; readonly bits: number }[];
}

// The class carries ScalarProperties as its own fields (declaration merging: one list, not two).
export interface ScalarFormat extends ScalarProperties {}

export abstract class ScalarFormat {
  readonly kind = 'scalar' as const;
  abstract readonly spec: ScalarSpec;

  constructor(p: ScalarProperties) {
    Object.assign(this, p);
  }

  abstract decode(bits: number): number;
  abstract codeCounts(): CodeCounts;
  /** Rounds x to a bit pattern with resolved rounding parameters and the element's random word. */
  abstract encodeWith(x: number, r: RoundingParams, rnd: number): number;

  /** Dynamic range in binades: log2(maxFinite / minPositive). */
  get dynamicRange(): number {
    return Math.log2(this.maxFinite / this.minPositive);
  }

  get finiteCount(): number {
    return this.codeCounts().finiteValues;
  }

  /** Rounds x to this format's bit pattern. `random` is the 32-bit word stochastic rounding uses. */
  encode(x: number, options?: RoundOptions & { readonly random?: number }): number {
    const random = options?.random ?? 0;
    if (!Number.isInteger(random) || random < 0 || random > 0xffffffff) {
      throw new OptionError(`random must be a 32-bit unsigned integer, got ${random}`, 'pass the element\'s random word, 0 .. 2^32-1');
    }
    return this.encodeWith(x, resolveRounding(options), random);
  }

  /** Throws unless `bits` is a code of this format. */
  protected checkCode(bits: number): void {
    if (!Number.isInteger(bits) || bits < 0 || bits >= 2 ** this.bits) {
      throw new OptionError(`${bits} is not a ${this.bits}-bit code of ${this.name}`, `pass an integer in 0 .. 2^${this.bits}-1`);
    }
  }

  /** The value x rounds to. */
  round(x: number, options?: RoundOptions & { readonly random?: number }): number {
    return this.decode(this.encode(x, options));
  }

  /** Every finite value, ascending, zero once (formats up to 16 bits). */
  values(): Float64Array {
    if (this.bits > 16) {
      throw new UnsupportedError(`values() lists formats up to 16 bits; ${this.name} has ${this.bits}`, 'use decode() on the patterns you need');
    }
    const seen = new Set<number>();
    for (let b = 0; b < 2 ** this.bits; b++) {
      const v = this.decode(b);
      if (Number.isFinite(v)) seen.add(v === 0 ? 0 : v);
    }
    return Float64Array.from([...seen].sort((p, q) => p - q));
  }
}
