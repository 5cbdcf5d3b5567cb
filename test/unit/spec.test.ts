/** The format spec grammar: named formats, generic forms, canonical text, and errors that point at the bad part. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FormatSpecError, PrecisError, SPEC_GRAMMAR, parseFormat, parseSpec, specToString, tryParseFormat, type FormatSpec,
} from '../../src/index.js';

const ieee = (e: number, m: number) => ({ family: 'float', exponentBits: e, mantissaBits: m, flavour: 'ieee', bias: 2 ** (e - 1) - 1, subnormals: true });
const fn = (e: number, m: number) => ({ family: 'float', exponentBits: e, mantissaBits: m, flavour: 'fn', bias: 2 ** (e - 1) - 1, subnormals: true });
const fnuz = (e: number, m: number) => ({ family: 'float', exponentBits: e, mantissaBits: m, flavour: 'fnuz', bias: 2 ** (e - 1), subnormals: true });
const none = (e: number, m: number) => ({ family: 'float', exponentBits: e, mantissaBits: m, flavour: 'none', bias: 2 ** (e - 1) - 1, subnormals: true });
const fixed = (width: number, fraction: number, signed = true, wrap = false) => ({ family: 'fixed', width, fraction, signed, wrap });
const posit = (width: number, es: number) => ({ family: 'posit', width, es });
const mx = (elementName: string, element: object, blockSize = 32, scaleRule = 'floor') => ({ family: 'mx', element, elementName, blockSize, scaleRule });

const NAMED: Record<string, object> = {
  fp32: ieee(8, 23),
  fp16: ieee(5, 10),
  bf16: ieee(8, 7),
  tf32: ieee(8, 10),
  e5m2: ieee(5, 2),
  e4m3: fn(4, 3),
  e4m3fn: fn(4, 3),
  e4m3fnuz: fnuz(4, 3),
  e5m2fnuz: fnuz(5, 2),
  e3m2: none(3, 2),
  e2m3: none(2, 3),
  e2m1: none(2, 1),
  posit8: posit(8, 2),
  posit16: posit(16, 2),
  posit32: posit(32, 2),
  int8: fixed(8, 0),
  int16: fixed(16, 0),
  int32: fixed(32, 0),
  uint8: fixed(8, 0, false),
  uint16: fixed(16, 0, false),
  mxfp8_e4m3: mx('e4m3', fn(4, 3)),
  mxfp8_e5m2: mx('e5m2', ieee(5, 2)),
  mxfp6_e3m2: mx('e3m2', none(3, 2)),
  mxfp6_e2m3: mx('e2m3', none(2, 3)),
  mxfp4: mx('e2m1', none(2, 1)),
  mxint8: mx('int8', fixed(8, 6)),
  'bfp<8,16>': { family: 'bfp', width: 8, blockSize: 16 },
};

test('every named format parses to its parameters', () => {
  for (const [name, want] of Object.entries(NAMED)) {
    assert.deepEqual(parseSpec(name), want, name);
  }
  // e4m3fnuz: bias 8; e5m2fnuz: bias 16 (the FNUZ convention)
  assert.equal((parseSpec('e4m3fnuz') as { bias: number }).bias, 8);
  assert.equal((parseSpec('e5m2fnuz') as { bias: number }).bias, 16);
});

test('generic forms with options', () => {
  const cases: [string, object][] = [
    ['float<5,2>', ieee(5, 2)],
    ['float<4,3,fn>', fn(4, 3)],
    ['float<5,2,fnuz>', fnuz(5, 2)],
    ['float<2,1,none>', none(2, 1)],
    ['float<4,0,fn>', fn(4, 0)],
    ['float<5,2,nosub>', { ...ieee(5, 2), subnormals: false }],
    ['float<8,2,bias=140>', { ...ieee(8, 2), bias: 140 }],
    ['float<4,3,fn,bias=8,nosub>', { ...fn(4, 3), bias: 8, subnormals: false }],
    ['float<4, 3 , nosub >', { ...ieee(4, 3), subnormals: false }],
    ['fixed<16,14>', fixed(16, 14)],
    ['fixed<8,3,wrap>', fixed(8, 3, true, true)],
    ['fixed<8,3,saturate>', fixed(8, 3, true, false)],
    ['ufixed<8,3,wrap>', fixed(8, 3, false, true)],
    ['fixed<32,-96,wrap>', fixed(32, -96, true, true)],
    ['int<32>', fixed(32, 0)],
    ['int<12,wrap>', fixed(12, 0, true, true)],
    ['uint<16,wrap>', fixed(16, 0, false, true)],
    ['posit<8,0>', posit(8, 0)],
    ['posit<16,1>', posit(16, 1)],
    ['posit<2,0>', posit(2, 0)],
    ['posit<32,4>', posit(32, 4)],
    ['mx<e2m1,scale=up,block=7>', mx('e2m1', none(2, 1), 7, 'up')],
    ['mx<int8>', mx('int8', fixed(8, 6))],
    ['mxfp8_e4m3<block=16,scale=up>', mx('e4m3', fn(4, 3), 16, 'up')],
    ['mxfp4<block=4096>', mx('e2m1', none(2, 1), 4096)],
    ['bfp<2,1>', { family: 'bfp', width: 2, blockSize: 1 }],
    ['  e4m3  ', fn(4, 3)],
  ];
  for (const [spec, want] of cases) assert.deepEqual(parseSpec(spec), want, spec);
});

const ROUND_TRIP = [
  ...Object.keys(NAMED),
  'float<5,2,nosub>', 'float<8,2,bias=140>', 'float<4,3,fn,bias=8,nosub>', 'float<3,0,none>', 'float<4,0,fn>',
  'fixed<16,14>', 'fixed<8,3,wrap>', 'ufixed<8,3,wrap>', 'int<32>', 'uint<16,wrap>', 'fixed<32,-96,wrap>',
  'posit<8,0>', 'posit<16,1>', 'posit<5,3>', 'mx<e2m1,scale=up,block=7>', 'mx<int8,block=1>', 'bfp<24,3>',
];

test('specToString is canonical: it parses back to the same spec and is a fixed point', () => {
  for (const text of ROUND_TRIP) {
    const spec = parseSpec(text);
    const canon = specToString(spec);
    assert.deepEqual(parseSpec(canon), spec, `${text} -> ${canon}`);
    assert.equal(specToString(parseSpec(canon)), canon, `${canon} is not a fixed point`);
    assert.equal(parseFormat(text).name, canon, `${text}: format name`);
  }
  // a few canonical spellings, so a change of canonical form is noticed
  assert.equal(specToString(parseSpec('e4m3')), 'float<4,3,fn>');
  assert.equal(specToString(parseSpec('fp16')), 'float<5,10>');
  assert.equal(specToString(parseSpec('e4m3fnuz')), 'float<4,3,fnuz>');
  assert.equal(specToString(parseSpec('uint8')), 'ufixed<8,0>');
  assert.equal(specToString(parseSpec('posit8')), 'posit<8,2>');
  assert.equal(specToString(parseSpec('mxfp4')), 'mx<e2m1,block=32,scale=floor>');
  assert.equal(specToString(parseSpec('float<8,2,bias=140>')), 'float<8,2,bias=140>');
  assert.equal(specToString(parseSpec('float<4,3,bias=7>')), 'float<4,3>');
});

test('parseFormat builds the right family and caches by text', () => {
  assert.equal(parseFormat('e4m3'), parseFormat('e4m3'));
  assert.equal(parseFormat('e4m3').spec.family, 'float');
  assert.equal(parseFormat('fixed<16,14>').spec.family, 'fixed');
  assert.equal(parseFormat('posit8').spec.family, 'posit');
  assert.equal(parseFormat('mxfp4').spec.family, 'mx');
  assert.equal(parseFormat('bfp<8,16>').spec.family, 'bfp');
});

interface Bad {
  readonly spec: string;
  /** Where the caret must point, and the text that starts there (the bad part). */
  readonly column: number;
  readonly at: string;
  /** Words the reason must contain. */
  readonly says: readonly (string | RegExp)[];
}

