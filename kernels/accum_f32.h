/*
 * Per-add float, fixed-point and posit accumulators in float lanes
 * (AVX-512; included by accum.h).
 *
 * acc_peradd_tile runs a per-add model in double lanes, 8 to a vector, with
 * a general rounding. The models whose grids fit in float32 with room to
 * spare (acc_fgrid_ok: at most 21 fraction bits, a range inside float32's
 * normal one, or signed fixed point of at most 22 bits, which within its
 * range is the float grid with M = W - 1 and tmin = -F, or a posit of at
 * most 21 fraction bits with maxpos within 2^120; nearest, toward zero,
 * down or up) run here instead, 16 columns to a vector and a dozen or two
 * instructions a step, each step still exact:
 *
 *  - the sum (acc + a·b, acc + p with a product grid, or tot + run at a
 *    chunk's end) is rounded to odd in float32 from its two directed
 *    roundings, which the FMA (or add) computes from the exact value: where
 *    they differ the sum was inexact, and the odd one of the two neighbours
 *    is the smaller bit pattern with its last bit set. 24 bits are at least
 *    the grid's M + 3, so rounding that value to the grid rounds the exact
 *    sum (Boldo and Melquiond's rounding to odd).
 *  - the rounding to a float or fixed grid adds K = ±2^(e + 23 - M), with
 *    the sum's sign and e its exponent clamped at the smallest step's, and
 *    takes it away: the add, in the rounder's mode (embedded rounding),
 *    leaves the sum a multiple of the step 2^max(e - M, tmin); the
 *    subtraction is exact.
 *  - the rounding to a posit, where its grid is uniform, rounds the sum's
 *    bit pattern at the posit's fraction width there (acc_fround_posit).
 *
 * What the lanes do not model they detect: a tile where any value passed the
 * grid's range (saturation, Inf; for posits, a value where the regime cuts
 * the exponent short, or beyond maxpos or minpos), or whose inputs are not
 * all finite, is redone by the double-lane tiles, so these lanes only ever
 * keep results that are exactly the scalar path's. The event counts
 * (swamped adds, flushes) are the scalar path's too, summed over the tile's
 * lanes (acc_fcounted); without events (AP_EVENTS 0) the tiles skip them.
 */

#include <stdlib.h>

#define PC_FA_RT 4                  /* rows of a float-lane tile */
#define PC_FA_VT 3                  /* 16-float vectors of a tile row */
#define PC_FA_W (16 * PC_FA_VT)     /* columns of a tile */
#define PC_FA_SIGN ((int)0x80000000)
#define PC_FA_ABS 0x7fffffff

/* One grid in float lanes (see acc_fround). */
typedef struct {
  __m512 base_min;   /* 2^(tmin + M): the clamp on 2^e */
  __m512 scale;      /* 2^(23 - M) */
  __m512 min_normal; /* flushing: smaller magnitudes become zero */
  __m512 limit;      /* the smaller of the largest magnitudes; a lane beyond it redoes the tile */
  __m512i zero_sign; /* the sign bit where the grid has -0, else 0 */
  __m512i pbody;     /* posits (acc_fround_posit): N - 1 - es */
  __m128i pes;       /* posits: es, as a shift count */
  int flush, posit_es;
} PC_FN(acc_fgrid);

/* The M of the grid the lanes round to: the float grid's own; for signed fixed point, W - 1, whose steps are 2^-F over
 * the whole range (a lane beyond the range redoes the tile, so wrapping never happens here) */
static int PC_FN(acc_fgrid_m)(const PC_FN(acc_rounder) *r) {
  return r->family == AR_FAMILY_FIXED ? r->wrap_width - 1 : r->M;
}

