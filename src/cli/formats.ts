/** `precis formats ...`: list, show, encode, decode and table. */
import { readFileSync } from 'node:fs';
import { bitsToF32, formatBits, formatValue, pow2 } from '../formats/bits.js';
import { BlockFormat, blockScaleOf } from '../formats/block.js';
import { parseFormat, type Format } from '../formats/format.js';
import { ROUNDINGS } from '../formats/grid.js';
import { quantize } from '../formats/quantize.js';
import { binadeCounts } from '../formats/spread.js';
import { SPEC_GRAMMAR } from '../formats/spec.js';
import { choiceFlag, intFlag, parseArgs, UsageError } from './args.js';

type Out = (line: string) => void;

export const FORMATS_USAGE = `usage:
  precis formats                       list the format families and the spec grammar
  precis formats show SPEC             layout, range, precision, value counts and spread
  precis formats encode SPEC [--rounding R] [--seed N] [--stream N] [--random-bits N]
                         [--overflow saturate|format] [--subnormals on|off]
                                       round stdin values (one per line: a decimal, or
                                       f32:0x3f800000 for float32 bits) into SPEC
  precis formats decode SPEC BITS...   the value of each bit pattern (0x.., 0b.. or decimal)
  precis formats table SPEC            every code and its value, as CSV (formats up to 16 bits)

A decimal is read as the nearest float64 first, and that value is rounded:
a decimal within a float64 ulp of a rounding boundary (or beyond float64's
range, like 1e-400) rounds as its float64 does. f32:0x... inputs are exact.`;

export function formatsCommand(argv: readonly string[], out: Out, stdin: () => string): void {
  const [sub, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h')) {
    out(FORMATS_USAGE);
    return;
  }
  switch (sub) {
    case undefined: return list(out);
    case 'show': {
      const f = one(rest, 'show');
      return show(f, out, parseArgs(rest, {}, FORMATS_USAGE).positional[0].trim());
    }
    case 'encode': return encode(rest, out, stdin);
    case 'decode': return decode(rest, out);
    case 'table': return table(one(rest, 'table'), out);
    case 'help': case '--help': case '-h': out(FORMATS_USAGE); return;
    default: throw new UsageError(`unknown formats command '${sub}'`, FORMATS_USAGE);
  }
}

function one(rest: readonly string[], cmd: string): Format {
  const a = parseArgs(rest, {}, FORMATS_USAGE);
  if (a.positional.length !== 1) throw new UsageError(`formats ${cmd} takes one SPEC`, `e.g. precis formats ${cmd} e4m3`);
  return parseFormat(a.positional[0]);
}

function list(out: Out): void {
  out('Format families (spec grammar):');
  for (const l of SPEC_GRAMMAR.split('\n')) out(`  ${l}`);
  out('');
  out('Try: precis formats show e4m3 | echo 464 | precis formats encode e4m3 | precis formats table e2m1');
}

function pow2Label(v: number): string {
  if (!(v > 0) || !Number.isFinite(v)) return formatValue(v);
  const e = Math.log2(v);
  return Number.isInteger(e) ? `${formatValue(v)} (2^${e})` : `${formatValue(v)} (2^${e.toFixed(3)})`;
}

function show(f: Format, out: Out, asWritten: string): void {
  out(`format      ${asWritten === f.name ? f.name : `${asWritten} = ${f.name}`}`);
  if (f instanceof BlockFormat) {
    out(`block       ${f.blockSize} elements of ${f.bits} bits sharing an 8-bit power-of-two scale (rule: ${f.scaleRule})`);
    out(`element     ${f.element ? f.element.name : `${f.bits}-bit sign-magnitude integer`}`);
    out(`bits/value  ${(f.bits + f.scaleBits / f.blockSize).toFixed(3)}`);
  } else {
    out(`layout      ${f.layout.map((l) => `${l.field} ${l.bits}`).join(' | ')}  (${f.bits} bits)`);
    out(`bits        ${f.layout.map((l) => l.field[0].repeat(Math.max(0, l.bits))).join(' ')}${f.spec.family === 'posit' ? '  (near 1; the regime grows toward maxpos and minpos)' : ''}`);
    if (f.spec.family === 'float') out(`bias        ${f.spec.bias}   flavour ${f.spec.flavour}${f.spec.subnormals ? '' : ', no subnormals'}`);
  }
  out(`max         ${pow2Label(f.maxFinite)}`);
  out(`min pos     ${pow2Label(f.minPositive)}`);
  if (f instanceof BlockFormat) {
    out(`epsilon     ${pow2Label(f.epsilon)} (of the element)`);
  } else {
    out(`min normal  ${pow2Label(f.minNormal)}`);
    out(`epsilon     ${Number.isNaN(f.epsilon) ? 'n/a' : pow2Label(f.epsilon)}`);
    if (f.minFinite !== f.maxFinite) out(`min         ${f.minFinite === 0 ? '0 (unsigned)' : formatValue(-f.minFinite)}`);
  }
  out(`range       ${f.dynamicRange.toFixed(2)} binades (log2 max/min pos)`);
  if (!(f instanceof BlockFormat)) {
    const c = f.codeCounts();
    out(`codes       ${c.total}: ${c.finiteValues} finite values, ${c.zeros} zero, ${c.subnormals} subnormal, ${c.infinities} inf, ${c.nans} nan`);
  }
  out('');
  out(`positive values per binade${f instanceof BlockFormat ? ' (element, scale 1)' : ''}, log scale:`);
  histogram(binadeCounts(f), out);
}

