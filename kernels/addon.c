/* The Node addon: N-API glue, instruction-set dispatch and threading for the kernels. */
#include <node_api.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pool.h"
#include "precis.h"

extern const pc_kernels pc_kernels_sse2;
#if defined(__x86_64__)
extern const pc_kernels pc_kernels_avx2;
extern const pc_kernels pc_kernels_avx512;
#endif

static const pc_kernels *active = &pc_kernels_sse2;

static int cpu_has_avx512(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512cd");
#else
  return 0;
#endif
}

static int cpu_has_avx2(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("fma");
#else
  return 0;
#endif
}

/* Picks an instruction set by name ("best" = the widest the CPU supports); 0 if unsupported. */
static int select_isa(const char *name) {
#if defined(__x86_64__)
  int best = !strcmp(name, "best");
  if ((best || !strcmp(name, "avx512")) && cpu_has_avx512()) { active = &pc_kernels_avx512; return 1; }
  if (!best && !strcmp(name, "avx512")) return 0;
  if ((best || !strcmp(name, "avx2")) && cpu_has_avx2()) { active = &pc_kernels_avx2; return 1; }
  if (!best && !strcmp(name, "avx2")) return 0;
#endif
  if (!strcmp(name, "best") || !strcmp(name, "sse2")) { active = &pc_kernels_sse2; return 1; }
  return 0;
}

typedef void (*kernel_fn)(const float *, float *, size_t, size_t, const double *, pc_counts *);

typedef struct {
  kernel_fn fn;
  const float *src;
  float *dst;
  size_t n, chunk;
  const double *p;
  pc_counts counts[256];
} job;

static void run_task(void *ctx, size_t t) {
  job *j = (job *)ctx;
  size_t b = t * j->chunk, e = b + j->chunk < j->n ? b + j->chunk : j->n;
  if (b < e) j->fn(j->src, j->dst, b, e, j->p, &j->counts[t]);
}

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "precis addon: N-API call failed: " #call); return NULL; } } while (0)

static int get_f32(napi_env env, napi_value v, float **data, size_t *len) {
  napi_typedarray_type type;
  void *ptr;
  napi_value buf;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &buf, &off) != napi_ok || type != napi_float32_array) return 0;
  *data = (float *)ptr;
  return 1;
}

/* quantize(kind, src, dst, params) where kind 0 = grid, 1 = posit, 2 = blocks; returns [overflow, flushed, nan]. */
static napi_value quantize(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t kind;
  CHECK(napi_get_value_int32(env, argv[0], &kind));
  float *src, *dst;
  size_t n, n2;
  if (!get_f32(env, argv[1], &src, &n) || !get_f32(env, argv[2], &dst, &n2) || n2 < n) {
    napi_throw_type_error(env, NULL, "precis addon: src and dst must be Float32Arrays, dst at least as long as src");
    return NULL;
  }
  napi_typedarray_type type;
  size_t plen, off;
  void *pp;
  napi_value buf;
  CHECK(napi_get_typedarray_info(env, argv[3], &type, &plen, &pp, &buf, &off));
  if (type != napi_float64_array || plen < P_COUNT) {
    napi_throw_type_error(env, NULL, "precis addon: params must be a Float64Array of P_COUNT values");
    return NULL;
  }
  /* The kernels read src after writing dst (fallback passes), so an overlapping dst gets a private copy of src. */
  float *copy = NULL;
  if ((const char *)src < (const char *)(dst + n2) && (const char *)dst < (const char *)(src + n)) {
    copy = (float *)malloc(n * sizeof(float) + 1);
    if (!copy) { napi_throw_error(env, NULL, "precis addon: out of memory copying an in-place quantize"); return NULL; }
    memcpy(copy, src, n * sizeof(float));
    src = copy;
  }
  job *j = (job *)calloc(1, sizeof(job));
  j->fn = kind == 0 ? active->quantize_grid : kind == 1 ? active->quantize_posit : active->quantize_blocks;
  j->src = src;
  j->dst = dst;
  j->n = n;
  j->p = (const double *)pp;
  const int threads = pc_pool_threads();
  /* Chunks are whole tiles (and whole blocks), so the split never changes a result. */
  size_t unit = 512;
  if (kind == 2) unit = (size_t)j->p[P_BLOCK_SIZE] * 512;
  size_t tasks = (n >= 32768 && threads > 1) ? (size_t)threads : 1;
  size_t chunk = (n + tasks - 1) / tasks;
  chunk = (chunk + unit - 1) / unit * unit;
  if (chunk == 0) chunk = unit;
  tasks = (n + chunk - 1) / chunk;
  j->chunk = chunk;
  pc_pool_run(run_task, j, tasks);
  pc_counts total = {0, 0, 0};
  for (size_t t = 0; t < tasks; t++) {
    total.overflow += j->counts[t].overflow;
    total.flushed += j->counts[t].flushed;
    total.nan += j->counts[t].nan;
  }
  free(j);
  free(copy);
  napi_value out, v;
  CHECK(napi_create_array_with_length(env, 3, &out));
  CHECK(napi_create_double(env, (double)total.overflow, &v)); CHECK(napi_set_element(env, out, 0, v));
  CHECK(napi_create_double(env, (double)total.flushed, &v)); CHECK(napi_set_element(env, out, 1, v));
  CHECK(napi_create_double(env, (double)total.nan, &v)); CHECK(napi_set_element(env, out, 2, v));
  return out;
}