/* whether acc_fround reproduces this rounder's round_grid (fixed point: its add) wherever a value stays within its range */
static int PC_FN(acc_fgrid_ok)(const PC_FN(acc_rounder) *r) {
  const int mode_ok = r->mode == PC_ROUND_NEAREST || r->mode == PC_ROUND_ZERO || r->mode == PC_ROUND_DOWN || r->mode == PC_ROUND_UP;
  /* posits: at most 21 fraction bits, and minpos .. maxpos within 2^-120 .. 2^120 (inside float32's normal range, with
   * room for a sum of two) */
  if (r->family == AR_FAMILY_POSIT) return mode_ok && r->posit_n - 3 - r->posit_es <= 21 && (r->posit_n - 2) << r->posit_es <= 120;
  const int family_ok = r->family == AR_FAMILY_FLOAT ? !r->wrap : r->family == AR_FAMILY_FIXED;
  const int M = PC_FN(acc_fgrid_m)(r);
  /* K = 2^(e + 23 - M) stays finite for every e up to the largest value's */
  const double top = PC_FN(acc_pow2)(104 + M);
  return family_ok && !(r->flags & PC_GRID_EXP_PARITY) && mode_ok && M >= 1 && M <= 21 && r->tmin + M >= -126 &&
         r->max_pos > 0 && r->max_neg > 0 && r->max_pos < top && r->max_neg < top;
}

static PC_FN(acc_fgrid) PC_FN(acc_fgrid_from)(const PC_FN(acc_rounder) *r) {
  PC_FN(acc_fgrid) G;
  const int M = PC_FN(acc_fgrid_m)(r);
  G.base_min = _mm512_set1_ps((float)PC_FN(acc_pow2)(r->tmin + M));
  G.scale = _mm512_set1_ps((float)PC_FN(acc_pow2)(23 - M));
  /* a posit never rounds a nonzero value to zero */
  G.flush = r->family != AR_FAMILY_POSIT && (r->flush || (r->flags & PC_GRID_FLUSH));
  G.min_normal = _mm512_set1_ps(G.flush ? (float)r->min_normal : 0.0f);
  G.limit = _mm512_set1_ps((float)(r->max_pos < r->max_neg ? r->max_pos : r->max_neg));
  G.zero_sign = _mm512_set1_epi32((r->flags & PC_GRID_SIGNED_ZERO) ? PC_FA_SIGN : 0);
  G.pbody = _mm512_set1_epi32(r->posit_n - 1 - r->posit_es);
  G.pes = _mm_cvtsi32_si128(r->posit_es);
  G.posit_es = r->posit_es;
  return G;
}

/* The odd one of a sum's two directed roundings rd and ru (equal where it was exact). An exact zero takes IEEE's
 * sign for the rounding: -0 for a cancellation rounding down (rd), else +0 (ru, the smaller pattern). */
static inline __attribute__((always_inline)) __m512i PC_FN(acc_fodd)(__m512 rd, __m512 ru, const int mode) {
  const __mmask16 inexact = _mm512_cmp_ps_mask(rd, ru, _CMP_NEQ_OQ);
  const __m512i lo = _mm512_min_epu32(_mm512_castps_si512(rd), _mm512_castps_si512(ru));
  return _mm512_mask_or_epi32(mode == PC_ROUND_DOWN ? _mm512_castps_si512(rd) : lo, inexact, lo, _mm512_set1_epi32(1));
}

/* round_grid on each lane of s (a sum rounded to odd) within the grid's range; flush a compile-time constant where
 * the tile's variant fixes it */
static inline __attribute__((always_inline)) __m512 PC_FN(acc_fround)(const PC_FN(acc_fgrid) *G, __m512i s, const int mode,
                                                                      const int flush) {
  const __m512 sf = _mm512_castsi512_ps(s);
  /* ±max(2^e, 2^(tmin + M)) with s's sign */
  const __m512 base = _mm512_range_ps(_mm512_castsi512_ps(_mm512_and_si512(s, _mm512_set1_epi32((int)0xff800000))), G->base_min, 0x03);
  __m512 t;
  if (mode == PC_ROUND_ZERO) t = _mm512_fmadd_round_ps(base, G->scale, sf, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  else if (mode == PC_ROUND_DOWN) t = _mm512_fmadd_round_ps(base, G->scale, sf, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  else if (mode == PC_ROUND_UP) t = _mm512_fmadd_round_ps(base, G->scale, sf, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
  else t = _mm512_fmadd_round_ps(base, G->scale, sf, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 y = _mm512_fnmadd_ps(base, G->scale, t);
  if (flush) y = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_abs_ps(y), G->min_normal, _CMP_GE_OQ), y);
  /* a zero takes s's sign where the grid has -0 (a nonzero y has it already) */
  return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(y), s, G->zero_sign, 0xF8));
}

