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
/* 2^k for k in [-126, 127], from its bits */
static inline float PC_FN(pow2f)(int k) { return PC_FN(u2f)((uint32_t)(k + 127) << 23); }
static inline double PC_FN(pow2d)(int k) {
  /* 2^k for k in [-1022, 1023] */
  uint64_t u = (uint64_t)(k + 1023) << 52; double d; __builtin_memcpy(&d, &u, 8); return d;
}

typedef struct {
  int32_t M, tmin, R, mode;
  uint32_t max_pos, max_neg, min_normal, minstep, flags;
  int32_t saturate, parity_offset, wrap_width, wrap_fraction;
  /* the grid at scale 1, from which grid_rescale derives a block's grid */
  int32_t base_tmin, base_parity_offset;
  uint32_t base_max_pos, base_max_neg, base_min_normal;
  /* derived 0/1 flags and constant results, so the element loop is branch-free */
  uint32_t flush, exp_parity, has_inf, signed_zero, clamp_always, special_val, nan_val;
  /* the fast path (see grid_fast): 0 none, 1 float grid, 2 fixed-point grid */
  int32_t fast, fast_sh;
  uint32_t fast_mask, fast_unit, fast_half, min_normal_bits, fast_force_bits;
  float fast_magic, fast_scale_in1, fast_scale_in2, fast_scale_out, fast_scale_out2;
} PC_FN(grid_k);

static uint32_t PC_FN(f32_bits_of)(double v) { return PC_FN(f2u)((float)v); }

/* value bits * 2^k as float32 bits: exact when the result is a normal or exact subnormal float32, Inf beyond */
static uint32_t PC_FN(scale_bits)(uint32_t b, int k) {
  if (b == 0) return 0;
  const int e = (int)(b >> 23);
  if (e >= 1 && e + k >= 1 && e + k <= 254) return b + ((uint32_t)k << 23);
  return PC_FN(f32_bits_of)((double)PC_FN(u2f)(b) * PC_FN(pow2d)(k));
}

/* Sets the fields that depend on the grid's scale 2^k (k = 0 for scalar formats, the block scale for MX/bfp). */
static void PC_FN(grid_rescale)(PC_FN(grid_k) *g, int k) {
  g->tmin = g->base_tmin + k;
  g->parity_offset = g->base_parity_offset - k;
  g->max_pos = PC_FN(scale_bits)(g->base_max_pos, k);
  g->max_neg = PC_FN(scale_bits)(g->base_max_neg, k);
  g->min_normal = PC_FN(scale_bits)(g->base_min_normal, k);
  g->minstep = g->tmin >= -126 ? (uint32_t)(g->tmin + 127) << 23 : (g->tmin >= -149 ? 1u << (g->tmin + 149) : 0u);
  /* Fast paths for the common case; every lane they cannot do exactly is
   * flagged, and a tile with any flagged lane is redone by the full path. */
  g->fast = 0;
  const int nearest_or_sr = g->mode == PC_ROUND_NEAREST || g->mode == PC_ROUND_STOCHASTIC;
  if (!nearest_or_sr) return;
  /* fixed point: lanes below 2^(tmin+22) scale to integers below 2^22 (exact FPU rounding); lanes at or
   * above it must overflow, so the format's maximum must lie below 2^(tmin+21) */
  const uint32_t max_ok = (uint32_t)(g->tmin + 21 + 127) << 23;
  if (g->M >= 1 && g->M <= 22 && !g->exp_parity && !g->flush && g->tmin + g->M >= -126 && g->tmin <= 100 &&
      !(g->flags & PC_GRID_WRAP)) {
    g->fast = 1;
    g->fast_sh = 23 - g->M;
    g->fast_unit = 1u << g->fast_sh;
    g->fast_mask = g->fast_unit - 1;
    g->fast_half = g->fast_unit >> 1;
    g->min_normal_bits = (uint32_t)(g->tmin + g->M + 127) << 23;
    g->fast_magic = PC_FN(u2f)(((uint32_t)(g->tmin + 23 + 127) << 23) | 0x400000u); /* 1.5 * 2^(tmin+23) */
    const int k2 = -g->tmin > 100 ? 64 : 0;
    g->fast_scale_in1 = PC_FN(pow2f)(-g->tmin - k2);
    g->fast_scale_in2 = PC_FN(pow2f)(k2);
    /* two factors, so that no constant is a float32 subnormal (slow on x86 in every lane) */
    g->fast_scale_out = PC_FN(pow2f)(g->tmin + k2);
    g->fast_scale_out2 = PC_FN(pow2f)(-k2);
  } else if (g->M == 255 && g->clamp_always && (!(g->flags & PC_GRID_WRAP) || g->saturate) && g->tmin >= -100 &&
             g->tmin <= 100 && g->max_pos < max_ok && g->max_neg < max_ok) {
    g->fast = 2;
    g->fast_force_bits = (uint32_t)(g->tmin + 22 + 127) << 23;
    g->fast_magic = 12582912.0f; /* 1.5 * 2^23: adding and subtracting it rounds to an integer, ties to even */
    g->fast_scale_in1 = PC_FN(pow2f)(-g->tmin);
    g->fast_scale_out = PC_FN(pow2f)(g->tmin);
  }
}