typedef struct { const float *src; float *dst; size_t n, chunk; } copy_job;

static void copy_task(void *ctx, size_t t) {
  copy_job *j = (copy_job *)ctx;
  size_t b = t * j->chunk, e = b + j->chunk < j->n ? b + j->chunk : j->n;
  if (b < e) memcpy(j->dst + b, j->src + b, (e - b) * sizeof(float));
}

/* copy(src, dst): a plain parallel copy, the memory-bandwidth ceiling the benchmarks compare against. */
static napi_value copy(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  copy_job j;
  size_t n2;
  if (!get_f32(env, argv[0], (float **)&j.src, &j.n) || !get_f32(env, argv[1], &j.dst, &n2) || n2 < j.n) {
    napi_throw_type_error(env, NULL, "precis addon: copy needs two Float32Arrays");
    return NULL;
  }
  size_t tasks = pc_pool_threads();
  j.chunk = ((j.n + tasks - 1) / tasks + 1023) / 1024 * 1024;
  pc_pool_run(copy_task, &j, tasks);
  return NULL;
}

/* gemm's packing workspace: kept between calls (grown, never shrunk), so the hot path does not allocate. */
static float *gemm_work = NULL;
static size_t gemm_work_floats = 0;

static int get_size(napi_env env, napi_value v, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0 || d != (double)(size_t)d) return 0;
  *out = (size_t)d;
  return 1;
}

/* gemm(transA, transB, m, n, k, a, b, c, accumulate): see pc_gemm_args. */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) { napi_throw_type_error(env, NULL, "precis addon: gemm takes 9 arguments"); return NULL; }
  pc_gemm_args g;
  bool ta, tb, acc;
  if (napi_get_value_bool(env, argv[0], &ta) != napi_ok || napi_get_value_bool(env, argv[1], &tb) != napi_ok ||
      napi_get_value_bool(env, argv[8], &acc) != napi_ok) {
    napi_throw_type_error(env, NULL, "precis addon: gemm's transA, transB and accumulate must be booleans");
    return NULL;
  }
  if (!get_size(env, argv[2], &g.m) || !get_size(env, argv[3], &g.n) || !get_size(env, argv[4], &g.k)) {
    napi_throw_type_error(env, NULL, "precis addon: gemm's m, n and k must be non-negative integers");
    return NULL;
  }
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!get_f32(env, argv[5], &a, &la) || !get_f32(env, argv[6], &b, &lb) || !get_f32(env, argv[7], &c, &lc)) {
    napi_throw_type_error(env, NULL, "precis addon: gemm's a, b and c must be Float32Arrays");
    return NULL;
  }
  /* m, n, k < 2^53 each, but their products may not fit: compare in double first */
  if ((double)g.m * (double)g.k > (double)la || (double)g.k * (double)g.n > (double)lb || (double)g.m * (double)g.n > (double)lc) {
    char msg[256];
    snprintf(msg, sizeof msg, "precis addon: gemm with m=%zu n=%zu k=%zu needs a, b, c of at least %.0f, %.0f, %.0f floats, got %zu, %zu, %zu",
             g.m, g.n, g.k, (double)g.m * (double)g.k, (double)g.k * (double)g.n, (double)g.m * (double)g.n, la, lb, lc);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  g.trans_a = ta;
  g.trans_b = tb;
  g.accumulate = acc;
  g.a = a;
  g.b = b;
  g.c = c;
  const size_t need = g.m && g.n && g.k ? active->gemm_workspace(g.m, g.n, g.k) : 0;
  if (need > gemm_work_floats) {
    free(gemm_work);
    gemm_work = (float *)aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
    gemm_work_floats = gemm_work ? need : 0;
    if (!gemm_work) { napi_throw_error(env, NULL, "precis addon: out of memory for the gemm workspace"); return NULL; }
  }
  active->gemm(&g, gemm_work, pc_pool_run, pc_pool_threads());
  return NULL;
}

