/**
 * js, wasm and native (every ISA the CPU has, 1 and 2 threads) must give the
 * same bits and the same event counts for every format family and rounding
 * mode. The js reference runs once per case; every other configuration is
 * compared against it, bit for bit (NaN included: every kernel writes
 * 0x7fc00000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QuantizeCounts } from '../../src/backend/index.js';
import { parseFormat, type Format } from '../../src/formats/format.js';
import { quantize, type QuantizeOptions } from '../../src/formats/quantize.js';
import { BlockFormat } from '../../src/formats/block.js';
import { backendConfigs, forEachBackend, requireBackends } from './backends.js';
import { hashString, hex, inputsFor } from './inputs.js';

/** Inputs per family and rounding mode (split over the family's formats and option variants). */
const PER_FAMILY_MODE = 1 << 20;

const FAMILIES: Record<string, readonly string[]> = {
  float: [
    'e5m2', 'e4m3', 'e4m3fnuz', 'e5m2fnuz', 'fp16', 'bf16', 'tf32', 'fp32', 'e2m1', 'e3m2', 'e2m3',
    'float<4,0,fn>', 'float<5,2,nosub>', 'float<8,2,bias=140>', 'float<3,0,none>', 'float<2,1,ieee>',
  ],
  fixed: [
    'fixed<16,14>', 'fixed<8,3,wrap>', 'ufixed<8,3,wrap>', 'int<32>', 'uint8', 'fixed<32,-96,wrap>',
    'int<32,wrap>', 'uint<16,wrap>', 'fixed<12,149>', 'ufixed<32,8,wrap>', 'int8',
  ],
  posit: ['posit<8,0>', 'posit<16,1>', 'posit8', 'posit16', 'posit32', 'posit<32,4>', 'posit<5,3>', 'posit<2,0>', 'posit<12,3>', 'posit<3,1>'],
  block: [
    'mxfp8_e4m3', 'mxfp8_e5m2', 'mxfp6_e3m2', 'mxfp6_e2m3', 'mxfp4', 'mxint8', 'mx<e2m1,scale=up,block=7>', 'bfp<8,16>',
    'mx<e5m2,scale=up,block=5>', 'mx<int8,block=1,scale=up>', 'bfp<24,3>', 'bfp<2,33>',
  ],
};

/** Options tried besides the defaults, rotated over formats and modes. */
const ALTERNATES: readonly QuantizeOptions[] = [
  { overflow: 'saturate' },
  { subnormals: 'flush' },
  { overflow: 'saturate', subnormals: 'flush' },
];

interface Mode {
  readonly name: string;
  readonly variants: readonly QuantizeOptions[];
}

const MODES: readonly Mode[] = [
  ...(['nearest', 'nearest-away', 'zero', 'down', 'up'] as const).map((rounding): Mode => ({
    name: rounding,
    variants: [{ rounding }, ...ALTERNATES.map((a) => ({ ...a, rounding }))],
  })),
  {
    name: 'stochastic',
    variants: [
      { rounding: 'stochastic' },
      { rounding: 'stochastic', seed: 12345, stream: 7, randomBits: 1, offset: 3 },
      { rounding: 'stochastic', seed: 2 ** 53 - 1, stream: 2 ** 40 + 5, randomBits: 8, offset: 2 ** 35 + 1, overflow: 'saturate' },
      { rounding: 'stochastic', seed: 0xdeadbeef, stream: 2 ** 32, randomBits: 13, offset: 511, subnormals: 'flush' },
      // element indices cross 2^34, so the block counter's high word changes mid-array
      { rounding: 'stochastic', seed: 42, stream: 1, randomBits: 23, offset: 2 ** 34 - 1000 },
      { rounding: 'stochastic', seed: 7, stream: 2 ** 53 - 1, randomBits: 24, offset: 1, overflow: 'saturate', subnormals: 'flush' },
    ],
  },
];

interface Case {
  readonly label: string;
  readonly format: Format;
  readonly options: QuantizeOptions;
  readonly src: Float32Array;
  readonly ref: Float32Array;
  readonly counts: QuantizeCounts;
}

function describeValue(x: number): string {
  return Number.isNaN(x) ? 'NaN' : Object.is(x, -0) ? '-0' : String(x);
}

/** Describes up to `max` differing elements of got against the reference; '' when identical. */
function diffBits(src: Float32Array, ref: Float32Array, got: Float32Array, n: number, max = 5): string {
  const r = new Uint32Array(ref.buffer, ref.byteOffset, n);
  const g = new Uint32Array(got.buffer, got.byteOffset, n);
  const s = new Uint32Array(src.buffer, src.byteOffset, n);
  let count = 0;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    if (r[i] !== g[i]) {
      if (count < max) {
        lines.push(`  [${i}] in ${hex(s[i])} (${describeValue(src[i])}): expected ${hex(r[i])} (${describeValue(ref[i])}), got ${hex(g[i])} (${describeValue(got[i])})`);
      }
      count++;
    }
  }
  return count === 0 ? '' : `${count} of ${n} elements differ:\n${lines.join('\n')}`;
}