static PC_FN(grid_k) PC_FN(grid_from)(const double *p) {
  PC_FN(grid_k) g;
  g.M = (int32_t)p[P_MANTISSA_BITS];
  g.base_tmin = (int32_t)p[P_TMIN];
  g.base_max_pos = PC_FN(f32_bits_of)(p[P_MAX_POS]);
  g.base_max_neg = PC_FN(f32_bits_of)(p[P_MAX_NEG]);
  g.base_min_normal = PC_FN(f32_bits_of)(p[P_MIN_NORMAL]);
  g.base_parity_offset = (int32_t)p[P_PARITY_OFFSET];
  g.flags = (uint32_t)p[P_FLAGS];
  g.wrap_width = (int32_t)p[P_WRAP_WIDTH];
  g.wrap_fraction = (int32_t)p[P_WRAP_FRACTION];
  g.mode = (int32_t)p[P_MODE];
  g.saturate = p[P_SATURATE] != 0;
  g.flush = p[P_FLUSH] != 0 || (g.flags & PC_GRID_FLUSH);
  g.R = (int32_t)p[P_RANDOM_BITS];
  g.exp_parity = (g.flags & PC_GRID_EXP_PARITY) != 0;
  g.has_inf = (g.flags & PC_GRID_INF) != 0;
  g.signed_zero = (g.flags & PC_GRID_SIGNED_ZERO) != 0;
  /* overflow saturates when asked to, or when the format has neither Inf nor NaN */
  g.clamp_always = g.saturate || !(g.flags & (PC_GRID_INF | PC_GRID_NAN));
  g.special_val = (g.flags & PC_GRID_INF) ? 0x7f800000u : 0x7fc00000u;
  g.nan_val = (g.flags & PC_GRID_NAN) ? 0x7fc00000u : 0u;
  PC_FN(grid_rescale)(&g, 0);
  return g;
}

/*
 * PC_LANES elements at a time, written with GCC/Clang vector extensions so
 * that one source is explicit SIMD on every target: masks are all-ones or
 * zero lanes, selects are bitwise, and no lane uses a variable shift.
 * Returns the output bits; pre gets the rounded magnitude before overflow
 * handling; the event masks mark overflow, flushed and NaN-input lanes.
 * `mode` is a compile-time constant at every call site.
 */
#ifndef PC_VBYTES
#define PC_VBYTES 16
#endif
#define PC_LANES (PC_VBYTES / 4)
typedef uint32_t PC_FN(vu) __attribute__((vector_size(PC_VBYTES)));
typedef int32_t PC_FN(vi) __attribute__((vector_size(PC_VBYTES)));
typedef float PC_FN(vf) __attribute__((vector_size(PC_VBYTES)));
#define VU PC_FN(vu)
#define VI PC_FN(vi)
#define VF PC_FN(vf)

/*
 * Philox4x32-10 (Salmon et al., SC'11), the generator of src/rng/philox.ts:
 * element i uses word (i mod 4) of the block with counter (i/4 lo, i/4 hi,
 * stream lo, stream hi) and key (seed lo, seed hi). Blocks run one per
 * 64-bit lane: the 32x32->64 multiply is then one instruction, and the
 * high halves of lanes (garbage between rounds) never reach a multiply or
 * the output. Writes whole blocks covering elements first .. first+n-1 into
 * out (which must hold PC_PHILOX_BUFFER(n) words); returns the offset of
 * element `first` in out.
 */
#define PC_QLANES (PC_VBYTES / 8)
/* words philox_fill may write for n elements: whole passes of 2*PC_QLANES blocks, from a start up to 3 words early */
#define PC_PHILOX_BUFFER(n) ((n) + 3 + 8 * PC_QLANES)
typedef uint64_t PC_FN(vq) __attribute__((vector_size(PC_VBYTES)));
#define VQ PC_FN(vq)

/* low 32 bits of each lane times m, as 64-bit products: one pmuludq on x86 (compilers emit a full 64-bit
 * multiply for the portable form) */
#if defined(__x86_64__) && !defined(__wasm__)
#include <immintrin.h>
#if PC_VBYTES == 64
#define PC_MUL32(x, m) ((VQ)_mm512_mul_epu32((__m512i)(x), _mm512_set1_epi64((long long)(m))))
#elif PC_VBYTES == 32
#define PC_MUL32(x, m) ((VQ)_mm256_mul_epu32((__m256i)(x), _mm256_set1_epi64x((long long)(m))))
#else
#define PC_MUL32(x, m) ((VQ)_mm_mul_epu32((__m128i)(x), _mm_set1_epi64x((long long)(m))))
#endif
#else
#define PC_MUL32(x, m) (((x) & 0xffffffffull) * (uint64_t)(m))
#endif