/* ---- the layer kernels: element, row or plane ranges split over the pool ---- */

typedef void (*range_fn)(void *ctx, size_t begin, size_t end);
typedef struct { range_fn fn; void *ctx; size_t units, chunk; } range_job;

static void range_task(void *ctx, size_t t) {
  range_job *j = (range_job *)ctx;
  size_t b = t * j->chunk, e = b + j->chunk < j->units ? b + j->chunk : j->units;
  if (b < e) j->fn(j->ctx, b, e);
}

/* Runs fn over units [0, units) of about unit_cost bytes touched each: on the caller when small, else about
 * four chunks per thread (rounded to `align` units) so a dynamic schedule balances them. */
static void run_units(range_fn fn, void *ctx, size_t units, double unit_cost, size_t align) {
  const int threads = pc_pool_threads();
  if (units == 0) return;
  if (threads == 1 || (double)units * unit_cost < 65536.0) { fn(ctx, 0, units); return; }
  size_t tasks = 4 * (size_t)threads;
  if (tasks > units) tasks = units;
  range_job j = {fn, ctx, units, 0};
  j.chunk = (units + tasks - 1) / tasks;
  j.chunk = (j.chunk + align - 1) / align * align;
  pc_pool_run(range_task, &j, (units + j.chunk - 1) / j.chunk);
}

static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len) {
  napi_typedarray_type type;
  napi_value buf;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, data, &buf, &off) != napi_ok || type != want) return 0;
  return 1;
}

/* The double parameter vector of a kernel: at least `count` values, each checked by the caller. */
static const double *get_params(napi_env env, napi_value v, size_t count) {
  void *p;
  size_t len;
  if (!get_typed(env, v, napi_float64_array, &p, &len) || len < count) return NULL;
  return (const double *)p;
}

static int is_size(double d) { return d >= 0 && d <= 4294967295.0 && d == (double)(size_t)d; }

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

#define ARGS(count)                                              \
  size_t argc = count;                                           \
  napi_value argv[count];                                        \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));   \
  if (argc < count) return fail(env, "precis addon: too few arguments")

typedef struct { const pc_sgd_args *a; float *p, *buf; const float *g; } sgd_ctx;
static void sgd_range(void *c, size_t b, size_t e) {
  sgd_ctx *x = (sgd_ctx *)c;
  active->sgd(x->a, x->p, x->g, x->buf, b, e);
}

/* sgd(p, grad, buf | null, [lr, weightDecay, momentum, keep, nesterov, first]) */
static napi_value sgd(napi_env env, napi_callback_info info) {
  ARGS(4);
  float *p, *g, *buf = NULL;
  size_t n, ng, nb;
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[2], &t));
  if (!get_f32(env, argv[0], &p, &n) || !get_f32(env, argv[1], &g, &ng) || ng != n ||
      (t != napi_null && (!get_f32(env, argv[2], &buf, &nb) || nb != n)))
    return fail(env, "precis addon: sgd needs Float32Arrays p, grad (and buf, or null) of one length");
  const double *q = get_params(env, argv[3], 6);
  if (!q) return fail(env, "precis addon: sgd's parameters must be a Float64Array of 6 values");
  const pc_sgd_args a = {q[0], q[1], q[2], q[3], q[4] != 0, q[5] != 0};
  sgd_ctx x = {&a, p, buf, g};
  run_units(sgd_range, &x, n, buf ? 20.0 : 12.0, 64);
  return NULL;
}

typedef struct { const pc_adam_args *a; float *p, *m, *v; const float *g; } adam_ctx;
static void adam_range(void *c, size_t b, size_t e) {
  adam_ctx *x = (adam_ctx *)c;
  active->adam(x->a, x->p, x->g, x->m, x->v, b, e);
}

