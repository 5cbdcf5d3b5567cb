/*
 * The exact accumulator, fast: a filter in front of the quire (Ziv's
 * strategy). Included after accum.h, whose quire path (acc_element) stays the
 * definition and does every element this filter cannot settle.
 *
 * 1. A GEMM in double: every product of two float32 values is exact in
 *    double, so each step of the chain rounds once, and for any summation
 *    order |S − X| ≤ γ_k·Σ|terms| (Higham, Accuracy and Stability, §4.2),
 *    X the exact sum of the k products and the start value, γ_k = k·u/(1−k·u),
 *    u = 2^-53. Products of float32 values are never subnormal in double and
 *    never overflow it, so no term escapes that bound.
 * 2. Σ|a_ip·b_pj| ≤ min(‖A_i‖₁·max|B_j|, max|A_i|·‖B_j‖₁): row and column norms
 *    bound the terms without a second GEMM. The bound used,
 *    2^-52·((k+2)·L + 2|S|), is at least twice γ_k·L and also covers the
 *    rounding of S ± bound and of the norms themselves.
 * 3. X lies in [lo, hi] = [S − bound, S + bound]. The output rounding is
 *    monotone (every mode, stochastic with its word fixed included), so when
 *    lo and hi have one sign and round to the same bits with the same event,
 *    so does every value between them, X's to-odd double in particular (to-odd
 *    rounding is monotone and keeps lo and hi). That result is written;
 *    anything else (an interval that straddles a rounding boundary or zero,
 *    Inf/NaN) goes on to the next try. (Wrapping outputs, the one rounding
 *    that is not monotone, are refused for exact models by outputSpec.)
 * An element the double sum cannot settle (about one in 10^3 for float32
 * outputs of random data: sums that nearly cancel; and sums of zeros) gets a
 * second, tighter interval from a compensated sum (exact_sum2), which also
 * settles sums whose every addend is zero, and only what that cannot settle
 * either (sums that cancel exactly, Inf/NaN) goes to the quire. So each
 * element gets exactly the quire's bits, events and overflow flag.
 */

/* The double GEMM: gemm_blocked.h over the same register tile and blocking as the fp32 GEMM (the same registers
 * hold half as many lanes; the packed blocks take twice the bytes, still within L2, and timed best that way). Its
 * products are exact, so a fused or an unfused multiply-add gives the same sums. */
typedef struct {
  int trans_a, trans_b, accumulate;
  size_t m, n, k;
  const float *a, *b;
  double *c;
} PC_FN(wide_gemm_args);

#define PC_BLK_T double
#define PC_BLK_FN(name) PC_FN(name##_f64)
#define PC_BLK_ARGS PC_FN(wide_gemm_args)
#ifdef PC_GEMM_DFMA
#define PC_BLK_FMA(a, b, c) PC_GEMM_DFMA(a, b, c)
#else
#define PC_BLK_FMA(a, b, c) ((a) * (b) + (c))
#endif
#define PC_BLK_MR PC_GEMM_MR
#define PC_BLK_NV PC_GEMM_NV
#define PC_BLK_KC PC_GEMM_KC
#define PC_BLK_MC PC_GEMM_MC
#include "gemm_blocked.h"

static inline size_t PC_FN(exact_round8)(size_t x) { return (x + 7) / 8 * 8; }

/* Doubles of 64-byte-aligned workspace pc_accumulate_exact needs: the GEMM's packing, S (m x n), the norms. */
static size_t PC_FN(pc_exact_workspace)(size_t m, size_t n, size_t k) {
  return PC_FN(exact_round8)(PC_FN(pc_gemm_workspace_f64)(m, n, k)) + PC_FN(exact_round8)(m * n) +
         PC_FN(exact_round8)(2 * m) + 2 * n;
}

/*
 * ‖·‖₁ and max|·| of `count` vectors of `len` values, vector v's value p at x[v*sv + p*sp], in double, into l1[v]
 * and mx[v]. The bound's slack covers their rounding in any order, so the loops run whichever way is contiguous.
 */
