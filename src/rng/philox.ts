/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC'11): a counter-based generator, so the random word for element i depends
 * only on (seed, stream, i) and never on how work is split across threads or
 * backends. Element i uses word (i mod 4) of the block with counter
 * (i div 4 low, i div 4 high, stream low, stream high), keyed by the seed.
 * The C kernels implement the same function (kernels/philox.h).
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff, aHi = a >>> 16, bLo = b & 0xffff, bHi = b >>> 16;
  const lolo = aLo * bLo;
  const mid1 = aHi * bLo + (lolo >>> 16);
  const mid2 = aLo * bHi + (mid1 & 0xffff);
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16)) >>> 0;
}

/** One Philox4x32-10 block: writes four 32-bit words into out[0..3]. */
export function philox4x32(
  c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array,
): void {
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/** Splits a non-negative integer below 2^53 into 32-bit halves. */
export function split64(v: number): [number, number] {
  return [v >>> 0, Math.floor(v / 4294967296) >>> 0];
}

/** The random words of consecutive elements for one (seed, stream). */
export class PhiloxStream {
  private readonly k0: number;
  private readonly k1: number;
  private readonly s0: number;
  private readonly s1: number;
  private readonly block = new Uint32Array(4);
  private blockIndex = -1;

  constructor(seed: number, stream: number) {
    [this.k0, this.k1] = split64(seed);
    [this.s0, this.s1] = split64(stream);
  }

  /** The 32-bit random word of element i. */
  word(i: number): number {
    const b = Math.floor(i / 4);
    if (b !== this.blockIndex) {
      const [b0, b1] = split64(b);
      philox4x32(b0, b1, this.s0, this.s1, this.k0, this.k1, this.block);
      this.blockIndex = b;
    }
    return this.block[i & 3];
  }
}
