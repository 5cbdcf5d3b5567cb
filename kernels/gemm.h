/*
 * fp32 GEMM, written once, BLIS style: C = op(A)·op(B) (+ C).
 *
 * The result is specified exactly (see src/backend/gemm.ts, the reference):
 * each C[i,j] is a chain of fused multiply-adds in increasing k, each rounded
 * once to float32. Every ISA, every block size and every thread split gives
 * the same bits because
 *   - a lane of the microkernel is one C element and only ever does that
 *     chain (zero padding of edge panels feeds lanes that are discarded);
 *   - blocking over k stores C and continues the chain from it (float32
 *     stores are exact);
 *   - threads split output tiles, never k.
 *
 * Included after quantize.h (which sets PC_ISA, PC_VBYTES and the vector
 * types). The including file may set:
 *   PC_GEMM_FMA(a, b, c)  a fused a*b + c on PC_FN(vf) vectors; when unset, an
 *                         exact emulation in double (for targets without FMA)
 *   PC_GEMM_MR            rows of the microkernel (register tile height)
 *   PC_GEMM_NV            vectors per row (the tile width NR = NV lanes·vectors)
 *   PC_GEMM_KC, PC_GEMM_MC  cache blocking over k (B micro-panel in L1) and m
 *                         (A block in L2)
 * Loop nest: jc (NC columns, B block) / pc (KC) / ic (MBIG rows, packed A) /
 * [tasks: MC rows x a run of NR panels] / jr (NR) / ir (MR) / microkernel.
 */
#ifndef PC_GEMM_MR
#define PC_GEMM_MR 4
#endif
#ifndef PC_GEMM_NV
#define PC_GEMM_NV 2
#endif
#ifndef PC_GEMM_KC
#define PC_GEMM_KC 256
#endif
#ifndef PC_GEMM_MC
#define PC_GEMM_MC 128
#endif
#define PC_GEMM_VL (PC_VBYTES / 4)
#define PC_GEMM_NR (PC_GEMM_NV * PC_GEMM_VL)
#define PC_GEMM_NC 4096
/* rows of A packed at once: bounds the packed-A buffer for very tall A */
#define PC_GEMM_MBIG (PC_GEMM_MC * 8)
/* a block (MBIG x NC x KC at most) with fewer multiply-adds runs on the calling thread: two pool wake-ups cost more */
#define PC_GEMM_PARALLEL_FMAS ((size_t)1 << 20)

#ifndef PC_GEMM_FMA
/*
 * Exact fma(a, b, c) rounded to float32, lane by lane, in double: a*b is
 * exact (48 significant bits); s = a*b + c rounded to odd (round to nearest,
 * then, if inexact and the last bit is even, step one ulp toward the error)
 * carries enough to round once more, to float32, exactly as the fused
 * operation would (Boldo & Melquiond: 53 >= 24 + 2). The double sum is never
 * subnormal when nonzero and never overflows, and Inf/NaN lanes get a NaN
 * error term, which the `inexact` test ignores.
 */
typedef double PC_FN(gemm_vd) __attribute__((vector_size(2 * PC_VBYTES)));
typedef int64_t PC_FN(gemm_vl) __attribute__((vector_size(2 * PC_VBYTES)));
static inline PC_FN(vf) PC_FN(gemm_fma_exact)(PC_FN(vf) a, PC_FN(vf) b, PC_FN(vf) c) {
  typedef PC_FN(gemm_vd) vd;
  typedef PC_FN(gemm_vl) vl;
  const vd x = __builtin_convertvector(a, vd) * __builtin_convertvector(b, vd);
  const vd z = __builtin_convertvector(c, vd);
  const vd s = x + z;
  const vd bb = s - x;
  const vd e = (x - (s - bb)) + (z - bb);
  vl bits;
  __builtin_memcpy(&bits, &s, sizeof bits);
  const vl inexact = (vl)(e < 0) | (vl)(e > 0);
  const vl even = (vl)((bits & 1) == 0);
  /* +1 moves away from zero: right when the error has the sign of s */
  const vl away = ~((vl)(e > 0) ^ (vl)(s > 0));
  bits += ((away & 2) - 1) & inexact & even;
  vd odd;
  __builtin_memcpy(&odd, &bits, sizeof odd);
  return __builtin_convertvector(odd, PC_FN(vf));
}
#define PC_GEMM_FMA(a, b, c) PC_FN(gemm_fma_exact)(a, b, c)
#endif

