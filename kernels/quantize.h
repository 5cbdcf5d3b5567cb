/*
 * The quantize kernels, written once. Each isa_*.c file (and wasm.c) sets
 * PC_ISA and the compiler's target, then includes this file; the loops are
 * branch-free integer and float32 lane operations with no variable shifts,
 * so they vectorise on SSE2, AVX2, AVX-512 and WebAssembly SIMD128 alike.
 *
 * Grid rounding works on the float32 bit pattern: dropping `sh` low bits of
 * the magnitude (a mask) and adding one step (2^sh) on rounding up, which
 * carries into the exponent exactly as the value does. Inputs so small that
 * every significand bit is dropped (sh >= 24) round to 0 or the smallest
 * step. See src/formats/grid.ts for the definition these must match.
 */
#include "precis.h"
#include "philox.h"

#ifndef PC_ISA
#error "define PC_ISA before including quantize.h"
#endif
#define PC_CAT2(a, b) a##_##b
#define PC_CAT(a, b) PC_CAT2(a, b)
#define PC_FN(name) PC_CAT(name, PC_ISA)
#define PC_STR2(x) #x
#define PC_STR(x) PC_STR2(x)

#define PC_TILE 512

static inline uint32_t PC_FN(f2u)(float f) { uint32_t u; __builtin_memcpy(&u, &f, 4); return u; }
static inline float PC_FN(u2f)(uint32_t u) { float f; __builtin_memcpy(&f, &u, 4); return f; }
static inline double PC_FN(pow2d)(int k) {
  /* 2^k for k in [-1022, 1023] */
  uint64_t u = (uint64_t)(k + 1023) << 52; double d; __builtin_memcpy(&d, &u, 8); return d;
}

typedef struct {
  int32_t M, tmin, R, mode;
  uint32_t max_pos, max_neg, min_normal, minstep, flags;
  int32_t saturate, flush, parity_offset, wrap_width, wrap_fraction;
} PC_FN(grid_k);

static uint32_t PC_FN(f32_bits_of)(double v) { return PC_FN(f2u)((float)v); }

static PC_FN(grid_k) PC_FN(grid_from)(const double *p, int k) {
  PC_FN(grid_k) g;
  g.M = (int32_t)p[P_MANTISSA_BITS];
  g.tmin = (int32_t)p[P_TMIN] + k;
  double s = (k >= -1022 && k <= 1023) ? PC_FN(pow2d)(k) : 1.0;
  g.max_pos = PC_FN(f32_bits_of)(p[P_MAX_POS] * s);
  g.max_neg = PC_FN(f32_bits_of)(p[P_MAX_NEG] * s);
  g.min_normal = PC_FN(f32_bits_of)(p[P_MIN_NORMAL] * s);
  g.minstep = g.tmin >= -126 ? (uint32_t)(g.tmin + 127) << 23 : (g.tmin >= -149 ? 1u << (g.tmin + 149) : 0u);
  g.flags = (uint32_t)p[P_FLAGS];
  g.parity_offset = (int32_t)p[P_PARITY_OFFSET] - k;
  g.wrap_width = (int32_t)p[P_WRAP_WIDTH];
  g.wrap_fraction = (int32_t)p[P_WRAP_FRACTION];
  g.mode = (int32_t)p[P_MODE];
  g.saturate = p[P_SATURATE] != 0;
  g.flush = p[P_FLUSH] != 0;
  g.R = (int32_t)p[P_RANDOM_BITS];
  return g;
}

/*
 * One element: returns the output bits; *pre gets the rounded magnitude
 * before overflow handling and *ev the event (bit 0 overflow, 1 flushed,
 * 2 NaN input). `mode` is a compile-time constant at every call site.
 */
