/**
 * Accumulator models: what the running sum inside a dot product does. A
 * model is written as one short spec string (recipes, the CLI) or as a JSON
 * object (recipes), and both parse into the same validated AccumulatorModel:
 *
 *   fp32                      the project GEMM (fused multiply-add chain, float32)
 *   exact                     a quire: every product and the whole sum exact, one rounding at the end
 *   FORMAT [KEY=VALUE ...]    the sum rounded into FORMAT after every add
 *
 * e.g. Blumenfeld et al.'s 12-bit M7E4 accumulator:
 *   float<4,7,bias=10> product=float<4,7,bias=12> rounding=down order=chunk:16 underflow=flush overflow=saturate
 * Options are separated by spaces outside the format's <...>. Nothing here
 * does arithmetic; accumulator.ts gives a model its meaning.
 */
import { FormatSpecError, PrecisError } from '../errors.js';
import { parseFormat } from '../formats/format.js';
import { ROUNDINGS, type Rounding } from '../formats/grid.js';
import { DEFAULT_RANDOM_BITS, type Subnormals } from '../formats/options.js';
import type { ScalarSpec } from '../formats/spec.js';

/** 'format': the format's own (Inf, NaN, saturation, or the wrap of a `wrap` fixed format); 'inf': IEEE floats only; 'wrap': fixed point only. */
export type AccumulatorOverflow = 'format' | 'saturate' | 'inf' | 'wrap';
export const ACCUMULATOR_OVERFLOWS: readonly AccumulatorOverflow[] = ['format', 'saturate', 'inf', 'wrap'];

export interface Fp32Accumulator { readonly kind: 'fp32' }
export interface ExactAccumulator { readonly kind: 'exact' }

/** A running sum rounded once into `format` after every add. */
export interface RoundedAccumulator {
  readonly kind: 'rounded';
  /**
   * Canonical spec of the accumulator format (float, fixed or posit), e.g.
   * 'float<8,23>': so a per-add float32 model never reads back as the bare
   * 'fp32' of the fast model (which it equals bit for bit, with counts).
   */
  readonly format: string;
  /** Canonical spec of the format each product is rounded into before it is added (null: the exact product). */
  readonly product: string | null;
  readonly rounding: Rounding;
  /** Random bits of stochastic rounding (1..24). */
  readonly randomBits: number;
  /** null: sequential; N: sums of N products from zero, combined in order. */
  readonly chunk: number | null;
  /** Floats only: 'flush' makes results below the smallest normal zero. */
  readonly underflow: Subnormals;
  readonly overflow: AccumulatorOverflow;
}

export type AccumulatorModel = Fp32Accumulator | ExactAccumulator | RoundedAccumulator;

/** The JSON form of a model, as a recipe writes it; `format` is 'fp32', 'exact' or a format spec. */
export interface AccumulatorJSON {
  format: string;
  product?: string | null;
  rounding?: Rounding;
  randomBits?: number;
  /** 'sequential' or 'chunk:N'. */
  order?: string;
  underflow?: Subnormals;
  overflow?: AccumulatorOverflow;
}

/** The grammar, as error hints show it. */
export const ACCUMULATOR_GRAMMAR = [
  'fp32                       the project GEMM: fused multiply-adds rounded to float32 (default)',
  'exact                      quire: products and sum exact, one rounding at the end (into the output format)',
  'FORMAT [OPTION ...]        the sum rounded into FORMAT (float, fixed, int or posit) after every add',
  '  product=FORMAT           round each product into FORMAT before adding it',
  `  rounding=MODE            ${ROUNDINGS.join(' | ')} (default nearest)`,
  '  random-bits=R            stochastic rounding: random bits, 1..24 (default 24)',
  '  order=sequential|chunk:N sums of N products from zero, then combined in order (default sequential)',
  '  underflow=keep|flush     floats: flush results below the smallest normal (default keep)',
  '  overflow=format|saturate|inf|wrap   default: the format\'s own; inf: IEEE floats; wrap: fixed point',
  'e.g. float<4,7,bias=10> product=float<4,7,bias=12> rounding=down order=chunk:16 underflow=flush overflow=saturate',
].join('\n');