/* lane 0 of PC_GEMM_FMA on splats (x - (+0) splats x, keeping -0): the wasm loader checks that relaxed madd really fuses */
static float PC_FN(gemm_fma1)(float a, float b, float c) {
  const PC_FN(vf) z = {0};
  return PC_GEMM_FMA(a - z, b - z, c - z)[0];
}

/*
 * The microkernel: an R x NR tile of C (R <= MR rows, a compile-time
 * constant after inlining) from kc steps of a packed A micro-panel (MR
 * values per step) and a packed B micro-panel (NR values per step). The
 * tile starts from C when `load`, else from +0.
 */
static inline __attribute__((always_inline)) void PC_FN(gemm_tile)(const int R, size_t kc, const float *restrict ap,
                                                                   const float *restrict bp, float *restrict c, size_t ldc,
                                                                   int load) {
  typedef PC_FN(vf) vf;
  enum { MR = PC_GEMM_MR, NV = PC_GEMM_NV, VL = PC_GEMM_VL, NR = PC_GEMM_NR };
  vf acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    if (i >= R) break;
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      if (load) __builtin_memcpy(&acc[i][v], c + i * ldc + v * VL, sizeof(vf));
      else acc[i][v] = (vf){0};
    }
  }
  for (size_t p = 0; p < kc; p++) {
    vf bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = *(const vf *)(bp + p * NR + v * VL);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      if (i >= R) break;
      const vf av = ap[p * MR + i] - (vf){0}; /* a splat: x - (+0) is x for every x, -0 included */
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] = PC_GEMM_FMA(av, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++) {
    if (i >= R) break;
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) __builtin_memcpy(c + i * ldc + v * VL, &acc[i][v], sizeof(vf));
  }
}

/* One instantiation per row count, so short edge tiles (m = 6, m mod MR) cost only their rows. */
static void PC_FN(gemm_tile_rows)(int R, size_t kc, const float *ap, const float *bp, float *c, size_t ldc, int load) {
#define PC_GEMM_CASE(r) \
  case r: if (r <= PC_GEMM_MR) PC_FN(gemm_tile)(r <= PC_GEMM_MR ? r : PC_GEMM_MR, kc, ap, bp, c, ldc, load); break;
  switch (R) {
    PC_GEMM_CASE(1) PC_GEMM_CASE(2) PC_GEMM_CASE(3) PC_GEMM_CASE(4) PC_GEMM_CASE(5) PC_GEMM_CASE(6)
    PC_GEMM_CASE(7) PC_GEMM_CASE(8) PC_GEMM_CASE(9) PC_GEMM_CASE(10) PC_GEMM_CASE(11) PC_GEMM_CASE(12)
    PC_GEMM_CASE(13) PC_GEMM_CASE(14) PC_GEMM_CASE(15) PC_GEMM_CASE(16)
    default: break;
  }
#undef PC_GEMM_CASE
}

typedef struct {
  pc_gemm_args g;          /* the problem as computed: swapped (see gemm_swap) when C is written transposed */
  size_t rs, cs;           /* C element (i, j) of the computed problem is at g.c[i*rs + j*cs] */
  float *pa, *pb;          /* packed A (MBIG x KC) and B (KC x NC) blocks */
  size_t jc, nc, pc, kc, ic, mb;
  int pack_b, load;
  size_t pack_tasks;
  size_t panels_per_task, chunks; /* compute tasks: (MC-row block) x (run of NR panels) */
} PC_FN(gemm_ctx);

static inline size_t PC_FN(gemm_min)(size_t a, size_t b) { return a < b ? a : b; }
static inline size_t PC_FN(gemm_round_up)(size_t a, size_t b) { return (a + b - 1) / b * b; }

/* A narrow C (n < NR) wastes most of every tile's lanes; then the kernels compute Cᵀ = op(B)ᵀ·op(A)ᵀ instead
 * (the same chains, so the same bits) and write it transposed. */
static inline int PC_FN(gemm_swap)(size_t m, size_t n) { return n < PC_GEMM_NR && m > n; }

/* Packs columns [j0, j0+NR) of op(B)'s block into kc x NR, zero beyond nc. */
static void PC_FN(gemm_pack_b)(const PC_FN(gemm_ctx) *x, size_t jp, float *restrict dst) {
  enum { NR = PC_GEMM_NR };
  const pc_gemm_args *g = &x->g;
  const size_t j0 = jp * NR, cols = PC_FN(gemm_min)(NR, x->nc - j0), kc = x->kc;
  const size_t col = x->jc + j0;
  if (!g->trans_b) {
    const float *src = g->b + x->pc * g->n + col;
    for (size_t p = 0; p < kc; p++, src += g->n) {
      float *d = dst + p * NR;
      for (size_t j = 0; j < cols; j++) d[j] = src[j];
      for (size_t j = cols; j < NR; j++) d[j] = 0;
    }
  } else {
    for (size_t j = 0; j < cols; j++) {
      const float *src = g->b + (col + j) * g->k + x->pc;
      for (size_t p = 0; p < kc; p++) dst[p * NR + j] = src[p];
    }
    for (size_t j = cols; j < NR; j++)
      for (size_t p = 0; p < kc; p++) dst[p * NR + j] = 0;
  }
}