/* adam(p, grad, m, v, [stepSize, bc2Sqrt, w, 1 - w, beta2, 1 - beta2, eps, decay, l2]) */
static napi_value adam(napi_env env, napi_callback_info info) {
  ARGS(5);
  float *p, *g, *m, *v;
  size_t n, ng, nm, nv;
  if (!get_f32(env, argv[0], &p, &n) || !get_f32(env, argv[1], &g, &ng) || !get_f32(env, argv[2], &m, &nm) ||
      !get_f32(env, argv[3], &v, &nv) || ng != n || nm != n || nv != n)
    return fail(env, "precis addon: adam needs Float32Arrays p, grad, m, v of one length");
  const double *q = get_params(env, argv[4], 9);
  if (!q) return fail(env, "precis addon: adam's parameters must be a Float64Array of 9 values");
  const pc_adam_args a = {q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8]};
  adam_ctx x = {&a, p, m, v, g};
  run_units(adam_range, &x, n, 28.0, 64);
  return NULL;
}

/* A geometry vector of `count` sizes, each a non-negative integer (the TS side checked the shapes). */
static int get_sizes(napi_env env, napi_value v, size_t count, size_t *out) {
  const double *q = get_params(env, v, count);
  if (!q) return 0;
  for (size_t i = 0; i < count; i++) {
    if (!is_size(q[i])) return 0;
    out[i] = (size_t)q[i];
  }
  return 1;
}

static int get_conv(napi_env env, napi_value v, pc_conv_geo *g) {
  size_t s[10];
  if (!get_sizes(env, v, 10, s)) return 0;
  *g = (pc_conv_geo){s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9]};
  /* the output size must be the one the shapes give, so every index stays inside x and col */
  if (g->stride == 0 || g->kh == 0 || g->kw == 0 || g->h + 2 * g->pad < g->kh || g->w + 2 * g->pad < g->kw) return 0;
  return g->oh == (g->h + 2 * g->pad - g->kh) / g->stride + 1 && g->ow == (g->w + 2 * g->pad - g->kw) / g->stride + 1;
}

typedef struct { const pc_conv_geo *g; const float *in; float *out; } conv_ctx;
static void im2col_range(void *c, size_t b, size_t e) {
  conv_ctx *x = (conv_ctx *)c;
  active->im2col(x->g, x->in, x->out, b, e);
}
static void col2im_range(void *c, size_t b, size_t e) {
  conv_ctx *x = (conv_ctx *)c;
  active->col2im(x->g, x->in, x->out, b, e);
}

/* im2col(x, col, [N, C, H, W, KH, KW, OH, OW, stride, padding]) / col2im(col, dx, same) */
static napi_value conv_layout(napi_env env, napi_callback_info info, int backward) {
  ARGS(3);
  pc_conv_geo g;
  if (!get_conv(env, argv[2], &g)) return fail(env, "precis addon: bad convolution geometry");
  float *a, *b;
  size_t la, lb;
  const double xs = (double)g.n * g.c * g.h * g.w, cs = (double)g.c * g.kh * g.kw * g.n * g.oh * g.ow;
  if (!get_f32(env, argv[0], &a, &la) || !get_f32(env, argv[1], &b, &lb) || (double)la < (backward ? cs : xs) ||
      (double)lb < (backward ? xs : cs))
    return fail(env, "precis addon: im2col/col2im arrays must be Float32Arrays as long as the geometry needs");
  conv_ctx x = {&g, a, b};
  if (backward) run_units(col2im_range, &x, g.n * g.c, 8.0 * g.kh * g.kw * g.oh * g.ow, 1);
  else run_units(im2col_range, &x, g.c * g.kh * g.kw * g.n, 8.0 * g.oh * g.ow, 1);
  return NULL;
}
static napi_value im2col(napi_env env, napi_callback_info info) { return conv_layout(env, info, 0); }
static napi_value col2im(napi_env env, napi_callback_info info) { return conv_layout(env, info, 1); }

typedef struct { const float *src; float *dst; size_t a, b, inner; } swap_ctx;
static void swap_range(void *c, size_t b, size_t e) {
  swap_ctx *x = (swap_ctx *)c;
  active->swap01(x->src, x->dst, x->a, x->b, x->inner, b, e);
}