const BAD: readonly Bad[] = [
  { spec: 'float<0,3>', column: 6, at: '0', says: ['exponent bits', '0', '1..8'] },
  { spec: 'float<4,24>', column: 8, at: '24', says: ['mantissa bits', '24', '0..23'] },
  { spec: 'posit<1,0>', column: 6, at: '1', says: ['width', '1', '2..32'] },
  { spec: 'posit<8,5>', column: 8, at: '5', says: ['exponent size', '5', '0..4'] },
  { spec: 'fixed<40,2>', column: 6, at: '40', says: ['width', '40', '2..32'] },
  { spec: 'e4m4', column: 0, at: 'e4m4', says: ['unknown format', "'e4m4'"] },
  { spec: 'float<4,3', column: 9, at: '', says: ["'<'", "missing '>'"] },
  { spec: 'float4,3>', column: 8, at: '>', says: ["'>'", "without '<'"] },
  { spec: 'fp16<1>', column: 4, at: '<1>', says: ["'fp16'", 'no parameters'] },
  { spec: 'float<a,3>', column: 6, at: 'a', says: ['exponent bits', 'integer', "'a'"] },
  { spec: 'mx<e9m9>', column: 3, at: 'e9m9', says: ['MX element', "'e9m9'"] },
  { spec: 'mxfp4<block=0>', column: 6, at: 'block=0', says: ['block size', '0', '1..4096'] },
  { spec: 'mxfp4<scale=nearest>', column: 6, at: 'scale=nearest', says: ['scale', 'floor or up', "'nearest'"] },
  { spec: 'fp64', column: 0, at: 'fp64', says: ['unknown format', "'fp64'"] },
  { spec: 'posit', column: 5, at: '', says: ["'posit'", 'parameters'] },
  { spec: '', column: 0, at: '', says: ['missing format name'] },
  { spec: '   ', column: 0, at: '', says: ['missing format name'] },
  { spec: 'E4M3', column: 0, at: 'E4M3', says: ['bad character'] },
  { spec: 'float<5,0>', column: 8, at: '0', says: ['ieee', 'M >= 1'] },
  { spec: 'float<1,3>', column: 6, at: '1', says: ['ieee', 'E >= 2'] },
  { spec: 'float<8,23,bias=1>', column: 11, at: 'bias=1', says: ['float32', 'bias'] },
  { spec: 'posit<8>', column: 7, at: '>', says: ['missing exponent size'] },
  { spec: 'bfp<8>', column: 5, at: '>', says: ['missing block size'] },
  { spec: 'float<4,3,>', column: 10, at: '>', says: ['empty argument'] },
  { spec: 'float<4,3,wat>', column: 10, at: 'wat', says: ["'wat'"] },
  { spec: 'fixed<8,3,round>', column: 10, at: 'round', says: ["'round'", 'wrap or saturate'] },
  { spec: 'posit<8,2,1>', column: 10, at: '1', says: ["unexpected argument '1'"] },
  { spec: 'float<4,3>x', column: 10, at: 'x', says: ["after '>'"] },
  { spec: 'mx<block=4>', column: 3, at: 'block=4', says: ['element type first'] },
  { spec: 'mx<e4m3,foo=1>', column: 8, at: 'foo=1', says: ["'foo=1'"] },
  { spec: 'ufixed<32,-96>', column: 10, at: '-96', says: ['2^128'] },
  { spec: 'float<4,3,fnuz,bias=x>', column: 15, at: 'bias=x', says: ['bias', "'x'"] },
];