const HINT = `valid forms:\n${ACCUMULATOR_GRAMMAR.split('\n').map((l) => `    ${l}`).join('\n')}`;

/** A model spec (string or JSON) that is not valid. `column` points into a string spec; `field` names a JSON field. */
export class AccumulatorSpecError extends PrecisError {
  readonly spec: string;
  readonly column: number | null;
  readonly field: string | null;
  readonly reason: string;
  constructor(spec: string, where: { column: number } | { field: string }, reason: string, hint: string = HINT) {
    const column = 'column' in where ? where.column : null;
    const field = 'field' in where ? where.field : null;
    const place = column !== null ? `\n    ${spec}\n    ${' '.repeat(Math.max(0, column))}^` : '';
    super('E_ACCUMULATOR_SPEC', `invalid accumulator ${field !== null ? `field '${field}'` : `spec '${spec}'`}: ${reason}${place}`, hint);
    this.name = 'AccumulatorSpecError';
    this.spec = spec;
    this.column = column;
    this.field = field;
    this.reason = reason;
  }
}

type Where = { column: number } | { field: string };

/** One option before validation, with where it came from (for errors). */
interface RawOption { readonly key: string; readonly value: string; readonly where: Where; readonly valueWhere: Where }

function fail(spec: string, where: Where, reason: string, hint?: string): never {
  throw new AccumulatorSpecError(spec, where, reason, hint);
}

/** Parses a format spec inside an accumulator spec; its errors point at the right column. */
function scalarFormat(spec: string, text: string, where: Where, role: string): ScalarSpec {
  let f;
  try {
    f = parseFormat(text);
  } catch (e) {
    if (!(e instanceof FormatSpecError)) throw e;
    const inner = 'column' in where ? { column: where.column + e.column } : where;
    fail(spec, inner, `${role} '${text}': ${e.reason}`, e.hint);
  }
  if (f.kind !== 'scalar') fail(spec, where, `${role} '${text}' is a block format; an accumulator holds one scalar`, 'use a float, fixed, int or posit format');
  return f.spec;
}

const KEYS = ['product', 'rounding', 'random-bits', 'order', 'underflow', 'overflow'] as const;

