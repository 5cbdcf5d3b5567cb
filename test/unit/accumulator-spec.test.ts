/** The accumulator spec grammar: strings and JSON, canonical forms, and errors that name the bad part. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACCUMULATOR_GRAMMAR, AccumulatorSpecError, accumulatorToJSON, accumulatorToString, parseAccumulator,
} from '../../src/precision/accumulator-spec.js';

const BLUMENFELD = 'float<4,7,bias=10> product=float<4,7,bias=12> rounding=down order=chunk:16 underflow=flush overflow=saturate';

test("Blumenfeld et al.'s M7E4 accumulator is one spec string, and the same JSON object", () => {
  const m = parseAccumulator(BLUMENFELD);
  assert.deepEqual(m, {
    kind: 'rounded', format: 'float<4,7,bias=10>', product: 'float<4,7,bias=12>', rounding: 'down', randomBits: 24,
    chunk: 16, underflow: 'flush', overflow: 'saturate',
  });
  const json = {
    format: 'float<4,7,bias=10>', product: 'float<4,7,bias=12>', rounding: 'down', order: 'chunk:16', underflow: 'flush', overflow: 'saturate',
  } as const;
  assert.deepEqual(parseAccumulator(json), m);
  assert.equal(accumulatorToString(m), BLUMENFELD);
  assert.deepEqual(accumulatorToJSON(m), json);
});

test('fp32 and exact are the two named models; a format with options is per-add', () => {
  assert.deepEqual(parseAccumulator('fp32'), { kind: 'fp32' });
  assert.deepEqual(parseAccumulator(' exact '), { kind: 'exact' });
  assert.deepEqual(parseAccumulator({ format: 'exact' }), { kind: 'exact' });
  const perAdd = parseAccumulator('fp32 rounding=nearest');
  assert.equal(perAdd.kind, 'rounded');
  // The per-add float32 model never prints as the fast one.
  assert.equal(accumulatorToString(perAdd), 'float<8,23>');
  assert.deepEqual(parseAccumulator('float<8,23>'), perAdd);
});

test('canonical strings and JSON round-trip', () => {
  const specs = [
    'fp32', 'exact', 'posit<8,0>', 'posit<16,1> product=posit<8,0> rounding=stochastic random-bits=8 order=chunk:32',
    'fixed<16,8> overflow=wrap', 'int<32,wrap> rounding=zero', 'e5m2 overflow=inf underflow=flush', 'bf16 rounding=nearest-away',
    'ufixed<10,2> product=fixed<12,6> rounding=up', BLUMENFELD,
  ];
  for (const s of specs) {
    const m = parseAccumulator(s);
    assert.deepEqual(parseAccumulator(accumulatorToString(m)), m, s);
    assert.deepEqual(parseAccumulator(accumulatorToJSON(m)), m, s);
  }
  // Formats print canonically; spaces inside <...> do not split options.
  assert.equal(accumulatorToString(parseAccumulator('e4m3  product=float<5, 2>   rounding=zero')), 'float<4,3,fn> product=float<5,2> rounding=zero');
});

function specError(spec: Parameters<typeof parseAccumulator>[0], path?: string): AccumulatorSpecError {
  try {
    parseAccumulator(spec, path);
  } catch (e) {
    assert.ok(e instanceof AccumulatorSpecError, String(e));
    return e;
  }
  assert.fail(`expected ${JSON.stringify(spec)} to be rejected`);
}

test('string errors point at the bad part and list the valid forms', () => {
  const cases: [string, string, RegExp][] = [
    ['float<4,7> rounding=flor', 'flor', /rounding must be one of nearest, nearest-away, zero, down, up, stochastic/],
    ['float<4,x>', 'x>', /mantissa bits M must be an integer/],
    ['fp16 product=float<9,2>', '9,2>', /exponent bits E 9 is out of range/],
    ['exact order=chunk:4', 'order', /'exact' takes no options/],
    ['posit<8,0> underflow=flush', 'underflow', /posits never round a nonzero to zero/],
    ['fixed<8,4> underflow=flush', 'underflow', /fixed point has no subnormals/],
    ['float<5,2> overflow=wrap', 'wrap', /overflow=wrap needs a fixed-point accumulator/],
    ['e4m3 overflow=inf', 'inf', /overflow=inf needs an IEEE float/],
    ['fp16 product=fixed<8,4> overflow=inf', 'inf', /overflow=inf needs an IEEE float product format/],
    ['fixed<8,4,wrap> overflow=saturate', 'saturate', /contradicts/],
    ['mxfp4', 'mxfp4', /block format/],
    ['fp16 order=chunk:0', 'chunk:0', /order must be sequential or chunk:N/],
    ['fp16 order=pairwise', 'pairwise', /order must be sequential or chunk:N/],
    ['fp16 random-bits=8', 'random-bits', /applies only to rounding=stochastic/],
    ['fp16 rounding=stochastic random-bits=25', '25', /random-bits must be an integer in 1..24/],
    ['fp16 rounding=zero rounding=up', 'rounding=up', /given twice/],
    ['fp16 chunk=4', 'chunk', /unknown option 'chunk'/],
    ['fp16 stochastic', 'stochastic', /expected KEY=VALUE/],
    ['rounding=down', 'rounding', /starts with fp32, exact or the accumulator format/],
    ['posit<32,0> rounding=stochastic', 'posit', /needs 54 exact bits/],
  ];
  for (const [spec, at, reason] of cases) {
    const e = specError(spec);
    assert.match(e.reason, reason, spec);
    assert.equal(e.column, spec.indexOf(at), `${spec}: column`);
    assert.equal(e.code, 'E_ACCUMULATOR_SPEC');
    assert.ok(e.hint.length > 0);
    // Grammar errors list the valid forms; format errors list the format grammar; the rest say what to do instead.
    if (/must be one of|unknown option|KEY=VALUE|starts with|given twice|order must/.test(e.reason)) {
      assert.ok(e.hint.includes('order=sequential|chunk:N'), `${spec}: hint lists the forms`);
    }
  }
  assert.ok(specError('').reason.includes('empty'));
  // The caret line sits under the column.
  const e = specError('fp16 rounding=flor');
  assert.ok(e.message.includes(`\n    fp16 rounding=flor\n    ${' '.repeat(14)}^`), e.message);
  // A stochastic posit<32,0> works with few enough random bits.
  assert.equal(parseAccumulator('posit<32,0> rounding=stochastic random-bits=22').kind, 'rounded');
  assert.ok(ACCUMULATOR_GRAMMAR.includes('exact'));
});

test('JSON errors name the field', () => {
  const cases: [object, string, RegExp][] = [
    [{ format: 'fp16', rounding: 'flor' }, 'precision.accumulator.rounding', /rounding must be one of/],
    [{ format: 'fp16', order: 16 }, 'precision.accumulator.order', /expected a string/],
    [{ format: 'fp16', randomBits: '8', rounding: 'stochastic' }, 'precision.accumulator.randomBits', /expected a number/],
    [{ format: 'fp16', chunk: 4 }, 'precision.accumulator.chunk', /unknown field/],
    [{ format: 12 }, 'precision.accumulator.format', /expected 'fp32', 'exact' or a format spec/],
    [{ format: 'float<4,x>' }, 'precision.accumulator.format', /mantissa bits M/],
    [{ format: 'posit<8,0>', underflow: 'flush' }, 'precision.accumulator.underflow', /posits never/],
  ];
  for (const [json, field, reason] of cases) {
    const e = specError(json as never, 'precision.accumulator');
    assert.equal(e.field, field, JSON.stringify(json));
    assert.equal(e.column, null);
    assert.match(e.reason, reason);
    assert.ok(e.message.includes(`'${field}'`));
  }
  assert.equal(specError([] as never).field, 'accumulator');
  assert.equal(specError({ format: 'fp16', product: 'mxfp4' }).field, 'product');
  // product: null is the JSON way to say "no product rounding".
  assert.deepEqual(parseAccumulator({ format: 'fp16', product: null }), parseAccumulator('fp16'));
});