test('malformed specs: FormatSpecError naming the bad part, with its column and the valid forms', () => {
  for (const b of BAD) {
    let err: unknown;
    try {
      parseSpec(b.spec);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof FormatSpecError, `${JSON.stringify(b.spec)} did not throw a FormatSpecError (got ${String(err)})`);
    assert.ok(err instanceof PrecisError);
    assert.equal(err.code, 'E_FORMAT_SPEC');
    assert.equal(err.name, 'FormatSpecError');
    assert.equal(err.column, b.column, `${JSON.stringify(b.spec)}: column (reason: ${err.reason})`);
    assert.ok(err.spec.slice(err.column).startsWith(b.at), `${JSON.stringify(b.spec)}: column ${err.column} does not point at '${b.at}'`);
    for (const w of b.says) {
      if (typeof w === 'string') assert.ok(err.reason.includes(w), `${JSON.stringify(b.spec)}: reason '${err.reason}' lacks '${w}'`);
      else assert.match(err.reason, w);
    }
    // the message names the spec and the reason and draws a caret under the column
    assert.ok(err.message.includes(`'${err.spec}'`), err.message);
    assert.ok(err.message.includes(err.reason), err.message);
    assert.ok(err.message.includes(`    ${err.spec}\n    ${' '.repeat(err.column)}^`), `${JSON.stringify(b.spec)}: caret line:\n${err.message}`);
    // the hint lists the valid forms
    for (const form of ['float<E,M', 'fixed<W,F', 'posit<N,ES>', 'mx<ELEMENT', 'bfp<W,B>', 'e4m3', 'mxfp4']) {
      assert.ok(err.hint.includes(form), `${JSON.stringify(b.spec)}: hint lacks ${form}`);
    }
    assert.ok(err.message.includes('hint:'));
  }
});

