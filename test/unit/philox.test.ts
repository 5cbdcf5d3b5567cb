/** Philox4x32-10: Random123 known answers, an independent BigInt model, and the element-to-word mapping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhiloxStream, loadBackend, philox4x32, probeBackends, quantize } from '../../src/index.js';
import { split64 } from '../../src/rng/philox.js';

function hexWords(w: ArrayLike<number>): string {
  return Array.from(w, (x) => (x >>> 0).toString(16).padStart(8, '0')).join(' ');
}

function run(c: readonly number[], k: readonly number[]): string {
  const out = new Uint32Array(4);
  philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
  return hexWords(out);
}

test('Random123 kat_vectors for philox4x32 with 10 rounds', () => {
  assert.equal(run([0, 0, 0, 0], [0, 0]), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
  assert.equal(run([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]), '408f276d 41c83b0e a20bc7c6 6d5451fd');
  assert.equal(run([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]), 'd16cfe09 94fdcceb 5001e420 24126ea1');
});

/** Philox4x32-10 written from the paper with BigInt arithmetic: an independent model of the same function. */
function philoxBig(c: readonly number[], k: readonly number[]): number[] {
  const M0 = 0xd2511f53n, M1 = 0xcd9e8d57n, W0 = 0x9e3779b9n, W1 = 0xbb67ae85n, MASK = 0xffffffffn;
  let [x0, x1, x2, x3] = c.map((v) => BigInt(v >>> 0));
  let k0 = BigInt(k[0] >>> 0), k1 = BigInt(k[1] >>> 0);
  for (let r = 0; r < 10; r++) {
    const p0 = M0 * x0, p1 = M1 * x2;
    [x0, x1, x2, x3] = [(p1 >> 32n) ^ x1 ^ k0, p1 & MASK, (p0 >> 32n) ^ x3 ^ k1, p0 & MASK];
    k0 = (k0 + W0) & MASK;
    k1 = (k1 + W1) & MASK;
  }
  return [x0, x1, x2, x3].map((v) => Number(v));
}

test('philox4x32 equals a BigInt model on edge and random counters and keys', () => {
  const edges = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0xd2511f53, 0xcd9e8d57];
  let s = 0x12345678;
  const rnd = (): number => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return s >>> 0;
  };
  const out = new Uint32Array(4);
  for (let i = 0; i < 3000; i++) {
    const pick = (): number => (i < 1000 ? edges[rnd() % edges.length] : rnd());
    const c = [pick(), pick(), pick(), pick()];
    const k = [pick(), pick()];
    philox4x32(c[0], c[1], c[2], c[3], k[0], k[1], out);
    assert.equal(hexWords(out), hexWords(philoxBig(c, k)), `counter ${hexWords(c)} key ${hexWords(k)}`);
  }
  // the BigInt model itself reproduces the known answers
  assert.equal(hexWords(philoxBig([0, 0, 0, 0], [0, 0])), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
});

test('split64 splits integers below 2^53 into 32-bit halves', () => {
  assert.deepEqual(split64(0), [0, 0]);
  assert.deepEqual(split64(0xffffffff), [0xffffffff, 0]);
  assert.deepEqual(split64(2 ** 32), [0, 1]);
  assert.deepEqual(split64(2 ** 53 - 1), [0xffffffff, 0x1fffff]);
  assert.deepEqual(split64(0x123456789abcd), [0x6789abcd, 0x12345]);
});

test('PhiloxStream.word(i) is word i%4 of block (i/4 lo, i/4 hi, stream lo, stream hi) keyed (seed lo, seed hi)', () => {
  const cases: [number, number][] = [[0, 0], [1, 0], [0, 1], [0xdeadbeef, 7], [2 ** 32 + 5, 2 ** 40 + 3], [2 ** 53 - 1, 2 ** 53 - 1]];
  const indices = [0, 1, 2, 3, 4, 5, 7, 8, 1023, 2 ** 32 - 1, 2 ** 32, 2 ** 34 - 1, 2 ** 34, 2 ** 34 + 2, 2 ** 40 + 9, 2 ** 53 - 1];
  const out = new Uint32Array(4);
  for (const [seed, stream] of cases) {
    const ps = new PhiloxStream(seed, stream);
    const [k0, k1] = [seed >>> 0, Math.floor(seed / 2 ** 32)];
    const [s0, s1] = [stream >>> 0, Math.floor(stream / 2 ** 32)];
    for (const i of indices) {
      const b = Math.floor(i / 4);
      philox4x32(b >>> 0, Math.floor(b / 2 ** 32), s0, s1, k0, k1, out);
      assert.equal(ps.word(i) >>> 0, out[i % 4], `seed ${seed} stream ${stream} word(${i})`);
      const big = philoxBig([b >>> 0, Math.floor(b / 2 ** 32), s0, s1], [k0, k1]);
      assert.equal(ps.word(i) >>> 0, big[i % 4], `seed ${seed} stream ${stream} word(${i}) vs BigInt model`);
    }
  }
  // stream 0, seed 0: the first four words are the first known answer
  const z = new PhiloxStream(0, 0);
  assert.equal(hexWords([z.word(0), z.word(1), z.word(2), z.word(3)]), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
});

test('PhiloxStream gives the same words in any access order', () => {
  const a = new PhiloxStream(99, 3);
  const seq = Array.from({ length: 64 }, (_, i) => a.word(i));
  const b = new PhiloxStream(99, 3);
  const order = [63, 0, 17, 16, 18, 1, 62, 5, 4, 40, 3, 2, 41];
  for (const i of order) assert.equal(b.word(i), seq[i], `word(${i}) out of order`);
  assert.notEqual(new PhiloxStream(100, 3).word(0), seq[0]);
  assert.notEqual(new PhiloxStream(99, 4).word(0), seq[0]);
});

test('stochastic quantize uses word(offset + i): a tie rounds up exactly when the top random bit is 0', () => {
  // 1.0625 is the midpoint of 1 and 1.125 in e4m3: with 24 random bits it rounds up iff (word >>> 8) < 2^23
  const n = 4099;
  const src = new Float32Array(n).fill(1.0625);
  const seed = 2 ** 33 + 17, stream = 5, offset = 2 ** 34 - 6;
  const ps = new PhiloxStream(seed, stream);
  const want = Float32Array.from({ length: n }, (_, i) => ((ps.word(offset + i) >>> 31) === 0 ? 1.125 : 1));
  const names = probeBackends().filter((b) => b.ok).map((b) => b.name);
  assert.ok(names.includes('js'));
  for (const name of names) {
    const dst = new Float32Array(n);
    quantize(src, dst, 'e4m3', { rounding: 'stochastic', seed, stream, offset, backend: name });
    assert.deepEqual(dst, want, `${name} (${loadBackend(name).isa()})`);
  }
  const ups = want.filter((v) => v === 1.125).length;
  assert.ok(ups > n * 0.4 && ups < n * 0.6, `${ups} of ${n} ties rounded up`);
});