/*
 * acc_round_posit on each lane of s (a sum rounded to odd) where the posit's grid is uniform: with E the exponent and
 * k = floor(E / 2^es) the regime, a posit there has fb = N - 1 - es - rl fraction bits (rl = k + 2, or 1 - k for k < 0),
 * and rounding it is rounding |s|'s bit pattern at bit 23 - fb (a carry into the exponent gives 2^(E+1), the next
 * posit). The pattern's last bit is the fraction's, or for fb = 0 the exponent's (the regime's with es = 0). A nonzero
 * lane with fb < 0 (an exponent cut short by the regime, or beyond maxpos or minpos) sets its sign bit in *cut: the
 * caller redoes the tile in double lanes, which round those too.
 */
static inline __attribute__((always_inline)) __m512 PC_FN(acc_fround_posit)(const PC_FN(acc_fgrid) *G, __m512i s, const int mode,
                                                                            __m512i *cut) {
  const __m512i abs = _mm512_set1_epi32(PC_FA_ABS), one = _mm512_set1_epi32(1);
  const __m512i a = _mm512_and_si512(s, abs);
  const __m512i E = _mm512_sub_epi32(_mm512_srli_epi32(a, 23), _mm512_set1_epi32(127));
  const __m512i k = _mm512_sra_epi32(E, G->pes);
  const __m512i kneg = _mm512_srai_epi32(k, 31);
  const __m512i fb = _mm512_sub_epi32(G->pbody, _mm512_add_epi32(_mm512_xor_si512(k, kneg), _mm512_set1_epi32(2)));
  const __mmask16 nonzero = _mm512_test_epi32_mask(a, a);
  *cut = _mm512_mask_or_epi32(*cut, nonzero, *cut, fb);
  const __m512i drop = _mm512_sub_epi32(_mm512_set1_epi32(23), fb);
  const __m512i low = _mm512_sub_epi32(_mm512_sllv_epi32(one, drop), one); /* the bits rounded away */
  __m512i add;
  if (mode == PC_ROUND_NEAREST) {
    const __m512i last = _mm512_and_si512(_mm512_srlv_epi32(a, drop), one);
    const __m512i exp_last = _mm512_and_si512(G->posit_es ? E : kneg, one);
    const __m512i odd = _mm512_mask_mov_epi32(last, _mm512_cmpeq_epi32_mask(fb, _mm512_setzero_si512()), exp_last);
    add = _mm512_add_epi32(_mm512_srli_epi32(low, 1), odd); /* half an ulp, less one where the kept part is even */
  } else if (mode == PC_ROUND_ZERO) add = _mm512_setzero_si512();
  else if (mode == PC_ROUND_DOWN) add = _mm512_maskz_mov_epi32(_mm512_cmplt_epi32_mask(s, _mm512_setzero_si512()), low);
  else add = _mm512_maskz_mov_epi32(_mm512_cmpgt_epi32_mask(s, _mm512_setzero_si512()), low);
  const __m512i r = _mm512_andnot_si512(low, _mm512_add_epi32(a, add));
  /* posits have one zero, +0 */
  return _mm512_castsi512_ps(_mm512_mask_or_epi32(r, nonzero, r, _mm512_andnot_si512(abs, s)));
}

/* Flushes (a nonzero sum rounded to zero) among the lanes of one rounding of s to y */
static inline __attribute__((always_inline)) __mmask16 PC_FN(acc_fflushed)(__m512i s, __m512 y) {
  const __m512i abs = _mm512_set1_epi32(PC_FA_ABS);
  return _mm512_mask_test_epi32_mask(_mm512_testn_epi32_mask(_mm512_castps_si512(y), abs), s, abs);
}

/* acc_counted_add on each lane: acc + x given as its two directed roundings; xnz: the lanes where x is nonzero, or with
 * zeros_apart, every lane (the caller counts the adds of zero terms and takes them away from the swamped). The
 * counters' lanes are shared by the tile's elements (only the sums over the whole product are reported). */