static void PC_FN(exact_norms)(const float *x, size_t count, size_t len, size_t sv, size_t sp, double *l1, double *mx) {
  if (sp == 1 && len > 1) {
    for (size_t v = 0; v < count; v++) {
      const float *r = x + v * sv;
      double sum[4] = {0, 0, 0, 0}, top[4] = {0, 0, 0, 0};
      size_t p = 0;
      for (; p + 4 <= len; p += 4)
        for (int l = 0; l < 4; l++) {
          const double a = __builtin_fabs((double)r[p + l]);
          sum[l] += a;
          top[l] = a > top[l] ? a : top[l];
        }
      for (; p < len; p++) {
        const double a = __builtin_fabs((double)r[p]);
        sum[0] += a;
        top[0] = a > top[0] ? a : top[0];
      }
      l1[v] = (sum[0] + sum[1]) + (sum[2] + sum[3]);
      const double t01 = top[0] > top[1] ? top[0] : top[1], t23 = top[2] > top[3] ? top[2] : top[3];
      mx[v] = t01 > t23 ? t01 : t23;
    }
    return;
  }
  for (size_t v = 0; v < count; v++) l1[v] = mx[v] = 0;
  for (size_t p = 0; p < len; p++) {
    const float *r = x + p * sp;
    for (size_t v = 0; v < count; v++) {
      const double a = __builtin_fabs((double)r[v * sv]);
      l1[v] += a;
      mx[v] = a > mx[v] ? a : mx[v];
    }
  }
}

/* The norms over the pool: tasks [0, parts) take row ranges of op(A), tasks [parts, 2·parts) column ranges of op(B). */
typedef struct {
  const pc_accum_args *g;
  double *row_l1, *row_max, *col_l1, *col_max;
  size_t parts;
} PC_FN(exact_norms_job);

static void PC_FN(exact_norms_task)(void *ctx, size_t t) {
  const PC_FN(exact_norms_job) *x = (const PC_FN(exact_norms_job) *)ctx;
  const pc_accum_args *g = x->g;
  const int cols = t >= x->parts;
  const size_t part = cols ? t - x->parts : t, count = cols ? g->n : g->m;
  const size_t b = count * part / x->parts, e = count * (part + 1) / x->parts;
  if (b == e) return;
  if (cols) PC_FN(exact_norms)(g->b + b * g->sbj, e - b, g->k, g->sbj, g->sbp, x->col_l1 + b, x->col_max + b);
  else PC_FN(exact_norms)(g->a + b * g->sai, e - b, g->k, g->sai, g->sap, x->row_l1 + b, x->row_max + b);
}

typedef struct {
  const PC_FN(acc_model) *md;
  const pc_accum_args *g;
  const double *s, *row_l1, *row_max, *col_l1, *col_max;
  int out_fp32; /* the output rounding is float32 to nearest: a conversion */
  int out_posit_nearest; /* the output is a posit rounded to nearest */
  size_t rows_per_task;
  pc_accum_counts counts[64];
} PC_FN(exact_job);

/*
 * Posit rounding to nearest of every value in [lo, hi] (one sign, nonzero), settled without the bit-string
 * encoder when the interval lies in one binade 2^e whose posits keep all es exponent bits and fb ≥ 0 fraction
 * bits: there the posits are the grid of step 2^(e−fb) (the pattern's low bits are the fraction's, so nearest on
 * the bit string is nearest on the grid), the next pattern up is 2^(e+1), no regime is extreme (no overflow or
 * underflow event), and when no midpoint lies in [lo, hi], all of it rounds to one grid value. Returns whether it
 * did, with that value's magnitude in *v.
 */
