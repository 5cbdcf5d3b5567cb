/** Bad arguments to the format API: a precis error with a hint, never a raw TypeError or a wrong value. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatSpecError, OptionError, parseFormat, parseScalarFormat, quantize, tryParseFormat } from '../../src/index.js';

test('decode rejects codes outside the format', () => {
  const e4m3 = parseScalarFormat('e4m3');
  for (const bad of [-1, 256, 1.5, Number.NaN]) assert.throws(() => e4m3.decode(bad), OptionError, String(bad));
  assert.throws(() => parseScalarFormat('posit8').decode(256), OptionError);
  assert.throws(() => parseScalarFormat('fixed<16,14>').decode(65536), OptionError);
  assert.equal(e4m3.decode(255), NaN);
});

test('encode rejects a random word that is not 32-bit', () => {
  const e5m2 = parseScalarFormat('e5m2');
  for (const random of [-1, 2 ** 32, 0.5]) assert.throws(() => e5m2.encode(1.1, { rounding: 'stochastic', random }), OptionError);
});

test('non-string specs are errors with a hint', () => {
  for (const bad of [42, null, undefined]) {
    assert.throws(() => parseFormat(bad as unknown as string), OptionError);
    assert.throws(() => quantize(new Float32Array(1), new Float32Array(1), bad as unknown as string), OptionError);
    const r = tryParseFormat(bad as unknown as string);
    assert.ok(r.error instanceof FormatSpecError);
  }
});

test('parseScalarFormat refuses block formats', () => {
  assert.throws(() => parseScalarFormat('mxfp8_e4m3'), OptionError);
  assert.equal(parseScalarFormat('e4m3').maxFinite, 448);
});

test('epsilon is the step at 1, also when 1 is a subnormal', () => {
  assert.equal(parseScalarFormat('float<1,3,none>').epsilon, 0.25);
  assert.equal(parseScalarFormat('fp16').epsilon, 2 ** -10);
});
