/**
 * Posits per the Posit Standard (2022): posit<N,ES> with a run-length regime,
 * ES exponent bits and a fraction, one zero and one NaR (0b10...0).
 * Rounding is decided on the bit string: the exact value's infinite encoding
 * is cut after N bits and rounded to nearest, ties to the even pattern. This
 * is not nearest-by-value where exponent bits are cut (the outer regimes).
 * A nonzero finite value never rounds to zero or NaR: below minpos gives
 * minpos, above maxpos gives maxpos.
 */
import { exponentOf, pow2 } from './bits.js';
import { Mode, type RoundingParams } from './grid.js';
import { ScalarFormat, type CodeCounts } from './scalar.js';
import { specToString, type PositSpec } from './spec.js';

/** The value of an n-bit posit pattern with es exponent bits (NaN for NaR). */
export function decodePosit(bits: number, n: number, es: number): number {
  let p = bits % 2 ** n;
  if (p === 0) return 0;
  const nar = 2 ** (n - 1);
  if (p === nar) return NaN;
  const neg = p > nar;
  if (neg) p = 2 ** n - p;
  // Walk the n-1 bits after the sign, most significant first.
  let pos = n - 2;
  const bit = (i: number): number => Math.floor(p / 2 ** i) & 1;
  const r0 = bit(pos);
  let run = 0;
  while (pos >= 0 && bit(pos) === r0) { run++; pos--; }
  pos--; // the terminating bit (may be past the end)
  const k = r0 === 1 ? run - 1 : -run;
  let ex = 0;
  for (let i = 0; i < es; i++) {
    ex = ex * 2 + (pos >= 0 ? bit(pos) : 0);
    pos--;
  }
  const fb = Math.max(0, pos + 1);
  const frac = p % 2 ** fb;
  const v = (1 + frac / 2 ** fb) * pow2(k * 2 ** es + ex);
  return neg ? -v : v;
}

export class PositFormat extends ScalarFormat {
  readonly spec: PositSpec;
  /** The NaR pattern, 2^(N-1). */
  readonly nar: number;
  readonly maxPattern: number;

  constructor(spec: PositSpec) {
    const { width: n, es } = spec;
    const maxFinite = pow2((n - 2) * 2 ** es);
    const minPositive = pow2(-(n - 2) * 2 ** es);
    super({
      name: specToString(spec),
      bits: n,
      maxFinite,
      minFinite: maxFinite,
      minPositive,
      minNormal: minPositive,
      epsilon: n >= 3 ? decodePosit(2 ** (n - 2) + 1, n, es) - 1 : NaN,
      hasInf: false,
      hasNaN: true,
      // the fields of the values in [1, useed): the regime is '10' there and grows toward both ends
      layout: [
        { field: 'sign', bits: 1 }, { field: 'regime', bits: Math.min(2, n - 1) },
        { field: 'exponent', bits: Math.min(es, Math.max(0, n - 3)) },
        { field: 'fraction', bits: Math.max(0, n - 3 - es) },
      ].filter((f) => f.bits > 0),
    });
    this.spec = spec;
    this.nar = 2 ** (n - 1);
    this.maxPattern = this.nar - 1;
  }

  decode(bits: number): number {
    this.checkCode(bits);
    return decodePosit(bits, this.bits, this.spec.es);
  }

  encodeWith(x: number, r: RoundingParams, rnd: number): number {
    const n = this.bits;
    const es = this.spec.es;
    if (x !== x || x === Infinity || x === -Infinity) return this.nar;
    if (x === 0) return 0;
    const neg = x < 0;
    const a = Math.abs(x);
    const e = exponentOf(a);
    const k = Math.floor(e / 2 ** es);
    let p: number;
    if (k >= n - 2) p = this.maxPattern;
    else if (k <= -(n - 1)) p = 1;
    else {
      const ex = e - k * 2 ** es;
      const f = a * pow2(-e) - 1;
      const rl = k >= 0 ? k + 2 : -k + 1;
      const regime = k >= 0 ? (2 ** (k + 1) - 1) * 2 : 1;
      const avail = n - 1 - rl;
      let lo: number, above: boolean, tie: boolean, inexact: boolean;
      if (avail >= es) {
        const fb = avail - es;
        const scaled = f * 2 ** fb;
        const fi = Math.floor(scaled);
        const rem = scaled - fi;
        lo = (regime * 2 ** es + ex) * 2 ** fb + fi;
        above = rem > 0.5; tie = rem === 0.5; inexact = rem > 0;
      } else {
        const d = es - avail;
        lo = regime * 2 ** avail + Math.floor(ex / 2 ** d);
        const exLow = ex % 2 ** d;
        const half = 2 ** (d - 1);
        above = exLow > half || (exLow === half && f > 0);
        tie = exLow === half && f === 0;
        inexact = exLow > 0 || f > 0;
      }
      let up: boolean;
      switch (r.mode) {
        case Mode.Nearest: up = above || (tie && lo % 2 === 1); break;
        case Mode.NearestAway: up = above || tie; break;
        case Mode.Zero: up = false; break;
        case Mode.Down: up = neg && inexact; break;
        case Mode.Up: up = !neg && inexact; break;
        case Mode.Stochastic: {
          // By value: P(up) = (a - lo)/(hi - lo), truncated to the random bits.
          if (!inexact) { up = false; break; }
          const vlo = this.decode(lo), vhi = this.decode(lo + 1);
          const frac = (a - vlo) / (vhi - vlo);
          up = Math.floor(frac * 2 ** r.randomBits) > rnd >>> (32 - r.randomBits);
          break;
        }
      }
      p = Math.min(up ? lo + 1 : lo, this.maxPattern);
    }
    return neg ? 2 ** n - p : p;
  }

  codeCounts(): CodeCounts {
    const total = 2 ** this.bits;
    return { total, finiteValues: total - 1, zeros: 1, subnormals: 0, infinities: 0, nans: 1 };
  }
}