/* swap01(src, dst, [A, B, inner]): dst[b, a, :] = src[a, b, :] */
static napi_value swap01(napi_env env, napi_callback_info info) {
  ARGS(3);
  size_t s[3], ls, ld;
  swap_ctx x;
  if (!get_sizes(env, argv[2], 3, s)) return fail(env, "precis addon: swap01's sizes must be non-negative integers");
  if (!get_f32(env, argv[0], (float **)&x.src, &ls) || !get_f32(env, argv[1], &x.dst, &ld) ||
      (double)ls < (double)s[0] * s[1] * s[2] || (double)ld < (double)s[0] * s[1] * s[2])
    return fail(env, "precis addon: swap01's arrays must be Float32Arrays of A·B·inner elements");
  x.a = s[0];
  x.b = s[1];
  x.inner = s[2];
  run_units(swap_range, &x, x.a * x.b, 8.0 * x.inner, 1);
  return NULL;
}

typedef struct { const float *x, *grad; float *out; } relu_ctx;
static void relu_range(void *c, size_t b, size_t e) {
  relu_ctx *x = (relu_ctx *)c;
  active->relu(x->x, x->grad, x->out, b, e);
}

/* relu(x, grad | null, out): out = relu(x), or with grad its gradient (see src/backend/activation.ts) */
static napi_value relu(napi_env env, napi_callback_info info) {
  ARGS(3);
  relu_ctx x = {NULL, NULL, NULL};
  size_t n, ng, no;
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  if (!get_f32(env, argv[0], (float **)&x.x, &n) || !get_f32(env, argv[2], &x.out, &no) || no != n ||
      (t != napi_null && (!get_f32(env, argv[1], (float **)&x.grad, &ng) || ng != n)))
    return fail(env, "precis addon: relu needs Float32Arrays x, grad (or null) and out of one length");
  run_units(relu_range, &x, n, x.grad ? 12.0 : 8.0, 64);
  return NULL;
}

typedef struct { const float *g; float *out; size_t rows, n; } sum_rows_ctx;
static void sum_rows_range(void *c, size_t b, size_t e) {
  sum_rows_ctx *x = (sum_rows_ctx *)c;
  active->sum_rows(x->g, x->out, x->rows, x->n, b, e);
}

/* sumRows(g, out, rows, n): out[j] = the sum of column j of g ([rows, n]), down the rows in order */
static napi_value sum_rows(napi_env env, napi_callback_info info) {
  ARGS(4);
  sum_rows_ctx x;
  size_t lg, lo;
  if (!get_f32(env, argv[0], (float **)&x.g, &lg) || !get_f32(env, argv[1], &x.out, &lo) || !get_size(env, argv[2], &x.rows) ||
      !get_size(env, argv[3], &x.n) || (double)lg < (double)x.rows * x.n || lo < x.n)
    return fail(env, "precis addon: sumRows needs Float32Arrays g of rows·n and out of n elements");
  run_units(sum_rows_range, &x, x.n, 4.0 * (double)x.rows, 16);
  return NULL;
}

static int get_pool(napi_env env, napi_value v, pc_pool_geo *g) {
  size_t s[8];
  if (!get_sizes(env, v, 8, s)) return 0;
  *g = (pc_pool_geo){s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]};
  if (g->k == 0 || g->stride == 0 || 2 * g->pad > g->k || g->h + 2 * g->pad < g->k || g->w + 2 * g->pad < g->k) return 0;
  return g->oh == (g->h + 2 * g->pad - g->k) / g->stride + 1 && g->ow == (g->w + 2 * g->pad - g->k) / g->stride + 1 &&
         g->h * g->w <= 2147483647u;
}

typedef struct { const pc_pool_geo *g; const float *in; float *out; int32_t *arg; } pool_ctx;
static void max_pool_range(void *c, size_t b, size_t e) {
  pool_ctx *x = (pool_ctx *)c;
  active->max_pool(x->g, x->in, x->out, x->arg, b, e);
}
static void max_pool_back_range(void *c, size_t b, size_t e) {
  pool_ctx *x = (pool_ctx *)c;
  active->max_pool_backward(x->g, x->in, x->arg, x->out, b, e);
}
static void avg_pool_range(void *c, size_t b, size_t e) {
  pool_ctx *x = (pool_ctx *)c;
  active->avg_pool(x->g, x->in, x->out, b, e);
}
static void avg_pool_back_range(void *c, size_t b, size_t e) {
  pool_ctx *x = (pool_ctx *)c;
  active->avg_pool_backward(x->g, x->in, x->out, b, e);
}

/* Pooling: kind 0 maxPool(x, out, arg, geo), 1 maxPoolBackward(grad, arg, dx, geo), 2 avgPool(x, out, geo),
 * 3 avgPoolBackward(grad, dx, geo); geo = [N·C, H, W, K, stride, padding, OH, OW]. */
