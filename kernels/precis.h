/*
 * precis kernels: one C source, built for the Node addon (SSE2, AVX2 and
 * AVX-512 variants chosen at run time) and for WebAssembly (SIMD128, plus a
 * relaxed-SIMD build). The TypeScript reference backend (src/backend/js.ts)
 * is the specification; these must match it bit for bit.
 *
 * Parameters cross the boundary as one vector of doubles, laid out below and
 * mirrored by src/backend/params.ts.
 */
#ifndef PRECIS_H
#define PRECIS_H

#include <stddef.h>
#include <stdint.h>

enum {
  P_MANTISSA_BITS = 0, /* grid: significand bits after the leading one, 255 = fixed point */
  P_TMIN = 1,          /* grid: exponent of the finest step */
  P_MAX_POS = 2,       /* grid: largest positive value (a float32) */
  P_MAX_NEG = 3,       /* grid: magnitude of the most negative value */
  P_MIN_NORMAL = 4,    /* grid: flush threshold (0: never) */
  P_FLAGS = 5,         /* grid: PC_GRID_* */
  P_WRAP_WIDTH = 6,
  P_WRAP_FRACTION = 7,
  P_PARITY_OFFSET = 8, /* grid: for PC_GRID_EXP_PARITY, code parity = (step exponent + offset) & 1 */
  P_MODE = 9,          /* rounding: PC_ROUND_* */
  P_SATURATE = 10,
  P_FLUSH = 11,
  P_RANDOM_BITS = 12,  /* 1..24 */
  P_SEED = 13,         /* < 2^53 */
  P_STREAM = 14,       /* < 2^53 */
  P_OFFSET = 15,       /* element index of src[0] for the random stream */
  P_POSIT_WIDTH = 16,
  P_POSIT_ES = 17,
  P_BLOCK_ELEMENT_MAX = 18,
  P_BLOCK_ELEMENT_EMAX = 19,
  P_BLOCK_SIZE = 20,
  P_BLOCK_ROUND_UP = 21,
  P_COUNT = 22
};

enum { PC_GRID_INF = 1, PC_GRID_NAN = 2, PC_GRID_SIGNED_ZERO = 4, PC_GRID_WRAP = 8, PC_GRID_UNSIGNED = 16, PC_GRID_EXP_PARITY = 32, PC_GRID_FLUSH = 64 };
enum { PC_ROUND_NEAREST = 0, PC_ROUND_AWAY = 1, PC_ROUND_ZERO = 2, PC_ROUND_DOWN = 3, PC_ROUND_UP = 4, PC_ROUND_STOCHASTIC = 5 };

/* Events counted by every quantize kernel. */
typedef struct {
  uint64_t overflow; /* beyond the largest finite value: saturated, Inf, NaN or wrapped */
  uint64_t flushed;  /* nonzero inputs that became zero */
  uint64_t nan;      /* NaN inputs (and, for posits, Inf inputs; for blocks, every element of a NaN block) */
} pc_counts;

/* C (m x n, row-major) = op(A)·op(B) (+ C when accumulate); op(A) is m x k, stored k x m when trans_a;
 * op(B) is k x n, stored n x k when trans_b. See gemm.h. */
typedef struct {
  int trans_a, trans_b, accumulate;
  size_t m, n, k;
  const float *a, *b;
  float *c;
} pc_gemm_args;

/* Runs fn(ctx, 0 .. tasks-1), in any order and on any threads (the addon passes its pool). */
typedef void (*pc_gemm_runner)(void (*fn)(void *ctx, size_t task), void *ctx, size_t tasks);

/* One SGD step (see src/optim/sgd.ts): buf is NULL without momentum; first: buf takes the gradient. */
typedef struct {
  double lr, weight_decay, momentum, keep; /* keep = 1 - dampening */
  int nesterov, first;
} pc_sgd_args;

/* One Adam/AdamW step (see src/optim/adam.ts); the scalars are computed once by the caller, in double. */
typedef struct {
  double step_size, bc2_sqrt, w, one_minus_w, beta2, one_minus_beta2, eps, decay, l2;
} pc_adam_args;

/* The geometry of one convolution (NCHW input, square stride and padding): see src/backend/conv.ts. */
typedef struct {
  size_t n, c, h, w, kh, kw, oh, ow, stride, pad;
} pc_conv_geo;

/* The geometry of one pooling (NCHW, square window): planes = N·C. */
typedef struct {
  size_t planes, h, w, k, stride, pad, oh, ow;
} pc_pool_geo;

/* Accumulator models (accum.h; src/backend/accumulate.ts mirrors this layout). A parameter vector holds the
 * model, then three rounders of AR_COUNT values each: the accumulator, the product and the output. */