/** Checks the options against the formats and fills in defaults. */
function build(spec: string, head: string, headWhere: Where, options: readonly RawOption[]): AccumulatorModel {
  if (head === 'fp32' && options.length === 0) return { kind: 'fp32' };
  if (head === 'exact') {
    if (options.length > 0) {
      fail(spec, options[0].where, `'exact' takes no options (got ${options[0].key})`,
        'the quire rounds once, into the output format: pass it as accumulatedGemm\'s output option');
    }
    return { kind: 'exact' };
  }
  const acc = scalarFormat(spec, head, headWhere, 'accumulator format');
  const seen = new Map<string, RawOption>();
  for (const o of options) {
    if (!(KEYS as readonly string[]).includes(o.key)) fail(spec, o.where, `unknown option '${o.key}' (use ${KEYS.join(', ')})`);
    if (seen.has(o.key)) fail(spec, o.where, `option '${o.key}' given twice`);
    seen.set(o.key, o);
  }
  const value = (key: string): RawOption | undefined => seen.get(key);
  const oneOf = <T extends string>(key: string, allowed: readonly T[], def: T): T => {
    const o = value(key);
    if (!o) return def;
    if (!(allowed as readonly string[]).includes(o.value)) fail(spec, o.valueWhere, `${key} must be one of ${allowed.join(', ')}, got '${o.value}'`);
    return o.value as T;
  };
  const rounding = oneOf<Rounding>('rounding', ROUNDINGS, 'nearest');
  const underflow = oneOf<Subnormals>('underflow', ['keep', 'flush'], 'keep');
  const overflow = oneOf<AccumulatorOverflow>('overflow', ACCUMULATOR_OVERFLOWS, 'format');

  let randomBits = DEFAULT_RANDOM_BITS;
  const rb = value('random-bits');
  if (rb) {
    if (rounding !== 'stochastic') fail(spec, rb.where, 'random-bits applies only to rounding=stochastic');
    if (!/^\d+$/.test(rb.value) || Number(rb.value) < 1 || Number(rb.value) > 24) fail(spec, rb.valueWhere, `random-bits must be an integer in 1..24, got '${rb.value}'`);
    randomBits = Number(rb.value);
  }

  let chunk: number | null = null;
  const ord = value('order');
  if (ord && ord.value !== 'sequential') {
    const m = /^chunk:(\d+)$/.exec(ord.value);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 2 ** 31) fail(spec, ord.valueWhere, `order must be sequential or chunk:N with N in 1..2^31, got '${ord.value}'`);
    chunk = Number(m[1]);
  }

  const prodOpt = value('product');
  const product = prodOpt ? scalarFormat(spec, prodOpt.value, prodOpt.valueWhere, 'product format') : null;

  // Each option must mean something for every format it applies to: never a silent no-op.
  const check = (f: ScalarSpec, role: string, where: Where): void => {
    if (underflow === 'flush' && f.family !== 'float') {
      fail(spec, value('underflow')?.where ?? where, `underflow=flush needs a float ${role}; ${f.family === 'posit' ? 'posits never round a nonzero to zero' : 'fixed point has no subnormals'}`);
    }
    if (overflow === 'inf' && !(f.family === 'float' && f.flavour === 'ieee')) {
      fail(spec, value('overflow')?.valueWhere ?? where, `overflow=inf needs an IEEE float ${role} (one with infinities)`, 'use overflow=saturate or overflow=format');
    }
    if (overflow === 'wrap' && f.family !== 'fixed') {
      fail(spec, value('overflow')?.valueWhere ?? where, `overflow=wrap needs a fixed-point ${role}`, 'use overflow=saturate or overflow=format');
    }
    if (overflow === 'saturate' && f.family === 'fixed' && f.wrap) {
      fail(spec, value('overflow')?.valueWhere ?? where, `overflow=saturate contradicts the ${role}'s own 'wrap'`, 'drop one of them');
    }
  };
  check(acc, 'accumulator', headWhere);
  if (product && prodOpt) check(product, 'product format', prodOpt.valueWhere);
  // A sum rounded to odd in float64 keeps 52 bits: enough for the format's precision plus the random bits.
  if (rounding === 'stochastic' && acc.family === 'posit') {
    const precision = acc.width - 2 - acc.es;
    if (precision + randomBits > 52) {
      fail(spec, rb?.valueWhere ?? headWhere, `stochastic rounding into ${head} with ${randomBits} random bits needs ${precision + randomBits} exact bits of each sum (at most 52)`,
        `use random-bits=${52 - precision} or fewer`);
    }
  }
  return {
    kind: 'rounded',
    format: parseFormat(head).name,
    product: product ? parseFormat(prodOpt!.value).name : null,
    rounding, randomBits, chunk, underflow, overflow,
  };
}

/** Splits a string spec into words at spaces outside <...>, with their columns. */
function words(spec: string): { text: string; column: number }[] {
  const out: { text: string; column: number }[] = [];
  let depth = 0, start = -1;
  for (let i = 0; i <= spec.length; i++) {
    const ch = spec[i];
    const space = ch === undefined || (depth === 0 && /\s/.test(ch));
    if (space) {
      if (start >= 0) out.push({ text: spec.slice(start, i), column: start });
      start = -1;
      continue;
    }
    if (start < 0) start = i;
    if (ch === '<') depth++;
    else if (ch === '>') depth = Math.max(0, depth - 1);
  }
  return out;
}

