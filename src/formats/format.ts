/** From spec text to a format object: the one entry point for every family. */
import { BlockFormat } from './block.js';
import { FixedFormat } from './fixed.js';
import { FloatFormat } from './float.js';
import { PositFormat } from './posit.js';
import { parseSpec, type FormatSpec } from './spec.js';
import { FormatSpecError, OptionError } from '../errors.js';

export type Format = FloatFormat | FixedFormat | PositFormat | BlockFormat;

const cache = new Map<string, Format>();

export function formatFromSpec(spec: FormatSpec): Format {
  switch (spec.family) {
    case 'float': return new FloatFormat(spec);
    case 'fixed': return new FixedFormat(spec);
    case 'posit': return new PositFormat(spec);
    case 'mx': case 'bfp': return new BlockFormat(spec);
  }
}

/** Parses a spec such as 'e4m3', 'fixed<16,14>' or 'posit<8,0>'; throws FormatSpecError when malformed. */
export function parseFormat(spec: string): Format {
  if (typeof spec !== 'string') {
    throw new OptionError(`a format spec must be a string, got ${spec === null ? 'null' : typeof spec}`, "e.g. parseFormat('e4m3')");
  }
  let f = cache.get(spec);
  if (!f) {
    f = formatFromSpec(parseSpec(spec));
    cache.set(spec, f);
  }
  return f;
}

/** parseFormat for element-wise formats (float, fixed, posit): encode, decode and values() without a block scale. */
export function parseScalarFormat(spec: string): FloatFormat | FixedFormat | PositFormat {
  const f = parseFormat(spec);
  if (f instanceof BlockFormat) {
    throw new OptionError(`'${spec}' is a block format: its codes need a block scale`, 'use parseFormat and the BlockFormat API (encodeElement, decodeElement), or a scalar format');
  }
  return f;
}

/** Like parseFormat, but returns the error instead of throwing it. */
export function tryParseFormat(spec: string): { format: Format; error?: undefined } | { format?: undefined; error: FormatSpecError } {
  if (typeof spec !== 'string') return { error: new FormatSpecError(String(spec), 0, 'a format spec must be a string', "e.g. tryParseFormat('e4m3')") };
  try {
    return { format: parseFormat(spec) };
  } catch (e) {
    if (e instanceof FormatSpecError) return { error: e };
    throw e;
  }
}