/* Packs rows [i0, i0+MR) of op(A)'s block into kc x MR, zero beyond mb. */
static void PC_FN(gemm_pack_a)(const PC_FN(gemm_ctx) *x, size_t ip, float *restrict dst) {
  enum { MR = PC_GEMM_MR };
  const pc_gemm_args *g = &x->g;
  const size_t i0 = ip * MR, rows = PC_FN(gemm_min)(MR, x->mb - i0), kc = x->kc;
  const size_t row = x->ic + i0;
  if (!g->trans_a) {
    for (size_t i = 0; i < rows; i++) {
      const float *src = g->a + (row + i) * g->k + x->pc;
      for (size_t p = 0; p < kc; p++) dst[p * MR + i] = src[p];
    }
    for (size_t i = rows; i < MR; i++)
      for (size_t p = 0; p < kc; p++) dst[p * MR + i] = 0;
  } else {
    const float *src = g->a + x->pc * g->m + row;
    for (size_t p = 0; p < kc; p++, src += g->m) {
      float *d = dst + p * MR;
      for (size_t i = 0; i < rows; i++) d[i] = src[i];
      for (size_t i = rows; i < MR; i++) d[i] = 0;
    }
  }
}

/* Pack task t of pack_tasks: its share of B's panels (first block row only) and of A's panels. */
static void PC_FN(gemm_pack_task)(void *ctx, size_t t) {
  const PC_FN(gemm_ctx) *x = (const PC_FN(gemm_ctx) *)ctx;
  const size_t T = x->pack_tasks;
  if (x->pack_b) {
    const size_t np = (x->nc + PC_GEMM_NR - 1) / PC_GEMM_NR;
    for (size_t jp = np * t / T; jp < np * (t + 1) / T; jp++) PC_FN(gemm_pack_b)(x, jp, x->pb + jp * PC_GEMM_NR * x->kc);
  }
  const size_t mp = (x->mb + PC_GEMM_MR - 1) / PC_GEMM_MR;
  for (size_t ip = mp * t / T; ip < mp * (t + 1) / T; ip++) PC_FN(gemm_pack_a)(x, ip, x->pa + ip * PC_GEMM_MR * x->kc);
}

/* Compute task: MC rows x panels_per_task NR panels of the current block; B micro-panel outer (stays in L1). */
static void PC_FN(gemm_compute_task)(void *ctx, size_t t) {
  enum { MR = PC_GEMM_MR, NR = PC_GEMM_NR };
  const PC_FN(gemm_ctx) *x = (const PC_FN(gemm_ctx) *)ctx;
  const size_t np = (x->nc + NR - 1) / NR;
  const size_t ib = t / x->chunks, jb = t % x->chunks;
  const size_t i_begin = ib * PC_GEMM_MC, i_end = PC_FN(gemm_min)(x->mb, i_begin + PC_GEMM_MC);
  const size_t jp_begin = jb * x->panels_per_task, jp_end = PC_FN(gemm_min)(np, jp_begin + x->panels_per_task);
  const size_t rs = x->rs, cs = x->cs;
  float edge[PC_GEMM_MR * PC_GEMM_NR] __attribute__((aligned(64)));
  for (size_t jp = jp_begin; jp < jp_end; jp++) {
    const float *bp = x->pb + jp * NR * x->kc;
    const size_t cols = PC_FN(gemm_min)(NR, x->nc - jp * NR);
    for (size_t i = i_begin; i < i_end; i += MR) {
      const int rows = (int)PC_FN(gemm_min)(MR, i_end - i);
      const float *ap = x->pa + (i / MR) * MR * x->kc;
      float *c = x->g.c + (x->ic + i) * rs + (x->jc + jp * NR) * cs;
      if (cols == NR && cs == 1) {
        PC_FN(gemm_tile_rows)(rows, x->kc, ap, bp, c, rs, x->load);
        continue;
      }
      /* partial or transposed tiles work on a private copy, so the microkernel never touches C beyond its edge */
      if (x->load)
        for (int r = 0; r < rows; r++)
          for (size_t j = 0; j < cols; j++) edge[r * NR + j] = c[r * rs + j * cs];
      PC_FN(gemm_tile_rows)(rows, x->kc, ap, bp, edge, NR, x->load);
      for (int r = 0; r < rows; r++)
        for (size_t j = 0; j < cols; j++) c[r * rs + j * cs] = edge[r * NR + j];
    }
  }
}