static inline __attribute__((always_inline)) uint32_t PC_FN(grid_one)(
    uint32_t bits, const PC_FN(grid_k) *g, const int mode, uint32_t rnd, uint32_t *pre, uint32_t *ev) {
  const uint32_t sign = bits & 0x80000000u;
  const uint32_t a = bits ^ sign;
  const int32_t expf = (int32_t)(a >> 23);
  const uint32_t mant = a & 0x7fffffu;
  /* the exponent of a float32 subnormal, from the exact conversion of its mantissa */
  const int32_t esub = (int32_t)(PC_FN(f2u)((float)(int32_t)mant) >> 23) - 276;
  const int32_t e = expf ? expf - 127 : esub;
  int32_t t = e - g->M;
  t = t > g->tmin ? t : g->tmin;
  const int32_t lsb = (expf ? expf : 1) - 150;
  int32_t sh = t - lsb;
  sh = sh < 0 ? 0 : sh;
  const int32_t shn = sh > 24 ? 24 : sh;
  const uint32_t unit = (uint32_t)(int32_t)PC_FN(u2f)((uint32_t)(shn + 127) << 23);
  const uint32_t mask = unit - 1u;
  const uint32_t low = a & mask;
  const uint32_t half = unit >> 1;
  const uint32_t m = expf ? (mant | 0x800000u) : mant;
  const uint32_t tiny = sh >= 24;
  const uint32_t sig = tiny ? m : low;
  const uint32_t neg = sign >> 31;
  uint32_t up;
  if (mode == PC_ROUND_NEAREST) {
    uint32_t odd = (m & unit) != 0;
    if (g->flags & PC_GRID_EXP_PARITY) odd &= (uint32_t)((t + g->parity_offset) & 1);
    up = tiny ? (sh == 24 && m > 0x800000u) : (low > half || (low == half && half != 0 && odd));
  } else if (mode == PC_ROUND_AWAY) {
    up = tiny ? (sh == 24 && m >= 0x800000u) : (half != 0 && low >= half);
  } else if (mode == PC_ROUND_ZERO) {
    up = 0;
  } else if (mode == PC_ROUND_DOWN) {
    up = neg & (sig != 0);
  } else if (mode == PC_ROUND_UP) {
    up = (neg ^ 1u) & (sig != 0);
  } else {
    int32_t x = g->R - sh;
    x = x < -126 ? -126 : x;
    const int32_t frac_r = (int32_t)((float)(int32_t)sig * PC_FN(u2f)((uint32_t)(x + 127) << 23));
    up = (int32_t)(rnd >> (32 - g->R)) < frac_r;
  }
  const uint32_t res = tiny ? (up ? g->minstep : 0u) : ((a & ~mask) + (up ? unit : 0u));
  *pre = res;

  const uint32_t is_nan = a > 0x7f800000u;
  const uint32_t is_inf = a == 0x7f800000u;
  const uint32_t keep_inf = is_inf && (g->flags & PC_GRID_INF);
  const uint32_t maxb = neg ? g->max_neg : g->max_pos;
  const uint32_t over = !is_nan && !keep_inf && (is_inf || res > maxb);
  const uint32_t toward_zero = mode == PC_ROUND_ZERO || (mode == PC_ROUND_DOWN && !neg) || (mode == PC_ROUND_UP && neg);
  const uint32_t special = g->flags & (PC_GRID_INF | PC_GRID_NAN);
  const uint32_t over_val = (g->saturate || !special || (!is_inf && toward_zero)) ? maxb
                          : ((g->flags & PC_GRID_INF) ? 0x7f800000u : 0x7fc00000u);
  const uint32_t nonzero_in = a != 0;
  const uint32_t flushed = !over && !is_nan && !keep_inf && nonzero_in && (res == 0 || (g->flush && res < g->min_normal));
  uint32_t mag = is_nan ? ((g->flags & PC_GRID_NAN) ? 0x7fc00000u : 0u)
               : keep_inf ? 0x7f800000u
               : over ? over_val
               : flushed ? 0u : res;
  *ev = over | (flushed << 1) | (is_nan << 2);
  const uint32_t is_nan_out = mag > 0x7f800000u;
  const uint32_t keep_sign = !is_nan && !is_nan_out && (mag != 0 || (g->flags & PC_GRID_SIGNED_ZERO));
  return mag | (keep_sign ? sign : 0u);
}