static inline int PC_FN(exact_posit_nearest)(const PC_FN(acc_rounder) *r, double lo, double hi, double *v) {
  const double a = lo > 0 ? lo : -hi, b = lo > 0 ? hi : -lo; /* 0 < a <= b */
  const int e = PC_FN(acc_exponent)(a);
  if (PC_FN(acc_exponent)(b) != e) return 0;
  const int k = e >> r->posit_es; /* floor(e / 2^es) */
  const int fb = r->posit_n - 1 - (k >= 0 ? k + 2 : 1 - k) - r->posit_es;
  if (fb < 0) return 0;
  const double down = PC_FN(acc_pow2)(fb - e); /* both scalings are exact: powers of two well inside double's range */
  const double sa = a * down + 0.5, sb = b * down + 0.5; /* exact: the steps are below 2^(fb+1) <= 2^32 */
  const double q = __builtin_floor(sa);
  if (q != __builtin_floor(sb) || sa == q) return 0;
  *v = q * PC_FN(acc_pow2)(e - fb);
  return 1;
}

/*
 * Writes element e when every value in [lo, hi] rounds to the same output with the same event (see the top of this
 * file); returns whether it did.
 */
static inline int PC_FN(exact_settle)(const PC_FN(exact_job) *x, size_t e, double lo, double hi, pc_accum_counts *cnt) {
  const pc_accum_args *g = x->g;
  const PC_FN(acc_model) *md = x->md;
  if (!(lo > 0 || hi < 0)) return 0; /* straddles zero; also false for NaN and for Inf (whose bound is Inf or NaN) */
  if (x->out_fp32) {
    const float fl = (float)lo, fh = (float)hi;
    if (!(fl == fh && fl != 0 && __builtin_isfinite(fl))) return 0;
    g->c[e] = fl;
    g->overflowed[e] = 0;
    return 1;
  }
  double pv;
  if (x->out_posit_nearest && PC_FN(exact_posit_nearest)(&md->out, lo, hi, &pv)) {
    g->c[e] = (float)(lo > 0 ? pv : -pv);
    g->overflowed[e] = 0;
    return 1;
  }
  uint32_t w[4] = {0, 0, 0, 0};
  if (md->out_stochastic) PC_FN(acc_philox)((uint64_t)e * (g->k + 1) + g->k, md->key, w);
  int ev_lo, ev_hi;
  const double v_lo = PC_FN(acc_round)(&md->out, lo, w[1], &ev_lo);
  const double v_hi = PC_FN(acc_round)(&md->out, hi, w[1], &ev_hi);
  if (ev_lo != ev_hi || PC_FN(acc_d2u)(v_lo) != PC_FN(acc_d2u)(v_hi)) return 0;
  int hit = 0;
  PC_FN(acc_note)(ev_lo, cnt, &hit);
  g->c[e] = (float)v_lo;
  g->overflowed[e] = (uint8_t)hit;
  return 1;
}

/*
 * The second try for an element the double sum could not settle (mostly sums that nearly cancel, whose output
 * grid is fine next to the bound): Sum2 of Ogita, Rump and Oishi (2005) over the exact products, which keeps each
 * add's rounding error by TwoSum, their sum t kept by TwoSum too. When t's sums were all exact, X = s + t exactly
 * (cancellations, common among coarse values such as posit<8>'s, end here). Otherwise Sum2's result r satisfies |r − X| ≤ u|X| + γ_k²·Σ|terms| (their Proposition 4.5;
 * no term is subnormal), so [r ∓ (2^-51·|r| + ((k+2)·2^-52)²·L)] holds X, its own rounding included. Sums whose
 * every addend is zero, common where ReLU and max-pooling make gradients sparse, are settled here too: X is then
 * the quire's signed zero (−0 only when every addend, the start value included, is −0).
 */
static int PC_FN(exact_sum2_settle)(const PC_FN(exact_job) *x, size_t i, size_t j, double s, double t, int nonzero,
                                    int negative, int lost, double terms_l1, pc_accum_counts *cnt) {
  const pc_accum_args *g = x->g;
  if (!nonzero) {
    PC_FN(acc_element_out)(x->md, g, i, j, negative ? -0.0 : 0.0, cnt, 0);
    return 1;
  }
  if (!lost) { /* X = s + t exactly (a nonzero sum of addends that cancel is +0, as in the quire) */
    PC_FN(acc_element_out)(x->md, g, i, j, PC_FN(acc_add_to_odd)(s, t, PC_ROUND_NEAREST), cnt, 0);
    return 1;
  }
  const double r = s + t, gk = ((double)g->k + 2) * 2.220446049250313e-16; /* at least 2·γ_k */
  const double bound = 4.440892098500626e-16 * __builtin_fabs(r) + gk * gk * terms_l1;
  return PC_FN(exact_settle)(x, i * g->n + j, r - bound, r + bound, cnt);
}

