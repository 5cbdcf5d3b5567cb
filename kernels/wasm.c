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
