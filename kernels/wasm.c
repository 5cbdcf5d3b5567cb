/* The WebAssembly build: the same kernels over fixed buffers in linear
 * memory; src/backend/wasm.ts streams arrays through them in chunks. */
#ifdef PC_RELAXED
#define PC_ISA wasm_relaxed
#else
#define PC_ISA wasm_simd128
#endif
#include "quantize.h"

/* freestanding: the compiler may call these for struct and array copies */
void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *dd = (unsigned char *)d;
  const unsigned char *ss = (const unsigned char *)s;
  while (n--) *dd++ = *ss++;
  return d;
}
void *memset(void *d, int v, size_t n) {
  unsigned char *dd = (unsigned char *)d;
  while (n--) *dd++ = (unsigned char)v;
  return d;
}

#define PC_CHUNK 16384
static float in_buf[PC_CHUNK];
static float out_buf[PC_CHUNK];
static double params[P_COUNT];
static double counts[3];

__attribute__((export_name("in_ptr"))) float *in_ptr(void) { return in_buf; }
__attribute__((export_name("out_ptr"))) float *out_ptr(void) { return out_buf; }
__attribute__((export_name("params_ptr"))) double *params_ptr(void) { return params; }
__attribute__((export_name("counts_ptr"))) double *counts_ptr(void) { return counts; }
__attribute__((export_name("chunk_size"))) int chunk_size(void) { return PC_CHUNK; }
__attribute__((export_name("param_count"))) int param_count(void) { return P_COUNT; }

/* Quantizes in_buf[0..n) into out_buf; kind 0 = grid, 1 = posit, 2 = blocks. Adds to counts. */
__attribute__((export_name("quantize"))) void quantize(int kind, int n) {
  pc_counts c = {0, 0, 0};
  if (kind == 0) PC_FN(pc_quantize_grid)(in_buf, out_buf, 0, (size_t)n, params, &c);
  else if (kind == 1) PC_FN(pc_quantize_posit)(in_buf, out_buf, 0, (size_t)n, params, &c);
  else PC_FN(pc_quantize_blocks)(in_buf, out_buf, 0, (size_t)n, params, &c);
  counts[0] += (double)c.overflow;
  counts[1] += (double)c.flushed;
  counts[2] += (double)c.nan;
}

/* gemm: relaxed madd fuses on engines with FMA hardware; src/backend/wasm.ts checks that it does (gemm_fma1)
 * and otherwise loads the SIMD128 build, whose FMA is the exact emulation in gemm.h. */
#ifdef PC_RELAXED
#define PC_GEMM_FMA(a, b, c) __builtin_wasm_relaxed_madd_f32x4(a, b, c)
#define PC_GEMM_DFMA(a, b, c) __builtin_wasm_relaxed_madd_f64x2(a, b, c)
#endif
/* 4 x 8 = 8 accumulators + 2 B vectors + 1 broadcast: fits the 16 xmm registers V8 allocates on x64 */
#define PC_GEMM_MR 4
#define PC_GEMM_NV 2
#define PC_GEMM_KC 256
#define PC_GEMM_MC 128
#include "gemm.h"

/* Linear memory from here on is free: wasm.ts places gemm's operands and workspace there (growing memory). */
extern unsigned char __heap_base;
__attribute__((export_name("heap_base"))) size_t heap_base(void) { return (size_t)&__heap_base; }
__attribute__((export_name("gemm_workspace"))) size_t gemm_workspace(size_t m, size_t n, size_t k) {
  return PC_FN(pc_gemm_workspace)(m, n, k);
}
__attribute__((export_name("gemm_fma1"))) float gemm_fma1(float a, float b, float c) { return PC_FN(gemm_fma1)(a, b, c); }

static void run_serial(void (*fn)(void *, size_t), void *ctx, size_t tasks) {
  for (size_t t = 0; t < tasks; t++) fn(ctx, t);
}

/* Arrays are byte offsets into linear memory; work is 64-byte aligned. */
__attribute__((export_name("gemm"))) void gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a,
                                               const float *b, float *c, int accumulate, float *work) {
  const pc_gemm_args g = {trans_a, trans_b, accumulate, m, n, k, a, b, c};
  PC_FN(pc_gemm)(&g, work, run_serial, 1);
}

/* The layer kernels (layers.h) over arrays in linear memory; their scalars go through layer_params. */
#include "layers.h"

static double layer_params[16];
__attribute__((export_name("layer_params_ptr"))) double *layer_params_ptr(void) { return layer_params; }

/* layer_params = [lr, weightDecay, momentum, keep, nesterov, first]; buf = 0 without momentum */
__attribute__((export_name("sgd"))) void sgd(float *p, const float *g, float *buf, size_t n) {
  const double *q = layer_params;
  const pc_sgd_args a = {q[0], q[1], q[2], q[3], q[4] != 0, q[5] != 0};
  PC_FN(pc_sgd)(&a, p, g, buf, 0, n);
}

/* layer_params = [stepSize, bc2Sqrt, w, 1 - w, beta2, 1 - beta2, eps, decay, l2] */
__attribute__((export_name("adam"))) void adam(float *p, const float *g, float *m, float *v, size_t n) {
  const double *q = layer_params;
  const pc_adam_args a = {q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8]};
  PC_FN(pc_adam)(&a, p, g, m, v, 0, n);
}