/* The compensated pass over element (i, j)'s addends, then exact_sum2_settle. */
static int PC_FN(exact_sum2)(const PC_FN(exact_job) *x, size_t i, size_t j, double terms_l1, pc_accum_counts *cnt) {
  const pc_accum_args *g = x->g;
  const size_t e = i * g->n + j, k = g->k, sap = g->sap, sbp = g->sbp;
  const float *a = g->a + i * g->sai, *b = g->b + j * g->sbj;
  double s = g->accumulate ? (double)g->c[e] : 0.0, t = 0;
  /* whether every addend is zero (then X is a zero whose sign the quire takes from them) and all are -0 */
  int nonzero = s != 0, negative = __builtin_signbit(s) != 0;
  int lost = 0; /* whether t's own sums were ever inexact */
  for (size_t p = 0; p < k; p++) {
    const double y = (double)a[p * sap] * (double)b[p * sbp];
    nonzero |= y != 0;
    negative &= __builtin_signbit(y) != 0;
    const double z = s + y, bz = z - s;
    const double err = (s - (z - bz)) + (y - bz); /* TwoSum: s + y = z + err exactly */
    s = z;
    const double u = t + err, bu = u - t;
    lost |= ((t - (u - bu)) + (err - bu)) != 0;
    t = u;
  }
  return PC_FN(exact_sum2_settle)(x, i, j, s, t, nonzero, negative, lost, terms_l1, cnt);
}


/* L, the bound on Σ|addends| of element (i, j): the smaller norm product, plus |start|. */
static inline double PC_FN(exact_terms_l1)(const PC_FN(exact_job) *x, size_t i, size_t j) {
  const pc_accum_args *g = x->g;
  const double by_rows = x->row_l1[i] * x->col_max[j], by_cols = x->row_max[i] * x->col_l1[j];
  return (by_rows < by_cols ? by_rows : by_cols) + (g->accumulate ? __builtin_fabs((double)g->c[i * g->n + j]) : 0.0);
}

/* Element (i, j): settled from its interval, else by Sum2, else by the quire. */
static void PC_FN(exact_element)(const PC_FN(exact_job) *x, size_t i, size_t j, pc_accum_counts *cnt) {
  const pc_accum_args *g = x->g;
  const size_t e = i * g->n + j;
  const double s = x->s[e];
  const double l1 = PC_FN(exact_terms_l1)(x, i, j);
  const double bound = 2.220446049250313e-16 * (((double)g->k + 2) * l1 + 2 * __builtin_fabs(s));
  if (PC_FN(exact_settle)(x, e, s - bound, s + bound, cnt)) return;
  if (__builtin_isfinite(s) && PC_FN(exact_sum2)(x, i, j, l1, cnt)) return;
  PC_FN(acc_element)(x->md, g, i, j, cnt);
}

/*
 * exact_sum2's compensated pass for the lanes of `want` among columns [j, j + DL) of row i, a vector at a time
 * (the B rows are read across the lanes, not down one column each), each lane then settled as exact_sum2
 * settles it, or by the quire.
 */
