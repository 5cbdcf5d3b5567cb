/**
 * Stochastic rounding: for x strictly between two neighbours lo < x < hi
 * (in magnitude), each element rounds away from zero with probability
 * P = floor(frac·2^R)/2^R, frac = (|x| - |lo|)/(|hi| - |lo|) (by value, also
 * for posits), R = randomBits. Element i draws the 32-bit word i mod 4 of the
 * Philox4x32-10 block (seed; counter (offset+i)/4, stream), and (precis's
 * convention, docs/design.md) rounds away iff floor(frac·2^R) > word >>> (32-R).
 *
 * Checked: Philox against the Random123 known answers; every element against
 * that rule; the frequency of `hi` within 5σ of P; the mean within 5σ of its
 * expectation (x itself when R = 24); reproducibility; independence across
 * seeds and streams; exact values never move; `offset` shifts the index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFormat, philox4x32, quantize, ScalarFormat } from '../../src/index.js';
import { describe, f32Bits, ofDouble } from '../oracle/exact.js';
import { scalarStats } from '../oracle/oracle.js';
import { parseSpec } from '../../src/formats/spec.js';

/** Copies per input for the independence checks, and for the frequency checks. */
const N = 100_000;
const FREQ_N = 40_000;

test('Philox4x32-10 matches the Random123 known-answer vectors', () => {
  // Random123 kat_vectors: counter (4 words), key (2 words) → output (4 words).
  const kat: [number[], number[], number[]][] = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
  ];
  const out = new Uint32Array(4);
  for (const [c, k, want] of kat) {
    philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
    assert.deepEqual([...out], want);
  }
});

/** The 32-bit word of element index i (already offset) for (seed, stream), per the documented counter layout. */
function word(seed: number, stream: number, i: number): number {
  const out = new Uint32Array(4);
  const b = Math.floor(i / 4);
  philox4x32(b >>> 0, Math.floor(b / 2 ** 32) >>> 0, stream >>> 0, Math.floor(stream / 2 ** 32) >>> 0, seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, out);
  return out[i % 4];
}

/** floor(frac·2^R) with frac = (|x| - |lo|)/(|hi| - |lo|), exactly (BigInt). */
function threshold(x: number, lo: number, hi: number, R: number): number {
  const X = ofDouble(Math.abs(x)).mag, L = ofDouble(Math.abs(lo)).mag, H = ofDouble(Math.abs(hi)).mag;
  const e = Math.min(X.e, L.e, H.e);
  const at = (d: { m: bigint; e: number }): bigint => d.m << BigInt(d.e - e);
  const num = (at(X) - at(L)) << BigInt(R);
  const den = at(H) - at(L);
  return Number(num / den);
}

interface Case {
  spec: string;
  x: number;
  /** Neighbour toward zero and away from zero. */
  lo: number;
  hi: number;
}

/** Inputs between neighbours (from the oracle's value list) at several fractions, both signs, as float32. */
function cases(spec: string): Case[] {
  const sp = parseSpec(spec);
  if (sp.family !== 'float' && sp.family !== 'fixed' && sp.family !== 'posit') throw new Error('scalar expected');
  const vals = scalarStats(sp).values;
  const pos = [...vals].filter((v) => v >= 0);
  const picks: [number, number][] = [];
  const idx1 = pos.findIndex((v) => v >= 1);
  picks.push([pos[idx1], pos[idx1 + 1]]); // just above 1
  // Between 0 and the smallest positive value (not for posits: they never round a nonzero to 0).
  if (sp.family !== 'posit') picks.push([pos[0], pos[1]]);
  picks.push([pos[pos.length - 2], pos[pos.length - 1]]); // the top step
  picks.push([pos[Math.floor(pos.length / 3)], pos[Math.floor(pos.length / 3) + 1]]);
  const out: Case[] = [];
  for (const [lo, hi] of picks) {
    for (const frac of [0.1, 0.25, 0.5, 0.7, 0.9, 1 / 3, 0.01]) {
      const x = Math.fround(lo + frac * (hi - lo));
      if (!(x > lo && x < hi)) continue;
      // A zero result has the input's sign only in floats (fixed point has one zero).
      const negLo = lo === 0 && sp.family !== 'float' ? 0 : -lo;
      out.push({ spec, x, lo, hi }, { spec, x: -x, lo: negLo, hi: -hi });
    }
  }
  return out;
}

const SPECS = ['e5m2', 'e4m3', 'bf16', 'fixed<16,14>', 'posit<8,0>', 'posit16'];

