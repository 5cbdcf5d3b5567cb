/*
 * Accumulator models for matrix products, written once (included after
 * quantize.h by each isa_*.c and by wasm.c). The specification is the
 * TypeScript reference, src/precision/accumulator.ts with
 * accumulator-round.ts and accumulator-quire.ts: every function here is that
 * code's arithmetic in the same IEEE double operations, so each output
 * element gets the same bits, events and random words.
 *
 * Elements are independent: a call computes whole rows [row_begin, row_end)
 * of C, so a thread split over rows never changes a result. Within a row,
 * lanes of a vector are consecutive columns and each lane runs its element's
 * chain over p = 0..k-1 in order (the vector paths below); whatever a vector
 * path cannot do exactly is redone by the scalar path for that element.
 * Exact models run through accum_exact.h, which settles most elements
 * without the quire; here they are the quire's, element by element.
 */

/* ---- scalar helpers: exact ports of src/formats/bits.ts and grid.ts ---- */

static inline uint64_t PC_FN(acc_d2u)(double d) { uint64_t u; __builtin_memcpy(&u, &d, 8); return u; }
static inline double PC_FN(acc_u2d)(uint64_t u) { double d; __builtin_memcpy(&d, &u, 8); return d; }

/* 2^k, exact for every integer k (0 below 2^-1074, Inf above 2^1023), as bits.ts pow2 */
static double PC_FN(acc_pow2)(int k) {
  if (k >= -1022) {
    if (k > 1023) return __builtin_inf();
    return PC_FN(acc_u2d)((uint64_t)(k + 1023) << 52);
  }
  if (k < -1074) return 0.0;
  return PC_FN(acc_pow2)(k + 64) * 5.421010862427522e-20;
}

/* floor(log2(a)) for a finite positive double, subnormals included */
static int PC_FN(acc_exponent)(double a) {
  const int biased = (int)((PC_FN(acc_d2u)(a) >> 52) & 0x7ff);
  if (biased) return biased - 1023;
  return (int)((PC_FN(acc_d2u)(a * 18446744073709551616.0) >> 52) & 0x7ff) - 1023 - 64;
}

/* x mod 2^w with x's sign (JavaScript's %), for an integer-valued finite double x and 1 <= w <= 62 */
static double PC_FN(acc_mod_pow2)(double x, int w) {
  const double ax = __builtin_fabs(x);
  const uint64_t mask = ((uint64_t)1 << w) - 1;
  uint64_t r;
  if (ax < 9007199254740992.0) r = (uint64_t)ax & mask;
  else {
    /* ax = significand * 2^sh with sh >= 1 */
    const uint64_t u = PC_FN(acc_d2u)(ax);
    const int sh = (int)(u >> 52) - 1075;
    const uint64_t sig = (u & 0xfffffffffffffull) | 0x10000000000000ull;
    r = sh >= 64 ? 0 : (sig << sh) & mask;
  }
  const double v = (double)r;
  return x < 0 ? -v : v;
}

/* whether an integer-valued double >= 0 is odd (lo % 2 === 1) */
static inline int PC_FN(acc_odd)(double lo) {
  return lo < 9007199254740992.0 && ((uint64_t)lo & 1);
}

enum { PC_EV_NONE = 0, PC_EV_OVERFLOW = 1, PC_EV_FLUSH = 2, PC_EV_NAN = 3 };

/* One rounder: a float or fixed grid, or a posit (see src/backend/accumulate.ts, AR_*). */
typedef struct {
  int family; /* AR_FAMILY_* */
  int M, tmin, flags, wrap_width, wrap_fraction, parity_offset;
  double max_pos, max_neg, min_normal;
  int mode, saturate, flush, R;
  int posit_n, posit_es;
  double posit_max, posit_min;
  int wrap; /* fixed point: the grid wraps (GRID_WRAP) */
} PC_FN(acc_rounder);

static PC_FN(acc_rounder) PC_FN(acc_rounder_from)(const double *q) {
  PC_FN(acc_rounder) r;
  r.family = (int)q[AR_FAMILY];
  r.M = (int)q[AR_MANTISSA_BITS];
  r.tmin = (int)q[AR_TMIN];
  r.max_pos = q[AR_MAX_POS];
  r.max_neg = q[AR_MAX_NEG];
  r.min_normal = q[AR_MIN_NORMAL];
  r.flags = (int)q[AR_FLAGS];
  r.wrap_width = (int)q[AR_WRAP_WIDTH];
  r.wrap_fraction = (int)q[AR_WRAP_FRACTION];
  r.parity_offset = (int)q[AR_PARITY_OFFSET];
  r.mode = (int)q[AR_MODE];
  r.saturate = q[AR_SATURATE] != 0;
  r.flush = q[AR_FLUSH] != 0;
  r.R = (int)q[AR_RANDOM_BITS];
  r.posit_n = (int)q[AR_POSIT_WIDTH];
  r.posit_es = (int)q[AR_POSIT_ES];
  r.posit_max = r.family == AR_FAMILY_POSIT ? PC_FN(acc_pow2)((r.posit_n - 2) * (1 << r.posit_es)) : 0;
  r.posit_min = r.family == AR_FAMILY_POSIT ? PC_FN(acc_pow2)(-(r.posit_n - 2) * (1 << r.posit_es)) : 0;
  r.wrap = (r.flags & PC_GRID_WRAP) != 0;
  return r;
}

/* grid.ts roundsUp */
static inline int PC_FN(acc_rounds_up)(int mode, int neg, double frac, int odd_low, uint32_t rnd, int R) {
  switch (mode) {
    case PC_ROUND_NEAREST: return frac > 0.5 || (frac == 0.5 && odd_low);
    case PC_ROUND_AWAY: return frac >= 0.5;
    case PC_ROUND_ZERO: return 0;
    case PC_ROUND_DOWN: return neg && frac > 0;
    case PC_ROUND_UP: return !neg && frac > 0;
    default: return __builtin_floor(frac * PC_FN(acc_pow2)(R)) > (double)(rnd >> (32 - R));
  }
}

static inline int PC_FN(acc_toward_zero)(int mode, int neg) {
  return mode == PC_ROUND_ZERO || (mode == PC_ROUND_DOWN && !neg) || (mode == PC_ROUND_UP && neg);
}

static inline double PC_FN(acc_signed)(const PC_FN(acc_rounder) *g, int neg, double v) {
  if (v == 0) return neg && (g->flags & PC_GRID_SIGNED_ZERO) ? -0.0 : 0.0;
  return neg ? -v : v;
}

static double PC_FN(acc_wrap_steps)(const PC_FN(acc_rounder) *g, double n) {
  if (!__builtin_isfinite(n)) return 0;
  const double span = PC_FN(acc_pow2)(g->wrap_width);
  double w = PC_FN(acc_mod_pow2)(n, g->wrap_width) + 0.0;
  if (w < 0) w += span;
  if (!(g->flags & PC_GRID_UNSIGNED) && w >= span / 2) w -= span;
  return w * PC_FN(acc_pow2)(-g->wrap_fraction);
}

/* grid.ts roundToGrid, with the rounder's own grid and rounding */
static double PC_FN(acc_round_grid)(const PC_FN(acc_rounder) *g, double x, uint32_t rnd, int *ev) {
  *ev = PC_EV_NONE;
  if (x != x) {
    *ev = PC_EV_NAN;
    return (g->flags & PC_GRID_NAN) ? __builtin_nan("") : 0.0;
  }
  const int neg = __builtin_signbit(x) != 0;
  const double a = __builtin_fabs(x);
  if (a == 0) return PC_FN(acc_signed)(g, neg, 0);
  const double max = neg ? g->max_neg : g->max_pos;
  double q;
  if (a == __builtin_inf()) {
    if (g->flags & PC_GRID_INF) return x;
    q = a;
  } else {
    int t = PC_FN(acc_exponent)(a) - g->M;
    if (t < g->tmin) t = g->tmin;
    const double s = a * PC_FN(acc_pow2)(-t);
    const double lo = __builtin_floor(s);
    const double frac = s == 0 ? 4.9406564584124654e-324 : s - lo;
    const int odd_low = PC_FN(acc_odd)(lo) && (!(g->flags & PC_GRID_EXP_PARITY) || ((t + g->parity_offset) & 1) == 1);
    const int up = PC_FN(acc_rounds_up)(g->mode, neg, frac, odd_low, rnd, g->R);
    const double steps = up ? lo + 1 : lo;
    if (steps * PC_FN(acc_pow2)(t) > max && (g->flags & PC_GRID_WRAP) && !g->saturate) {
      *ev = PC_EV_OVERFLOW;
      return PC_FN(acc_wrap_steps)(g, neg ? -steps : steps);
    }
    q = steps * PC_FN(acc_pow2)(t);
  }
  if (q > max) {
    *ev = PC_EV_OVERFLOW;
    const int special = (g->flags & (PC_GRID_INF | PC_GRID_NAN)) != 0;
    if (g->saturate || !special || (a != __builtin_inf() && PC_FN(acc_toward_zero)(g->mode, neg))) return PC_FN(acc_signed)(g, neg, max);
    return (g->flags & PC_GRID_INF) ? (neg ? -__builtin_inf() : __builtin_inf()) : __builtin_nan("");
  }
  if (q == 0 || ((g->flush || (g->flags & PC_GRID_FLUSH)) && q < g->min_normal)) {
    *ev = PC_EV_FLUSH;
    return PC_FN(acc_signed)(g, neg, 0);
  }
  return neg ? -q : q;
}