static void PC_FN(exact_lanes_sum2)(const PC_FN(exact_job) *x, size_t i, size_t j, PC_FN(acc_vl) want,
                                    pc_accum_counts *cnt) {
  typedef PC_FN(acc_vd) vd;
  typedef PC_FN(acc_vl) vl;
  typedef PC_FN(acc_vh) vf;
  enum { DL = PC_ACC_DL };
  const pc_accum_args *g = x->g;
  const size_t e = i * g->n + j, k = g->k, sap = g->sap, sbp = g->sbp, sbj = g->sbj;
  const float *a = g->a + i * g->sai, *b = g->b + j * sbj;
  vd s = {0}, t = {0};
  if (g->accumulate) {
    vf c0;
    __builtin_memcpy(&c0, g->c + e, sizeof c0);
    s = __builtin_convertvector(c0, vd);
  }
  vl nonzero = (vl)(s != 0), negative = (vl)s < 0, lost = {0};
  for (size_t p = 0; p < k; p++) {
    vd bv;
    if (sbj == 1) {
      vf h;
      __builtin_memcpy(&h, b + p * sbp, sizeof h);
      bv = __builtin_convertvector(h, vd);
    } else
      for (int l = 0; l < DL; l++) bv[l] = (double)b[p * sbp + (size_t)l * sbj];
    const vd y = (double)a[p * sap] * bv;
    nonzero |= (vl)(y != 0);
    negative &= (vl)y < 0; /* the sign bit, zeros included */
    const vd z = s + y, bz = z - s;
    const vd err = (s - (z - bz)) + (y - bz);
    s = z;
    const vd u = t + err, bu = u - t;
    lost |= (vl)(((t - (u - bu)) + (err - bu)) != 0);
    t = u;
  }
  for (int l = 0; l < DL; l++)
    if (want[l] && !PC_FN(exact_sum2_settle)(x, i, j + l, s[l], t[l], nonzero[l] != 0, negative[l] != 0, lost[l] != 0,
                                             PC_FN(exact_terms_l1)(x, i, j + l), cnt))
      PC_FN(acc_element)(x->md, g, i, j + l, cnt);
}

/*
 * Columns [j, j + DL) of row i with a float32 output, as exact_element computes them, a vector at a time: lanes
 * whose interval converts to one finite nonzero float are written here, the rest go on to the compensated pass.
 */
static void PC_FN(exact_fp32_lanes)(const PC_FN(exact_job) *x, size_t i, size_t j, pc_accum_counts *cnt) {
  typedef PC_FN(acc_vd) vd;
  typedef PC_FN(acc_vl) vl;
  typedef PC_FN(acc_vh) vf;
  enum { DL = PC_ACC_DL };
  const pc_accum_args *g = x->g;
  const size_t e = i * g->n + j;
  vd s, cmax, cl1, start = {0};
  __builtin_memcpy(&s, x->s + e, sizeof s);
  __builtin_memcpy(&cmax, x->col_max + j, sizeof cmax);
  __builtin_memcpy(&cl1, x->col_l1 + j, sizeof cl1);
  if (g->accumulate) {
    vf c0;
    __builtin_memcpy(&c0, g->c + e, sizeof c0);
    start = __builtin_convertvector(c0, vd);
    start = (vd)((vl)start & 0x7fffffffffffffffll);
  }
  const vd by_rows = x->row_l1[i] * cmax, by_cols = x->row_max[i] * cl1;
  const vd l1 = (vd)(((vl)(by_rows < by_cols) & (vl)by_rows) | (~(vl)(by_rows < by_cols) & (vl)by_cols)) + start;
  const vd abs_s = (vd)((vl)s & 0x7fffffffffffffffll);
  const vd bound = 2.220446049250313e-16 * (((double)g->k + 2) * l1 + 2 * abs_s);
  const vd lo = s - bound, hi = s + bound;
  const vf flo = __builtin_convertvector(lo, vf), fhi = __builtin_convertvector(hi, vf);
  const vd back = __builtin_convertvector(flo, vd), abs_back = (vd)((vl)back & 0x7fffffffffffffffll);
  /* one sign, one float, neither 0 nor Inf (NaN fails every comparison) */
  const vl ok = ((vl)(lo > 0) | (vl)(hi < 0)) & (vl)(__builtin_convertvector(fhi, vd) == back) & (vl)(abs_back > 0) &
                (vl)(abs_back < __builtin_inf());
  int all = 1;
  for (int l = 0; l < DL; l++) all &= ok[l] != 0;
  if (all) {
    __builtin_memcpy(g->c + e, &flo, sizeof flo);
    __builtin_memset(g->overflowed + e, 0, DL);
    return;
  }
  for (int l = 0; l < DL; l++)
    if (ok[l]) {
      g->c[e + l] = flo[l];
      g->overflowed[e + l] = 0;
    }
  PC_FN(exact_lanes_sum2)(x, i, j, ~ok, cnt);
}