static size_t PC_FN(philox_fill)(uint32_t *restrict out, uint64_t first, size_t n,
                                 uint32_t key0, uint32_t key1, uint32_t s0, uint32_t s1) {
  const uint64_t b0 = first >> 2;
  const size_t skip = (size_t)(first & 3);
  const size_t nb = (skip + n + 3) >> 2;
  VQ lane;
  for (int l = 0; l < PC_QLANES; l++) lane[l] = (uint64_t)l;
  const VQ lo32 = (VQ){0} + 0xffffffffull;
  VQ ks0[10], ks1[10]; /* the key schedule, the same for every block */
  for (int r = 0; r < 10; r++) {
    ks0[r] = (VQ){0} + (uint32_t)(key0 + (uint32_t)r * 0x9E3779B9u);
    ks1[r] = (VQ){0} + (uint32_t)(key1 + (uint32_t)r * 0xBB67AE85u);
  }
  /* two groups of blocks per pass: each round is a chain of multiplies, and two chains keep the multiplier busy */
  for (size_t q = 0; q < nb; q += 2 * PC_QLANES) {
    const VQ b = (VQ){0} + (b0 + q) + lane, c = b + (uint64_t)PC_QLANES;
    VQ x0 = b & lo32, x1 = b >> 32, x2 = (VQ){0} + s0, x3 = (VQ){0} + s1;
    VQ y0 = c & lo32, y1 = c >> 32, y2 = x2, y3 = x3;
    for (int r = 0; r < 10; r++) {
      const VQ p0 = PC_MUL32(x0, 0xD2511F53u), q0 = PC_MUL32(y0, 0xD2511F53u);
      const VQ p1 = PC_MUL32(x2, 0xCD9E8D57u), q1 = PC_MUL32(y2, 0xCD9E8D57u);
      const VQ n0 = (p1 >> 32) ^ x1 ^ ks0[r], m0 = (q1 >> 32) ^ y1 ^ ks0[r];
      const VQ n2 = (p0 >> 32) ^ x3 ^ ks1[r], m2 = (q0 >> 32) ^ y3 ^ ks1[r];
      x1 = p1; y1 = q1;
      x3 = p0; y3 = q0;
      x0 = n0; y0 = m0;
      x2 = n2; y2 = m2;
    }
    const VQ A = (x0 & lo32) | (x1 << 32), B = (x2 & lo32) | (x3 << 32);
    const VQ C = (y0 & lo32) | (y1 << 32), D = (y2 & lo32) | (y3 << 32);
    for (int l = 0; l < PC_QLANES; l++) {
      const uint64_t a = A[l], b2 = B[l], c2 = C[l], d2 = D[l];
      __builtin_memcpy(out + 4 * (q + l), &a, 8);
      __builtin_memcpy(out + 4 * (q + l) + 2, &b2, 8);
      __builtin_memcpy(out + 4 * (q + PC_QLANES + l), &c2, 8);
      __builtin_memcpy(out + 4 * (q + PC_QLANES + l) + 2, &d2, 8);
    }
  }
  return skip;
}

static inline __attribute__((always_inline)) VU PC_FN(sel)(VI mask, VU a, VU b) {
  return ((VU)mask & a) | (~(VU)mask & b);
}
static inline __attribute__((always_inline)) VI PC_FN(seli)(VI mask, VI a, VI b) {
  return (mask & a) | (~mask & b);
}

typedef struct { VU over, flushed, nan; } PC_FN(events);

static inline __attribute__((always_inline)) VU PC_FN(grid_vec)(
    VU bits, const PC_FN(grid_k) g, const int mode, VU rnd, VU *pre, PC_FN(events) *ev) {
  const VU sign = bits & 0x80000000u;
  const VU a = bits ^ sign;
  const VI expf = (VI)(a >> 23);
  const VU mant = a & 0x7fffffu;
  const VI normal = expf != 0;
  /* the exponent of a float32 subnormal, from the exact conversion of its mantissa */
  const VF mantf = __builtin_convertvector((VI)mant, VF);
  const VI esub = (VI)((VU)mantf >> 23) - 276;
  const VI e = PC_FN(seli)(normal, expf - 127, esub);
  VI t = e - g.M;
  t = PC_FN(seli)(t > g.tmin, t, (VI){0} + g.tmin);
  const VI lsb = PC_FN(seli)(normal, expf, (VI){0} + 1) - 150;
  VI sh = t - lsb;
  sh = PC_FN(seli)(sh < 0, (VI){0}, sh);
  const VI shn = PC_FN(seli)(sh > 24, (VI){0} + 24, sh);
  const VU unit = (VU)__builtin_convertvector((VF)((VU)(shn + 127) << 23), VI);
  const VU mask = unit - 1u;
  const VU low = a & mask;
  const VU half = unit >> 1;
  const VU m = PC_FN(sel)(normal, mant | 0x800000u, mant);
  const VI tiny = sh >= 24;
  const VU sig = PC_FN(sel)(tiny, m, low);
  const VI neg = (VI)sign < 0;
  VI up;
  if (mode == PC_ROUND_NEAREST) {
    VI odd = (m & unit) != 0;
    if (g.exp_parity) odd &= ((t + g.parity_offset) & 1) != 0;
    const VI up_tiny = (sh == 24) & (m > 0x800000u);
    const VI up_norm = (low > half) | ((low == half) & (half != 0) & odd);
    up = PC_FN(seli)(tiny, up_tiny, up_norm);
  } else if (mode == PC_ROUND_AWAY) {
    const VI up_tiny = (sh == 24) & (m >= 0x800000u);
    const VI up_norm = (half != 0) & (low >= half);
    up = PC_FN(seli)(tiny, up_tiny, up_norm);
  } else if (mode == PC_ROUND_ZERO) {
    up = (VI){0};
  } else if (mode == PC_ROUND_DOWN) {
    up = neg & (sig != 0);
  } else if (mode == PC_ROUND_UP) {
    up = ~neg & (sig != 0);
  } else {
    VI x = g.R - sh;
    x = PC_FN(seli)(x < -126, (VI){0} - 126, x);
    const VF scale = (VF)((VU)(x + 127) << 23);
    const VI frac_r = __builtin_convertvector(__builtin_convertvector((VI)sig, VF) * scale, VI);
    up = (VI)(rnd >> (32 - g.R)) < frac_r;
  }
  const VU res = PC_FN(sel)(tiny, (VU)up & g.minstep, (a & ~mask) + ((VU)up & unit));
  *pre = res;

  const VI is_nan = a > 0x7f800000u;
  const VI is_inf = a == 0x7f800000u;
  const VI keep_inf = is_inf & ((VI){0} - (int32_t)g.has_inf);
  const VU maxb = PC_FN(sel)(neg, (VU){0} + g.max_neg, (VU){0} + g.max_pos);
  const VI over = ~is_nan & ~keep_inf & (is_inf | (res > maxb));
  VI toward_zero;
  if (mode == PC_ROUND_ZERO) toward_zero = (VI){0} - 1;
  else if (mode == PC_ROUND_DOWN) toward_zero = ~neg;
  else if (mode == PC_ROUND_UP) toward_zero = neg;
  else toward_zero = (VI){0};
  const VI clamp = ((VI){0} - (int32_t)g.clamp_always) | (toward_zero & ~is_inf);
  const VU over_val = PC_FN(sel)(clamp, maxb, (VU){0} + g.special_val);
  const VI flushed = ~over & ~is_nan & ~keep_inf & (a != 0)
                   & ((res == 0) | (((VI){0} - (int32_t)g.flush) & (res < g.min_normal)));
  VU mag = PC_FN(sel)(flushed, (VU){0}, res);
  mag = PC_FN(sel)(over, over_val, mag);
  mag = PC_FN(sel)(keep_inf, (VU){0} + 0x7f800000u, mag);
  mag = PC_FN(sel)(is_nan, (VU){0} + g.nan_val, mag);
  ev->over -= (VU)over;
  ev->flushed -= (VU)flushed;
  ev->nan -= (VU)is_nan;
  const VI keep_sign = ~is_nan & ~(mag > 0x7f800000u) & ((mag != 0) | ((VI){0} - (int32_t)g.signed_zero));
  return mag | ((VU)keep_sign & sign);
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
  const uint64_t span_mask = (1ull << g->wrap_width) - 1;
  uint64_t w = (neg ? (0 - steps) : steps) & span_mask;
  double v;
  if (!(g->flags & PC_GRID_UNSIGNED) && (w >> (g->wrap_width - 1)) & 1) v = -(double)((span_mask - w) + 1);
  else v = (double)w;
  const int f = g->wrap_fraction;
  v *= PC_FN(pow2d)(-f);
  return PC_FN(f2u)((float)v);
}