/* ---- posits: ports of posit.ts decodePosit and encodeWith ---- */

static double PC_FN(acc_posit_decode)(double bits, int n, int es) {
  const uint64_t span = (uint64_t)1 << n;
  uint64_t p = (uint64_t)bits % span;
  if (p == 0) return 0;
  const uint64_t nar = span >> 1;
  if (p == nar) return __builtin_nan("");
  const int neg = p > nar;
  if (neg) p = span - p;
  int pos = n - 2;
  const int r0 = (int)((p >> pos) & 1);
  int run = 0;
  while (pos >= 0 && (int)((p >> pos) & 1) == r0) { run++; pos--; }
  pos--;
  const int k = r0 == 1 ? run - 1 : -run;
  int ex = 0;
  for (int i = 0; i < es; i++) {
    ex = ex * 2 + (pos >= 0 ? (int)((p >> pos) & 1) : 0);
    pos--;
  }
  const int fb = pos + 1 > 0 ? pos + 1 : 0;
  const double frac = (double)(p & (((uint64_t)1 << fb) - 1));
  const double v = (1 + frac / PC_FN(acc_pow2)(fb)) * PC_FN(acc_pow2)(k * (1 << es) + ex);
  return neg ? -v : v;
}

static double PC_FN(acc_posit_encode)(const PC_FN(acc_rounder) *g, double x, uint32_t rnd) {
  const int n = g->posit_n, es = g->posit_es;
  const double max_pattern = PC_FN(acc_pow2)(n - 1) - 1;
  if (x != x || x == __builtin_inf() || x == -__builtin_inf()) return PC_FN(acc_pow2)(n - 1);
  if (x == 0) return 0;
  const int neg = x < 0;
  const double a = __builtin_fabs(x);
  const int e = PC_FN(acc_exponent)(a);
  const int k = (int)__builtin_floor((double)e / (double)(1 << es));
  double p;
  if (k >= n - 2) p = max_pattern;
  else if (k <= -(n - 1)) p = 1;
  else {
    const int ex = e - k * (1 << es);
    const double f = a * PC_FN(acc_pow2)(-e) - 1;
    const int rl = k >= 0 ? k + 2 : -k + 1;
    const double regime = k >= 0 ? (PC_FN(acc_pow2)(k + 1) - 1) * 2 : 1;
    const int avail = n - 1 - rl;
    double lo;
    int above, tie, inexact;
    if (avail >= es) {
      const int fb = avail - es;
      const double scaled = f * PC_FN(acc_pow2)(fb);
      const double fi = __builtin_floor(scaled);
      const double rem = scaled - fi;
      lo = (regime * (double)(1 << es) + ex) * PC_FN(acc_pow2)(fb) + fi;
      above = rem > 0.5; tie = rem == 0.5; inexact = rem > 0;
    } else {
      const int d = es - avail;
      lo = regime * PC_FN(acc_pow2)(avail) + (double)(ex >> d);
      const int ex_low = ex & ((1 << d) - 1);
      const int half = 1 << (d - 1);
      above = ex_low > half || (ex_low == half && f > 0);
      tie = ex_low == half && f == 0;
      inexact = ex_low > 0 || f > 0;
    }
    int up;
    switch (g->mode) {
      case PC_ROUND_NEAREST: up = above || (tie && PC_FN(acc_odd)(lo)); break;
      case PC_ROUND_AWAY: up = above || tie; break;
      case PC_ROUND_ZERO: up = 0; break;
      case PC_ROUND_DOWN: up = neg && inexact; break;
      case PC_ROUND_UP: up = !neg && inexact; break;
      default: {
        if (!inexact) { up = 0; break; }
        const double vlo = PC_FN(acc_posit_decode)(lo, n, es), vhi = PC_FN(acc_posit_decode)(lo + 1, n, es);
        const double frac = (a - vlo) / (vhi - vlo);
        up = __builtin_floor(frac * PC_FN(acc_pow2)(g->R)) > (double)(rnd >> (32 - g->R));
      }
    }
    p = up ? lo + 1 : lo;
    if (p > max_pattern) p = max_pattern;
  }
  return neg ? PC_FN(acc_pow2)(n) - p : p;
}

/* accumulator-round.ts PositRounder.round */
static double PC_FN(acc_round_posit)(const PC_FN(acc_rounder) *g, double x, uint32_t rnd, int *ev) {
  const double a = __builtin_fabs(x);
  *ev = a > g->posit_max && a != __builtin_inf() ? PC_EV_OVERFLOW : a > 0 && a < g->posit_min ? PC_EV_FLUSH : PC_EV_NONE;
  return PC_FN(acc_posit_decode)(PC_FN(acc_posit_encode)(g, x, rnd), g->posit_n, g->posit_es);
}

/* Whether a rounder is float32 with round to nearest, subnormals and signed zeros kept and Inf on overflow: what a
 * conversion of a double to float does (and so nothing, without an event, to a value that is a float32). */
static int PC_FN(acc_is_fp32)(const PC_FN(acc_rounder) *r) {
  return r->family == AR_FAMILY_FLOAT && r->M == 23 && r->tmin == -149 && r->max_pos == 3.4028234663852886e38 &&
         r->max_neg == 3.4028234663852886e38 && r->mode == PC_ROUND_NEAREST && !r->flush && !r->saturate &&
         (r->flags & (PC_GRID_FLUSH | PC_GRID_EXP_PARITY | PC_GRID_WRAP)) == 0 && (r->flags & PC_GRID_INF) &&
         (r->flags & PC_GRID_SIGNED_ZERO);
}

static inline double PC_FN(acc_round)(const PC_FN(acc_rounder) *g, double x, uint32_t rnd, int *ev) {
  return g->family == AR_FAMILY_POSIT ? PC_FN(acc_round_posit)(g, x, rnd, ev) : PC_FN(acc_round_grid)(g, x, rnd, ev);
}

/* accumulator-round.ts addToOdd: a + b rounded to odd in double (IEEE's sign for an exact zero) */
static inline double PC_FN(acc_add_to_odd)(double a, double b, int mode) {
  const double s = a + b;
  if (s == 0) {
    const int both_pos_zero = PC_FN(acc_d2u)(a) == 0 && PC_FN(acc_d2u)(b) == 0;
    return mode == PC_ROUND_DOWN && !both_pos_zero ? -0.0 : s;
  }
  const double bb = s - a;
  const double e = (a - (s - bb)) + (b - bb);
  if (!(e < 0 || e > 0)) return s;
  uint64_t u = PC_FN(acc_d2u)(s);
  if (u & 1) return s;
  if ((e > 0) == (s > 0)) u += 1;
  else u -= 1; /* even and nonzero magnitude bits below: toward zero, across a power of two when the low word is 0 */
  return PC_FN(acc_u2d)(u);
}

/* FixedRounder.add's wrap: a count of steps that overflowed, reduced modulo 2^W */
static double PC_FN(acc_fixed_wrap)(const PC_FN(acc_rounder) *g, double steps) {
  const double span = PC_FN(acc_pow2)(g->wrap_width);
  double w = PC_FN(acc_mod_pow2)(steps, g->wrap_width);
  if (w < 0) w += span;
  if (!(g->flags & PC_GRID_UNSIGNED) && w >= span / 2) w -= span;
  return (w + 0.0) * PC_FN(acc_pow2)(-g->wrap_fraction);
}