static napi_value pool_kernel(napi_env env, napi_callback_info info, int kind) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const int has_arg = kind < 2;
  if (argc < (has_arg ? 4u : 3u)) return fail(env, "precis addon: too few arguments");
  pc_pool_geo g;
  if (!get_pool(env, argv[has_arg ? 3 : 2], &g)) return fail(env, "precis addon: bad pooling geometry");
  const double xs = (double)g.planes * g.h * g.w, os = (double)g.planes * g.oh * g.ow;
  const int backward = kind & 1;
  float *in, *out;
  int32_t *arg = NULL;
  size_t li, lo, la = 0;
  void *ap;
  const int in_idx = 0, out_idx = kind == 1 ? 2 : 1, arg_idx = kind == 1 ? 1 : 2;
  if (!get_f32(env, argv[in_idx], &in, &li) || !get_f32(env, argv[out_idx], &out, &lo) ||
      (has_arg && !get_typed(env, argv[arg_idx], napi_int32_array, &ap, &la)) || (double)li < (backward ? os : xs) ||
      (double)lo < (backward ? xs : os) || (has_arg && (double)la < os))
    return fail(env, "precis addon: pooling arrays must be typed arrays as long as the geometry needs");
  if (has_arg) arg = (int32_t *)ap;
  if (kind == 1) /* argmax indices come from JavaScript: each must lie inside its plane */
    for (size_t i = 0; i < (size_t)os; i++)
      if (arg[i] < 0 || (size_t)arg[i] >= g.h * g.w) return fail(env, "precis addon: maxPool argmax index out of range");
  pool_ctx x = {&g, in, out, arg};
  const double cost = 8.0 * (g.h * g.w + g.oh * g.ow) * (kind >= 2 ? 1.0 + g.k * g.k / 4.0 : 1.0);
  const range_fn fns[4] = {max_pool_range, max_pool_back_range, avg_pool_range, avg_pool_back_range};
  run_units(fns[kind], &x, g.planes, cost, 1);
  return NULL;
}
static napi_value max_pool(napi_env env, napi_callback_info info) { return pool_kernel(env, info, 0); }
static napi_value max_pool_backward(napi_env env, napi_callback_info info) { return pool_kernel(env, info, 1); }
static napi_value avg_pool(napi_env env, napi_callback_info info) { return pool_kernel(env, info, 2); }
static napi_value avg_pool_backward(napi_env env, napi_callback_info info) { return pool_kernel(env, info, 3); }

/* ---- accumulator models: rows of C split over the pool ---- */

typedef struct {
  const pc_accum_args *g;
  size_t rows_per_task;
  pc_accum_counts *counts; /* one per task */
} accum_job;

static void accum_task(void *ctx, size_t t) {
  accum_job *j = (accum_job *)ctx;
  const size_t b = t * j->rows_per_task, e = b + j->rows_per_task < j->g->m ? b + j->rows_per_task : j->g->m;
  if (b < e) active->accumulate(j->g, b, e, &j->counts[t]);
}

/* the exact accumulator's workspace (its double GEMM and sums): kept between calls, grown, never shrunk */
static double *exact_work = NULL;
static size_t exact_work_doubles = 0;

/* Whether a rounder block (AR_*) is one the kernels can run without undefined behaviour. */
static int rounder_ok(const double *q, int optional) {
  const double fam = q[AR_FAMILY];
  if (fam == AR_FAMILY_NONE) return optional;
  if (fam != AR_FAMILY_FLOAT && fam != AR_FAMILY_FIXED && fam != AR_FAMILY_POSIT) return 0;
  if (!(q[AR_MODE] >= 0 && q[AR_MODE] <= 5 && q[AR_RANDOM_BITS] >= 1 && q[AR_RANDOM_BITS] <= 24)) return 0;
  if (!(q[AR_MANTISSA_BITS] >= 0 && q[AR_MANTISSA_BITS] <= 255 && q[AR_TMIN] >= -1100 && q[AR_TMIN] <= 1100)) return 0;
  if (!(q[AR_PARITY_OFFSET] >= -100000 && q[AR_PARITY_OFFSET] <= 100000 && q[AR_FLAGS] >= 0 && q[AR_FLAGS] < 128)) return 0;
  if ((fam == AR_FAMILY_FIXED || ((int)q[AR_FLAGS] & PC_GRID_WRAP)) &&
      !(q[AR_WRAP_WIDTH] >= 1 && q[AR_WRAP_WIDTH] <= 62 && q[AR_WRAP_FRACTION] >= -1000 && q[AR_WRAP_FRACTION] <= 1000)) return 0;
  if (fam == AR_FAMILY_POSIT && !(q[AR_POSIT_WIDTH] >= 2 && q[AR_POSIT_WIDTH] <= 32 && q[AR_POSIT_ES] >= 0 && q[AR_POSIT_ES] <= 8)) return 0;
  return 1;
}

