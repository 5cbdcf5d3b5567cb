/**
 * The format spec grammar: text such as `e4m3`, `float<5,2,fnuz>`,
 * `fixed<16,14>`, `posit<8,0>` or `mxfp8_e4m3<block=16,scale=up>` becomes a
 * plain, validated description of a number format. Nothing here does
 * arithmetic; the families in float.ts, fixed.ts, posit.ts and block.ts give
 * a spec its meaning.
 */
import { FormatSpecError } from '../errors.js';

export type FloatFlavour = 'ieee' | 'fn' | 'fnuz' | 'none';

export interface FloatSpec {
  readonly family: 'float';
  readonly exponentBits: number;
  readonly mantissaBits: number;
  readonly flavour: FloatFlavour;
  readonly bias: number;
  readonly subnormals: boolean;
}

export interface FixedSpec {
  readonly family: 'fixed';
  readonly width: number;
  readonly fraction: number;
  readonly signed: boolean;
  readonly wrap: boolean;
}

export interface PositSpec {
  readonly family: 'posit';
  readonly width: number;
  readonly es: number;
}

/** How a block's shared power-of-two scale is chosen from its largest magnitude. */
export type ScaleRule = 'floor' | 'up';

export interface MxSpec {
  readonly family: 'mx';
  readonly element: FloatSpec | FixedSpec;
  readonly elementName: string;
  readonly blockSize: number;
  readonly scaleRule: ScaleRule;
}

export interface BfpSpec {
  readonly family: 'bfp';
  readonly width: number;
  readonly blockSize: number;
}

export type ScalarSpec = FloatSpec | FixedSpec | PositSpec;
export type BlockSpec = MxSpec | BfpSpec;
export type FormatSpec = ScalarSpec | BlockSpec;

/** The grammar, as shown in error hints and by `precis formats`. */
export const SPEC_GRAMMAR = [
  'fp32 fp16 bf16 tf32                      IEEE-style floats',
  'e5m2 e4m3 (= e4m3fn) e4m3fnuz e5m2fnuz   FP8 (OCP and FNUZ flavours)',
  'e3m2 e2m3 e2m1                           OCP MX element types (no Inf/NaN)',
  'float<E,M[,ieee|fn|fnuz|none][,bias=B][,nosub]>   E in 1..8, M in 0..23',
  'fixed<W,F[,wrap]>  ufixed<W,F[,wrap]>    two\'s complement / unsigned, W in 2..32',
  'int<W[,wrap]>  uint<W[,wrap]>  int8 int16 int32 uint8 uint16',
  'posit<N,ES>  posit8 posit16 posit32      N in 2..32, ES in 0..4 (posit8 = posit<8,2>)',
  'mxfp8_e4m3 mxfp8_e5m2 mxfp6_e3m2 mxfp6_e2m3 mxfp4 mxint8  OCP MX blocks',
  'mx<ELEMENT[,block=K][,scale=floor|up]>   any MX element above, block K in 1..4096',
  'bfp<W,B>                                 block floating point: W-bit sign-magnitude, B per block',
].join('\n');

const HINT = `valid forms:\n${SPEC_GRAMMAR.split('\n').map((l) => `    ${l}`).join('\n')}`;

function ieeeLike(e: number, m: number, flavour: FloatFlavour = 'ieee'): FloatSpec {
  const bias = flavour === 'fnuz' ? 2 ** (e - 1) : 2 ** (e - 1) - 1;
  return { family: 'float', exponentBits: e, mantissaBits: m, flavour, bias, subnormals: true };
}

const FIXED_NAMES: Record<string, FixedSpec> = {
  int8: { family: 'fixed', width: 8, fraction: 0, signed: true, wrap: false },
  int16: { family: 'fixed', width: 16, fraction: 0, signed: true, wrap: false },
  int32: { family: 'fixed', width: 32, fraction: 0, signed: true, wrap: false },
  uint8: { family: 'fixed', width: 8, fraction: 0, signed: false, wrap: false },
  uint16: { family: 'fixed', width: 16, fraction: 0, signed: false, wrap: false },
};