function countsText(c: QuantizeCounts): string {
  return `{overflow: ${c.overflow}, flushed: ${c.flushed}, nan: ${c.nan}}`;
}

function optionsText(o: QuantizeOptions): string {
  return JSON.stringify(o);
}

function makeCase(spec: string, options: QuantizeOptions, n: number): Case {
  const format = parseFormat(spec);
  const src = inputsFor(format, n, hashString(`${spec}|${optionsText(options)}`));
  const ref = new Float32Array(n);
  const counts = quantize(src, ref, format, { ...options, backend: 'js' });
  // the reference writes only the one NaN pattern
  const rb = new Uint32Array(ref.buffer);
  for (let i = 0; i < n; i++) {
    if ((rb[i] & 0x7fffffff) > 0x7f800000) assert.equal(rb[i], 0x7fc00000, `${spec}: js wrote NaN ${hex(rb[i])} at ${i}`);
  }
  return { label: `${spec} ${optionsText(options)}`, format, options, src, ref, counts };
}

/** Runs every case on every configuration but js; returns the failures. */
function compareAll(cases: readonly Case[]): string[] {
  const failures: string[] = [];
  for (const cfg of forEachBackend({ includeJs: false })) {
    for (const c of cases) {
      const got = new Float32Array(c.src.length).fill(12345.678);
      let counts: QuantizeCounts;
      try {
        counts = quantize(c.src, got, c.format, { ...c.options, backend: cfg.backend });
      } catch (e) {
        failures.push(`${cfg.label} ${c.label}: threw ${(e as Error).message}`);
        continue;
      }
      const d = diffBits(c.src, c.ref, got, c.src.length);
      if (d) failures.push(`${cfg.label} ${c.label}: ${d}`);
      if (countsText(counts) !== countsText(c.counts)) {
        failures.push(`${cfg.label} ${c.label}: counts ${countsText(counts)}, expected ${countsText(c.counts)}`);
      }
    }
  }
  return failures;
}

/**
 * Fails with a summary: each failing case with the configurations it fails
 * on, then the first details. Failure lines read '<config> <case>: <detail>'.
 */
function report(failures: readonly string[]): void {
  if (failures.length === 0) return;
  const byCase = new Map<string, string[]>();
  for (const f of failures) {
    const sp = f.indexOf(' ');
    const colon = f.indexOf(': ', sp);
    const what = f.slice(sp + 1, colon < 0 ? undefined : colon);
    const list = byCase.get(what) ?? [];
    list.push(f.slice(0, sp));
    byCase.set(what, list);
  }
  const summary = [...byCase].slice(0, 30).map(([what, cfgs]) => `  ${what}  [${[...new Set(cfgs)].join(', ')}]`);
  assert.fail(`${failures.length} mismatches against the js reference in ${byCase.size} cases:\n${summary.join('\n')}\n`
    + `first details:\n${failures.slice(0, 6).join('\n')}`);
}

test('every backend loads (CI builds all three), and the native ISAs include sse2', (t) => {
  if (!requireBackends(t)) return;
  const labels = backendConfigs().map((c) => c.label);
  assert.ok(labels.includes('js') && labels.includes('wasm'), labels.join(', '));
  assert.ok(labels.includes('native/sse2/1t') && labels.includes('native/sse2/2t'), labels.join(', '));
  t.diagnostic(`configurations: ${labels.join(', ')}`);
});

for (const [family, specs] of Object.entries(FAMILIES)) {
  for (const [mi, mode] of MODES.entries()) {
    test(`${family} formats, ${mode.name}: identical bits and counts on every backend`, () => {
      const cases: Case[] = [];
      const perFormat = Math.ceil(PER_FAMILY_MODE / specs.length);
      for (const [fi, spec] of specs.entries()) {
        // deterministic modes: the defaults plus one alternate set of options; stochastic: two variants per format
        const variants = mode.name === 'stochastic'
          ? [mode.variants[fi % mode.variants.length], mode.variants[(fi + 3) % mode.variants.length]]
          : [mode.variants[0], mode.variants[1 + ((fi + mi) % ALTERNATES.length)]];
        const n = Math.ceil(perFormat / variants.length);
        assert.ok(n >= 32768, 'each call must be long enough for the native addon to split it over 2 threads');
        for (const v of variants) cases.push(makeCase(spec, v, n));
      }
      assert.ok(cases.reduce((s, c) => s + c.src.length, 0) >= 1_000_000);
      // the inputs reach every event the counters report
      const total = cases.reduce((s, c) => ({ overflow: s.overflow + c.counts.overflow, flushed: s.flushed + c.counts.flushed, nan: s.nan + c.counts.nan }),
        { overflow: 0, flushed: 0, nan: 0 });
      assert.ok(total.overflow > 0 && total.nan > 0 && (family === 'posit' || total.flushed > 0), `inputs reach too few events: ${countsText(total)}`);
      report(compareAll(cases));
    });
  }
}