static inline __attribute__((always_inline)) __m512 PC_FN(acc_fcounted)(const PC_FN(acc_fgrid) *G, __m512 acc, __m512 rd,
                                                                        __m512 ru, __mmask16 xnz, const int zeros_apart, const int mode,
                                                                        const int flush, const int posit, const int count,
                                                                        __m512 *tracked, __m512i *cut, __m512i *swamped,
                                                                        __m512i *flushed) {
  const __m512i s = PC_FN(acc_fodd)(rd, ru, mode);
  __m512 y;
  if (posit) y = PC_FN(acc_fround_posit)(G, s, mode, cut);
  else {
    y = PC_FN(acc_fround)(G, s, mode, flush);
    *tracked = _mm512_range_ps(*tracked, y, 0x0B); /* the largest magnitude so far */
  }
  if (!count) return y;
  const __mmask16 fl = posit ? 0 : PC_FN(acc_fflushed)(s, y);
  if (zeros_apart) {
    /* every add whose sum came back unchanged, less those that flushed (there acc was 0); the caller takes away the
     * adds of zero terms, which always come back unchanged and never flush */
    *swamped = _mm512_mask_sub_epi32(*swamped, _mm512_cmp_ps_mask(y, acc, _CMP_EQ_OQ), *swamped, _mm512_set1_epi32(-1));
    const __mmask16 flushed_from_zero = _mm512_mask_testn_epi32_mask(fl, _mm512_castps_si512(acc), _mm512_set1_epi32(PC_FA_ABS));
    *swamped = _mm512_mask_add_epi32(*swamped, flushed_from_zero, *swamped, _mm512_set1_epi32(-1));
  } else {
    const __mmask16 sw = _mm512_mask_cmp_ps_mask(xnz & ~fl, y, acc, _CMP_EQ_OQ);
    *swamped = _mm512_mask_sub_epi32(*swamped, sw, *swamped, _mm512_set1_epi32(-1));
  }
  *flushed = _mm512_mask_sub_epi32(*flushed, fl, *flushed, _mm512_set1_epi32(-1));
  return y;
}

/* a counter's lanes summed */
static inline uint64_t PC_FN(acc_fsum)(__m512i c) {
  uint32_t l[16];
  _mm512_storeu_si512(l, c);
  uint64_t t = 0;
  for (int i = 0; i < 16; i++) t += l[i];
  return t;
}

#define PC_FA_DIRECTED(op, a, b, dir) op((a), (b), (dir) | _MM_FROUND_NO_EXC)

/* Variants of a tile: a plain grid, a flushing grid, or a product grid first (its flushing, and the sum's, at run time);
 * a posit, or posits for the product and the sum. */
enum { PC_FA_PLAIN = 0, PC_FA_FLUSH = 1, PC_FA_PRODUCT = 2, PC_FA_POSIT = 3, PC_FA_POSIT_PRODUCT = 4 };

/*
 * One PA_RT x PA_W tile in float lanes: acc_element_sum's loop for each of its
 * elements, the B panel's row p at bp + p * bstride. Only its first `rows`
 * rows and `cols` columns are C's: the rest run on zeros (no events) and are
 * not written. Returns 0, having written and counted nothing, where a lane
 * left the grid's range: the caller redoes the tile.
 */