/** Named scalar formats. */
const SCALAR_NAMES: Record<string, ScalarSpec> = {
  fp32: ieeeLike(8, 23),
  fp16: ieeeLike(5, 10),
  bf16: ieeeLike(8, 7),
  tf32: ieeeLike(8, 10),
  e5m2: ieeeLike(5, 2),
  e4m3: ieeeLike(4, 3, 'fn'),
  e4m3fn: ieeeLike(4, 3, 'fn'),
  e4m3fnuz: ieeeLike(4, 3, 'fnuz'),
  e5m2fnuz: ieeeLike(5, 2, 'fnuz'),
  e3m2: ieeeLike(3, 2, 'none'),
  e2m3: ieeeLike(2, 3, 'none'),
  e2m1: ieeeLike(2, 1, 'none'),
  posit8: { family: 'posit', width: 8, es: 2 },
  posit16: { family: 'posit', width: 16, es: 2 },
  posit32: { family: 'posit', width: 32, es: 2 },
  ...FIXED_NAMES,
};

/** MX element types (OCP MX v1.0): mxint8 elements are 8-bit two's complement with 6 fraction bits. */
const MX_ELEMENTS: Record<string, FloatSpec | FixedSpec> = {
  e4m3: ieeeLike(4, 3, 'fn'),
  e5m2: ieeeLike(5, 2),
  e3m2: ieeeLike(3, 2, 'none'),
  e2m3: ieeeLike(2, 3, 'none'),
  e2m1: ieeeLike(2, 1, 'none'),
  int8: { family: 'fixed', width: 8, fraction: 6, signed: true, wrap: false },
};

const MX_NAMES: Record<string, string> = {
  mxfp8_e4m3: 'e4m3',
  mxfp8_e5m2: 'e5m2',
  mxfp6_e3m2: 'e3m2',
  mxfp6_e2m3: 'e2m3',
  mxfp4: 'e2m1',
  mxint8: 'int8',
};

interface Arg {
  readonly text: string;
  readonly column: number;
  readonly key?: string;
  readonly value: string;
}

class Parser {
  constructor(readonly spec: string) {}

  fail(column: number, reason: string): never {
    throw new FormatSpecError(this.spec, column, reason, HINT);
  }

  int(arg: Arg | undefined, what: string, lo: number, hi: number, fallbackColumn: number): number {
    if (!arg) this.fail(fallbackColumn, `missing ${what}`);
    if (!/^[+-]?\d+$/.test(arg.value)) this.fail(arg.column, `${what} must be an integer, got '${arg.value}'`);
    const v = Number(arg.value);
    if (v < lo || v > hi) this.fail(arg.column, `${what} ${v} is out of range ${lo}..${hi}`);
    return v;
  }

  noMore(args: readonly Arg[], from: number, what: string): void {
    if (args.length > from) this.fail(args[from].column, `unexpected argument '${args[from].text}' for ${what}`);
  }

  /** Splits `name<a,b,...>` into the name and its arguments with their columns. */
  split(): { name: string; args: Arg[] | null; close: number } {
    const s = this.spec;
    const lt = s.indexOf('<');
    const gtFirst = s.indexOf('>');
    if (lt < 0) {
      if (gtFirst >= 0) this.fail(gtFirst, "unbalanced '>' without '<'");
      return { name: s, args: null, close: s.length };
    }
    const gt = s.lastIndexOf('>');
    if (gt < 0) this.fail(s.length, "unbalanced '<': missing '>'");
    if (gt !== s.length - 1) this.fail(gt + 1, "unexpected text after '>'");
    if (s.indexOf('<', lt + 1) >= 0) this.fail(s.indexOf('<', lt + 1), "nested '<' is not allowed");
    if (gtFirst !== gt) this.fail(gtFirst, "unbalanced '>'");
    const inner = s.slice(lt + 1, gt);
    const args: Arg[] = [];
    let col = lt + 1;
    if (inner.trim() === '') this.fail(col, 'empty argument list');
    for (const raw of inner.split(',')) {
      const text = raw.trim();
      const column = col + raw.indexOf(text[0] ?? '');
      if (text === '') this.fail(col, 'empty argument');
      const eq = text.indexOf('=');
      if (eq >= 0) args.push({ text, column, key: text.slice(0, eq).trim(), value: text.slice(eq + 1).trim() });
      else args.push({ text, column, value: text });
      col += raw.length + 1;
    }
    return { name: s.slice(0, lt), args, close: gt };
  }