function runCopies(c: Case, opts: { seed: number; stream?: number; randomBits?: number; offset?: number }, n = N): Float32Array {
  const src = new Float32Array(n).fill(c.x);
  const dst = new Float32Array(n);
  quantize(src, dst, c.spec, { rounding: 'stochastic', backend: 'js', ...opts });
  return dst;
}

test('stochastic: every element follows floor(frac·2^R) > (Philox word >>> (32-R)), and only the two neighbours appear', () => {
  let checked = 0;
  for (const spec of SPECS) {
    for (const c of cases(spec)) {
      for (const R of [1, 3, 8, 24]) {
        const seed = 1234 + R, stream = 7, offset = 13;
        const dst = runCopies(c, { seed, stream, randomBits: R, offset }, 4000);
        const th = threshold(c.x, c.lo, c.hi, R);
        for (let i = 0; i < dst.length; i++) {
          const up = th > word(seed, stream, offset + i) >>> (32 - R);
          const want = up ? c.hi : c.lo;
          if (!Object.is(dst[i], want)) {
            assert.fail(`${spec} R=${R} x=${describe(c.x)} element ${i}: precis ${describe(dst[i])}, rule gives ${describe(want)}`);
          }
        }
        for (const v of dst) if (!(Object.is(v, c.lo) || Object.is(v, c.hi))) assert.fail(`${spec} x=${c.x}: ${describe(v)} is not a neighbour`);
        checked += dst.length;
      }
    }
  }
  console.log(`stochastic rule: ${checked} elements`);
});

test('stochastic: P(away from zero) = floor(frac·2^R)/2^R within 5σ, and the mean is unbiased within 5σ', () => {
  for (const spec of SPECS) {
    for (const c of cases(spec)) {
      for (const R of [1, 5, 24]) {
        const n = FREQ_N;
        const dst = runCopies(c, { seed: 99 + R, randomBits: R }, n);
        let ups = 0, sum = 0;
        for (const v of dst) {
          if (v === c.hi) ups++;
          sum += v;
        }
        const P = threshold(c.x, c.lo, c.hi, R) / 2 ** R;
        const freq = ups / n;
        const sigma = Math.sqrt((P * (1 - P)) / n);
        const what = `${spec} R=${R} x=${describe(c.x)} between ${c.lo} and ${c.hi}`;
        if (P === 0 || P === 1) assert.equal(freq, P, `${what}: deterministic when P = ${P}`);
        else assert.ok(Math.abs(freq - P) <= 5 * sigma, `${what}: P(up) ${freq}, expected ${P} ± ${5 * sigma}`);
        // Mean: lo + P·(hi - lo); with 24 bits this is x up to 2^-24 of a step (far inside 5σ).
        const step = c.hi - c.lo;
        const mean = sum / n;
        const expect = R === 24 ? c.x : c.lo + P * step;
        const sdMean = Math.abs(step) * Math.max(sigma, 1 / Math.sqrt(n) / 100);
        assert.ok(Math.abs(mean - expect) <= 5 * sdMean + Math.abs(step) * 2 ** -24, `${what}: mean ${mean}, expected ${expect} ± ${5 * sdMean}`);
      }
    }
  }
});

test('stochastic: the same seed and stream give identical bits; other seeds or streams give other bits', () => {
  const c = cases('e4m3')[0];
  const a = runCopies(c, { seed: 5, stream: 1 });
  const b = runCopies(c, { seed: 5, stream: 1 });
  assert.deepEqual(new Uint32Array(a.buffer), new Uint32Array(b.buffer));
  const otherSeed = runCopies(c, { seed: 6, stream: 1 });
  const otherStream = runCopies(c, { seed: 5, stream: 2 });
  const bigSeed = runCopies(c, { seed: 2 ** 40 + 5, stream: 1 }); // the high key word matters
  const bigStream = runCopies(c, { seed: 5, stream: 2 ** 33 + 1 });
  for (const [name, d] of [['seed 6', otherSeed], ['stream 2', otherStream], ['seed 2^40+5', bigSeed], ['stream 2^33+1', bigStream]] as const) {
    let diff = 0;
    for (let i = 0; i < N; i++) if (f32Bits(d[i]) !== f32Bits(a[i])) diff++;
    assert.ok(diff > N / 10, `${name}: only ${diff} of ${N} elements differ from seed 5 stream 1`);
  }
});

