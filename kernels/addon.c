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
    {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
    {"setIsa", NULL, set_isa, NULL, NULL, NULL, napi_default, NULL},
    {"isa", NULL, get_isa, NULL, NULL, NULL, napi_default, NULL},
    {"cpuFeatures", NULL, cpu_features, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