/* accumulate(params, transA, transB, m, n, k, a, b, c, accumulate, overflowed): see pc_accum_args;
 * returns [swamped, overflow, underflow]. */
static napi_value accumulate(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 11) { napi_throw_type_error(env, NULL, "precis addon: accumulate takes 11 arguments"); return NULL; }
  void *pp;
  size_t plen;
  if (!get_typed(env, argv[0], napi_float64_array, &pp, &plen) || plen < AP_COUNT) {
    napi_throw_type_error(env, NULL, "precis addon: accumulate's params must be a Float64Array of AP_COUNT values");
    return NULL;
  }
  const double *p = (const double *)pp;
  if (!(p[AP_KIND] == AP_KIND_EXACT || p[AP_KIND] == AP_KIND_PER_ADD) || !(p[AP_CHUNK] >= 0 && p[AP_CHUNK] <= 2147483648.0) ||
      !(p[AP_SEED] >= 0 && p[AP_SEED] <= 9007199254740991.0) || !(p[AP_STREAM] >= 0 && p[AP_STREAM] <= 9007199254740991.0) || !(p[AP_EVENTS] == 0 || p[AP_EVENTS] == 1) ||
      !rounder_ok(p + AP_ACC, p[AP_KIND] == AP_KIND_EXACT) || !rounder_ok(p + AP_PRODUCT, 1) || !rounder_ok(p + AP_OUTPUT, 0)) {
    napi_throw_type_error(env, NULL, "precis addon: accumulate's params are out of range");
    return NULL;
  }
  bool ta, tb, acc;
  pc_accum_args g;
  if (napi_get_value_bool(env, argv[1], &ta) != napi_ok || napi_get_value_bool(env, argv[2], &tb) != napi_ok ||
      napi_get_value_bool(env, argv[9], &acc) != napi_ok) {
    napi_throw_type_error(env, NULL, "precis addon: accumulate's transA, transB and accumulate must be booleans");
    return NULL;
  }
  if (!get_size(env, argv[3], &g.m) || !get_size(env, argv[4], &g.n) || !get_size(env, argv[5], &g.k)) {
    napi_throw_type_error(env, NULL, "precis addon: accumulate's m, n and k must be non-negative integers");
    return NULL;
  }
  float *a, *b, *c;
  void *ov;
  size_t la, lb, lc, lo;
  if (!get_f32(env, argv[6], &a, &la) || !get_f32(env, argv[7], &b, &lb) || !get_f32(env, argv[8], &c, &lc) ||
      !get_typed(env, argv[10], napi_uint8_array, &ov, &lo)) {
    napi_throw_type_error(env, NULL, "precis addon: accumulate's a, b, c must be Float32Arrays and overflowed a Uint8Array");
    return NULL;
  }
  if ((double)g.m * (double)g.k > (double)la || (double)g.k * (double)g.n > (double)lb || (double)g.m * (double)g.n > (double)lc ||
      (double)g.m * (double)g.n > (double)lo || ((double)g.m * (double)g.n + 1) * ((double)g.k + 1) * 4 > 9007199254740992.0) {
    napi_throw_type_error(env, NULL, "precis addon: accumulate's arrays are shorter than m, n, k need (or the random counters exceed 2^53)");
    return NULL;
  }
  g.a = a;
  g.b = b;
  g.c = c;
  g.overflowed = (uint8_t *)ov;
  g.accumulate = acc;
  g.params = p;
  g.sai = ta ? 1 : g.k;
  g.sap = ta ? g.m : 1;
  g.sbp = tb ? 1 : g.n;
  g.sbj = tb ? g.k : 1;
  pc_accum_counts total = {0, 0, 0};
  if (g.m && g.n && p[AP_KIND] == AP_KIND_EXACT) {
    const size_t need = active->exact_workspace(g.m, g.n, g.k);
    if (need > exact_work_doubles) {
      free(exact_work);
      exact_work = (double *)aligned_alloc(64, (need * sizeof(double) + 63) / 64 * 64);
      exact_work_doubles = exact_work ? need : 0;
      if (!exact_work) { napi_throw_error(env, NULL, "precis addon: out of memory for the exact accumulator's workspace"); return NULL; }
    }
    active->accumulate_exact(&g, exact_work, pc_pool_run, pc_pool_threads(), &total);
  } else if (g.m && g.n) {
    /* about four tasks per thread of whole rows, in fours (the per-add float tiles' height): each row is
     * independent, so the split never changes a result */
    const int threads = pc_pool_threads();
    const size_t tasks_wanted = threads > 1 ? 4 * (size_t)threads : 1;
    accum_job j = {&g, ((g.m + tasks_wanted - 1) / tasks_wanted + 3) / 4 * 4, NULL};
    const size_t tasks = (g.m + j.rows_per_task - 1) / j.rows_per_task;
    j.counts = (pc_accum_counts *)calloc(tasks, sizeof(pc_accum_counts));
    if (!j.counts) { napi_throw_error(env, NULL, "precis addon: out of memory"); return NULL; }
    if (tasks == 1) accum_task(&j, 0);
    else pc_pool_run(accum_task, &j, tasks);
    for (size_t t = 0; t < tasks; t++) {
      total.swamped += j.counts[t].swamped;
      total.overflow += j.counts[t].overflow;
      total.underflow += j.counts[t].underflow;
    }
    free(j.counts);
  }
  napi_value out, v;
  CHECK(napi_create_array_with_length(env, 3, &out));
  CHECK(napi_create_double(env, (double)total.swamped, &v)); CHECK(napi_set_element(env, out, 0, v));
  CHECK(napi_create_double(env, (double)total.overflow, &v)); CHECK(napi_set_element(env, out, 1, v));
  CHECK(napi_create_double(env, (double)total.underflow, &v)); CHECK(napi_set_element(env, out, 2, v));
  return out;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int32_t n;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &n));
  CHECK(napi_create_int32(env, pc_pool_set_threads(n), &out));
  return out;
}