/* Two's complement (or unsigned) wrap of a magnitude that overflowed a wrapping fixed-point grid. */
static uint32_t PC_FN(wrap_one)(uint32_t bits, uint32_t pre, const PC_FN(grid_k) *g) {
  const int neg = (int)(bits >> 31);
  /* pre = sig * 2^ex; steps = sig * 2^(ex + F) */
  uint64_t sig;
  int ex;
  if (pre >= 0x7f800000u) { sig = 1; ex = 128; }
  else if ((pre >> 23) == 0) { sig = pre; ex = -149; }
  else { sig = (pre & 0x7fffffu) | 0x800000u; ex = (int)(pre >> 23) - 150; }
  const int s = ex + g->wrap_fraction;
  uint64_t steps = s >= 40 ? 0 : (s >= 0 ? sig << s : sig >> -s);
  const uint64_t span_mask = (g->wrap_width >= 64) ? ~0ull : ((1ull << g->wrap_width) - 1);
  uint64_t w = (neg ? (0 - steps) : steps) & span_mask;
  double v;
  if (!(g->flags & PC_GRID_UNSIGNED) && (w >> (g->wrap_width - 1)) & 1) v = -(double)((span_mask - w) + 1);
  else v = (double)w;
  const int f = g->wrap_fraction;
  v *= (f >= -1022 && f <= 1022) ? PC_FN(pow2d)(-f) : 1.0;
  return PC_FN(f2u)((float)v);
}

#define PC_GRID_LOOP(MODE)                                                            \
  for (size_t j = 0; j < n; j++) {                                                    \
    uint32_t pre, ev;                                                                 \
    uint32_t r = (MODE == PC_ROUND_STOCHASTIC) ? rnd[j] : 0u;                          \
    uint32_t o = PC_FN(grid_one)(in[j], g, MODE, r, &pre, &ev);                       \
    out[j] = o;                                                                       \
    n_over += ev & 1u;                                                                \
    n_flush += (ev >> 1) & 1u;                                                        \
    n_nan += ev >> 2;                                                                 \
  }

/* Rounds n elements; rnd holds their random words (stochastic only). */
static void PC_FN(grid_tile)(const uint32_t *restrict in, uint32_t *restrict out, size_t n,
                             const PC_FN(grid_k) *g, const uint32_t *restrict rnd, pc_counts *c) {
  uint32_t n_over = 0, n_flush = 0, n_nan = 0;
  switch (g->mode) {
    case PC_ROUND_NEAREST: PC_GRID_LOOP(PC_ROUND_NEAREST) break;
    case PC_ROUND_AWAY: PC_GRID_LOOP(PC_ROUND_AWAY) break;
    case PC_ROUND_ZERO: PC_GRID_LOOP(PC_ROUND_ZERO) break;
    case PC_ROUND_DOWN: PC_GRID_LOOP(PC_ROUND_DOWN) break;
    case PC_ROUND_UP: PC_GRID_LOOP(PC_ROUND_UP) break;
    default: PC_GRID_LOOP(PC_ROUND_STOCHASTIC) break;
  }
  if (n_over && (g->flags & PC_GRID_WRAP) && !g->saturate) {
    for (size_t j = 0; j < n; j++) {
      uint32_t pre, ev;
      (void)PC_FN(grid_one)(in[j], g, g->mode == PC_ROUND_STOCHASTIC ? PC_ROUND_STOCHASTIC : g->mode,
                            rnd ? rnd[j] : 0u, &pre, &ev);
      const uint32_t a = in[j] & 0x7fffffffu;
      if ((ev & 1u) && a < 0x7f800000u) out[j] = PC_FN(wrap_one)(in[j], pre, g);
    }
  }
  c->overflow += n_over;
  c->flushed += n_flush;
  c->nan += n_nan;
}

static void PC_FN(key_of)(const double *p, uint32_t *k) {
  const double seed = p[P_SEED], stream = p[P_STREAM];
  k[0] = (uint32_t)(uint64_t)seed;
  k[1] = (uint32_t)((uint64_t)seed >> 32);
  k[2] = (uint32_t)(uint64_t)stream;
  k[3] = (uint32_t)((uint64_t)stream >> 32);
}

static void PC_FN(grid_range)(const float *src, float *dst, size_t begin, size_t end,
                              const double *p, const PC_FN(grid_k) *g, pc_counts *c) {
  uint32_t rnd[PC_TILE + 8];
  uint32_t key[4];
  PC_FN(key_of)(p, key);
  const uint64_t offset = (uint64_t)p[P_OFFSET];
  for (size_t i = begin; i < end; i += PC_TILE) {
    const size_t n = end - i < PC_TILE ? end - i : PC_TILE;
    const uint32_t *r = 0;
    if (g->mode == PC_ROUND_STOCHASTIC) {
      size_t skip = pc_philox_fill(rnd, offset + i, n, key[0], key[1], key[2], key[3]);
      r = rnd + skip;
    }
    PC_FN(grid_tile)((const uint32_t *)(src + i), (uint32_t *)(dst + i), n, g, r, c);
  }
}