/*
 * The fast path, for nearest and stochastic rounding on grids whose lanes
 * need no special case: float grids (a constant shift in the normal range;
 * the subnormal range rounded by float arithmetic, which is exact there) and
 * saturating fixed point of up to 22 bits (scaled to integers, rounded by the
 * FPU or truncated). It returns the result and sets *exc on lanes it cannot
 * handle (NaN/Inf inputs, and overflow where the format does not clamp).
 */
static inline __attribute__((always_inline)) VU PC_FN(grid_fast)(
    VU bits, const PC_FN(grid_k) *restrict gp, const int mode, const int sub, VU rnd, VI *exc, PC_FN(events) *ev,
    VI count) {
#define g (*gp)
  const VU sign = bits & 0x80000000u;
  const VU a = bits ^ sign;
  VF af;
  __builtin_memcpy(&af, &a, PC_VBYTES);
  const VI neg = (VI)sign < 0;
  const VU maxb = PC_FN(sel)(neg, (VU){0} + g.max_neg, (VU){0} + g.max_pos);
  VU r;
  if (g.fast == 1) {
    VU r_norm, r_sub;
    if (mode == PC_ROUND_NEAREST) {
      r_norm = (a + (g.fast_half - 1u) + ((a >> g.fast_sh) & 1u)) & ~g.fast_mask;
      const VF q = (af + g.fast_magic) - g.fast_magic;
      __builtin_memcpy(&r_sub, &q, PC_VBYTES);
    } else {
      const VU v = rnd >> (32 - g.R);
      const VU low = a & g.fast_mask;
      const VU frac_r = g.fast_sh >= g.R ? low >> (g.fast_sh - g.R) : low << (g.R - g.fast_sh);
      const VI up_n = (VI)v < (VI)frac_r;
      r_norm = (a & ~g.fast_mask) + ((VU)up_n & g.fast_unit);
      if (sub) {
        const VF sc = (af * g.fast_scale_in1) * g.fast_scale_in2;
        const VI lo = __builtin_convertvector(sc, VI);
        const VF fr = sc - __builtin_convertvector(lo, VF);
        const VI frac_s = __builtin_convertvector(fr * (float)(1u << g.R), VI);
        const VI up_s = (VI)v < frac_s;
        const VF q = (__builtin_convertvector(lo - up_s, VF) * g.fast_scale_out) * g.fast_scale_out2;
        __builtin_memcpy(&r_sub, &q, PC_VBYTES);
      } else {
        r_sub = r_norm; /* the caller checked: no nonzero lane lies below the minimum normal */
      }
    }
    r = PC_FN(sel)(a < g.min_normal_bits, r_sub, r_norm);
  } else {
    const VF n = af * g.fast_scale_in1;
    VF q;
    if (mode == PC_ROUND_NEAREST) {
      q = (n + g.fast_magic) - g.fast_magic;
    } else {
      const VU v = rnd >> (32 - g.R);
      const VI lo = __builtin_convertvector(n, VI);
      const VF fr = n - __builtin_convertvector(lo, VF);
      const VI frac_s = __builtin_convertvector(fr * (float)(1u << g.R), VI);
      q = __builtin_convertvector(lo - ((VI)v < frac_s), VF);
    }
    q *= g.fast_scale_out;
    __builtin_memcpy(&r, &q, PC_VBYTES);
    r = PC_FN(sel)(a >= g.fast_force_bits, (VU){0} - 1u, r); /* too large to scale: certainly over */
  }
  const VI special = a >= 0x7f800000u;
  const VI over = ~special & (r > maxb);
  *exc |= count & (special | (over & ((VI){0} - (int32_t)(g.clamp_always ^ 1u))));
  r = PC_FN(sel)(over, maxb, r);
  ev->over -= (VU)(over & count);
  ev->flushed -= (VU)((a != 0) & (r == 0) & ~over & count);
  const VI keep_sign = (r != 0) | ((VI){0} - (int32_t)g.signed_zero);
  return r | ((VU)keep_sign & sign);
}
#undef g