static napi_value set_isa(napi_env env, napi_callback_info info) {
  size_t argc = 1, len;
  napi_value argv[1], out;
  char name[32];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
  CHECK(napi_get_boolean(env, select_isa(name), &out));
  return out;
}

static napi_value get_isa(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_string_utf8(env, active->isa, NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value cpu_features(napi_env env, napi_callback_info info) {
  (void)info;
  char s[128] = "sse2";
  if (cpu_has_avx2()) strcat(s, " avx2");
  if (cpu_has_avx512()) strcat(s, " avx512");
  napi_value out;
  CHECK(napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  select_isa("best");
  napi_property_descriptor props[] = {
    {"quantize", NULL, quantize, NULL, NULL, NULL, napi_default, NULL},
    {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
    {"copy", NULL, copy, NULL, NULL, NULL, napi_default, NULL},
    {"sgd", NULL, sgd, NULL, NULL, NULL, napi_default, NULL},
    {"adam", NULL, adam, NULL, NULL, NULL, napi_default, NULL},
    {"im2col", NULL, im2col, NULL, NULL, NULL, napi_default, NULL},
    {"col2im", NULL, col2im, NULL, NULL, NULL, napi_default, NULL},
    {"swap01", NULL, swap01, NULL, NULL, NULL, napi_default, NULL},
    {"relu", NULL, relu, NULL, NULL, NULL, napi_default, NULL},
    {"sumRows", NULL, sum_rows, NULL, NULL, NULL, napi_default, NULL},
    {"maxPool", NULL, max_pool, NULL, NULL, NULL, napi_default, NULL},
    {"maxPoolBackward", NULL, max_pool_backward, NULL, NULL, NULL, napi_default, NULL},
    {"avgPool", NULL, avg_pool, NULL, NULL, NULL, napi_default, NULL},
    {"avgPoolBackward", NULL, avg_pool_backward, NULL, NULL, NULL, napi_default, NULL},
    {"accumulate", NULL, accumulate, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
    {"setIsa", NULL, set_isa, NULL, NULL, NULL, napi_default, NULL},
    {"isa", NULL, get_isa, NULL, NULL, NULL, napi_default, NULL},
    {"cpuFeatures", NULL, cpu_features, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