test('the inputs are discriminating: ties (nearest differs from nearest-away) and directed modes differ for every rounding format', () => {
  const noRounding = new Set(['fp32', 'fixed<12,149>', 'posit<2,0>']);
  for (const spec of Object.values(FAMILIES).flat()) {
    if (noRounding.has(spec)) continue;
    const format = parseFormat(spec);
    const src = inputsFor(format, 20000, hashString(`power ${spec}`));
    const run = (rounding: QuantizeOptions['rounding']): Float32Array => {
      const out = new Float32Array(src.length);
      quantize(src, out, format, { rounding, backend: 'js' });
      return out;
    };
    const near = run('nearest');
    assert.notEqual(diffBits(src, near, run('nearest-away'), src.length), '', `${spec}: no ties among the inputs`);
    assert.notEqual(diffBits(src, run('up'), run('down'), src.length), '', `${spec}: up and down agree everywhere`);
  }
});

/** Formats and options for the length and offset tests. */
const EDGE_CASES: readonly { spec: string; options: QuantizeOptions }[] = [
  { spec: 'e4m3', options: { rounding: 'nearest' } },
  { spec: 'e4m3', options: { rounding: 'stochastic', seed: 9, stream: 2, offset: 5 } },
  { spec: 'bf16', options: { rounding: 'stochastic', seed: 3, randomBits: 5 } },
  { spec: 'fixed<8,3,wrap>', options: { rounding: 'stochastic', seed: 1 } },
  { spec: 'posit16', options: { rounding: 'stochastic', seed: 11, stream: 4 } },
  { spec: 'mx<e2m1,scale=up,block=7>', options: { rounding: 'stochastic', seed: 5, offset: 2 } },
  { spec: 'mxfp4', options: { rounding: 'nearest' } },
  { spec: 'bfp<8,16>', options: { rounding: 'stochastic', seed: 8 } },
];

const LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 15, 31, 33, 511, 512, 513, 1023, 1025, 16383, 16384, 16385, 32767, 32768, 32769, 50001];

test('lengths that are not multiples of 4, 512, the wasm chunk or the block size: same bits, tail of dst untouched', () => {
  const failures: string[] = [];
  const SENTINEL = 0x12345678;
  for (const { spec, options } of EDGE_CASES) {
    const format = parseFormat(spec);
    const all = inputsFor(format, LENGTHS[LENGTHS.length - 1], hashString(`lengths ${spec}`));
    for (const n of LENGTHS) {
      const src = all.slice(0, n);
      const ref = new Float32Array(n + 9);
      new Uint32Array(ref.buffer).fill(SENTINEL);
      const refCounts = quantize(src, ref, format, { ...options, backend: 'js' });
      for (const cfg of forEachBackend()) {
        const got = new Float32Array(n + 9);
        const gb = new Uint32Array(got.buffer);
        gb.fill(SENTINEL);
        const counts = quantize(src, got, format, { ...options, backend: cfg.backend });
        const d = diffBits(src, ref, got, n);
        if (d) failures.push(`${cfg.label} ${spec} n=${n}: ${d}`);
        for (let i = n; i < n + 9; i++) {
          if (gb[i] !== SENTINEL) { failures.push(`${cfg.label} ${spec} n=${n}: wrote dst[${i}] beyond src.length`); break; }
        }
        if (countsText(counts) !== countsText(refCounts)) {
          failures.push(`${cfg.label} ${spec} n=${n}: counts ${countsText(counts)}, expected ${countsText(refCounts)}`);
        }
      }
    }
  }
  report(failures);
});