  parse(): FormatSpec {
    const { name, args, close } = this.split();
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      const bad = [...name].findIndex((ch) => !/[a-z0-9_]/.test(ch));
      this.fail(Math.max(0, bad), name === '' ? 'missing format name' : `bad character in format name '${name}'`);
    }
    if (args === null) {
      const named = SCALAR_NAMES[name];
      if (named) return named;
      if (MX_NAMES[name]) return this.mx(MX_NAMES[name], [], close);
      if (['float', 'fixed', 'ufixed', 'int', 'uint', 'posit', 'mx', 'bfp'].includes(name)) {
        this.fail(name.length, `'${name}' needs parameters in <...>`);
      }
      this.fail(0, `unknown format '${name}'`);
    }
    switch (name) {
      case 'float': return this.float(args, close);
      case 'fixed': case 'ufixed': return this.fixed(args, name === 'fixed', true, close);
      case 'int': case 'uint': return this.fixed(args, name === 'int', false, close);
      case 'posit': return this.posit(args, close);
      case 'bfp': return this.bfp(args, close);
      case 'mx': {
        const el = args[0];
        if (!el || el.key !== undefined) this.fail(el?.column ?? close, 'mx<...> needs an element type first, e.g. mx<e4m3>');
        if (!MX_ELEMENTS[el.value]) this.fail(el.column, `unknown MX element '${el.value}' (use e4m3, e5m2, e3m2, e2m3, e2m1 or int8)`);
        return this.mx(el.value, args.slice(1), close);
      }
      default:
        if (MX_NAMES[name]) return this.mx(MX_NAMES[name], args, close);
        if (SCALAR_NAMES[name]) this.fail(name.length, `'${name}' takes no parameters`);
        this.fail(0, `unknown format '${name}'`);
    }
  }

  float(args: Arg[], close: number): FloatSpec {
    if (args[0]?.key !== undefined || args[1]?.key !== undefined) this.fail(args[0].column, 'float<E,M,...> needs E and M first');
    const e = this.int(args[0], 'exponent bits E', 1, 8, close);
    const m = this.int(args[1], 'mantissa bits M', 0, 23, close);
    let flavour: FloatFlavour = 'ieee';
    let bias: number | undefined;
    let subnormals = true;
    for (const a of args.slice(2)) {
      if (a.key === 'bias') bias = this.int({ ...a, value: a.value }, 'bias', -1000, 1000, a.column);
      else if (a.key !== undefined) this.fail(a.column, `unknown float option '${a.key}' (use bias=B)`);
      else if (a.value === 'ieee' || a.value === 'fn' || a.value === 'fnuz' || a.value === 'none') flavour = a.value;
      else if (a.value === 'nosub') subnormals = false;
      else this.fail(a.column, `unknown float option '${a.value}' (use ieee, fn, fnuz, none, bias=B or nosub)`);
    }
    if (flavour === 'ieee' && m === 0) this.fail(args[1].column, 'an ieee float needs M >= 1 to encode NaN (use fn or none for M = 0)');
    if (flavour === 'ieee' && e < 2) this.fail(args[0].column, 'an ieee float needs E >= 2 (exponent all-ones is Inf/NaN)');
    if (flavour === 'fn' && e === 1 && m === 0) this.fail(args[0].column, 'float<1,0,fn> has no nonzero finite value (its codes are 0 and NaN)');
    const spec: FloatSpec = {
      family: 'float', exponentBits: e, mantissaBits: m, flavour,
      bias: bias ?? (flavour === 'fnuz' ? 2 ** (e - 1) : 2 ** (e - 1) - 1), subnormals,
    };
    // The float32 carrier must hold every value of the format exactly.
    const emin = 1 - spec.bias;
    const topCode = flavour === 'ieee' ? 2 ** e - 2 : 2 ** e - 1;
    const emax = topCode - spec.bias;
    if (emin - m < -149 || emax > 127) {
      this.fail(args.find((a) => a.key === 'bias')?.column ?? args[0].column,
        `the range 2^${emin - m}..2^${emax + 1} does not fit in the float32 carrier (needs 2^-149..2^128); choose another bias`);
    }
    return spec;
  }

  fixed(args: Arg[], signed: boolean, hasFraction: boolean, close: number): FixedSpec {
    const what = hasFraction ? (signed ? 'fixed<W,F>' : 'ufixed<W,F>') : (signed ? 'int<W>' : 'uint<W>');
    const width = this.int(args[0], 'width W', 2, 32, close);
    const fraction = hasFraction ? this.int(args[1], 'fraction bits F', -96, 149, close) : 0;
    let wrap = false;
    const rest = args.slice(hasFraction ? 2 : 1);
    for (const a of rest) {
      if (a.value === 'wrap' && a.key === undefined) wrap = true;
      else if (a.value === 'saturate' && a.key === undefined) wrap = false;
      else this.fail(a.column, `unknown option '${a.text}' for ${what} (use wrap or saturate)`);
    }
    const top = width - (signed ? 1 : 0) - fraction;
    if (top > 127) this.fail(args[1]?.column ?? args[0].column, `${what} reaches 2^${top}, beyond the float32 carrier's 2^128`);
    return { family: 'fixed', width, fraction, signed, wrap };
  }

  posit(args: Arg[], close: number): PositSpec {
    const width = this.int(args[0], 'width N', 2, 32, close);
    const es = this.int(args[1], 'exponent size ES', 0, 4, close);
    this.noMore(args, 2, 'posit<N,ES>');
    return { family: 'posit', width, es };
  }

  bfp(args: Arg[], close: number): BfpSpec {
    const width = this.int(args[0], 'element width W', 2, 24, close);
    const blockSize = this.int(args[1], 'block size B', 1, 4096, close);
    this.noMore(args, 2, 'bfp<W,B>');
    return { family: 'bfp', width, blockSize };
  }

  mx(elementName: string, args: Arg[], close: number): MxSpec {
    let blockSize = 32;
    let scaleRule: ScaleRule = 'floor';
    for (const a of args) {
      if (a.key === 'block') blockSize = this.int(a, 'block size', 1, 4096, close);
      else if (a.key === 'scale') {
        if (a.value !== 'floor' && a.value !== 'up') this.fail(a.column, `scale rule must be floor or up, got '${a.value}'`);
        scaleRule = a.value;
      } else this.fail(a.column, `unknown MX option '${a.text}' (use block=K or scale=floor|up)`);
    }
    return { family: 'mx', element: MX_ELEMENTS[elementName], elementName, blockSize, scaleRule };
  }
}