test('SPEC_GRAMMAR lists every family', () => {
  for (const form of ['fp32', 'e4m3fnuz', 'float<E,M', 'fixed<W,F', 'ufixed', 'int<W', 'posit<N,ES>', 'mxint8', 'mx<ELEMENT', 'bfp<W,B>']) {
    assert.ok(SPEC_GRAMMAR.includes(form), form);
  }
});

test('tryParseFormat returns the error instead of throwing', () => {
  const ok = tryParseFormat('e4m3');
  assert.equal(ok.error, undefined);
  assert.equal(ok.format?.name, 'float<4,3,fn>');
  for (const b of BAD) {
    const r = tryParseFormat(b.spec);
    assert.equal(r.format, undefined, b.spec);
    assert.ok(r.error instanceof FormatSpecError, b.spec);
    assert.equal(r.error.column, b.column, b.spec);
  }
  assert.throws(() => parseFormat('float<0,3>'), FormatSpecError);
});

test('parameter bounds are inclusive', () => {
  const edges: [string, boolean][] = [
    ['float<8,23>', true], ['float<8,24>', false], ['float<9,2>', false], ['float<2,0,fn>', true],
    ['fixed<2,0>', true], ['fixed<1,0>', false], ['fixed<32,0>', true], ['fixed<33,0>', false],
    ['fixed<8,-96>', true], ['fixed<8,-97>', false], ['fixed<8,149>', true], ['fixed<8,150>', false],
    ['posit<2,0>', true], ['posit<32,4>', true], ['posit<33,0>', false],
    ['mxfp4<block=1>', true], ['mxfp4<block=4096>', true], ['mxfp4<block=4097>', false],
    ['bfp<2,1>', true], ['bfp<24,4096>', true], ['bfp<25,16>', false], ['bfp<8,0>', false],
  ];
  for (const [spec, valid] of edges) {
    const r = tryParseFormat(spec);
    assert.equal(r.error === undefined, valid, `${spec} should be ${valid ? 'valid' : 'invalid'}${r.error ? `: ${r.error.reason}` : ''}`);
  }
});

/** A spec accepted by the parser must describe a format whose values all fit the float32 carrier. */
test('accepted float specs fit the float32 carrier', () => {
  const specs: FormatSpec[] = [];
  for (let e = 1; e <= 8; e++) {
    for (const m of [0, 1, 3, 7, 23]) {
      for (const fl of ['ieee', 'fn', 'fnuz', 'none']) {
        const r = tryParseFormat(`float<${e},${m},${fl}>`);
        if (r.format) specs.push(r.format.spec as FormatSpec);
      }
    }
  }
  assert.ok(specs.length > 50);
  for (const s of specs) {
    const f = parseFormat(specToString(s));
    if (f.spec.family !== 'float') continue;
    assert.ok(f.maxFinite <= 3.4028234663852886e38, `${f.name} max ${f.maxFinite}`);
    assert.ok(f.minPositive >= 2 ** -149, `${f.name} minPositive ${f.minPositive}`);
  }
});
