/** The quantize() API: options, carriers and block rows. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionError, quantize } from '../../src/index.js';

test('lastAxis: MX blocks restart at every row', () => {
  // Two rows of 40 with an outlier at column 35. By rows the blocks are columns [0,32) and [32,40);
  // flat, the block [32,64) would mix row 0's outlier into row 1's first 24 columns.
  const x = new Float32Array(80).fill(1);
  x[35] = 1e6;
  x[75] = 1e6;
  const rows = new Float32Array(80);
  const flat = new Float32Array(80);
  quantize(x, rows, 'mxfp8_e4m3', { lastAxis: 40 });
  quantize(x, flat, 'mxfp8_e4m3');
  // with the outlier the block scale is 2^11, and 1 / 2^11 is below e4m3's smallest subnormal
  assert.equal(rows[33], 0);
  assert.equal(rows[40], 1);
  assert.equal(rows[71], 1);
  assert.equal(rows[72], 0);
  assert.equal(flat[40], 0);
  assert.equal(flat[63], 0);
  assert.equal(flat[64], 0);
});

test('lastAxis keeps each element\'s random index', () => {
  const x = new Float32Array(96).fill(1.1);
  const a = new Float32Array(96);
  const b = new Float32Array(96);
  quantize(x, a, 'mx<e5m2,block=32>', { lastAxis: 48, rounding: 'stochastic', seed: 3 });
  quantize(x.subarray(48), b.subarray(48), 'mx<e5m2,block=32>', { rounding: 'stochastic', seed: 3, offset: 48 });
  assert.deepEqual([...a.subarray(48)], [...b.subarray(48)]);
});

test('lastAxis must divide the length', () => {
  assert.throws(() => quantize(new Float32Array(10), new Float32Array(10), 'mxfp4', { lastAxis: 3 }), OptionError);
  assert.throws(() => quantize(new Float32Array(10), new Float32Array(10), 'mxfp4', { lastAxis: 0 }), OptionError);
});

test('dst shorter than src is an OptionError', () => {
  assert.throws(() => quantize(new Float32Array(10), new Float32Array(9), 'e4m3'), OptionError);
});

test('float64 arrays round from float64 bits (no float32 step in between)', () => {
  // 1 + 2^-11 + 2^-40 is above the fp16 midpoint 1 + 2^-11; through float32 it would become the tie and round down
  const x = Float64Array.of(1 + 2 ** -11 + 2 ** -40);
  const y = new Float64Array(1);
  quantize(x, y, 'fp16');
  assert.equal(y[0], 1 + 2 ** -10);
  const y32 = new Float32Array(1);
  quantize(Float32Array.from(x), y32, 'fp16');
  assert.equal(y32[0], 1);
});

test('seed, stream and offset must be non-negative integers', () => {
  for (const o of [{ seed: -1 }, { stream: 1.5 }, { offset: Number.NaN }]) {
    assert.throws(() => quantize(new Float32Array(4), new Float32Array(4), 'e5m2', { rounding: 'stochastic', ...o }), OptionError);
  }
});

test('a dst overlapping src (not in place) gives the same result as separate arrays, on every backend', () => {
  const n = 40000;
  for (const backend of ['js', 'wasm', 'native'] as const) {
    for (const spec of ['e4m3', 'posit16', 'mxfp8_e4m3']) {
      const buf = new Float32Array(n + 2);
      for (let i = 0; i < n + 2; i++) buf[i] = Math.sin(i) * 500;
      const src = buf.slice(1, n + 1);
      const want = new Float32Array(n);
      const wantCounts = quantize(src, want, spec, { backend });
      const got = quantize(buf.subarray(1, n + 1), buf.subarray(2, n + 2), spec, { backend });
      assert.deepEqual(got, wantCounts, `${backend} ${spec}`);
      assert.deepEqual([...buf.subarray(2, n + 2)], [...want], `${backend} ${spec}`);
    }
  }
});

test('an unknown backend is an OptionError for float64 arrays too', () => {
  assert.throws(() => quantize(new Float64Array(2), new Float64Array(2), 'e4m3', { backend: 'gpu' as 'js' }), OptionError);
});

test('offset + length must stay below 2^53', () => {
  assert.throws(() => quantize(new Float32Array(4), new Float32Array(4), 'e5m2', { rounding: 'stochastic', offset: 2 ** 53 - 2 }), OptionError);
});