function parseString(spec: string): AccumulatorModel {
  const ws = words(spec);
  if (ws.length === 0) fail(spec, { column: 0 }, 'empty accumulator spec');
  const [head, ...rest] = ws;
  if (/^[^<]*=/.test(head.text)) fail(spec, { column: head.column }, 'the spec starts with fp32, exact or the accumulator format, then its options');
  const options = rest.map((w): RawOption => {
    const eq = w.text.indexOf('=');
    if (eq <= 0) fail(spec, { column: w.column }, `expected KEY=VALUE, got '${w.text}'`);
    return { key: w.text.slice(0, eq), value: w.text.slice(eq + 1), where: { column: w.column }, valueWhere: { column: w.column + eq + 1 } };
  });
  return build(spec, head.text, { column: head.column }, options);
}

const JSON_KEYS: Record<string, string> = {
  product: 'product', rounding: 'rounding', randomBits: 'random-bits', order: 'order', underflow: 'underflow', overflow: 'overflow',
};

function parseJSON(o: AccumulatorJSON, path: string): AccumulatorModel {
  const text = JSON.stringify(o);
  const at = (k: string): Where => ({ field: path ? `${path}.${k}` : k });
  if (typeof o.format !== 'string') fail(text, at('format'), `expected 'fp32', 'exact' or a format spec string, got ${JSON.stringify(o.format)}`);
  const options: RawOption[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (k === 'format' || v === undefined || (k === 'product' && v === null)) continue;
    const key = JSON_KEYS[k];
    if (!key) fail(text, at(k), `unknown field (use format, ${Object.keys(JSON_KEYS).join(', ')})`);
    const expectNumber = k === 'randomBits';
    if (expectNumber ? typeof v !== 'number' : typeof v !== 'string') fail(text, at(k), `expected a ${expectNumber ? 'number' : 'string'}, got ${JSON.stringify(v)}`);
    options.push({ key, value: String(v), where: at(k), valueWhere: at(k) });
  }
  return build(text, o.format.trim(), at('format'), options);
}

/**
 * Parses an accumulator model from its spec string or JSON object; throws
 * AccumulatorSpecError naming the bad part (column or field) and listing the
 * valid forms. `path` prefixes JSON field names in errors ('precision.accumulator').
 */
export function parseAccumulator(spec: string | AccumulatorJSON, path = ''): AccumulatorModel {
  if (typeof spec === 'string') return parseString(spec.trim());
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    fail(String(spec), { field: path || 'accumulator' }, `expected a spec string or an object, got ${JSON.stringify(spec)}`);
  }
  return parseJSON(spec, path);
}

/** The canonical spec string: parseAccumulator gives the same model back. Options at their defaults are left out. */
export function accumulatorToString(m: AccumulatorModel): string {
  if (m.kind !== 'rounded') return m.kind;
  const parts = [m.format];
  if (m.product !== null) parts.push(`product=${m.product}`);
  if (m.rounding !== 'nearest') parts.push(`rounding=${m.rounding}`);
  if (m.rounding === 'stochastic' && m.randomBits !== DEFAULT_RANDOM_BITS) parts.push(`random-bits=${m.randomBits}`);
  if (m.chunk !== null) parts.push(`order=chunk:${m.chunk}`);
  if (m.underflow !== 'keep') parts.push(`underflow=${m.underflow}`);
  if (m.overflow !== 'format') parts.push(`overflow=${m.overflow}`);
  return parts.join(' ');
}

/** The JSON form (for recipe.json); parseAccumulator gives the same model back. */
export function accumulatorToJSON(m: AccumulatorModel): AccumulatorJSON {
  if (m.kind !== 'rounded') return { format: m.kind };
  const o: AccumulatorJSON = { format: m.format };
  if (m.product !== null) o.product = m.product;
  if (m.rounding !== 'nearest') o.rounding = m.rounding;
  if (m.rounding === 'stochastic' && m.randomBits !== DEFAULT_RANDOM_BITS) o.randomBits = m.randomBits;
  if (m.chunk !== null) o.order = `chunk:${m.chunk}`;
  if (m.underflow !== 'keep') o.underflow = m.underflow;
  if (m.overflow !== 'format') o.overflow = m.overflow;
  return o;
}