/* Floats of workspace pc_gemm needs (its pointer must be 64-byte aligned). */
static size_t PC_FN(pc_gemm_workspace)(size_t m, size_t n, size_t k) {
  if (PC_FN(gemm_swap)(m, n)) return PC_FN(pc_gemm_workspace)(n, m, k);
  const size_t kc = PC_FN(gemm_min)(k, PC_GEMM_KC);
  const size_t b = PC_FN(gemm_round_up)(PC_FN(gemm_min)(n, PC_GEMM_NC), PC_GEMM_NR) * kc;
  const size_t a = PC_FN(gemm_round_up)(PC_FN(gemm_min)(m, PC_GEMM_MBIG), PC_GEMM_MR) * kc;
  return PC_FN(gemm_round_up)(b, 16) + a;
}

static void PC_FN(pc_gemm)(const pc_gemm_args *args, float *work, pc_gemm_runner run, int threads) {
  if (args->m == 0 || args->n == 0) return;
  if (args->k == 0) {
    if (!args->accumulate)
      for (size_t i = 0; i < args->m * args->n; i++) args->c[i] = 0;
    return;
  }
  PC_FN(gemm_ctx) x;
  x.g = *args;
  x.rs = args->n;
  x.cs = 1;
  if (PC_FN(gemm_swap)(args->m, args->n)) {
    /* op(B)ᵀ is B read with the opposite transpose flag, and likewise op(A)ᵀ */
    x.g.m = args->n;
    x.g.n = args->m;
    x.g.a = args->b;
    x.g.b = args->a;
    x.g.trans_a = !args->trans_b;
    x.g.trans_b = !args->trans_a;
    x.rs = 1;
    x.cs = args->n;
  }
  const pc_gemm_args *g = &x.g;
  const size_t kc0 = PC_FN(gemm_min)(g->k, PC_GEMM_KC);
  x.pb = work;
  x.pa = work + PC_FN(gemm_round_up)(PC_FN(gemm_round_up)(PC_FN(gemm_min)(g->n, PC_GEMM_NC), PC_GEMM_NR) * kc0, 16);
  for (x.jc = 0; x.jc < g->n; x.jc += PC_GEMM_NC) {
    x.nc = PC_FN(gemm_min)(PC_GEMM_NC, g->n - x.jc);
    const size_t np = (x.nc + PC_GEMM_NR - 1) / PC_GEMM_NR;
    for (x.pc = 0; x.pc < g->k; x.pc += PC_GEMM_KC) {
      x.kc = PC_FN(gemm_min)(PC_GEMM_KC, g->k - x.pc);
      x.load = g->accumulate || x.pc > 0;
      for (x.ic = 0; x.ic < g->m; x.ic += PC_GEMM_MBIG) {
        x.mb = PC_FN(gemm_min)(PC_GEMM_MBIG, g->m - x.ic);
        x.pack_b = x.ic == 0;
        /* Threads pay off when the block has several tiles and enough work to cover two pool wake-ups. */
        const size_t row_blocks = (x.mb + PC_GEMM_MC - 1) / PC_GEMM_MC;
        const size_t tiles = ((x.mb + PC_GEMM_MR - 1) / PC_GEMM_MR) * np;
        const int parallel = threads > 1 && tiles >= 2 && x.mb * x.nc * x.kc >= PC_GEMM_PARALLEL_FMAS;
        /* Tasks: MC-row blocks x runs of panels, about 4 per thread so a dynamic schedule balances them. */
        const size_t want = parallel ? 4 * (size_t)threads : 1;
        const size_t splits = row_blocks >= want ? 1 : (want + row_blocks - 1) / row_blocks;
        x.panels_per_task = (np + splits - 1) / splits;
        x.chunks = (np + x.panels_per_task - 1) / x.panels_per_task;
        x.pack_tasks = parallel ? (size_t)threads : 1;
        if (parallel) {
          run(PC_FN(gemm_pack_task), &x, x.pack_tasks);
          run(PC_FN(gemm_compute_task), &x, row_blocks * x.chunks);
        } else {
          PC_FN(gemm_pack_task)(&x, 0);
          for (size_t t = 0; t < row_blocks * x.chunks; t++) PC_FN(gemm_compute_task)(&x, t);
        }
      }
    }
  }
}