/* Rows [b, e) of the epilogue. */
static void PC_FN(exact_finish_task)(void *ctx, size_t t) {
  PC_FN(exact_job) *x = (PC_FN(exact_job) *)ctx;
  const pc_accum_args *g = x->g;
  const size_t b = t * x->rows_per_task, e_row = b + x->rows_per_task < g->m ? b + x->rows_per_task : g->m;
  pc_accum_counts cnt = {0, 0, 0};
  for (size_t i = b; i < e_row; i++) {
    size_t j = 0;
    if (x->out_fp32)
      for (; j + PC_ACC_DL <= g->n; j += PC_ACC_DL) PC_FN(exact_fp32_lanes)(x, i, j, &cnt);
    for (; j < g->n; j++) PC_FN(exact_element)(x, i, j, &cnt);
  }
  x->counts[t] = cnt;
}

/* An exact model over all of C: work holds pc_exact_workspace(m, n, k) doubles, 64-byte aligned; adds to *counts. */
static void PC_FN(pc_accumulate_exact)(const pc_accum_args *g, double *work, pc_gemm_runner run, int threads,
                                       pc_accum_counts *counts) {
  const size_t m = g->m, n = g->n, k = g->k;
  if (m == 0 || n == 0) return;
  const PC_FN(acc_model) md = PC_FN(acc_model_from)(g->params);
  double *pack = work;
  double *s = pack + PC_FN(exact_round8)(PC_FN(pc_gemm_workspace_f64)(m, n, k));
  double *row_l1 = s + PC_FN(exact_round8)(m * n), *row_max = row_l1 + m;
  double *col_l1 = row_l1 + PC_FN(exact_round8)(2 * m), *col_max = col_l1 + n;
  PC_FN(exact_norms_job) nj = {g, row_l1, row_max, col_l1, col_max, threads > 1 ? 2 * (size_t)threads : 1};
  if (threads > 1 && (m + n) * k >= ((size_t)1 << 16)) run(PC_FN(exact_norms_task), &nj, 2 * nj.parts);
  else {
    PC_FN(exact_norms)(g->a, m, k, g->sai, g->sap, row_l1, row_max);
    PC_FN(exact_norms)(g->b, n, k, g->sbj, g->sbp, col_l1, col_max);
  }
  if (g->accumulate)
    for (size_t e = 0; e < m * n; e++) s[e] = (double)g->c[e];
  /* op(A)[i,p] = a[i*sai + p*sap] is A transposed exactly when its p stride is not 1 (with both strides 1, A is a
   * vector and either reading is the same) */
  const PC_FN(wide_gemm_args) wide = {g->sap != 1, g->sbj != 1, g->accumulate, m, n, k, g->a, g->b, s};
  PC_FN(pc_gemm_f64)(&wide, pack, run, threads);
  PC_FN(exact_job) job = {&md, g, s, row_l1, row_max, col_l1, col_max, PC_FN(acc_is_fp32)(&md.out),
                           md.out.family == AR_FAMILY_POSIT && md.out.mode == PC_ROUND_NEAREST, 0, {{0, 0, 0}}};
  const size_t wanted = threads > 1 ? 4 * (size_t)threads : 1;
  const size_t most = sizeof job.counts / sizeof job.counts[0];
  job.rows_per_task = (m + (wanted < most ? wanted : most) - 1) / (wanted < most ? wanted : most);
  const size_t tasks = (m + job.rows_per_task - 1) / job.rows_per_task;
  if (tasks == 1) PC_FN(exact_finish_task)(&job, 0);
  else run(PC_FN(exact_finish_task), &job, tasks);
  for (size_t t = 0; t < tasks; t++) {
    counts->swamped += job.counts[t].swamped;
    counts->overflow += job.counts[t].overflow;
    counts->underflow += job.counts[t].underflow;
  }
}
