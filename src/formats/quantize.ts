/**
 * quantize(src, dst, format, options): round every element of a float array
 * into a format, writing the values (the float32 or float64 carrier holds
 * them). Float32 arrays run on the active backend; float64 arrays on the
 * reference kernels (every backend), since only the reference rounds from
 * float64 bits.
 */
import { getBackend, loadBackend, type BackendName, type QuantizeCounts } from '../backend/index.js';
import { referenceQuantize } from '../backend/js.js';
import { KernelKind, P, packBlocks, packGrid, packRounding } from '../backend/params.js';
import { OptionError } from '../errors.js';
import { BlockFormat } from './block.js';
import { FixedFormat } from './fixed.js';
import { FloatFormat } from './float.js';
import { ScalarFormat } from './scalar.js';
import { parseFormat, type Format } from './format.js';
import { resolveRounding, type RoundOptions } from './options.js';

export interface QuantizeOptions extends RoundOptions {
  /** Stochastic rounding: the generator's key (integer in [0, 2^53), default 0). */
  readonly seed?: number;
  /** Stochastic rounding: an independent stream (integer in [0, 2^53), default 0). */
  readonly stream?: number;
  /** Stochastic rounding: the element index of src[0] (default 0). */
  readonly offset?: number;
  /** Run on this backend instead of the active one. */
  readonly backend?: BackendName;
  /**
   * Block formats: the length of the last axis of the array (row-major).
   * Blocks never cross a row; a row whose length is not a multiple of the
   * block size ends in a shorter block. Default: the whole array is one row.
   */
  readonly lastAxis?: number;
}

function checkInteger(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new OptionError(`${name} must be an integer in [0, 2^53), got ${v}`, `pass a non-negative integer ${name}`);
  return v;
}

/** The kernel and parameter vector for a format, a carrier and options. */
export function kernelParams(format: Format, carrier: 'f32' | 'f64', options: QuantizeOptions = {}): { kind: KernelKind; params: Float64Array } {
  const r = resolveRounding(options);
  const params = new Float64Array(P.COUNT);
  let kind: KernelKind;
  if (format instanceof FloatFormat) {
    kind = KernelKind.Grid;
    packGrid(params, format.grid);
  } else if (format instanceof FixedFormat) {
    kind = KernelKind.Grid;
    packGrid(params, carrier === 'f32' ? format.grid32 : format.grid);
  } else if (format instanceof BlockFormat) {
    kind = KernelKind.Blocks;
    packBlocks(params, format.params);
  } else {
    kind = KernelKind.Posit;
    params[P.POSIT_WIDTH] = format.spec.width;
    params[P.POSIT_ES] = format.spec.es;
  }
  packRounding(params, r, {
    seed: checkInteger('seed', options.seed ?? 0),
    stream: checkInteger('stream', options.stream ?? 0),
    offset: checkInteger('offset', options.offset ?? 0),
  });
  return { kind, params };
}

function overlaps(a: Float32Array | Float64Array, b: Float32Array | Float64Array): boolean {
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** Rounds src into dst (same length or longer) in `format`; returns the event counts. */
export function quantize(
  src: Float32Array | Float64Array, dst: Float32Array | Float64Array, format: Format | string, options: QuantizeOptions = {},
): QuantizeCounts {
  const f = format instanceof ScalarFormat || format instanceof BlockFormat ? format : parseFormat(format);
  if (dst.length < src.length) throw new OptionError(`dst has ${dst.length} elements, src ${src.length}`, 'pass a dst at least as long as src');
  const row = options.lastAxis;
  if (row !== undefined) {
    if (!Number.isSafeInteger(row) || row < 1 || src.length % row !== 0) {
      throw new OptionError(`lastAxis must be a positive integer dividing the length ${src.length}, got ${row}`, 'pass the length of the innermost dimension');
    }
    if (f instanceof BlockFormat && row % f.blockSize !== 0) {
      // Rows that do not hold whole blocks: quantize row by row, each element keeping its own random index.
      const total: QuantizeCounts = { overflow: 0, flushed: 0, nan: 0 };
      const base = options.offset ?? 0;
      for (let start = 0; start < src.length; start += row) {
        const c = quantize(src.subarray(start, start + row), dst.subarray(start, start + row), f,
          { ...options, lastAxis: undefined, offset: base + start });
        total.overflow += c.overflow;
        total.flushed += c.flushed;
        total.nan += c.nan;
      }
      return total;
    }
  }
  if ((options.offset ?? 0) + src.length > Number.MAX_SAFE_INTEGER) {
    throw new OptionError('offset + length must stay below 2^53', 'element indices of the random stream are below 2^53');
  }
  const k = options.backend ? loadBackend(options.backend) : getBackend();
  // Kernels read src after writing dst; a dst that overlaps src (other than in place) gets a copy of src.
  if (src.buffer === dst.buffer && src !== dst && overlaps(src, dst)) src = src.slice();
  if (src instanceof Float32Array && dst instanceof Float32Array) {
    const { kind, params } = kernelParams(f, 'f32', options);
    return k.quantize(kind, src, dst, params);
  }
  const { kind, params } = kernelParams(f, dst instanceof Float64Array ? 'f64' : 'f32', options);
  return referenceQuantize(kind, src, dst, params);
}
