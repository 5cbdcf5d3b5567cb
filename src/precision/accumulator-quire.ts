/**
 * The quire: a Kulisch accumulator that holds any sum of float32 products
 * (and float32 start values) exactly, as a fixed-point number of 32-bit
 * limbs. Limb j weighs 2^(32j − 320): the lowest covers 2^−298, the last bit
 * of the smallest product of two float32 subnormals (2^−149 · 2^−149), and
 * the top leaves room for 2^53 products of the largest magnitude (< 2^256).
 *
 * Limbs are float64 integers in carry-save form: an add splits the product
 * into at most three limb-aligned pieces (each below 2^32 in magnitude, with
 * the product's sign) and adds them without carries. A float64 holds integers
 * up to 2^53 exactly, so 2^20 adds can pass before the carries are
 * propagated. Reading the sum gives it rounded to odd in float64 — exact when
 * it fits, else the neighbour with an odd last bit — which the output format
 * then rounds once (see accumulator-round.ts for why that is exact).
 */
import { exponentOf, pow2 } from '../formats/bits.js';

const LIMBS = 22;
const LOW = -320;
const LIMB = 2 ** 32;
const UNIT = Float64Array.from({ length: LIMBS }, (_, j) => pow2(32 * j + LOW));
const INV_UNIT = Float64Array.from({ length: LIMBS }, (_, j) => pow2(-(32 * j + LOW)));
/** Adds between carry propagations: each adds less than 2^32 to a limb, which holds 2^53 exactly. */
const ADDS_PER_CARRY = 2 ** 20;

export class Quire {
  private readonly limbs = new Float64Array(LIMBS);
  private pending = 0;
  private nan = false;
  private posInf = false;
  private negInf = false;
  /** True while every addend has been -0 (IEEE: such a sum is -0). */
  private negZero = false;

  /** Empties the quire; `start` (a float32 value or ±0) is its first addend. */
  reset(start: number): void {
    this.limbs.fill(0);
    this.pending = 0;
    this.nan = this.posInf = this.negInf = false;
    this.negZero = Object.is(start, -0);
    if (start !== 0) this.add(start);
  }

  /** Adds x exactly: x is a float32 value or the product of two (exact in float64). */
  add(x: number): void {
    if (x !== 0) this.negZero = false;
    else {
      if (!Object.is(x, -0)) this.negZero = false;
      return;
    }
    if (!Number.isFinite(x)) {
      if (x !== x) this.nan = true;
      else if (x > 0) this.posInf = true;
      else this.negInf = true;
      return;
    }
    const l = this.limbs;
    let j = (exponentOf(Math.abs(x)) - LOW) >> 5;
    let r = x;
    while (r !== 0) {
      const q = Math.trunc(r * INV_UNIT[j]); // |q| < 2^32: the bits of r at limb j (and above, none)
      l[j] += q;
      r -= q * UNIT[j]; // exact: removes r's leading bits
      j--;
    }
    if (++this.pending === ADDS_PER_CARRY) this.carry();
  }

  /** Propagates carries: limbs 0..top-1 in [0, 2^32), the top limb signed. */
  private carry(): void {
    const l = this.limbs;
    for (let j = 0; j < LIMBS - 1; j++) {
      const c = Math.floor(l[j] / LIMB);
      l[j] -= c * LIMB;
      l[j + 1] += c;
    }
    this.pending = 0;
  }

  /** The sum rounded to odd in float64 (exact when it fits); NaN, ±Inf as IEEE adds them; an exact zero is +0 unless every addend was -0. */
  toOdd(): number {
    if (this.nan || (this.posInf && this.negInf)) return NaN;
    if (this.posInf) return Infinity;
    if (this.negInf) return -Infinity;
    const l = this.limbs;
    this.carry();
    const neg = l[LIMBS - 1] < 0;
    if (neg) {
      for (let j = 0; j < LIMBS; j++) l[j] = -l[j];
      this.carry();
    }
    let t = LIMBS - 1;
    while (t >= 0 && l[t] === 0) t--;
    let v: number;
    if (t < 0) v = 0;
    else {
      // The top 53 bits as an integer r, the rest as a sticky bit; value = r · 2^scale.
      const at = (j: number): number => (j >= 0 ? l[j] : 0);
      const b1 = exponentOf(l[t]) + 1; // bits in the top limb, 1..32
      const need = 53 - b1; // bits wanted from below the top limb, 21..52
      let r: number, rest: number, cut: number; // rest: the limb cut at bit `cut`
      if (need <= 32) {
        cut = 32 - need;
        rest = at(t - 1);
        r = l[t] * pow2(need) + Math.floor(rest * pow2(-cut));
      } else {
        cut = 64 - need;
        rest = at(t - 2);
        r = l[t] * pow2(need) + at(t - 1) * pow2(need - 32) + Math.floor(rest * pow2(-cut));
      }
      let sticky = rest - Math.floor(rest * pow2(-cut)) * pow2(cut) !== 0;
      for (let j = t - (need <= 32 ? 2 : 3); j >= 0 && !sticky; j--) sticky = l[j] !== 0;
      if (sticky && r % 2 === 0) r += 1;
      v = r * pow2(32 * t + LOW + b1 - 53);
    }
    if (neg) {
      // Restore the quire, so reading it twice gives the same answer.
      for (let j = 0; j < LIMBS; j++) l[j] = -l[j];
      return -v;
    }
    return v === 0 && this.negZero ? -0 : v;
  }
}