enum { AP_KIND_EXACT = 0, AP_KIND_PER_ADD = 1 };
enum {
  AP_KIND = 0,   /* AP_KIND_* */
  AP_CHUNK = 1,  /* per-add: 0 sequential, else N of order chunk:N */
  AP_SEED = 2,   /* Philox key, < 2^53 */
  AP_STREAM = 3, /* Philox stream, < 2^53 */
  AP_ACC = 4,
  AP_PRODUCT = 20,
  AP_OUTPUT = 36,
  AP_EVENTS = 52, /* 1: count the events; 0: the caller drops them, so the kernels may skip the counting */
  AP_COUNT = 53
};
enum { AR_FAMILY_NONE = 0, AR_FAMILY_FLOAT = 1, AR_FAMILY_FIXED = 2, AR_FAMILY_POSIT = 3 };
enum {
  AR_FAMILY = 0, /* AR_FAMILY_* */
  AR_MANTISSA_BITS = 1, AR_TMIN = 2, AR_MAX_POS = 3, AR_MAX_NEG = 4, AR_MIN_NORMAL = 5, AR_FLAGS = 6,
  AR_WRAP_WIDTH = 7, AR_WRAP_FRACTION = 8, AR_PARITY_OFFSET = 9, /* the grid (float and fixed), in double */
  AR_MODE = 10, AR_SATURATE = 11, AR_FLUSH = 12, AR_RANDOM_BITS = 13,
  AR_POSIT_WIDTH = 14, AR_POSIT_ES = 15,
  AR_COUNT = 16
};

/* C (m x n) = op(A)·op(B) (+ C) through an accumulator model: op(A)[i,p] = a[i*sai + p*sap],
 * op(B)[p,j] = b[p*sbp + j*sbj]; overflowed (m x n) gets each element's overflow flag. */
typedef struct {
  size_t m, n, k;
  const float *a, *b;
  size_t sai, sap, sbp, sbj;
  float *c;
  uint8_t *overflowed;
  int accumulate;
  const double *params; /* AP_COUNT values */
} pc_accum_args;

/* What happened inside the accumulations (accumulator.ts AccumulationReport). */
typedef struct {
  uint64_t swamped, overflow, underflow;
} pc_accum_counts;

/* The kernels of one instruction set; each quantize kernel processes src[begin, end).
 * The layout kernels (sgd .. avg_pool_backward) process units [begin, end): elements for the optimizers,
 * (row, image) pairs for im2col, planes for col2im and pooling, (a, b) blocks for swap01; a split into
 * units never changes a result. */
typedef struct {
  const char *isa;
  void (*quantize_grid)(const float *src, float *dst, size_t begin, size_t end, const double *p, pc_counts *c);
  void (*quantize_posit)(const float *src, float *dst, size_t begin, size_t end, const double *p, pc_counts *c);
  void (*quantize_blocks)(const float *src, float *dst, size_t begin, size_t end, const double *p, pc_counts *c);
  /* floats of 64-byte-aligned workspace gemm needs for these sizes */
  size_t (*gemm_workspace)(size_t m, size_t n, size_t k);
  void (*gemm)(const pc_gemm_args *g, float *work, pc_gemm_runner run, int threads);
  void (*sgd)(const pc_sgd_args *a, float *p, const float *g, float *buf, size_t begin, size_t end);
  void (*adam)(const pc_adam_args *a, float *p, const float *g, float *m, float *v, size_t begin, size_t end);
  void (*im2col)(const pc_conv_geo *g, const float *x, float *col, size_t begin, size_t end);
  void (*col2im)(const pc_conv_geo *g, const float *col, float *dx, size_t begin, size_t end);
  void (*swap01)(const float *src, float *dst, size_t a, size_t b, size_t inner, size_t begin, size_t end);
  void (*relu)(const float *x, const float *grad, float *out, size_t begin, size_t end);
  void (*sum_rows)(const float *g, float *out, size_t rows, size_t n, size_t begin, size_t end);
  void (*max_pool)(const pc_pool_geo *g, const float *x, float *out, int32_t *arg, size_t begin, size_t end);
  void (*max_pool_backward)(const pc_pool_geo *g, const float *grad, const int32_t *arg, float *dx, size_t begin, size_t end);
  void (*avg_pool)(const pc_pool_geo *g, const float *x, float *out, size_t begin, size_t end);
  void (*avg_pool_backward)(const pc_pool_geo *g, const float *grad, float *dx, size_t begin, size_t end);
  /* rows [begin, end) of an accumulated product; adds to *counts */
  void (*accumulate)(const pc_accum_args *g, size_t begin, size_t end, pc_accum_counts *counts);
  /* exact models: all of C at once (a double GEMM over the pool, then the quire where it cannot decide), with
   * this many doubles of 64-byte-aligned workspace */
  size_t (*exact_workspace)(size_t m, size_t n, size_t k);
  void (*accumulate_exact)(const pc_accum_args *g, double *work, pc_gemm_runner run, int threads, pc_accum_counts *counts);
} pc_kernels;

#endif