test('the offset option: a stochastic quantize of a slice with offset k equals the same slice of the whole', () => {
  const failures: string[] = [];
  const n = 70001;
  for (const { spec, options } of EDGE_CASES.filter((c) => c.options.rounding === 'stochastic')) {
    const format = parseFormat(spec);
    const K = format instanceof BlockFormat ? format.blockSize : 1;
    const src = inputsFor(format, n, hashString(`offset ${spec}`));
    const base = options.offset ?? 0;
    const whole = new Float32Array(n);
    quantize(src, whole, format, { ...options, backend: 'js' });
    // blocks partition from the slice's start, so slices of block formats start on block boundaries
    const starts = [1, 3, 4, 5, 511, 513, 16385, 40000].map((k) => Math.ceil(k / K) * K);
    const lengths = [1, 6, 513, 16390, 29000];
    for (const cfg of forEachBackend()) {
      const wholeHere = new Float32Array(n);
      quantize(src, wholeHere, format, { ...options, backend: cfg.backend });
      const d0 = diffBits(src, whole, wholeHere, n);
      if (d0) failures.push(`${cfg.label} ${spec} whole array: ${d0}`);
      for (const k of starts) {
        for (const len0 of lengths) {
          // whole blocks only: a partial last block has another scale
          const len = Math.max(K, Math.floor(Math.min(len0, n - k) / K) * K);
          const slice = src.subarray(k, k + len); // a view with a nonzero byteOffset
          const outer = new Float32Array(len + 6).fill(-7.25);
          const out = outer.subarray(3, 3 + len);
          quantize(slice, out, format, { ...options, offset: base + k, backend: cfg.backend });
          const d = diffBits(slice, whole.subarray(k, k + len), out, len);
          if (d) failures.push(`${cfg.label} ${spec} slice [${k}, ${k + len}) with offset ${base + k}: ${d}`);
          if (outer[0] !== -7.25 || outer[2] !== -7.25 || outer[len + 3] !== -7.25 || outer[len + 5] !== -7.25) {
            failures.push(`${cfg.label} ${spec} slice at ${k}: wrote outside the dst view`);
          }
        }
      }
    }
    // the offset is not ignored: without it, a slice draws other random words
    const k = starts[4];
    const len = 4096;
    const wrong = new Float32Array(len);
    quantize(src.subarray(k, k + len), wrong, format, { ...options, offset: base, backend: 'js' });
    assert.notEqual(diffBits(src.subarray(k, k + len), whole.subarray(k, k + len), wrong, len), '',
      `${spec}: a slice quantized at the wrong offset matched the whole array, so the test could not fail`);
  }
  report(failures);
});

test('in place (dst is src, or the same view of it): the same bits and counts as into a separate array, on every backend', () => {
  const failures: string[] = [];
  const specs = ['e4m3', 'fp16', 'bf16', 'e2m1', 'fixed<8,3,wrap>', 'ufixed<8,3,wrap>', 'fixed<16,14>', 'int<32,wrap>', 'posit16', 'mxfp4', 'bfp<8,16>'];
  const n = 20000;
  const from = 512, len = 8960; // whole blocks of 32 and 16, not a whole number of tiles
  for (const spec of specs) {
    const format = parseFormat(spec);
    const src = inputsFor(format, n, hashString(`in place ${spec}`));
    const variants: readonly QuantizeOptions[] = [{ rounding: 'nearest' }, { rounding: 'stochastic', seed: 4, offset: 1 }, { rounding: 'down', overflow: 'saturate' }];
    for (const options of variants) {
      const ref = new Float32Array(n);
      const refCounts = quantize(src, ref, format, { ...options, backend: 'js' });
      for (const cfg of forEachBackend()) {
        const buf = src.slice();
        const counts = quantize(buf, buf, format, { ...options, backend: cfg.backend });
        const d = diffBits(src, ref, buf, n);
        if (d) failures.push(`${cfg.label} ${spec} ${optionsText(options)} in place: ${d}`);
        if (countsText(counts) !== countsText(refCounts)) {
          failures.push(`${cfg.label} ${spec} ${optionsText(options)} in place: counts ${countsText(counts)}, expected ${countsText(refCounts)}`);
        }
        const view = src.slice().subarray(from, from + len);
        quantize(view, view, format, { ...options, offset: (options.offset ?? 0) + from, backend: cfg.backend });
        const dv = diffBits(src.subarray(from, from + len), ref.subarray(from, from + len), view, len);
        if (dv) failures.push(`${cfg.label} ${spec} ${optionsText(options)} in place on a view: ${dv}`);
      }
    }
  }
  report(failures);
});

test('stochastic rounding depends on seed and stream on every backend (and they agree)', () => {
  const format = parseFormat('e4m3');
  const src = inputsFor(format, 20000, 77);
  const runs: Record<string, Float32Array> = {};
  for (const cfg of forEachBackend()) {
    for (const [name, o] of Object.entries({ a: { seed: 1, stream: 0 }, b: { seed: 2, stream: 0 }, c: { seed: 1, stream: 1 } })) {
      const out = new Float32Array(src.length);
      quantize(src, out, format, { rounding: 'stochastic', ...o, backend: cfg.backend });
      const key = `${name}`;
      if (runs[key]) assert.equal(diffBits(src, runs[key], out, src.length), '', `${cfg.label} seed/stream ${name}`);
      else runs[key] = out;
    }
  }
  assert.notEqual(diffBits(src, runs.a, runs.b, src.length), '', 'changing the seed changed nothing');
  assert.notEqual(diffBits(src, runs.a, runs.c, src.length), '', 'changing the stream changed nothing');
});