void PC_FN(pc_quantize_grid)(const float *src, float *dst, size_t begin, size_t end, const double *p, pc_counts *c) {
  const PC_FN(grid_k) g = PC_FN(grid_from)(p, 0);
  PC_FN(grid_range)(src, dst, begin, end, p, &g, c);
}

/* ---- posits ---------------------------------------------------------------- */

/* The value of an n-bit posit pattern (not 0 or NaR), as a double. */
static double PC_FN(posit_value)(uint32_t pat, int n, int es) {
  const uint32_t signbit = 1u << (n - 1);
  const int neg = (pat & signbit) != 0;
  if (neg) pat = (uint32_t)((1ull << n) - pat);
  /* the n-1 bits after the sign, left-aligned in 32 bits */
  uint32_t body = pat << (33 - n);
  /* body's low 33-n bits are zero, so neither clz argument is zero */
  const int r0 = body >> 31;
  const int run = r0 ? __builtin_clz(~body) : __builtin_clz(body);
  const int k = r0 ? run - 1 : -run;
  int used = run + 1; /* regime bits and the terminator */
  uint64_t rest = used >= 32 ? 0 : (uint64_t)(uint32_t)(body << used) << 32; /* remaining bits, left-aligned in 64 */
  int left = n - 1 - used;
  if (left < 0) left = 0;
  const int ex = es ? (int)(rest >> (64 - es)) : 0;
  const int fb = left > es ? left - es : 0;
  const uint64_t frac = fb ? (rest << es) >> (64 - fb) : 0;
  double v = (1.0 + (double)frac * PC_FN(pow2d)(-fb)) * PC_FN(pow2d)(k * (1 << es) + ex);
  return neg ? -v : v;
}

static inline uint32_t PC_FN(posit_one)(uint32_t bits, int n, int es, int mode, int R, uint32_t rnd, double maxpos, uint32_t *ev) {
  const uint32_t nar = 1u << (n - 1);
  const uint32_t maxpat = nar - 1;
  const uint32_t sign = bits & 0x80000000u;
  const uint32_t a = bits ^ sign;
  *ev = 0;
  if (a >= 0x7f800000u) { *ev = 4; return 0x7fc00000u; }
  if (a == 0) return 0;
  const int neg = sign != 0;
  int expf = (int)(a >> 23);
  uint32_t f = a & 0x7fffffu;
  int e;
  if (expf) e = expf - 127;
  else {
    const int lead = 31 - __builtin_clz(f);
    e = lead - 149;
    f = (f << (23 - lead)) & 0x7fffffu;
  }
  const int k = e >> es; /* arithmetic: floor */
  const int ex = e - k * (1 << es);
  uint32_t pat;
  const float af = PC_FN(u2f)(a);
  if (k >= n - 2) {
    pat = maxpat;
    if ((double)af > maxpos) *ev = 1;
  } else if (k <= -(n - 1)) {
    pat = 1;
  } else {
    const int rl = k >= 0 ? k + 2 : -k + 1;
    const uint64_t regime = k >= 0 ? (((1ull << (k + 1)) - 1) << 1) : 1ull;
    const uint64_t body = ((regime << es | (uint64_t)ex) << 23) | f;
    const int len = rl + es + 23;
    const int keep = n - 1;
    if (len <= keep) {
      pat = (uint32_t)(body << (keep - len));
    } else {
      const int drop = len - keep;
      const uint64_t lo = body >> drop;
      const uint64_t rem = body & ((1ull << drop) - 1);
      const uint64_t half = 1ull << (drop - 1);
      int up;
      switch (mode) {
        case PC_ROUND_NEAREST: up = rem > half || (rem == half && (lo & 1)); break;
        case PC_ROUND_AWAY: up = rem >= half; break;
        case PC_ROUND_ZERO: up = 0; break;
        case PC_ROUND_DOWN: up = neg && rem != 0; break;
        case PC_ROUND_UP: up = !neg && rem != 0; break;
        default: {
          if (rem == 0) { up = 0; break; }
          const double vlo = PC_FN(posit_value)((uint32_t)lo, n, es);
          const double vhi = PC_FN(posit_value)((uint32_t)lo + 1, n, es);
          const double frac = ((double)af - vlo) / (vhi - vlo);
          const double scaled = frac * PC_FN(pow2d)(R);
          up = (double)(rnd >> (32 - R)) < __builtin_floor(scaled);
        }
      }
      uint64_t pp = lo + (uint64_t)up;
      pat = pp > maxpat ? maxpat : (uint32_t)pp;
    }
  }
  double v = PC_FN(posit_value)(pat, n, es);
  return PC_FN(f2u)((float)(neg ? -v : v));
}