/* layer_params = [N, C, H, W, KH, KW, OH, OW, stride, padding] */
static pc_conv_geo conv_geo(void) {
  const double *q = layer_params;
  return (pc_conv_geo){(size_t)q[0], (size_t)q[1], (size_t)q[2], (size_t)q[3], (size_t)q[4],
                       (size_t)q[5], (size_t)q[6], (size_t)q[7], (size_t)q[8], (size_t)q[9]};
}
__attribute__((export_name("im2col"))) void im2col(const float *x, float *col) {
  const pc_conv_geo g = conv_geo();
  PC_FN(pc_im2col)(&g, x, col, 0, g.c * g.kh * g.kw * g.n);
}
__attribute__((export_name("col2im"))) void col2im(const float *col, float *dx) {
  const pc_conv_geo g = conv_geo();
  PC_FN(pc_col2im)(&g, col, dx, 0, g.n * g.c);
}

__attribute__((export_name("swap01"))) void swap01(const float *src, float *dst, size_t a, size_t b, size_t inner) {
  PC_FN(pc_swap01)(src, dst, a, b, inner, 0, a * b);
}

__attribute__((export_name("sum_rows"))) void sum_rows(const float *g, float *out, size_t rows, size_t n) {
  PC_FN(pc_sum_rows)(g, out, rows, n, 0, n);
}

/* grad = 0 (a null pointer): relu; else its gradient */
__attribute__((export_name("relu"))) void relu(const float *x, const float *grad, float *out, size_t n) {
  PC_FN(pc_relu)(x, grad, out, 0, n);
}

/* layer_params = [N·C, H, W, K, stride, padding, OH, OW] */
static pc_pool_geo pool_geo(void) {
  const double *q = layer_params;
  return (pc_pool_geo){(size_t)q[0], (size_t)q[1], (size_t)q[2], (size_t)q[3],
                       (size_t)q[4], (size_t)q[5], (size_t)q[6], (size_t)q[7]};
}
__attribute__((export_name("max_pool"))) void max_pool(const float *x, float *out, int32_t *arg) {
  const pc_pool_geo g = pool_geo();
  PC_FN(pc_max_pool)(&g, x, out, arg, 0, g.planes);
}
__attribute__((export_name("max_pool_backward"))) void max_pool_backward(const float *grad, const int32_t *arg, float *dx) {
  const pc_pool_geo g = pool_geo();
  PC_FN(pc_max_pool_backward)(&g, grad, arg, dx, 0, g.planes);
}
__attribute__((export_name("avg_pool"))) void avg_pool(const float *x, float *out) {
  const pc_pool_geo g = pool_geo();
  PC_FN(pc_avg_pool)(&g, x, out, 0, g.planes);
}
__attribute__((export_name("avg_pool_backward"))) void avg_pool_backward(const float *grad, float *dx) {
  const pc_pool_geo g = pool_geo();
  PC_FN(pc_avg_pool_backward)(&g, grad, dx, 0, g.planes);
}

/* Accumulator models (accum.h) over arrays in linear memory; the model's parameters go through accum_params. */
#include "accum.h"

static double accum_params[AP_COUNT];
static double accum_counts[3];
__attribute__((export_name("accum_params_ptr"))) double *accum_params_ptr(void) { return accum_params; }
__attribute__((export_name("accum_param_count"))) int accum_param_count(void) { return AP_COUNT; }
__attribute__((export_name("accum_counts_ptr"))) double *accum_counts_ptr(void) { return accum_counts; }

#include "accum_exact.h"

/* Doubles of workspace accumulate needs for these sizes with the model in accum_params (none for per-add models). */
__attribute__((export_name("accumulate_workspace"))) size_t accumulate_workspace(size_t m, size_t n, size_t k) {
  return accum_params[AP_KIND] == AP_KIND_EXACT ? PC_FN(pc_exact_workspace)(m, n, k) : 0;
}

/* Arrays are byte offsets into linear memory, work 64-byte aligned; writes [swamped, overflow, underflow] to
 * accum_counts. */
__attribute__((export_name("accumulate"))) void accumulate(int trans_a, int trans_b, size_t m, size_t n, size_t k,
                                                           const float *a, const float *b, float *c, int accumulate,
                                                           uint8_t *overflowed, double *work) {
  pc_accum_args g = {m, n, k, a, b, trans_a ? 1 : k, trans_a ? m : 1, trans_b ? 1 : n, trans_b ? k : 1,
                     c, overflowed, accumulate, accum_params};
  pc_accum_counts cnt = {0, 0, 0};
  if (accum_params[AP_KIND] == AP_KIND_EXACT) PC_FN(pc_accumulate_exact)(&g, work, run_serial, 1, &cnt);
  else PC_FN(pc_accumulate)(&g, 0, m, &cnt);
  accum_counts[0] = (double)cnt.swamped;
  accum_counts[1] = (double)cnt.overflow;
  accum_counts[2] = (double)cnt.underflow;
}