/* Adds a tile's event lanes to the counts (a handful of lane sums, once per tile). */
static void PC_FN(add_events)(const PC_FN(events) *ev, pc_counts *c) {
  for (int l = 0; l < PC_LANES; l++) {
    c->overflow += ev->over[l];
    c->flushed += ev->flushed[l];
    c->nan += ev->nan[l];
  }
}

/* Whether any lane is set: on AVX-512 a mask test, else by OR-ing halves (cheap extracts) down to four lanes. */
static inline int PC_FN(any_lane)(VI m) {
#if PC_VBYTES == 64
  /* (64-byte vectors are AVX-512's) one test into a mask register, not a reduction through extracts */
  return _mm512_test_epi32_mask((__m512i)m, (__m512i)m) != 0;
#else
  typedef int32_t i4 __attribute__((vector_size(16)));
  i4 a4, b4;
#if PC_VBYTES == 32
  __builtin_memcpy(&a4, &m, 16);
  __builtin_memcpy(&b4, (char *)&m + 16, 16);
#else
  __builtin_memcpy(&a4, &m, 16);
  b4 = a4;
#endif
  const i4 c4 = a4 | b4;
  return (c4[0] | c4[1] | c4[2] | c4[3]) != 0;
#endif
}

/* The fast path over n elements (a multiple of PC_LANES), accumulating flagged lanes and events. */
static inline __attribute__((always_inline)) void PC_FN(grid_fast_run)(const uint32_t *restrict in, uint32_t *restrict out, size_t n,
                                 const PC_FN(grid_k) *restrict gp, const uint32_t *restrict rnd, VI *restrict exc,
                                 PC_FN(events) *restrict ev) {
  /* a private copy: its fields stay in registers across the loop, where loads through gp were redone after every
   * store to out */
  const PC_FN(grid_k) grid = *gp, *g = &grid;
  if (g->mode == PC_ROUND_NEAREST) {
    for (size_t j = 0; j < n; j += PC_LANES) {
      VU x, o;
      __builtin_memcpy(&x, in + j, PC_VBYTES);
      o = PC_FN(grid_fast)(x, g, PC_ROUND_NEAREST, 1, (VU){0}, exc, ev, (VI){0} - 1);
      __builtin_memcpy(out + j, &o, PC_VBYTES);
    }
  } else {
    /* Stochastic rounding in the subnormal range costs as much again, and few vectors need it: every
     * vector first runs without it, counting only its other lanes, and the few vectors with subnormal-range
     * lanes are redone with it, counting only those lanes. */
    if (g->fast != 1) { /* fixed point has no subnormal range */
      for (size_t j = 0; j < n; j += PC_LANES) {
        VU x, r, o;
        __builtin_memcpy(&x, in + j, PC_VBYTES);
        __builtin_memcpy(&r, rnd + j, PC_VBYTES);
        o = PC_FN(grid_fast)(x, g, PC_ROUND_STOCHASTIC, 0, r, exc, ev, (VI){0} - 1);
        __builtin_memcpy(out + j, &o, PC_VBYTES);
      }
      return;
    }
    size_t redo[PC_TILE / PC_LANES];
    size_t nredo = 0;
    for (size_t j = 0; j < n; j += PC_LANES) {
      VU x, r, o;
      __builtin_memcpy(&x, in + j, PC_VBYTES);
      __builtin_memcpy(&r, rnd + j, PC_VBYTES);
      /* a nonzero lane below the minimum normal (zero wraps to the top: it rounds right either way) */
      const VI tiny = (VI)((x & 0x7fffffffu) - 1u < g->min_normal_bits - 1u);
      o = PC_FN(grid_fast)(x, g, PC_ROUND_STOCHASTIC, 0, r, exc, ev, ~tiny);
      __builtin_memcpy(out + j, &o, PC_VBYTES);
      redo[nredo] = j;
      nredo += (size_t)PC_FN(any_lane)(tiny);
    }
    for (size_t k = 0; k < nredo; k++) {
      const size_t j = redo[k];
      VU x, r, o;
      __builtin_memcpy(&x, in + j, PC_VBYTES);
      __builtin_memcpy(&r, rnd + j, PC_VBYTES);
      const VI tiny = (VI)((x & 0x7fffffffu) - 1u < g->min_normal_bits - 1u);
      o = PC_FN(grid_fast)(x, g, PC_ROUND_STOCHASTIC, 1, r, exc, ev, tiny);
      __builtin_memcpy(out + j, &o, PC_VBYTES);
    }
  }
}

#define PC_GRID_LOOP(MODE)                                                               \
  for (size_t j = 0; j < n; j += PC_LANES) {                                             \
    VU x, r = (VU){0}, pre;                                                              \
    __builtin_memcpy(&x, in + j, PC_VBYTES);                                             \
    if (MODE == PC_ROUND_STOCHASTIC) __builtin_memcpy(&r, rnd + j, PC_VBYTES);           \
    VU o = PC_FN(grid_vec)(x, gv, MODE, r, &pre, ev);                                    \
    __builtin_memcpy(out + j, &o, PC_VBYTES);                                            \
    if (pres) __builtin_memcpy(pres + j, &pre, PC_VBYTES);                               \
  }