/* accumulator-round.ts FixedRounder.add: acc + p rounded once from the exact sum */
static double PC_FN(acc_fixed_add)(const PC_FN(acc_rounder) *g, double acc, double p, uint32_t rnd, int *ev) {
  const int F = g->wrap_fraction;
  const double t = p * PC_FN(acc_pow2)(F);
  if (!__builtin_isfinite(t)) return PC_FN(acc_round_grid)(g, acc + p, rnd, ev);
  const double n = acc * PC_FN(acc_pow2)(F);
  if (__builtin_fabs(t) >= 4503599627370496.0) {
    double v;
    if (!g->wrap || g->saturate) v = PC_FN(acc_round_grid)(g, (t > 0 ? 9007199254740992.0 : -9007199254740992.0) * PC_FN(acc_pow2)(-F), 0, ev);
    else v = PC_FN(acc_fixed_wrap)(g, n + PC_FN(acc_mod_pow2)(t, g->wrap_width));
    *ev = PC_EV_OVERFLOW;
    return v;
  }
  const double ti = __builtin_trunc(t);
  const double tf = t - ti;
  const double I = n + ti;
  if (tf == 0) return PC_FN(acc_round_grid)(g, I * PC_FN(acc_pow2)(-F), 0, ev);
  int neg;
  double lo, frac;
  if (I == 0 || (I > 0) == (tf > 0)) {
    neg = tf < 0;
    lo = __builtin_fabs(I);
    frac = __builtin_fabs(tf);
  } else {
    neg = I < 0;
    lo = __builtin_fabs(I) - 1;
    frac = PC_FN(acc_add_to_odd)(1, -__builtin_fabs(tf), PC_ROUND_NEAREST);
  }
  const double steps = PC_FN(acc_rounds_up)(g->mode, neg, frac, PC_FN(acc_odd)(lo), rnd, g->R) ? lo + 1 : lo;
  if (steps == 0) {
    *ev = PC_EV_FLUSH;
    return 0;
  }
  return PC_FN(acc_round_grid)(g, (neg ? -steps : steps) * PC_FN(acc_pow2)(-F), 0, ev);
}

/* Rounder.add: acc + p rounded once */
static inline double PC_FN(acc_add)(const PC_FN(acc_rounder) *g, double acc, double p, uint32_t rnd, int *ev) {
  if (g->family == AR_FAMILY_FIXED) return PC_FN(acc_fixed_add)(g, acc, p, rnd, ev);
  return PC_FN(acc_round)(g, PC_FN(acc_add_to_odd)(acc, p, g->mode), rnd, ev);
}

/* ---- Philox4x32-10, one block (src/rng/philox.ts philox4x32) ---- */