static inline __attribute__((always_inline)) int PC_FN(acc_ftile)(const PC_FN(acc_model) *md, const PC_FN(acc_fgrid) *Gp,
                                                                  const PC_FN(acc_fgrid) *PGp, const pc_accum_args *g,
                                                                  const float *bp, size_t bstride, size_t i0, size_t j0, int rows,
                                                                  int cols, pc_accum_counts *cnt, int out_fp32, const int mode,
                                                                  const int variant, const int count) {
  enum { RT = PC_FA_RT, VT = PC_FA_VT };
  const PC_FN(acc_fgrid) G = *Gp, PG = *PGp; /* copies the loop keeps in registers */
  const int posit = variant == PC_FA_POSIT || variant == PC_FA_POSIT_PRODUCT;
  const int product = variant == PC_FA_PRODUCT || variant == PC_FA_POSIT_PRODUCT;
  const int flush = variant == PC_FA_FLUSH || (variant == PC_FA_PRODUCT && G.flush);
  static const float zero = 0.0f;
  const size_t k = g->k, chunk = md->chunk;
  __m512 run[RT][VT];
  float tot[RT][VT][16]; /* touched once a chunk: kept in memory, which leaves the registers to the running sums */
  /* event counters shared by the tile's lanes: a lane counts at most 3 * RT * VT events a step (k < 2^26) */
  __m512i swamped = _mm512_setzero_si512(), flushed = _mm512_setzero_si512();
  uint64_t start_flushes = 0, zero_terms = 0;
  __m512 tracked = _mm512_setzero_ps(), ptracked = _mm512_setzero_ps();
  __m512i cut = _mm512_setzero_si512(); /* posits: a sign bit where a lane left the uniform grid */
  const float *arow[RT];
  size_t astride[RT];
  for (int r = 0; r < RT; r++) {
    arow[r] = r < rows ? g->a + (i0 + r) * g->sai : &zero;
    astride[r] = r < rows ? g->sap : 0;
    for (int v = 0; v < VT; v++) {
      for (int l = 0; l < 16; l++) {
        const size_t e = (i0 + r) * g->n + j0 + v * 16 + l;
        if (!g->accumulate || r >= rows || v * 16 + l >= cols) { /* +0 on every grid, without an event */
          tot[r][v][l] = 0.0f;
          continue;
        }
        int ev;
        const double x = PC_FN(acc_round)(&md->acc, (double)g->c[e], 0, &ev);
        if (ev == PC_EV_NAN || ev == PC_EV_OVERFLOW || !__builtin_isfinite(x)) return 0;
        start_flushes += ev == PC_EV_FLUSH;
        tot[r][v][l] = (float)x;
      }
      /* without chunks the running sum is the total */
      run[r][v] = chunk ? _mm512_setzero_ps() : _mm512_loadu_ps(tot[r][v]);
    }
  }
  const __m512i abs = _mm512_set1_epi32(PC_FA_ABS);
  /* the steps in blocks of one chunk (all of k without chunks), each block's running sums then added to the totals */
  for (size_t p0 = 0; p0 < k;) {
    const size_t p1 = chunk && chunk < k - p0 ? p0 + chunk : k;
    for (size_t p = p0; p < p1; p++) {
      __m512 bv[VT];
      int nonzero_b = 0, nonzero_a = 0;
#pragma GCC unroll 4
      for (int v = 0; v < VT; v++) {
        bv[v] = _mm512_loadu_ps(bp + p * bstride + 16 * v);
        if (count && !product)
          nonzero_b += __builtin_popcount(_mm512_test_epi32_mask(_mm512_castps_si512(bv[v]), abs));
      }
#pragma GCC unroll 8
      for (int r = 0; r < RT; r++) {
        const float as = arow[r][p * astride[r]];
        const __m512 av = _mm512_set1_ps(as);
        nonzero_a += as != 0;
#pragma GCC unroll 4
        for (int v = 0; v < VT; v++) {
          __m512 rd, ru;
          __mmask16 xnz;
          if (product) {
            /* the product rounded to its grid first (acc_round with the product rounder), then added */
            const __m512 prd = PC_FA_DIRECTED(_mm512_mul_round_ps, av, bv[v], _MM_FROUND_TO_NEG_INF);
            const __m512 pru = PC_FA_DIRECTED(_mm512_mul_round_ps, av, bv[v], _MM_FROUND_TO_POS_INF);
            const __m512i ps = PC_FN(acc_fodd)(prd, pru, mode);
            __m512 x;
            if (posit) x = PC_FN(acc_fround_posit)(&PG, ps, mode, &cut);
            else {
              x = PC_FN(acc_fround)(&PG, ps, mode, PG.flush);
              ptracked = _mm512_range_ps(ptracked, x, 0x0B);
              if (count) flushed = _mm512_mask_sub_epi32(flushed, PC_FN(acc_fflushed)(ps, x), flushed, _mm512_set1_epi32(-1));
            }
            xnz = _mm512_test_epi32_mask(_mm512_castps_si512(x), abs);
            rd = PC_FA_DIRECTED(_mm512_add_round_ps, run[r][v], x, _MM_FROUND_TO_NEG_INF);
            ru = PC_FA_DIRECTED(_mm512_add_round_ps, run[r][v], x, _MM_FROUND_TO_POS_INF);
          } else {
            xnz = 0xffff; /* zero terms are counted apart, a step at a time */
            rd = _mm512_fmadd_round_ps(av, bv[v], run[r][v], _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
            ru = _mm512_fmadd_round_ps(av, bv[v], run[r][v], _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
          }
          run[r][v] = PC_FN(acc_fcounted)(&G, run[r][v], rd, ru, xnz, !product, mode, flush, posit, count, &tracked, &cut,
                                          &swamped, &flushed);
        }
      }
      if (count && !product) zero_terms += (uint64_t)(RT * PC_FA_W - nonzero_a * nonzero_b);
    }
    if (chunk)
      for (int r = 0; r < RT; r++)
        for (int v = 0; v < VT; v++) {
          const __m512 t = _mm512_loadu_ps(tot[r][v]), x = run[r][v];
          const __m512 rd = PC_FA_DIRECTED(_mm512_add_round_ps, t, x, _MM_FROUND_TO_NEG_INF);
          const __m512 ru = PC_FA_DIRECTED(_mm512_add_round_ps, t, x, _MM_FROUND_TO_POS_INF);
          _mm512_storeu_ps(tot[r][v], PC_FN(acc_fcounted)(&G, t, rd, ru, _mm512_test_epi32_mask(_mm512_castps_si512(x), abs), 0, mode,
                                                         flush, posit, count, &tracked, &cut, &swamped, &flushed));
          run[r][v] = _mm512_setzero_ps();
        }
    p0 = p1;
  }
  if (!chunk)
    for (int r = 0; r < RT; r++)
      for (int v = 0; v < VT; v++) _mm512_storeu_ps(tot[r][v], run[r][v]);
  if (posit ? _mm512_movepi32_mask(cut) != 0
            : _mm512_cmp_ps_mask(tracked, G.limit, _CMP_GT_OQ) || _mm512_cmp_ps_mask(ptracked, PG.limit, _CMP_GT_OQ))
    return 0;
  if (count) {
    cnt->underflow += start_flushes;
    cnt->swamped += PC_FN(acc_fsum)(swamped) - zero_terms;
    cnt->underflow += PC_FN(acc_fsum)(flushed);
  }
  for (int r = 0; r < rows; r++) {
    const size_t e = (i0 + r) * g->n + j0;
    if (out_fp32) { /* within the grid's range every value is a float32, which float32 output leaves alone */
      for (int v = 0; v < VT && v * 16 < cols; v++) {
        const int left = cols - v * 16;
        _mm512_mask_storeu_ps(g->c + e + v * 16, left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1), _mm512_loadu_ps(tot[r][v]));
      }
      __builtin_memset(g->overflowed + e, 0, (size_t)cols);
    } else
      for (int col = 0; col < cols; col++)
        PC_FN(acc_element_out)(md, g, i0 + r, j0 + col, (double)tot[r][col / 16][col % 16], cnt, 0);
  }
  return 1;
}

static int PC_FN(acc_ftile_for)(const PC_FN(acc_model) *md, const PC_FN(acc_fgrid) *G, const PC_FN(acc_fgrid) *PG,
                                const pc_accum_args *g, const float *bp, size_t bstride, size_t i0, size_t j0, int rows, int cols,
                                pc_accum_counts *cnt, int out_fp32, const int variant) {
#define PC_FA_TILE(M, V, C) PC_FN(acc_ftile)(md, G, PG, g, bp, bstride, i0, j0, rows, cols, cnt, out_fp32, M, V, C)
#define PC_FA_MODES(V, C)                                                                                                    \
  switch (md->acc.mode) {                                                                                                    \
    case PC_ROUND_ZERO: return PC_FA_TILE(PC_ROUND_ZERO, V, C);                                                              \
    case PC_ROUND_DOWN: return PC_FA_TILE(PC_ROUND_DOWN, V, C);                                                              \
    case PC_ROUND_UP: return PC_FA_TILE(PC_ROUND_UP, V, C);                                                                  \
    default: return PC_FA_TILE(PC_ROUND_NEAREST, V, C);                                                                      \
  }
#define PC_FA_VARIANTS(C)                                                                                                    \
  if (variant == PC_FA_POSIT) PC_FA_MODES(PC_FA_POSIT, C)                                                                    \
  else if (variant == PC_FA_POSIT_PRODUCT) PC_FA_MODES(PC_FA_POSIT_PRODUCT, C)                                               \
  else if (variant == PC_FA_PRODUCT) PC_FA_MODES(PC_FA_PRODUCT, C)                                                           \
  else if (variant == PC_FA_FLUSH) PC_FA_MODES(PC_FA_FLUSH, C)                                                               \
  else PC_FA_MODES(PC_FA_PLAIN, C)
  if (md->events) PC_FA_VARIANTS(1)
  else PC_FA_VARIANTS(0)
#undef PC_FA_VARIANTS
#undef PC_FA_MODES
#undef PC_FA_TILE
}

/* whether the float-lane tiles run this model (acc_peradd_vector_ok's models whose grids pass acc_fgrid_ok) */
static int PC_FN(acc_fmodel_ok)(const PC_FN(acc_model) *md, size_t k) {
  return k < ((size_t)1 << 26) && PC_FN(acc_peradd_vector_ok)(md, k) && PC_FN(acc_fgrid_ok)(&md->acc) &&
         (!md->has_product || PC_FN(acc_fgrid_ok)(&md->product));
}

/* whether every value of a float array is finite (n values, stride s) */
static int PC_FN(acc_all_finite)(const float *x, size_t n, size_t s) {
  for (size_t i = 0; i < n; i++)
    if (((PC_FN(f2u)(x[i * s]) >> 23) & 0xff) == 0xff) return 0;
  return 1;
}

/*
 * Rows [row_begin, row_end) of C in float-lane tiles of PA_RT rows by PA_W
 * columns, the last ones padded with zeros. Tiles that cannot stay in float
 * lanes go to the double-lane tiles. Returns 0 where it could not get its
 * buffers, having done nothing.
 */
static int PC_FN(acc_frows)(const PC_FN(acc_model) *md, const pc_accum_args *g, size_t row_begin, size_t row_end,
                            pc_accum_counts *cnt) {
  const size_t k = g->k, n = g->n, tiles = (row_end - row_begin + PC_FA_RT - 1) / PC_FA_RT;
  /* B's panel as the tiles read it: in place where op(B)'s rows are contiguous and the panel whole, else packed here */
  const int packs = g->sbj != 1 || n % PC_FA_W != 0;
  float *packed = packs ? (float *)malloc((k ? k : 1) * PC_FA_W * sizeof(float)) : NULL;
  uint8_t *row_finite = (uint8_t *)malloc(tiles ? tiles : 1);
  if ((packs && !packed) || !row_finite) {
    free(packed);
    free(row_finite);
    return 0;
  }
  for (size_t t = 0; t < tiles; t++) {
    row_finite[t] = 1;
    for (size_t i = row_begin + t * PC_FA_RT; i < row_end && i < row_begin + (t + 1) * PC_FA_RT; i++)
      row_finite[t] &= PC_FN(acc_all_finite)(g->a + i * g->sai, k, g->sap);
  }
  const PC_FN(acc_fgrid) G = PC_FN(acc_fgrid_from)(&md->acc);
  const PC_FN(acc_fgrid) PG = md->has_product ? PC_FN(acc_fgrid_from)(&md->product) : G;
  const int variant = md->acc.family == AR_FAMILY_POSIT ? (md->has_product ? PC_FA_POSIT_PRODUCT : PC_FA_POSIT)
                      : md->has_product                  ? PC_FA_PRODUCT
                      : G.flush                          ? PC_FA_FLUSH
                                                         : PC_FA_PLAIN;
  const int out_fp32 = PC_FN(acc_is_fp32)(&md->out);
  for (size_t j0 = 0; j0 < n; j0 += PC_FA_W) {
    const int cols = n - j0 < PC_FA_W ? (int)(n - j0) : PC_FA_W;
    const float *bp;
    size_t bstride;
    int finite = 1;
    if (g->sbj != 1 || cols < PC_FA_W) {
      for (size_t p = 0; p < k; p++)
        for (int c = 0; c < PC_FA_W; c++) packed[p * PC_FA_W + c] = c < cols ? g->b[(j0 + c) * g->sbj + p * g->sbp] : 0.0f;
      bp = packed;
      bstride = PC_FA_W;
      finite = PC_FN(acc_all_finite)(packed, k * PC_FA_W, 1);
    } else {
      bp = g->b + j0;
      bstride = g->sbp;
      for (size_t p = 0; p < k && finite; p++) finite = PC_FN(acc_all_finite)(bp + p * bstride, PC_FA_W, 1);
    }
    for (size_t t = 0; t < tiles; t++) {
      const size_t i0 = row_begin + t * PC_FA_RT;
      const int rows = row_end - i0 < PC_FA_RT ? (int)(row_end - i0) : PC_FA_RT;
      if (!finite || !row_finite[t] ||
          !PC_FN(acc_ftile_for)(md, &G, &PG, g, bp, bstride, i0, j0, rows, cols, cnt, out_fp32, variant))
        PC_FN(acc_rest)(md, g, i0, i0 + (size_t)rows, j0, j0 + (size_t)cols, cnt);
    }
  }
  free(packed);
  free(row_finite);
  return 1;
}