function histogram(counts: Map<number, number>, out: Out): void {
  const entries = [...counts.entries()];
  if (entries.length === 0) return;
  const lo = entries[0][0], hi = entries[entries.length - 1][0];
  const rows = 40;
  const width = Math.max(1, Math.ceil((hi - lo + 1) / rows));
  const buckets: { from: number; to: number; n: number }[] = [];
  for (let e = lo; e <= hi; e += width) {
    let n = 0;
    for (let j = e; j < e + width; j++) n += counts.get(j) ?? 0;
    buckets.push({ from: e, to: Math.min(hi, e + width - 1), n });
  }
  const top = Math.log2(Math.max(...buckets.map((b) => b.n)) + 1);
  for (const b of buckets) {
    const label = b.from === b.to ? `2^${b.from}` : `2^${b.from}..2^${b.to}`;
    const bar = '#'.repeat(Math.max(b.n > 0 ? 1 : 0, Math.round((Math.log2(b.n + 1) / top) * 48)));
    out(`  ${label.padStart(14)} ${bar} ${b.n}`);
  }
}

/** A decimal, inf/nan, or f32:0x<8 hex digits>. */
function parseInput(line: string, lineNo: number): number {
  const s = line.trim().toLowerCase();
  const m = /^f32:(0x)?([0-9a-f]{1,8})$/.exec(s);
  if (m) return bitsToF32(parseInt(m[2], 16));
  if (s === 'nan' || s === '+nan' || s === '-nan') return NaN;
  if (s === 'inf' || s === '+inf' || s === 'infinity' || s === '+infinity') return Infinity;
  if (s === '-inf' || s === '-infinity') return -Infinity;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(s)) return Number(s);
  throw new UsageError(`line ${lineNo}: cannot read '${line.trim()}' as a number`,
    'write a decimal (e.g. -1.5e-3), inf, -inf, nan, or float32 bits as f32:0x3f800000');
}

function encode(argv: readonly string[], out: Out, stdin: () => string): void {
  const a = parseArgs(argv, { values: ['rounding', 'seed', 'stream', 'random-bits', 'overflow', 'subnormals'] }, FORMATS_USAGE);
  if (a.positional.length !== 1) throw new UsageError('formats encode takes one SPEC and reads values from stdin', 'e.g. echo 464 | precis formats encode e4m3');
  const f = parseFormat(a.positional[0]);
  const rounding = choiceFlag(a, 'rounding', ROUNDINGS) ?? 'nearest';
  const overflow = choiceFlag(a, 'overflow', ['saturate', 'format'] as const) ?? 'format';
  const subnormals = choiceFlag(a, 'subnormals', ['on', 'off'] as const) ?? 'on';
  const seed = intFlag(a, 'seed', 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const stream = intFlag(a, 'stream', 0, Number.MAX_SAFE_INTEGER) ?? 0;
  const randomBits = intFlag(a, 'random-bits', 1, 24) ?? 24;
  const lines = stdin().split('\n');
  if (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  const xs = Float64Array.from(lines.map((l, i) => parseInput(l, i + 1)));
  const ys = new Float64Array(xs.length);
  quantize(xs, ys, f, { rounding, overflow, subnormals: subnormals === 'on' ? 'keep' : 'flush', seed, stream, randomBits });
  if (f instanceof BlockFormat) {
    for (let b = 0; b < xs.length; b += f.blockSize) {
      const end = Math.min(xs.length, b + f.blockSize);
      const k = blockScaleOf(xs, b, end, f.params);
      for (let i = b; i < end; i++) {
        const code = Number.isNaN(k) ? 0 : f.encodeElement(ys[i], k);
        out(`${formatBits(code, f.bits)} ${formatValue(ys[i])} ${Number.isNaN(k) ? 'nan' : formatValue(pow2(k))}`);
      }
    }
    return;
  }
  for (let i = 0; i < xs.length; i++) out(`${formatBits(f.encode(ys[i]), f.bits)} ${formatValue(ys[i])}`);
}

function parseBits(s: string, bits: number): number {
  const t = s.toLowerCase();
  const v = /^0x[0-9a-f]+$/.test(t) ? parseInt(t.slice(2), 16) : /^0b[01]+$/.test(t) ? parseInt(t.slice(2), 2) : /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(v) || v < 0 || v >= 2 ** bits) {
    throw new UsageError(`'${s}' is not a ${bits}-bit pattern`, `write 0x.. hex, 0b.. binary or a decimal below 2^${bits}`);
  }
  return v;
}

function decode(argv: readonly string[], out: Out): void {
  const a = parseArgs(argv, {}, FORMATS_USAGE);
  if (a.positional.length < 2) throw new UsageError('formats decode takes a SPEC and one or more bit patterns', 'e.g. precis formats decode e4m3 0x7e 0x7f');
  const f = parseFormat(a.positional[0]);
  for (const s of a.positional.slice(1)) {
    const code = parseBits(s, f.bits);
    const v = f instanceof BlockFormat ? f.decodeElement(code, 0) : f.decode(code);
    out(`${formatBits(code, f.bits)} ${formatValue(v)}`);
  }
}

function table(f: Format, out: Out): void {
  if (f.bits > 16) throw new UsageError(`formats table lists formats up to 16 bits; ${f.name} has ${f.bits}`, 'use precis formats decode for single patterns');
  out(f instanceof BlockFormat ? 'code,hex,value_at_scale_1' : 'code,hex,value');
  for (let b = 0; b < 2 ** f.bits; b++) {
    const v = f instanceof BlockFormat ? f.decodeElement(b, 0) : f.decode(b);
    out(`${b},${formatBits(b, f.bits)},${formatValue(v)}`);
  }
}

export function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}