/** Parses a format spec, throwing FormatSpecError (with the bad column and the valid forms) when malformed. */
export function parseSpec(spec: string): FormatSpec {
  return new Parser(spec.trim()).parse();
}

/** The canonical text of a spec: parsing it gives the same spec back. */
export function specToString(s: FormatSpec): string {
  switch (s.family) {
    case 'float': {
      const defBias = s.flavour === 'fnuz' ? 2 ** (s.exponentBits - 1) : 2 ** (s.exponentBits - 1) - 1;
      const parts = [String(s.exponentBits), String(s.mantissaBits)];
      if (s.flavour !== 'ieee') parts.push(s.flavour);
      if (s.bias !== defBias) parts.push(`bias=${s.bias}`);
      if (!s.subnormals) parts.push('nosub');
      return `float<${parts.join(',')}>`;
    }
    case 'fixed': {
      const wrap = s.wrap ? ',wrap' : '';
      return `${s.signed ? '' : 'u'}fixed<${s.width},${s.fraction}${wrap}>`;
    }
    case 'posit': return `posit<${s.width},${s.es}>`;
    case 'bfp': return `bfp<${s.width},${s.blockSize}>`;
    case 'mx': return `mx<${s.elementName},block=${s.blockSize},scale=${s.scaleRule}>`;
  }
}