/* The full path over n elements (a multiple of PC_LANES); pres (optional) gets the pre-overflow magnitudes. */
static void PC_FN(grid_full_run)(const uint32_t *restrict in, uint32_t *restrict out, size_t n, const PC_FN(grid_k) *g,
                                 const uint32_t *restrict rnd, PC_FN(events) *ev, uint32_t *restrict pres) {
  const PC_FN(grid_k) gv = *g;
  switch (gv.mode) {
    case PC_ROUND_NEAREST: PC_GRID_LOOP(PC_ROUND_NEAREST) break;
    case PC_ROUND_AWAY: PC_GRID_LOOP(PC_ROUND_AWAY) break;
    case PC_ROUND_ZERO: PC_GRID_LOOP(PC_ROUND_ZERO) break;
    case PC_ROUND_DOWN: PC_GRID_LOOP(PC_ROUND_DOWN) break;
    case PC_ROUND_UP: PC_GRID_LOOP(PC_ROUND_UP) break;
    default: PC_GRID_LOOP(PC_ROUND_STOCHASTIC) break;
  }
}

/* Rounds n <= PC_TILE elements; in, out and rnd are padded to whole vectors. */
static void PC_FN(grid_tile)(const uint32_t *restrict in, uint32_t *restrict out, size_t n,
                             const PC_FN(grid_k) *g, const uint32_t *restrict rnd, pc_counts *c) {
  if (g->fast) {
    PC_FN(events) fev = {{0}, {0}, {0}};
    VI exc = (VI){0};
    PC_FN(grid_fast_run)(in, out, n, g, rnd, &exc, &fev);
    if (!PC_FN(any_lane)(exc)) {
      PC_FN(add_events)(&fev, c);
      return;
    }
  }
  PC_FN(events) ev = {{0}, {0}, {0}};
  const int wrap = (g->flags & PC_GRID_WRAP) && !g->saturate;
  uint32_t pres[PC_TILE];
  PC_FN(grid_full_run)(in, out, n, g, rnd, &ev, wrap ? pres : 0);
  PC_FN(add_events)(&ev, c);
  if (wrap) {
    for (size_t j = 0; j < n; j++) {
      const uint32_t a = in[j] & 0x7fffffffu;
      if (a >= 0x7f800000u) continue;
      const uint32_t maxb = (in[j] >> 31) ? g->max_neg : g->max_pos;
      if (pres[j] > maxb) out[j] = PC_FN(wrap_one)(in[j], pres[j], g);
    }
  }
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
  uint32_t rnd[PC_PHILOX_BUFFER(PC_TILE)];
  uint32_t tin[PC_TILE], tout[PC_TILE];
  uint32_t key[4];
  PC_FN(key_of)(p, key);
  const uint64_t offset = (uint64_t)p[P_OFFSET];
  for (size_t i = begin; i < end; i += PC_TILE) {
    const size_t n = end - i < PC_TILE ? end - i : PC_TILE;
    const uint32_t *r = 0;
    if (g->mode == PC_ROUND_STOCHASTIC) {
      size_t skip = PC_FN(philox_fill)(rnd, offset + i, n, key[0], key[1], key[2], key[3]);
      r = rnd + skip;
    }
    if (n == PC_TILE && (!r || r == rnd)) {
      PC_FN(grid_tile)((const uint32_t *)(src + i), (uint32_t *)(dst + i), n, g, r, c);
    } else {
      /* a partial tile, or random words not at the buffer start: pad with zeros, which raise no events */
      const size_t padded = (n + PC_LANES - 1) / PC_LANES * PC_LANES;
      uint32_t rbuf[PC_TILE];
      __builtin_memcpy(tin, src + i, n * 4);
      for (size_t j = n; j < padded; j++) tin[j] = 0;
      if (r) {
        __builtin_memcpy(rbuf, r, n * 4);
        for (size_t j = n; j < padded; j++) rbuf[j] = 0;
      }
      PC_FN(grid_tile)(tin, tout, padded, g, r ? rbuf : 0, c);
      __builtin_memcpy(dst + i, tout, n * 4);
    }
  }
}