test('stochastic: decisions under different seeds and streams are uncorrelated (agreement ≈ P² + (1-P)²)', () => {
  for (const spec of ['e4m3', 'bf16', 'fixed<16,14>', 'posit16']) {
    for (const c of cases(spec).slice(0, 6)) {
      const base = runCopies(c, { seed: 11, stream: 0 });
      const P = threshold(c.x, c.lo, c.hi, 24) / 2 ** 24;
      const q = P * P + (1 - P) * (1 - P);
      const sigma = Math.sqrt((q * (1 - q)) / N);
      for (const [name, other] of [
        ['seed 12', runCopies(c, { seed: 12, stream: 0 })],
        ['stream 1', runCopies(c, { seed: 11, stream: 1 })],
        ['seed 11 shifted by one element', runCopies(c, { seed: 11, stream: 0, offset: 1 })],
      ] as const) {
        let agree = 0;
        for (let i = 0; i < N; i++) if ((base[i] === c.hi) === (other[i] === c.hi)) agree++;
        const rate = agree / N;
        assert.ok(Math.abs(rate - q) <= 5 * sigma + 1e-12, `${spec} x=${c.x} ${name}: agreement ${rate}, independent ${q} ± ${5 * sigma}`);
      }
    }
  }
});

test('stochastic: values of the format never change, whatever the seed and random bits', () => {
  for (const spec of ['e5m2', 'e4m3', 'bf16', 'fixed<16,14>', 'posit<8,0>', 'posit16', 'e2m1', 'int8']) {
    const f = parseFormat(spec);
    assert.ok(f instanceof ScalarFormat);
    const vals = Float32Array.from(f.values());
    const dst = new Float32Array(vals.length);
    for (const [seed, R] of [[1, 24], [2, 1], [3, 7]]) {
      quantize(vals, dst, spec, { rounding: 'stochastic', seed, randomBits: R, backend: 'js' });
      for (let i = 0; i < vals.length; i++) {
        if (!Object.is(dst[i], vals[i])) assert.fail(`${spec} seed ${seed} R=${R}: ${describe(vals[i])} became ${describe(dst[i])}`);
      }
    }
  }
});

test('stochastic: offset k on a subarray equals the same elements of the whole array', () => {
  for (const spec of ['e4m3', 'fixed<16,14>', 'posit16', 'bf16']) {
    const cs = cases(spec);
    const n = 4099;
    const src = new Float32Array(n);
    for (let i = 0; i < n; i++) src[i] = cs[i % cs.length].x;
    const whole = new Float32Array(n);
    quantize(src, whole, spec, { rounding: 'stochastic', seed: 77, stream: 3, backend: 'js' });
    for (const k of [1, 2, 3, 4, 5, 1000, 4097]) {
      const part = new Float32Array(n - k);
      quantize(src.subarray(k), part, spec, { rounding: 'stochastic', seed: 77, stream: 3, offset: k, backend: 'js' });
      assert.deepEqual(new Uint32Array(part.buffer), new Uint32Array(whole.slice(k).buffer), `${spec} offset ${k}`);
      // And without the offset the subarray gets other words (the index restarts at 0).
      const noOffset = new Float32Array(n - k);
      quantize(src.subarray(k), noOffset, spec, { rounding: 'stochastic', seed: 77, stream: 3, backend: 'js' });
      let diff = 0;
      for (let i = 0; i < n - k; i++) if (f32Bits(noOffset[i]) !== f32Bits(part[i])) diff++;
      assert.ok(n - k < 8 || diff > 0, `${spec} offset ${k}: offset had no effect`);
    }
  }
});

test('stochastic: encode(x, {random}) applies the same rule to the given word', () => {
  for (const spec of ['e4m3', 'posit16', 'fixed<16,14>']) {
    const f = parseFormat(spec);
    assert.ok(f instanceof ScalarFormat);
    for (const c of cases(spec)) {
      for (const R of [1, 4, 24]) {
        const th = threshold(c.x, c.lo, c.hi, R);
        for (const w of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, (th << (32 - R)) >>> 0, ((th - 1) << (32 - R)) >>> 0, 0x12345678]) {
          const want = th > w >>> (32 - R) ? c.hi : c.lo;
          const got: number = f.decode(f.encode(c.x, { rounding: 'stochastic', randomBits: R, random: w }));
          if (!Object.is(got, want)) assert.fail(`${spec} R=${R} x=${describe(c.x)} word ${w.toString(16)}: ${describe(got)}, want ${describe(want)}`);
        }
      }
    }
  }
});