static void PC_FN(acc_philox)(uint64_t counter, const uint32_t key[4], uint32_t out[4]) {
  uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = key[2], c3 = key[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c0 = n0;
    c1 = (uint32_t)p1;
    c2 = n2;
    c3 = (uint32_t)p0;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* ---- the quire (accumulator-quire.ts): limbs of 2^32 as int64, carry-save ---- */

#define PC_QUIRE_LIMBS 22
#define PC_QUIRE_LOW (-320)

typedef struct {
  int64_t l[PC_QUIRE_LIMBS];
  int nan, pos_inf, neg_inf, neg_zero;
  uint32_t pending;
} PC_FN(acc_quire);

static void PC_FN(quire_reset)(PC_FN(acc_quire) *q) {
  for (int j = 0; j < PC_QUIRE_LIMBS; j++) q->l[j] = 0;
  q->nan = q->pos_inf = q->neg_inf = 0;
  q->neg_zero = 1; /* every addend so far -0 (none yet: the caller adds the start value) */
  q->pending = 0;
}

static void PC_FN(quire_carry)(PC_FN(acc_quire) *q) {
  for (int j = 0; j < PC_QUIRE_LIMBS - 1; j++) {
    const int64_t c = q->l[j] >> 32; /* arithmetic: floor division */
    q->l[j] -= c * ((int64_t)1 << 32);
    q->l[j + 1] += c;
  }
  q->pending = 0;
}

/* Adds x exactly: a float32 value or the product of two (48 significant bits). */
static void PC_FN(quire_add)(PC_FN(acc_quire) *q, double x) {
  const uint64_t u = PC_FN(acc_d2u)(x);
  if (x == 0) {
    if (u == 0) q->neg_zero = 0;
    return;
  }
  q->neg_zero = 0;
  if (!__builtin_isfinite(x)) {
    if (x != x) q->nan = 1;
    else if (x > 0) q->pos_inf = 1;
    else q->neg_inf = 1;
    return;
  }
  /* |x| = sig * 2^ex exactly, sig < 2^53 */
  const int biased = (int)((u >> 52) & 0x7ff);
  uint64_t sig = u & 0xfffffffffffffull;
  int ex;
  if (biased) { sig |= 0x10000000000000ull; ex = biased - 1075; }
  else ex = -1074;
  /* drop trailing zeros: x's lowest set bit is at or above 2^-298, the quire's lowest is 2^-320 */
  const int tz = __builtin_ctzll(sig);
  sig >>= tz;
  ex += tz;
  /* the bit offset of sig's lowest bit above the quire's lowest (x's bits are all at or above 2^-320) */
  const int off = ex - PC_QUIRE_LOW;
  const int j = off >> 5, sh = off & 31;
  /* sig << sh spans at most 85 bits: three limbs */
  const uint64_t lo = sig << sh; /* low 64 bits (sh < 32, sig < 2^53: the top bits go to hi) */
  const uint64_t hi = sh ? sig >> (64 - sh) : 0;
  const int64_t s = x < 0 ? -1 : 1;
  q->l[j] += s * (int64_t)(lo & 0xffffffffu);
  if (j + 1 < PC_QUIRE_LIMBS) q->l[j + 1] += s * (int64_t)(lo >> 32);
  if (j + 2 < PC_QUIRE_LIMBS) q->l[j + 2] += s * (int64_t)hi;
  if (++q->pending == (1u << 30)) PC_FN(quire_carry)(q);
}

/* The exact sum rounded to odd in double, as Quire.toOdd */
static double PC_FN(quire_to_odd)(PC_FN(acc_quire) *q) {
  if (q->nan || (q->pos_inf && q->neg_inf)) return __builtin_nan("");
  if (q->pos_inf) return __builtin_inf();
  if (q->neg_inf) return -__builtin_inf();
  int64_t l[PC_QUIRE_LIMBS];
  for (int j = 0; j < PC_QUIRE_LIMBS; j++) l[j] = q->l[j];
  for (int j = 0; j < PC_QUIRE_LIMBS - 1; j++) {
    const int64_t c = l[j] >> 32;
    l[j] -= c * ((int64_t)1 << 32);
    l[j + 1] += c;
  }
  const int neg = l[PC_QUIRE_LIMBS - 1] < 0;
  if (neg) {
    /* negate the two's complement number: complement every limb's 32 bits and add one */
    int64_t carry = 1;
    for (int j = 0; j < PC_QUIRE_LIMBS - 1; j++) {
      const int64_t v = (int64_t)(~(uint64_t)l[j] & 0xffffffffu) + carry;
      l[j] = v & 0xffffffff;
      carry = v >> 32;
    }
    l[PC_QUIRE_LIMBS - 1] = -l[PC_QUIRE_LIMBS - 1] - 1 + carry;
  }
  /* 32-bit digits; the top limb (signed before the negation) may hold more than 32 bits */
  uint64_t d[PC_QUIRE_LIMBS + 1];
  for (int j = 0; j < PC_QUIRE_LIMBS - 1; j++) d[j] = (uint64_t)l[j];
  d[PC_QUIRE_LIMBS - 1] = (uint64_t)l[PC_QUIRE_LIMBS - 1] & 0xffffffffu;
  d[PC_QUIRE_LIMBS] = (uint64_t)l[PC_QUIRE_LIMBS - 1] >> 32;
  int t = PC_QUIRE_LIMBS;
  while (t >= 0 && d[t] == 0) t--;
  if (t < 0) return q->neg_zero ? -0.0 : 0.0;
  /* the top 53 bits as an integer r, the rest as a sticky bit; value = r * 2^scale */
  const int b1 = 32 - __builtin_clz((uint32_t)d[t]); /* bits in the top digit, 1..32 */
  const int need = 53 - b1;                           /* bits wanted from below it, 21..52 */
  const uint64_t d1 = t >= 1 ? d[t - 1] : 0, d2 = t >= 2 ? d[t - 2] : 0;
  uint64_t r, rest;
  int cut, below;
  if (need <= 32) {
    cut = 32 - need;
    rest = d1;
    r = (d[t] << need) | (rest >> cut);
    below = t - 2;
  } else {
    cut = 64 - need;
    rest = d2;
    r = (d[t] << need) | (d1 << (need - 32)) | (rest >> cut);
    below = t - 3;
  }
  int sticky = (rest & (((uint64_t)1 << cut) - 1)) != 0;
  for (int j = below; j >= 0 && !sticky; j--) sticky = d[j] != 0;
  if (sticky && !(r & 1)) r += 1;
  const double v = (double)r * PC_FN(acc_pow2)(32 * t + PC_QUIRE_LOW + b1 - 53);
  return neg ? -v : v;
}

/* ---- one element, scalar: accumulator.ts accumulatedGemm's loop body ---- */

typedef struct {
  int kind; /* AP_KIND_* */
  size_t chunk;
  int has_product, stochastic, out_stochastic;
  int events; /* the caller keeps the counts (else paths that can skip counting do) */
  PC_FN(acc_rounder) acc, product, out;
  uint32_t key[4]; /* Philox: seed (lo, hi), stream (lo, hi) */
} PC_FN(acc_model);

static PC_FN(acc_model) PC_FN(acc_model_from)(const double *p) {
  PC_FN(acc_model) md;
  md.kind = (int)p[AP_KIND];
  md.chunk = (size_t)p[AP_CHUNK];
  md.acc = PC_FN(acc_rounder_from)(p + AP_ACC);
  md.product = PC_FN(acc_rounder_from)(p + AP_PRODUCT);
  md.out = PC_FN(acc_rounder_from)(p + AP_OUTPUT);
  md.has_product = md.product.family != AR_FAMILY_NONE;
  md.stochastic = md.kind == AP_KIND_PER_ADD && md.acc.mode == PC_ROUND_STOCHASTIC;
  md.out_stochastic = md.out.mode == PC_ROUND_STOCHASTIC;
  md.events = p[AP_EVENTS] != 0;
  const uint64_t seed = (uint64_t)p[AP_SEED], stream = (uint64_t)p[AP_STREAM];
  md.key[0] = (uint32_t)seed;
  md.key[1] = (uint32_t)(seed >> 32);
  md.key[2] = (uint32_t)stream;
  md.key[3] = (uint32_t)(stream >> 32);
  return md;
}

/* Tally.note */
static inline void PC_FN(acc_note)(int ev, pc_accum_counts *cnt, int *hit) {
  if (ev == PC_EV_OVERFLOW) { cnt->overflow++; *hit = 1; }
  else if (ev == PC_EV_FLUSH) cnt->underflow++;
}

/* accumulateOne's add: acc + x rounded once, counting swamping and events */
static inline double PC_FN(acc_counted_add)(const PC_FN(acc_rounder) *R, double acc, double x, uint32_t rnd,
                                            pc_accum_counts *cnt, int *hit) {
  int ev;
  const double v = PC_FN(acc_add)(R, acc, x, rnd, &ev);
  if (ev == PC_EV_NONE) {
    if (v == acc && x != 0 && __builtin_isfinite(x) && __builtin_isfinite(acc)) cnt->swamped++;
  } else PC_FN(acc_note)(ev, cnt, hit);
  return v;
}

/* Element (i, j): its sum before the output rounding, as accumulatedGemm computes it. */
static double PC_FN(acc_element_sum)(const PC_FN(acc_model) *md, const pc_accum_args *g, size_t i, size_t j,
                                     pc_accum_counts *cnt, int *hit) {
  const size_t e = i * g->n + j, k = g->k;
  const uint64_t base = (uint64_t)e * (k + 1);
  const double start = g->accumulate ? (double)g->c[e] : 0.0;
  const float *a = g->a + i * g->sai, *b = g->b + j * g->sbj;
  if (md->kind == AP_KIND_EXACT) {
    PC_FN(acc_quire) q;
    PC_FN(quire_reset)(&q);
    PC_FN(quire_add)(&q, start);
    for (size_t p = 0; p < k; p++) PC_FN(quire_add)(&q, (double)a[p * g->sap] * (double)b[p * g->sbp]);
    return PC_FN(quire_to_odd)(&q);
  }
  const PC_FN(acc_rounder) *R = &md->acc, *P = md->has_product ? &md->product : 0;
  uint32_t w[4] = {0, 0, 0, 0};
  if (md->stochastic) PC_FN(acc_philox)(base + k, md->key, w);
  int ev;
  double total = PC_FN(acc_round)(R, start, w[0], &ev);
  PC_FN(acc_note)(ev, cnt, hit);
  double run = 0;
  const size_t chunk = md->chunk;
  for (size_t p = 0, left = chunk; p < k; p++) {
    if (md->stochastic) PC_FN(acc_philox)(base + p, md->key, w);
    double x = (double)a[p * g->sap] * (double)b[p * g->sbp];
    if (P) {
      x = PC_FN(acc_round)(P, x, w[1], &ev);
      PC_FN(acc_note)(ev, cnt, hit);
    }
    if (chunk == 0) total = PC_FN(acc_counted_add)(R, total, x, w[0], cnt, hit);
    else {
      run = PC_FN(acc_counted_add)(R, run, x, w[0], cnt, hit);
      if (--left == 0 || p == k - 1) {
        total = PC_FN(acc_counted_add)(R, total, run, w[2], cnt, hit);
        run = 0;
        left = chunk;
      }
    }
  }
  return total;
}

/* Element (i, j), written to C through the output rounding, with its overflow flag. */
static void PC_FN(acc_element_out)(const PC_FN(acc_model) *md, const pc_accum_args *g, size_t i, size_t j, double sum,
                                   pc_accum_counts *cnt, int hit) {
  const size_t e = i * g->n + j;
  uint32_t w[4] = {0, 0, 0, 0};
  if (md->out_stochastic) PC_FN(acc_philox)((uint64_t)e * (g->k + 1) + g->k, md->key, w);
  int ev;
  const double v = PC_FN(acc_round)(&md->out, sum, w[1], &ev);
  PC_FN(acc_note)(ev, cnt, &hit);
  g->c[e] = (float)v;
  g->overflowed[e] = (uint8_t)hit;
}

static void PC_FN(acc_element)(const PC_FN(acc_model) *md, const pc_accum_args *g, size_t i, size_t j, pc_accum_counts *cnt) {
  int hit = 0;
  const double sum = PC_FN(acc_element_sum)(md, g, i, j, cnt, &hit);
  PC_FN(acc_element_out)(md, g, i, j, sum, cnt, hit);
}

/* ---- vector types of the per-add tiles: lanes are columns, in double ---- */

#define PC_ACC_DL (PC_VBYTES / 8) /* double lanes */
typedef double PC_FN(acc_vd) __attribute__((vector_size(PC_VBYTES)));
typedef int64_t PC_FN(acc_vl) __attribute__((vector_size(PC_VBYTES)));
typedef float PC_FN(acc_vh) __attribute__((vector_size(PC_VBYTES / 2)));

/* ---- per-add accumulators (float, fixed point, posit), vectorised: lanes are columns ---- */

/*
 * A float or fixed-point grid in double lanes, for round_grid's arithmetic.
 * The step 2^t is max(2^e · 2^-M, 2^tmin) from a's exponent bits (a
 * subnormal a has e bits 0 and gets 2^tmin, as the scalar t = max(e - M,
 * tmin) does), and 2^-t is its bit complement, so both are the exact powers
 * the scalar path builds; with 1 <= M <= 51 a scaled value is below 2^52.
 * Limits below 2^1000 keep every sum of an accumulator value and a product
 * finite. A lane whose input is Inf or NaN, or whose overflow gives Inf or
 * NaN, returns NaN: NaN survives every later add, and marks the element for
 * the scalar path.
 *
 * A fixed-point grid is the float grid with M = acc_vgrid_m's bits and
 * tmin = -F: its step is 2^-F below 2^M steps, far beyond the range, and the
 * sums rounded to odd in double keep the bits its rounding needs there
 * (FixedRounder.add rounds the exact sum). Wrapping takes the step count
 * modulo 2^W; a wrapping lane whose sum reached the coarser steps (a
 * product beyond 2^M steps) goes to the scalar path.
 */
typedef struct {
  PC_FN(acc_vd) ulp, step_min, max_pos, max_neg, flush_below, rscale;
  PC_FN(acc_vd) span, wrap_top, rspan; /* wrapping: 2^W steps, the first count that wraps (2^(W-1), unsigned 2^W), 2^-W */
  /* posits (acc_vround_posit): 2^-es, N - 1 - es, the regimes beyond which every value is maxpos or minpos */
  PC_FN(acc_vd) pes_scale, pbody, pk_max, pk_min, pmax, pmin;
  int signed_zero, special, asymmetric, rshift, wrap, pes;
} PC_FN(acc_vgrid);

static inline PC_FN(acc_vd) PC_FN(acc_vsplat)(double x) {
  PC_FN(acc_vd) v;
  for (int l = 0; l < PC_ACC_DL; l++) v[l] = x;
  return v;
}

/* The M of the grid acc_vround uses: the float grid's own; for fixed point, as many bits as a sum rounded to odd in
 * double keeps for rounding at 2^-F, with the random bits of a stochastic rounding below them and one to spare. */
static int PC_FN(acc_vgrid_m)(const PC_FN(acc_rounder) *r) {
  if (r->family != AR_FAMILY_FIXED) return r->M;
  return 50 - (r->mode == PC_ROUND_STOCHASTIC ? r->R : 0);
}

/* whether the vector rounding reproduces this rounder's round_grid (for fixed point, its add; see acc_vgrid) */
static int PC_FN(acc_vgrid_ok)(const PC_FN(acc_rounder) *r) {
  if (r->family == AR_FAMILY_POSIT) return r->mode >= PC_ROUND_NEAREST && r->mode <= PC_ROUND_STOCHASTIC;
  const int M = PC_FN(acc_vgrid_m)(r);
  const int family_ok = r->family == AR_FAMILY_FLOAT ? !r->wrap : r->family == AR_FAMILY_FIXED && r->wrap_width <= M;
  return family_ok && !(r->flags & PC_GRID_EXP_PARITY) && M >= 1 && M <= 51 && r->tmin >= -1022 && r->tmin <= 52 &&
         r->max_pos < 1e300 && r->max_neg < 1e300 && r->mode >= PC_ROUND_NEAREST && r->mode <= PC_ROUND_STOCHASTIC;
}

static PC_FN(acc_vgrid) PC_FN(acc_vgrid_from)(const PC_FN(acc_rounder) *r) {
  PC_FN(acc_vgrid) v;
  v.ulp = PC_FN(acc_vsplat)(PC_FN(acc_pow2)(-PC_FN(acc_vgrid_m)(r)));
  v.step_min = PC_FN(acc_vsplat)(PC_FN(acc_pow2)(r->tmin));
  v.max_pos = PC_FN(acc_vsplat)(r->max_pos);
  v.max_neg = PC_FN(acc_vsplat)(r->max_neg);
  v.asymmetric = r->max_pos != r->max_neg;
  /* q < flush_below: q == 0, or below the normal range when flushing */
  v.flush_below = PC_FN(acc_vsplat)((r->flush || (r->flags & PC_GRID_FLUSH)) && r->min_normal > 4.9406564584124654e-324
                                        ? r->min_normal
                                        : 4.9406564584124654e-324);
  v.rscale = PC_FN(acc_vsplat)(r->mode == PC_ROUND_STOCHASTIC ? PC_FN(acc_pow2)(r->R) : 0);
  v.rshift = r->mode == PC_ROUND_STOCHASTIC ? 32 - r->R : 0;
  v.signed_zero = (r->flags & PC_GRID_SIGNED_ZERO) != 0;
  v.special = !r->saturate && (r->flags & (PC_GRID_INF | PC_GRID_NAN)) != 0;
  v.wrap = r->wrap && !r->saturate;
  v.span = PC_FN(acc_vsplat)(PC_FN(acc_pow2)(r->wrap_width));
  v.wrap_top = PC_FN(acc_vsplat)(PC_FN(acc_pow2)(r->wrap_width - ((r->flags & PC_GRID_UNSIGNED) ? 0 : 1)));
  v.rspan = PC_FN(acc_vsplat)(PC_FN(acc_pow2)(-r->wrap_width));
  v.pes = r->posit_es;
  v.pes_scale = PC_FN(acc_vsplat)(PC_FN(acc_pow2)(-r->posit_es));
  v.pbody = PC_FN(acc_vsplat)(r->posit_n - 1 - r->posit_es);
  v.pk_max = PC_FN(acc_vsplat)(r->posit_n - 2);
  v.pk_min = PC_FN(acc_vsplat)(-(r->posit_n - 1));
  v.pmax = PC_FN(acc_vsplat)(r->posit_max);
  v.pmin = PC_FN(acc_vsplat)(r->posit_min);
  return v;
}

#define PC_ACC_SIGN INT64_MIN
#define PC_ACC_TWO52 4503599627370496.0
/* events of a lane in one int64: overflows in the high half, flushes in the low (k < 2^30 keeps them apart) */
#define PC_ACC_OV_ONE ((int64_t)1 << 32)

static inline __attribute__((always_inline)) PC_FN(acc_vd) PC_FN(acc_vsel)(PC_FN(acc_vl) m, PC_FN(acc_vd) a, PC_FN(acc_vd) b) {
  return (PC_FN(acc_vd))(((PC_FN(acc_vl))a & m) | ((PC_FN(acc_vl))b & ~m));
}
static inline __attribute__((always_inline)) PC_FN(acc_vl) PC_FN(acc_vlsel)(PC_FN(acc_vl) m, PC_FN(acc_vl) a, PC_FN(acc_vl) b) {
  return (a & m) | (b & ~m);
}

/* Whether any lane of a mask is set; rounding to an integer and the larger of two lanes (neither a NaN here), in one
 * instruction where the ISA has one; the fallbacks are exact for |x| < 2^52, the only range they see. */
#if defined(__wasm__)
#define PC_ACC_ANY(m) (((m)[0] | (m)[1]) != 0)
#define PC_ACC_RINT(x) __builtin_elementwise_roundeven(x)
#define PC_ACC_FLOOR(x) __builtin_elementwise_floor(x)
#define PC_ACC_MAX(a, b) ((PC_FN(acc_vd))__builtin_wasm_pmax_f64x2((a), (b)))
#elif PC_VBYTES == 64
#define PC_ACC_ANY(m) (_mm512_test_epi64_mask((__m512i)(m), (__m512i)(m)) != 0)
#define PC_ACC_RINT(x) ((PC_FN(acc_vd))_mm512_roundscale_pd((__m512d)(x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC))
#define PC_ACC_FLOOR(x) ((PC_FN(acc_vd))_mm512_roundscale_pd((__m512d)(x), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC))
#define PC_ACC_MAX(a, b) ((PC_FN(acc_vd))_mm512_max_pd((__m512d)(a), (__m512d)(b)))
#elif PC_VBYTES == 32
#define PC_ACC_ANY(m) (_mm256_movemask_pd((__m256d)(m)) != 0)
#define PC_ACC_RINT(x) ((PC_FN(acc_vd))_mm256_round_pd((__m256d)(x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC))
#define PC_ACC_FLOOR(x) ((PC_FN(acc_vd))_mm256_round_pd((__m256d)(x), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC))
#define PC_ACC_MAX(a, b) ((PC_FN(acc_vd))_mm256_max_pd((__m256d)(a), (__m256d)(b)))
#else
#define PC_ACC_ANY(m) (_mm_movemask_pd((__m128d)(m)) != 0)
#define PC_ACC_RINT(x) PC_FN(acc_vrint)(x)
#define PC_ACC_FLOOR(x) PC_FN(acc_vfloor)(x)
#define PC_ACC_MAX(a, b) ((PC_FN(acc_vd))_mm_max_pd((__m128d)(a), (__m128d)(b)))
/* adding and taking away 2^52 with x's sign rounds any |x| < 2^52 to an integer */
static inline __attribute__((always_inline)) PC_FN(acc_vd) PC_FN(acc_vrint)(PC_FN(acc_vd) x) {
  const PC_FN(acc_vd) c = (PC_FN(acc_vd))((PC_FN(acc_vl))PC_FN(acc_vsplat)(PC_ACC_TWO52) | ((PC_FN(acc_vl))x & PC_ACC_SIGN));
  return (x + c) - c;
}
static inline __attribute__((always_inline)) PC_FN(acc_vd) PC_FN(acc_vfloor)(PC_FN(acc_vd) x) {
  const PC_FN(acc_vd) r = PC_ACC_RINT(x);
  return r - (PC_FN(acc_vd))((PC_FN(acc_vl))PC_FN(acc_vsplat)(1.0) & (PC_FN(acc_vl))(r > x));
}
#endif

/* A stochastic rounding's decision, from the fraction of a step a lane lies above its lower neighbour and the lane's
 * random word (low 32 bits): floor(frac · 2^R) > n  <=>  frac · 2^R >= n + 1, for the integer n of its top R bits */
static inline __attribute__((always_inline)) PC_FN(acc_vl) PC_FN(acc_vrandom_up)(const PC_FN(acc_vgrid) *G, PC_FN(acc_vd) frac,
                                                                                 PC_FN(acc_vl) rnd) {
  const PC_FN(acc_vl) n = (rnd & 0xffffffffll) >> G->rshift;
  const PC_FN(acc_vd) n1 = (PC_FN(acc_vd))(n | 0x4330000000000000ll) - (PC_ACC_TWO52 - 1);
  return (PC_FN(acc_vl))(frac * G->rscale >= n1);
}

/*
 * round_grid on each lane; `mode` is a compile-time constant at every call
 * site. rnd holds the random word in its low 32 bits (stochastic only); ov and
 * un become the overflow and flush event masks.
 */
static inline __attribute__((always_inline)) PC_FN(acc_vd)
    PC_FN(acc_vround)(const PC_FN(acc_vgrid) *G, PC_FN(acc_vd) x, PC_FN(acc_vl) rnd, const int mode, PC_FN(acc_vl) *ov,
                      PC_FN(acc_vl) *un) {
  typedef PC_FN(acc_vd) vd;
  typedef PC_FN(acc_vl) vl;
  const vl sign = (vl)x & PC_ACC_SIGN;
  const vd a = (vd)((vl)x & INT64_MAX);
  const vd step = PC_ACC_MAX((vd)((vl)a & 0x7ff0000000000000ll) * G->ulp, G->step_min);
  const vd s = a * (vd)(0x7fe0000000000000ll - (vl)step);
  vd steps;
  if (mode == PC_ROUND_NEAREST) steps = PC_ACC_RINT(s);
  else {
    const vd lo = PC_ACC_FLOOR(s);
    const vd frac = s - lo;
    vl up;
    if (mode == PC_ROUND_AWAY) up = (vl)(frac >= 0.5);
    else if (mode == PC_ROUND_ZERO) up = (vl){0};
    else if (mode == PC_ROUND_DOWN) up = (sign != 0) & (vl)(frac > 0);
    else if (mode == PC_ROUND_UP) up = (sign == 0) & (vl)(frac > 0);
    else up = PC_FN(acc_vrandom_up)(G, frac, rnd);
    steps = lo + (vd)((vl)PC_FN(acc_vsplat)(1.0) & up);
  }
  const vd q = steps * step;
  const vd max = G->asymmetric ? PC_FN(acc_vsel)(sign != 0, G->max_neg, G->max_pos) : G->max_pos;
  const vl over = (vl)(q > max);
  /* a zero input has q = 0 and no event */
  const vl flushed = ~over & (vl)(q < G->flush_below) & (vl)(a != 0);
  vl bad = ~(vl)(a <= 1.7976931348623157e308);
  vd over_mag = max; /* what an overflowing lane becomes */
  vl out_sign = sign;
  if (G->wrap) {
    /* an overflowing lane takes its signed step count modulo 2^W (FixedRounder's wrap): the magnitude's residue, negated
     * for a negative count, then moved into the format's range */
    const vd mres = steps - G->span * PC_ACC_FLOOR(steps * G->rspan);
    const vd res = PC_FN(acc_vsel)((sign != 0) & (vl)(mres != 0), G->span - mres, mres);
    const vd w = res - (vd)((vl)G->span & (vl)(res >= G->wrap_top));
    over_mag = (vd)((vl)w & INT64_MAX) * step;
    out_sign = (over & (vl)w & PC_ACC_SIGN) | (~over & sign);
    bad |= (vl)(step != G->step_min); /* the count is exact only in 2^-F steps */
  }
  if (G->special) {
    /* toward zero saturates, else the element goes to Inf or NaN, which the scalar path carries */
    vl toward = (vl){0};
    if (mode == PC_ROUND_ZERO) toward = ~toward;
    else if (mode == PC_ROUND_DOWN) toward = sign == 0;
    else if (mode == PC_ROUND_UP) toward = sign != 0;
    bad |= over & ~toward;
  }
  const vd mag = PC_FN(acc_vsel)(over, over_mag, (vd)((vl)q & ~flushed));
  vl keep = out_sign;
  if (!G->signed_zero) keep &= ~(vl)(mag == 0);
  *ov = over;
  *un = flushed;
  return (vd)((vl)mag | keep | bad); /* all ones: a NaN */
}

/* 2^t for an integer-valued t with -1022 <= t <= 1023, built in the exponent field (other lanes give other bits) */
static inline __attribute__((always_inline)) PC_FN(acc_vd) PC_FN(acc_vpow2)(PC_FN(acc_vd) t) {
  return (PC_FN(acc_vd))((PC_FN(acc_vl))(t + (PC_ACC_TWO52 + 1023)) << 52);
}

/* whether an integer-valued x with |x| < 2^51 is odd: x + 1.5 · 2^52 lies where the last bit of the significand is 1 */
static inline __attribute__((always_inline)) PC_FN(acc_vl) PC_FN(acc_vodd)(PC_FN(acc_vd) x) {
  return -((PC_FN(acc_vl))(x + 1.5 * PC_ACC_TWO52) & 1);
}

/*
 * acc_round_posit on each lane, in the value domain rather than on patterns.
 * With E = floor(log2 |x|) and the regime k = floor(E / 2^es), a posit has
 * N - 1 - rl - es fraction bits there (rl = k + 2 for k >= 0, else 1 - k).
 * Where that count fb is >= 0 the posits of [2^E, 2^(E+1)) are a uniform
 * grid of step 2^(E - fb), and the next one up is one step on (2^(E+1) at
 * the top); the last bit of the pattern is the step count's, or for fb = 0
 * the exponent's (the regime's with es = 0). Where fb < 0 the regime has
 * taken d = -fb of the exponent's bits: the posits are the powers of two
 * whose exponents are multiples of 2^d, and the rounding is the exponent's
 * (a tie is exactly 2^(E_lo + 2^(d-1))), with the fraction as its sticky
 * bit; a stochastic rounding there weighs (|x| - lo) / (hi - lo) as the
 * scalar path does. Beyond the regimes every value is maxpos or minpos, and
 * no nonzero value becomes zero. An Inf or NaN lane returns NaN.
 */
static inline __attribute__((always_inline)) PC_FN(acc_vd)
    PC_FN(acc_vround_posit)(const PC_FN(acc_vgrid) *G, PC_FN(acc_vd) x, PC_FN(acc_vl) rnd, const int mode, PC_FN(acc_vl) *ov,
                            PC_FN(acc_vl) *un) {
  typedef PC_FN(acc_vd) vd;
  typedef PC_FN(acc_vl) vl;
  const vd one = PC_FN(acc_vsplat)(1.0);
  const vl sign = (vl)x & PC_ACC_SIGN;
  const vd a = (vd)((vl)x & INT64_MAX);
  const vl fraction = ((vl)a & 0x000fffffffffffffll) != 0; /* |x| is not a power of two */
  /* E from the exponent field: -1023 for a subnormal, which lies below every posit's minpos as its true exponent does */
  const vd E = (vd)(((vl)a >> 52) | 0x4330000000000000ll) - (PC_ACC_TWO52 + 1023);
  const vd k = PC_ACC_FLOOR(E * G->pes_scale);
  const vl kneg = (vl)(k < 0);
  const vd fb = G->pbody - PC_FN(acc_vsel)(kneg, one - k, k + 2);
  const vl uniform = (vl)(fb >= 0);
  const vl zero = (vl)(a == 0);
  /* the uniform grid of [2^E, 2^(E+1)) */
  const vd t = E - fb;
  const vd step = PC_FN(acc_vpow2)(t);
  const vd s = a * PC_FN(acc_vpow2)(-t);
  const vd lo_steps = PC_ACC_FLOOR(s);
  const vd frac = s - lo_steps;
  vd lo = lo_steps * step, hi = lo + step, weight = frac;
  vl above = (vl)(frac > 0.5), tie = (vl)(frac == 0.5), inexact = (vl)(frac > 0);
  vl odd = PC_FN(acc_vlsel)((vl)(fb >= 1), PC_FN(acc_vodd)(lo_steps), G->pes ? PC_FN(acc_vodd)(E) : kneg);
  const vl cut = ~uniform & ~zero;
  const int any_cut = PC_ACC_ANY(cut); /* rare: most sums lie where the grid is uniform */
  if (any_cut) {
    /* the exponent cut to a multiple of 2^d, d = -fb */
    const vd pd = PC_FN(acc_vpow2)(-fb);
    const vd e_hi = PC_ACC_FLOOR(E * PC_FN(acc_vpow2)(fb));
    const vd ex_low = E - pd * e_hi;
    const vd half = pd * 0.5;
    const vl at_half = (vl)(ex_low == half);
    const vd lo_c = PC_FN(acc_vpow2)(E - ex_low), hi_c = PC_FN(acc_vpow2)(E - ex_low + pd);
    lo = PC_FN(acc_vsel)(cut, lo_c, lo);
    hi = PC_FN(acc_vsel)(cut, hi_c, hi);
    above = PC_FN(acc_vlsel)(cut, (vl)(ex_low > half) | (at_half & fraction), above);
    tie = PC_FN(acc_vlsel)(cut, at_half & ~fraction, tie);
    inexact = PC_FN(acc_vlsel)(cut, (vl)(ex_low > 0) | fraction, inexact);
    odd = PC_FN(acc_vlsel)(cut, PC_FN(acc_vlsel)((vl)(fb > -(double)G->pes), PC_FN(acc_vodd)(e_hi), kneg), odd);
    if (mode == PC_ROUND_STOCHASTIC) weight = PC_FN(acc_vsel)(cut, (a - lo_c) / (hi_c - lo_c), weight);
  }
  vl up;
  if (mode == PC_ROUND_NEAREST) up = above | (tie & odd);
  else if (mode == PC_ROUND_AWAY) up = above | tie;
  else if (mode == PC_ROUND_ZERO) up = (vl){0};
  else if (mode == PC_ROUND_DOWN) up = (sign != 0) & inexact;
  else if (mode == PC_ROUND_UP) up = (sign == 0) & inexact;
  else up = PC_FN(acc_vrandom_up)(G, weight, rnd);
  vd mag = PC_FN(acc_vsel)(up, hi, lo);
  if (any_cut) {
    /* beyond the regimes */
    mag = PC_FN(acc_vsel)((vl)(k >= G->pk_max), G->pmax, mag);
    mag = PC_FN(acc_vsel)((vl)(k <= G->pk_min), G->pmin, mag);
  }
  const vl bad = ~(vl)(a <= 1.7976931348623157e308);
  *ov = (vl)(a > G->pmax) & ~bad;
  *un = ~zero & (vl)(a < G->pmin);
  return (vd)(((vl)mag & ~zero) | (sign & ~zero) | bad); /* all ones: a NaN */
}

/* the rounding of a lane rounder: a posit's, or a float or fixed-point grid's (`posit` a compile-time constant) */
static inline __attribute__((always_inline)) PC_FN(acc_vd)
    PC_FN(acc_vround_lane)(const PC_FN(acc_vgrid) *G, PC_FN(acc_vd) x, PC_FN(acc_vl) rnd, const int mode, const int posit,
                           PC_FN(acc_vl) *ov, PC_FN(acc_vl) *un) {
  return posit ? PC_FN(acc_vround_posit)(G, x, rnd, mode, ov, un) : PC_FN(acc_vround)(G, x, rnd, mode, ov, un);
}

/* acc_add_to_odd on each lane (an Inf or NaN sum stays Inf or NaN) */
static inline __attribute__((always_inline)) PC_FN(acc_vd) PC_FN(acc_vadd_to_odd)(PC_FN(acc_vd) a, PC_FN(acc_vd) b, const int mode) {
  typedef PC_FN(acc_vd) vd;
  typedef PC_FN(acc_vl) vl;
#if PC_VBYTES == 64 && !defined(__wasm__)
  /* rounded toward zero, with the sticky bit in the last place where the sum was inexact (its upward and downward
   * roundings differ); no finite sum here overflows (acc_vgrid), so toward zero never turns Inf into a finite value */
  const __m512d A = (__m512d)a, B = (__m512d)b;
  const __mmask8 inexact = _mm512_cmp_pd_mask(_mm512_add_round_pd(A, B, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC),
                                              _mm512_add_round_pd(A, B, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC), _CMP_NEQ_UQ);
  const __m512i z = (__m512i)_mm512_add_round_pd(A, B, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  vl u = (vl)_mm512_mask_or_epi64(z, inexact, z, _mm512_set1_epi64(1));
  const vd s = (vd)u;
#else
  const vd s = a + b;
  const vd bb = s - a;
  const vd e = (a - (s - bb)) + (b - bb);
  vl u = (vl)s;
  const vl inexact = (vl)(e < 0) | (vl)(e > 0);
  /* +1 on the bits when the error has the sum's sign, else -1 */
  const vl delta = (vl)(((vl)e ^ u) < 0) | 1;
  u += delta & inexact & ((u & 1) - 1);
#endif
  if (mode == PC_ROUND_DOWN) u |= PC_ACC_SIGN & (vl)(s == 0) & (((vl)a | (vl)b) != 0);
  return (vd)u;
}

/* Philox4x32-10 words 0..2 of the block with counter ctr, one block per 64-bit lane (as philox_fill) */
static inline __attribute__((always_inline)) void PC_FN(acc_vphilox)(VQ ctr, const uint32_t ks0[10], const uint32_t ks1[10],
                                                                      uint32_t k2, uint32_t k3, VQ *w0, VQ *w1, VQ *w2) {
  VQ x0 = ctr & 0xffffffffull, x1 = ctr >> 32, x2 = (VQ){0} + k2, x3 = (VQ){0} + k3;
#pragma GCC unroll 10
  for (int r = 0; r < 10; r++) {
    const VQ p0 = PC_MUL32(x0, 0xD2511F53u), p1 = PC_MUL32(x2, 0xCD9E8D57u);
    x0 = (p1 >> 32) ^ x1 ^ ks0[r];
    x2 = (p0 >> 32) ^ x3 ^ ks1[r];
    x1 = p1;
    x3 = p0;
  }
  *w0 = x0;
  *w1 = x1;
  *w2 = x2;
}

/* acc_counted_add on each lane, counting into evc and sw */
static inline __attribute__((always_inline)) PC_FN(acc_vd)
    PC_FN(acc_vcounted_add)(const PC_FN(acc_vgrid) *G, PC_FN(acc_vd) acc, PC_FN(acc_vd) x, PC_FN(acc_vl) rnd, const int mode,
                            const int posit, PC_FN(acc_vl) *evc, PC_FN(acc_vl) *sw) {
  typedef PC_FN(acc_vl) vl;
  vl o, u;
  const PC_FN(acc_vd) y = PC_FN(acc_vround_lane)(G, PC_FN(acc_vadd_to_odd)(acc, x, mode), rnd, mode, posit, &o, &u);
  *evc += o & PC_ACC_OV_ONE;
  *evc -= u;
  *sw -= (vl)(y == acc) & (vl)(x != 0) & ~(o | u);
  return y;
}

#ifndef PC_PA_RT
#define PC_PA_RT 2 /* rows of a per-add tile */
#endif
#ifndef PC_PA_VT
#define PC_PA_VT 2 /* vectors of a per-add tile row */
#endif

/*
 * A tile of PA_RT rows x PA_VT*DL columns of a per-add model whose rounders
 * pass acc_vgrid_ok: acc_element_sum's loop, each lane one element, the
 * chunk boundaries shared by all. Lanes that end NaN are redone by the
 * scalar path, their vector counts dropped.
 */
static inline __attribute__((always_inline)) void PC_FN(acc_peradd_tile)(const PC_FN(acc_model) *md, const PC_FN(acc_vgrid) *Gp,
                                                                         const PC_FN(acc_vgrid) *PGp, const pc_accum_args *g,
                                                                         size_t i0, size_t j0, pc_accum_counts *cnt, const int mode,
                                                                         const int posit) {
  typedef PC_FN(acc_vd) vd;
  typedef PC_FN(acc_vl) vl;
  typedef PC_FN(acc_vh) vh;
  enum { DL = PC_ACC_DL, RT = PC_PA_RT, VT = PC_PA_VT };
  const int stochastic = mode == PC_ROUND_STOCHASTIC;
  /* copies the loop can keep in registers: nothing it stores may alias them */
  const PC_FN(acc_vgrid) Gl = *Gp, PGl = PGp ? *PGp : *Gp;
  const PC_FN(acc_vgrid) *G = &Gl, *PG = PGp ? &PGl : 0;
  const size_t k = g->k, sap = g->sap, sbp = g->sbp, sbj = g->sbj, chunk = md->chunk;
  vd tot[RT][VT], run[RT][VT];
  vl sw[RT][VT], evc[RT][VT];
  VQ ctr[RT][VT];
  const float *arow[RT];
  for (int r = 0; r < RT; r++) {
    arow[r] = g->a + (i0 + r) * g->sai;
    for (int v = 0; v < VT; v++) {
      for (int l = 0; l < DL; l++) {
        const size_t e = (i0 + r) * g->n + j0 + v * DL + l;
        ctr[r][v][l] = (uint64_t)e * (k + 1);
        uint32_t w[4] = {0, 0, 0, 0};
        if (stochastic) PC_FN(acc_philox)(ctr[r][v][l] + k, md->key, w);
        int ev;
        const double x = PC_FN(acc_round)(&md->acc, g->accumulate ? (double)g->c[e] : 0.0, w[0], &ev);
        tot[r][v][l] = ev == PC_EV_NAN || !__builtin_isfinite(x) ? __builtin_nan("") : x;
        evc[r][v][l] = ev == PC_EV_OVERFLOW ? PC_ACC_OV_ONE : ev == PC_EV_FLUSH;
      }
      run[r][v] = (vd){0};
      sw[r][v] = (vl){0};
    }
  }
  uint32_t ks0[10], ks1[10];
  for (int r = 0; r < 10; r++) {
    ks0[r] = md->key[0] + (uint32_t)r * 0x9E3779B9u;
    ks1[r] = md->key[1] + (uint32_t)r * 0xBB67AE85u;
  }
  size_t left = chunk;
  for (size_t p = 0; p < k; p++) {
    vd bv[VT];
    const float *bp = g->b + p * sbp + j0 * sbj;
    if (sbj == 1) {
      for (int v = 0; v < VT; v++) {
        vh h;
        __builtin_memcpy(&h, bp + v * DL, sizeof h);
        bv[v] = __builtin_convertvector(h, vd);
      }
    } else {
      for (int v = 0; v < VT; v++)
        for (int l = 0; l < DL; l++) bv[v][l] = (double)bp[(size_t)(v * DL + l) * sbj];
    }
    const int ends = chunk != 0 && (--left == 0 || p == k - 1);
#pragma GCC unroll 8
    for (int r = 0; r < RT; r++) {
      const double av = (double)arow[r][p * sap];
#pragma GCC unroll 4
      for (int v = 0; v < VT; v++) {
        VQ w0 = (VQ){0}, w1 = (VQ){0}, w2 = (VQ){0};
        if (stochastic) PC_FN(acc_vphilox)(ctr[r][v] + p, ks0, ks1, md->key[2], md->key[3], &w0, &w1, &w2);
        vd x = av * bv[v];
        vl o, u;
        if (PG) {
          x = PC_FN(acc_vround_lane)(PG, x, (vl)w1, mode, posit, &o, &u);
          evc[r][v] += o & PC_ACC_OV_ONE;
          evc[r][v] -= u;
        }
        if (!chunk) tot[r][v] = PC_FN(acc_vcounted_add)(G, tot[r][v], x, (vl)w0, mode, posit, &evc[r][v], &sw[r][v]);
        else {
          run[r][v] = PC_FN(acc_vcounted_add)(G, run[r][v], x, (vl)w0, mode, posit, &evc[r][v], &sw[r][v]);
          if (ends) {
            tot[r][v] = PC_FN(acc_vcounted_add)(G, tot[r][v], run[r][v], (vl)w2, mode, posit, &evc[r][v], &sw[r][v]);
            run[r][v] = (vd){0};
          }
        }
      }
    }
    if (ends) left = chunk;
  }
  for (int r = 0; r < RT; r++)
    for (int v = 0; v < VT; v++)
      for (int l = 0; l < DL; l++) {
        const size_t i = i0 + r, j = j0 + v * DL + l;
        const double t = tot[r][v][l];
        if (t != t) {
          PC_FN(acc_element)(md, g, i, j, cnt);
          continue;
        }
        const uint64_t ev = (uint64_t)evc[r][v][l];
        cnt->swamped += (uint64_t)sw[r][v][l];
        cnt->overflow += ev >> 32;
        cnt->underflow += ev & 0xffffffffu;
        PC_FN(acc_element_out)(md, g, i, j, t, cnt, (ev >> 32) != 0);
      }
}

/* One tile at (i, j), in the model's rounding mode; P: the product's grid, or null. */
static void PC_FN(acc_peradd_rows)(const PC_FN(acc_model) *md, const PC_FN(acc_vgrid) *G, const PC_FN(acc_vgrid) *P,
                                   const pc_accum_args *g, size_t i, size_t j, pc_accum_counts *cnt) {
  const int posit = md->acc.family == AR_FAMILY_POSIT;
#define PC_PA_TILE(mode) \
  (posit ? PC_FN(acc_peradd_tile)(md, G, P, g, i, j, cnt, mode, 1) : PC_FN(acc_peradd_tile)(md, G, P, g, i, j, cnt, mode, 0))
  switch (md->acc.mode) {
    case PC_ROUND_NEAREST: PC_PA_TILE(PC_ROUND_NEAREST); break;
    case PC_ROUND_AWAY: PC_PA_TILE(PC_ROUND_AWAY); break;
    case PC_ROUND_ZERO: PC_PA_TILE(PC_ROUND_ZERO); break;
    case PC_ROUND_DOWN: PC_PA_TILE(PC_ROUND_DOWN); break;
    case PC_ROUND_UP: PC_PA_TILE(PC_ROUND_UP); break;
    default: PC_PA_TILE(PC_ROUND_STOCHASTIC);
  }
#undef PC_PA_TILE
}

/* whether the per-add vector tiles reproduce this model (else every element takes the scalar path) */
static int PC_FN(acc_peradd_vector_ok)(const PC_FN(acc_model) *md, size_t k) {
  if (md->kind != AP_KIND_PER_ADD || !PC_FN(acc_vgrid_ok)(&md->acc) || k >= ((size_t)1 << 30)) return 0;
  if (!md->has_product) return 1;
  return PC_FN(acc_vgrid_ok)(&md->product) && md->product.mode == md->acc.mode && md->product.R == md->acc.R &&
         (md->product.family == AR_FAMILY_POSIT) == (md->acc.family == AR_FAMILY_POSIT);
}

/* Rows [i0, i1) x columns [j0, j1) of C in double-lane tiles where the model allows, else element by element. */
static void PC_FN(acc_rest)(const PC_FN(acc_model) *md, const pc_accum_args *g, size_t i0, size_t i1, size_t j0, size_t j1,
                            pc_accum_counts *cnt) {
  size_t i = i0;
  if (PC_FN(acc_peradd_vector_ok)(md, g->k)) {
    const size_t PW = PC_PA_VT * PC_ACC_DL;
    const PC_FN(acc_vgrid) G = PC_FN(acc_vgrid_from)(&md->acc), PG = PC_FN(acc_vgrid_from)(&md->product);
    const PC_FN(acc_vgrid) *P = md->has_product ? &PG : 0;
    for (; i + PC_PA_RT <= i1; i += PC_PA_RT) {
      size_t j = j0;
      for (; j + PW <= j1; j += PW) PC_FN(acc_peradd_rows)(md, &G, P, g, i, j, cnt);
      for (size_t r = i; r < i + PC_PA_RT; r++)
        for (size_t jj = j; jj < j1; jj++) PC_FN(acc_element)(md, g, r, jj, cnt);
    }
  }
  for (; i < i1; i++)
    for (size_t j = j0; j < j1; j++) PC_FN(acc_element)(md, g, i, j, cnt);
}

#if PC_VBYTES == 64 && !defined(__wasm__)
#include "accum_f32.h"
#endif

/* Rows [row_begin, row_end) of C; adds to *counts. */
static void PC_FN(pc_accumulate)(const pc_accum_args *g, size_t row_begin, size_t row_end, pc_accum_counts *counts) {
  const PC_FN(acc_model) md = PC_FN(acc_model_from)(g->params);
  pc_accum_counts cnt = {0, 0, 0}; /* counted here, written once: threads' counters share a cache line */
#if PC_VBYTES == 64 && !defined(__wasm__)
  if (!PC_FN(acc_fmodel_ok)(&md, g->k) || !PC_FN(acc_frows)(&md, g, row_begin, row_end, &cnt))
#endif
    PC_FN(acc_rest)(&md, g, row_begin, row_end, 0, g->n, &cnt);
  counts->swamped += cnt.swamped;
  counts->overflow += cnt.overflow;
  counts->underflow += cnt.underflow;
}