void PC_FN(pc_quantize_grid)(const float *src, float *dst, size_t begin, size_t end, const double *p, pc_counts *c) {
  const PC_FN(grid_k) g = PC_FN(grid_from)(p);
  pc_counts local = {0, 0, 0}; /* counted here, written once: threads' counters share a cache line */
  PC_FN(grid_range)(src, dst, begin, end, p, &g, &local);
  c->overflow += local.overflow;
  c->flushed += local.flushed;
  c->nan += local.nan;
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

/*
 * Posits, PC_LANES at a time, for lanes whose rounding cuts only fraction
 * bits (the exponent field survives whole): there the posit is a float grid
 * with M = N-1-regime-ES fraction
 * bits in the lane's binade, and a carry out of the fraction is the next
 * posit, exactly as it is the next float32. Lanes beyond the regime range
 * clamp to maxpos/minpos. Everything else (float32 subnormals, cuts into the
 * exponent field) is flagged in *exc and done by posit_one.
 */
static inline __attribute__((always_inline)) VU PC_FN(posit_vec)(
    VU bits, int n, int es, const int mode, int R, VU rnd, uint32_t maxpos_bits, uint32_t minpos_bits, VI *exc, VU *over) {
  const VU sign = bits & 0x80000000u;
  const VU a = bits ^ sign;
  const VI expf = (VI)(a >> 23);
  const VI e = expf - 127;
  const VI k = e >> es;
  const VI rl = PC_FN(seli)(k >= 0, k + 2, 1 - k);
  const VI meff = (n - 1 - es) - rl;
  const VI high = k >= n - 2, low_k = k <= -(n - 1);
  const VI in_range = ~high & ~low_k;
  VI sh = 23 - meff;
  sh = PC_FN(seli)(sh < 0, (VI){0}, sh);
  sh = PC_FN(seli)(sh > 23, (VI){0} + 23, sh);
  const VU unit = (VU)__builtin_convertvector((VF)((VU)(sh + 127) << 23), VI);
  const VU mask = unit - 1u;
  const VU low = a & mask;
  const VU half = unit >> 1;
  VI up;
  if (mode == PC_ROUND_NEAREST) {
    /* the pattern's last kept bit: a fraction bit, or with no fraction bits kept the exponent's LSB,
     * or (ES = 0) the regime's terminating bit, which is 1 exactly for negative k */
    const VI last_exp_bit = es ? ((e & 1) != 0) : (k < 0);
    const VI odd = PC_FN(seli)(meff == 0, last_exp_bit, (VI)((a & unit) != 0));
    up = (low > half) | ((low == half) & (half != 0) & odd);
  } else {
    const VI x = R - sh;
    const VF scale = (VF)((VU)(x + 127) << 23);
    const VI frac_r = __builtin_convertvector(__builtin_convertvector((VI)low, VF) * scale, VI);
    up = (VI)(rnd >> (32 - R)) < frac_r;
  }
  VU r = (a & ~mask) + ((VU)up & unit);
  r = PC_FN(sel)(high, (VU){0} + maxpos_bits, r);
  r = PC_FN(sel)(low_k, (VU){0} + minpos_bits, r);
  const VI zero = a == 0;
  const VI special = a >= 0x7f800000u;
  *exc |= ~zero & ~special & ((expf == 0) | (in_range & (meff < 0)));
  *over -= (VU)(high & ~special & (a > maxpos_bits));
  r = PC_FN(sel)(zero, (VU){0}, r | sign);
  return PC_FN(sel)(special, (VU){0} + 0x7fc00000u, r);
}

void PC_FN(pc_quantize_posit)(const float *src, float *dst, size_t begin, size_t end, const double *p, pc_counts *c) {
  const int n = (int)p[P_POSIT_WIDTH], es = (int)p[P_POSIT_ES];
  const int mode = (int)p[P_MODE], R = (int)p[P_RANDOM_BITS];
  const int top = (n - 2) * (1 << es); /* maxpos = 2^top, at most 2^480 */
  const double maxpos = PC_FN(pow2d)(top);
  /* the vector path needs maxpos and minpos to be normal float32 */
  const int vec = top <= 126 && (mode == PC_ROUND_NEAREST || mode == PC_ROUND_STOCHASTIC);
  const uint32_t maxpos_bits = vec ? (uint32_t)(top + 127) << 23 : 0;
  const uint32_t minpos_bits = vec ? (uint32_t)(127 - top) << 23 : 0;
  uint32_t rnd[PC_PHILOX_BUFFER(PC_TILE)];
  uint32_t key[4];
  PC_FN(key_of)(p, key);
  const uint64_t offset = (uint64_t)p[P_OFFSET];
  const uint32_t *in = (const uint32_t *)src;
  uint32_t *out = (uint32_t *)dst;
  uint64_t n_over = 0, n_nan = 0; /* counted here, written once: threads' counters share a cache line */
  for (size_t i = begin; i < end; i += PC_TILE) {
    const size_t m = end - i < PC_TILE ? end - i : PC_TILE;
    const uint32_t *r = rnd;
    if (mode == PC_ROUND_STOCHASTIC) r = rnd + PC_FN(philox_fill)(rnd, offset + i, m, key[0], key[1], key[2], key[3]);
    size_t j = 0;
    if (vec) {
      VU over = (VU){0}, nans = (VU){0};
      for (; j + PC_LANES <= m; j += PC_LANES) {
        VU x, rv = (VU){0}, o;
        VI exc = (VI){0};
        __builtin_memcpy(&x, in + i + j, PC_VBYTES);
        if (mode == PC_ROUND_STOCHASTIC) {
          __builtin_memcpy(&rv, r + j, PC_VBYTES);
          o = PC_FN(posit_vec)(x, n, es, PC_ROUND_STOCHASTIC, R, rv, maxpos_bits, minpos_bits, &exc, &over);
        } else {
          o = PC_FN(posit_vec)(x, n, es, PC_ROUND_NEAREST, R, rv, maxpos_bits, minpos_bits, &exc, &over);
        }
        nans -= (VU)((x & 0x7fffffffu) >= 0x7f800000u);
        __builtin_memcpy(out + i + j, &o, PC_VBYTES);
        if (PC_FN(any_lane)(exc)) {
          for (int l = 0; l < PC_LANES; l++) {
            if (!exc[l]) continue;
            uint32_t ev;
            out[i + j + l] = PC_FN(posit_one)(in[i + j + l], n, es, mode, R, mode == PC_ROUND_STOCHASTIC ? r[j + l] : 0u, maxpos, &ev);
          }
        }
      }
      for (int l = 0; l < PC_LANES; l++) {
        n_over += over[l];
        n_nan += nans[l];
      }
    }
    for (; j < m; j++) {
      uint32_t ev;
      out[i + j] = PC_FN(posit_one)(in[i + j], n, es, mode, R, mode == PC_ROUND_STOCHASTIC ? r[j] : 0u, maxpos, &ev);
      n_over += ev & 1u;
      n_nan += ev >> 2;
    }
  }
  c->overflow += n_over;
  c->nan += n_nan;
}

/* ---- blocks (MX, bfp) ------------------------------------------------------ */

static int PC_FN(exponent_of_bits)(uint32_t a) {
  const int expf = (int)(a >> 23);
  return expf ? expf - 127 : (31 - __builtin_clz(a)) - 149;
}

void PC_FN(pc_quantize_blocks)(const float *src, float *dst, size_t begin, size_t end, const double *p, pc_counts *total) {
  pc_counts local = {0, 0, 0}, *c = &local; /* counted here, written once: threads' counters share a cache line */
  const size_t K = (size_t)p[P_BLOCK_SIZE];
  const int emax_el = (int)p[P_BLOCK_ELEMENT_EMAX];
  const double max_el = p[P_BLOCK_ELEMENT_MAX];
  const int round_up = p[P_BLOCK_ROUND_UP] != 0;
  double q[P_COUNT];
  for (int i = 0; i < P_COUNT; i++) q[i] = p[i];
  q[P_SATURATE] = 1; /* MX: elements clamp to the element's maximum */
  const PC_FN(grid_k) base = PC_FN(grid_from)(q);
  uint32_t key[4];
  PC_FN(key_of)(p, key);
  const uint64_t offset = (uint64_t)p[P_OFFSET];
  const uint32_t *in = (const uint32_t *)src;
  uint32_t *out = (uint32_t *)dst;
  /* Whole blocks of a multiple of the vector width run in place, a tile's random words drawn at once. */
  const int direct = K % PC_LANES == 0 && K <= PC_TILE;
  const size_t per_tile = direct ? (PC_TILE / K) * K : K;
  uint32_t rnd[PC_PHILOX_BUFFER(PC_TILE)];
  int ks[PC_TILE];
  /* a small cache of scaled grids: a tile's blocks use few distinct scales */
  PC_FN(grid_k) cache[8];
  int cache_k[8];
  for (int i = 0; i < 8; i++) cache_k[i] = 1000;
  for (size_t t = begin; t < end; t += per_tile) {
    const size_t te = t + per_tile < end ? t + per_tile : end;
    const uint32_t *r = 0;
    if (direct && base.mode == PC_ROUND_STOCHASTIC) r = rnd + PC_FN(philox_fill)(rnd, offset + t, te - t, key[0], key[1], key[2], key[3]);
    /* first pass: every whole block whose grid has a fast path runs it; events and flagged lanes gather per tile */
    PC_FN(events) tev = {{0}, {0}, {0}};
    VI texc = (VI){0};
    /* the blocks' largest magnitudes first: independent chains the CPU can overlap */
    uint32_t amaxes[PC_TILE];
    size_t nb = 0;
    for (size_t b = t; b < te; b += K, nb++) {
      const size_t e = b + K < te ? b + K : te;
      /* the plain loop: compilers vectorise it with the ISA's unsigned max and keep the running maximum in a
       * register (a hand-written select kept it on the stack) */
      uint32_t amax = 0;
      for (size_t j = b; j < e; j++) {
        const uint32_t a = in[j] & 0x7fffffffu;
        amax = a > amax ? a : amax;
      }
      amaxes[nb] = amax;
    }
    nb = 0;
    for (size_t b = t; b < te; b += K, nb++) {
      const size_t e = b + K < te ? b + K : te;
      const uint32_t amax = amaxes[nb];
      ks[nb] = 1000; /* not on the fast path */
      if (amax >= 0x7f800000u) {
        for (size_t j = b; j < e; j++) out[j] = 0x7fc00000u;
        c->nan += e - b;
        continue;
      }
      int k;
      if (amax == 0) k = -127;
      else {
        k = PC_FN(exponent_of_bits)(amax) - emax_el;
        if (k < -127) k = -127;
        else if (round_up && (double)PC_FN(u2f)(amax) > max_el * PC_FN(pow2d)(k)) k += 1;
        if (k > 127) k = 127;
      }
      const int slot = k & 7;
      if (cache_k[slot] != k) {
        cache[slot] = base;
        PC_FN(grid_rescale)(&cache[slot], k);
        cache_k[slot] = k;
      }
      const PC_FN(grid_k) *g = &cache[slot];
      if (direct && e - b == K && g->fast) {
        ks[nb] = k;
        PC_FN(grid_fast_run)(in + b, out + b, K, g, r ? r + (b - t) : 0, &texc, &tev);
      } else if (direct && e - b == K) {
        PC_FN(grid_tile)(in + b, out + b, K, g, r ? r + (b - t) : 0, c);
      } else {
        PC_FN(grid_range)(src, dst, b, e, q, g, c);
      }
    }
    if (!PC_FN(any_lane)(texc)) {
      PC_FN(add_events)(&tev, c);
      continue;
    }
    /* a flagged lane: redo this tile's fast blocks on the full path */
    nb = 0;
    for (size_t b = t; b < te; b += K, nb++) {
      if (ks[nb] == 1000) continue;
      PC_FN(grid_k) g = base;
      PC_FN(grid_rescale)(&g, ks[nb]);
      PC_FN(events) ev = {{0}, {0}, {0}};
      PC_FN(grid_full_run)(in + b, out + b, K, &g, r ? r + (b - t) : 0, &ev, 0);
      PC_FN(add_events)(&ev, c);
    }
  }
  total->overflow += local.overflow;
  total->flushed += local.flushed;
  total->nan += local.nan;
}