void PC_FN(pc_quantize_posit)(const float *src, float *dst, size_t begin, size_t end, const double *p, pc_counts *c) {
  const int n = (int)p[P_POSIT_WIDTH], es = (int)p[P_POSIT_ES];
  const int mode = (int)p[P_MODE], R = (int)p[P_RANDOM_BITS];
  const double maxpos = PC_FN(pow2d)((n - 2) * (1 << es)); /* at most 2^480 */
  uint32_t rnd[PC_TILE + 8];
  uint32_t key[4];
  PC_FN(key_of)(p, key);
  const uint64_t offset = (uint64_t)p[P_OFFSET];
  const uint32_t *in = (const uint32_t *)src;
  uint32_t *out = (uint32_t *)dst;
  for (size_t i = begin; i < end; i += PC_TILE) {
    const size_t m = end - i < PC_TILE ? end - i : PC_TILE;
    const uint32_t *r = rnd;
    if (mode == PC_ROUND_STOCHASTIC) r = rnd + pc_philox_fill(rnd, offset + i, m, key[0], key[1], key[2], key[3]);
    for (size_t j = 0; j < m; j++) {
      uint32_t ev;
      out[i + j] = PC_FN(posit_one)(in[i + j], n, es, mode, R, mode == PC_ROUND_STOCHASTIC ? r[j] : 0u, maxpos, &ev);
      c->overflow += ev & 1u;
      c->nan += ev >> 2;
    }
  }
}

/* ---- blocks (MX, bfp) ------------------------------------------------------ */

static int PC_FN(exponent_of_bits)(uint32_t a) {
  const int expf = (int)(a >> 23);
  return expf ? expf - 127 : (31 - __builtin_clz(a)) - 149;
}

void PC_FN(pc_quantize_blocks)(const float *src, float *dst, size_t begin, size_t end, const double *p, pc_counts *c) {
  const size_t K = (size_t)p[P_BLOCK_SIZE];
  const double emax_el = p[P_BLOCK_ELEMENT_EMAX], max_el = p[P_BLOCK_ELEMENT_MAX];
  const int round_up = p[P_BLOCK_ROUND_UP] != 0;
  const uint32_t *in = (const uint32_t *)src;
  for (size_t b = begin; b < end; b += K) {
    const size_t e = b + K < end ? b + K : end;
    uint32_t amax = 0;
    for (size_t j = b; j < e; j++) {
      uint32_t a = in[j] & 0x7fffffffu;
      amax = a > amax ? a : amax;
    }
    if (amax >= 0x7f800000u) {
      for (size_t j = b; j < e; j++) ((uint32_t *)dst)[j] = 0x7fc00000u;
      c->nan += e - b;
      continue;
    }
    int k;
    if (amax == 0) k = -127;
    else {
      k = PC_FN(exponent_of_bits)(amax) - (int)emax_el;
      if (k < -127) k = -127;
      else if (round_up && (double)PC_FN(u2f)(amax) > max_el * PC_FN(pow2d)(k)) k += 1;
      if (k > 127) k = 127;
    }
    double q[P_COUNT];
    for (int i = 0; i < P_COUNT; i++) q[i] = p[i];
    q[P_SATURATE] = 1;
    const PC_FN(grid_k) g = PC_FN(grid_from)(q, k);
    PC_FN(grid_range)(src, dst, b, e, q, &g, c);
  }
}

const pc_kernels PC_FN(pc_kernels) = {
  PC_STR(PC_ISA),
  PC_FN(pc_quantize_grid),
  PC_FN(pc_quantize_posit),
  PC_FN(pc_quantize_blocks),
};
