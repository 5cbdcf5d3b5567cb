/*
 * The BLIS-style blocked GEMM loop nest, written once for any element type:
 * C = op(A)·op(B) (+ C) with A and B float32 and the packed panels, the
 * microkernel's arithmetic and C in PC_BLK_T. gemm.h instantiates it for
 * float (the fp32 GEMM, whose bits are specified) and accum_exact.h for
 * double (the filtered exact accumulator's wide GEMM).
 *
 * Why results do not depend on blocking or threads: a lane of the
 * microkernel is one C element and only ever does that element's chain in
 * increasing k (zero padding of edge panels feeds lanes that are discarded);
 * blocking over k stores C and continues the chain from it (stores of
 * PC_BLK_T are exact); threads split output tiles, never k.
 *
 * The includer defines, and this file undefines at its end:
 *   PC_BLK_T              the element type of packed panels, the tile and C
 *   PC_BLK_FN(name)       the name of each function of this instantiation
 *   PC_BLK_ARGS           the problem's struct (pc_gemm_args' fields, c of PC_BLK_T)
 *   PC_BLK_FMA(a, b, c)   a*b + c on vectors of PC_BLK_T
 *   PC_BLK_MR, PC_BLK_NV  the register tile: MR rows x NV vectors
 *   PC_BLK_KC, PC_BLK_MC  cache blocking over k (B micro-panel in L1) and m (A block in L2)
 * Loop nest: jc (NC columns, B block) / pc (KC) / ic (MBIG rows, packed A) /
 * [tasks: MC rows x a run of NR panels] / jr (NR) / ir (MR) / microkernel.
 */
#define PC_BLK_VL (PC_VBYTES / (int)sizeof(PC_BLK_T))
#define PC_BLK_NR (PC_BLK_NV * PC_BLK_VL)
#define PC_BLK_NC 4096
/* rows of A packed at once: bounds the packed-A buffer for very tall A */
#define PC_BLK_MBIG (PC_BLK_MC * 8)
/* a block (MBIG x NC x KC at most) with fewer multiply-adds runs on the calling thread: two pool passes (a few
 * microseconds each, the pool spinning between jobs) would cost more */
#define PC_BLK_PARALLEL_FMAS ((size_t)1 << 17)

typedef PC_BLK_T PC_BLK_FN(blk_v) __attribute__((vector_size(PC_VBYTES)));

/*
 * The microkernel: an R x NR tile of C (R <= MR rows, a compile-time
 * constant after inlining) from kc steps of a packed A micro-panel (MR
 * values per step) and a packed B micro-panel (NR values per step). The
 * tile starts from C when `load`, else from +0.
 */
static inline __attribute__((always_inline)) void PC_BLK_FN(gemm_tile)(const int R, size_t kc, const PC_BLK_T *restrict ap,
                                                                   const PC_BLK_T *restrict bp, PC_BLK_T *restrict c, size_t ldc,
                                                                   int load) {
  typedef PC_BLK_FN(blk_v) vf;
  enum { MR = PC_BLK_MR, NV = PC_BLK_NV, VL = PC_BLK_VL, NR = PC_BLK_NR };
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
      for (int v = 0; v < NV; v++) acc[i][v] = PC_BLK_FMA(av, bv[v], acc[i][v]);
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
static void PC_BLK_FN(gemm_tile_rows)(int R, size_t kc, const PC_BLK_T *ap, const PC_BLK_T *bp, PC_BLK_T *c, size_t ldc, int load) {
#define PC_BLK_CASE(r) \
  case r: if (r <= PC_BLK_MR) PC_BLK_FN(gemm_tile)(r <= PC_BLK_MR ? r : PC_BLK_MR, kc, ap, bp, c, ldc, load); break;
  switch (R) {
    PC_BLK_CASE(1) PC_BLK_CASE(2) PC_BLK_CASE(3) PC_BLK_CASE(4) PC_BLK_CASE(5) PC_BLK_CASE(6)
    PC_BLK_CASE(7) PC_BLK_CASE(8) PC_BLK_CASE(9) PC_BLK_CASE(10) PC_BLK_CASE(11) PC_BLK_CASE(12)
    PC_BLK_CASE(13) PC_BLK_CASE(14) PC_BLK_CASE(15) PC_BLK_CASE(16)
    default: break;
  }
#undef PC_BLK_CASE
}

typedef struct {
  PC_BLK_ARGS g;          /* the problem as computed: swapped (see gemm_swap) when C is written transposed */
  size_t rs, cs;           /* C element (i, j) of the computed problem is at g.c[i*rs + j*cs] */
  PC_BLK_T *pa, *pb;       /* packed A (MBIG x KC) and B (KC x NC) blocks */
  size_t jc, nc, pc, kc, ic, mb;
  int pack_b, load;
  int pack_b_in_task;      /* B panels packed by the compute task that uses them, just before it does */
  size_t pack_tasks;
  size_t panels_per_task, chunks; /* compute tasks: (MC-row block) x (run of NR panels) */
} PC_BLK_FN(gemm_ctx);

static inline size_t PC_BLK_FN(gemm_min)(size_t a, size_t b) { return a < b ? a : b; }
static inline size_t PC_BLK_FN(gemm_round_up)(size_t a, size_t b) { return (a + b - 1) / b * b; }

/* A narrow C (n < NR) wastes most of every tile's lanes; then the kernels compute Cᵀ = op(B)ᵀ·op(A)ᵀ instead
 * (the same chains, so the same bits) and write it transposed. */
static inline int PC_BLK_FN(gemm_swap)(size_t m, size_t n) { return n < PC_BLK_NR && m > n; }

/* Packs columns [j0, j0+NR) of op(B)'s block into kc x NR, zero beyond nc. */
static void PC_BLK_FN(gemm_pack_b)(const PC_BLK_FN(gemm_ctx) *x, size_t jp, PC_BLK_T *restrict dst) {
  enum { NR = PC_BLK_NR };
  const PC_BLK_ARGS *g = &x->g;
  const size_t j0 = jp * NR, cols = PC_BLK_FN(gemm_min)(NR, x->nc - j0), kc = x->kc;
  const size_t col = x->jc + j0;
  if (!g->trans_b) {
    const float *src = g->b + x->pc * g->n + col;
    for (size_t p = 0; p < kc; p++, src += g->n) {
      PC_BLK_T *d = dst + p * NR;
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
static void PC_BLK_FN(gemm_pack_a)(const PC_BLK_FN(gemm_ctx) *x, size_t ip, PC_BLK_T *restrict dst) {
  enum { MR = PC_BLK_MR };
  const PC_BLK_ARGS *g = &x->g;
  const size_t i0 = ip * MR, rows = PC_BLK_FN(gemm_min)(MR, x->mb - i0), kc = x->kc;
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
      PC_BLK_T *d = dst + p * MR;
      for (size_t i = 0; i < rows; i++) d[i] = src[i];
      for (size_t i = rows; i < MR; i++) d[i] = 0;
    }
  }
}

/* Pack task t of pack_tasks: its share of B's panels (first block row only, unless the compute tasks pack them)
 * and of A's panels. */
static void PC_BLK_FN(gemm_pack_task)(void *ctx, size_t t) {
  const PC_BLK_FN(gemm_ctx) *x = (const PC_BLK_FN(gemm_ctx) *)ctx;
  const size_t T = x->pack_tasks;
  if (x->pack_b) {
    const size_t np = (x->nc + PC_BLK_NR - 1) / PC_BLK_NR;
    for (size_t jp = np * t / T; jp < np * (t + 1) / T; jp++) PC_BLK_FN(gemm_pack_b)(x, jp, x->pb + jp * PC_BLK_NR * x->kc);
  }
  const size_t mp = (x->mb + PC_BLK_MR - 1) / PC_BLK_MR;
  for (size_t ip = mp * t / T; ip < mp * (t + 1) / T; ip++) PC_BLK_FN(gemm_pack_a)(x, ip, x->pa + ip * PC_BLK_MR * x->kc);
}

/* Compute task: MC rows x panels_per_task NR panels of the current block; B micro-panel outer (stays in L1). */
static void PC_BLK_FN(gemm_compute_task)(void *ctx, size_t t) {
  enum { MR = PC_BLK_MR, NR = PC_BLK_NR };
  const PC_BLK_FN(gemm_ctx) *x = (const PC_BLK_FN(gemm_ctx) *)ctx;
  const size_t np = (x->nc + NR - 1) / NR;
  const size_t ib = t / x->chunks, jb = t % x->chunks;
  const size_t i_begin = ib * PC_BLK_MC, i_end = PC_BLK_FN(gemm_min)(x->mb, i_begin + PC_BLK_MC);
  const size_t jp_begin = jb * x->panels_per_task, jp_end = PC_BLK_FN(gemm_min)(np, jp_begin + x->panels_per_task);
  const size_t rs = x->rs, cs = x->cs;
  PC_BLK_T edge[PC_BLK_MR * PC_BLK_NR] __attribute__((aligned(64)));
  for (size_t jp = jp_begin; jp < jp_end; jp++) {
    PC_BLK_T *bp = x->pb + jp * NR * x->kc;
    if (x->pack_b_in_task) PC_BLK_FN(gemm_pack_b)(x, jp, bp);
    const size_t cols = PC_BLK_FN(gemm_min)(NR, x->nc - jp * NR);
    for (size_t i = i_begin; i < i_end; i += MR) {
      const int rows = (int)PC_BLK_FN(gemm_min)(MR, i_end - i);
      const PC_BLK_T *ap = x->pa + (i / MR) * MR * x->kc;
      PC_BLK_T *c = x->g.c + (x->ic + i) * rs + (x->jc + jp * NR) * cs;
      if (cols == NR && cs == 1) {
        PC_BLK_FN(gemm_tile_rows)(rows, x->kc, ap, bp, c, rs, x->load);
        continue;
      }
      /* partial or transposed tiles work on a private copy, so the microkernel never touches C beyond its edge */
      if (x->load)
        for (int r = 0; r < rows; r++)
          for (size_t j = 0; j < cols; j++) edge[r * NR + j] = c[r * rs + j * cs];
      PC_BLK_FN(gemm_tile_rows)(rows, x->kc, ap, bp, edge, NR, x->load);
      for (int r = 0; r < rows; r++)
        for (size_t j = 0; j < cols; j++) c[r * rs + j * cs] = edge[r * NR + j];
    }
  }
}

/* Elements (of PC_BLK_T) of workspace the GEMM needs (its pointer must be 64-byte aligned). */
static size_t PC_BLK_FN(pc_gemm_workspace)(size_t m, size_t n, size_t k) {
  if (PC_BLK_FN(gemm_swap)(m, n)) return PC_BLK_FN(pc_gemm_workspace)(n, m, k);
  const size_t kc = PC_BLK_FN(gemm_min)(k, PC_BLK_KC);
  const size_t b = PC_BLK_FN(gemm_round_up)(PC_BLK_FN(gemm_min)(n, PC_BLK_NC), PC_BLK_NR) * kc;
  const size_t a = PC_BLK_FN(gemm_round_up)(PC_BLK_FN(gemm_min)(m, PC_BLK_MBIG), PC_BLK_MR) * kc;
  return PC_BLK_FN(gemm_round_up)(b, 16) + a;
}

static void PC_BLK_FN(pc_gemm)(const PC_BLK_ARGS *args, PC_BLK_T *work, pc_gemm_runner run, int threads) {
  if (args->m == 0 || args->n == 0) return;
  if (args->k == 0) {
    if (!args->accumulate)
      for (size_t i = 0; i < args->m * args->n; i++) args->c[i] = 0;
    return;
  }
  PC_BLK_FN(gemm_ctx) x;
  x.g = *args;
  x.rs = args->n;
  x.cs = 1;
  if (PC_BLK_FN(gemm_swap)(args->m, args->n)) {
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
  const PC_BLK_ARGS *g = &x.g;
  const size_t kc0 = PC_BLK_FN(gemm_min)(g->k, PC_BLK_KC);
  x.pb = work;
  x.pa = work + PC_BLK_FN(gemm_round_up)(PC_BLK_FN(gemm_round_up)(PC_BLK_FN(gemm_min)(g->n, PC_BLK_NC), PC_BLK_NR) * kc0, 16);
  for (x.jc = 0; x.jc < g->n; x.jc += PC_BLK_NC) {
    x.nc = PC_BLK_FN(gemm_min)(PC_BLK_NC, g->n - x.jc);
    const size_t np = (x.nc + PC_BLK_NR - 1) / PC_BLK_NR;
    for (x.pc = 0; x.pc < g->k; x.pc += PC_BLK_KC) {
      x.kc = PC_BLK_FN(gemm_min)(PC_BLK_KC, g->k - x.pc);
      x.load = g->accumulate || x.pc > 0;
      for (x.ic = 0; x.ic < g->m; x.ic += PC_BLK_MBIG) {
        x.mb = PC_BLK_FN(gemm_min)(PC_BLK_MBIG, g->m - x.ic);
        /* Threads pay off when the block has several tiles and enough work to cover two pool wake-ups. */
        const size_t row_blocks = (x.mb + PC_BLK_MC - 1) / PC_BLK_MC;
        /* With one row block (m <= MC), each B panel serves one compute task only: that task packs it just before
         * using it, so the panel is read back from L1 rather than from wherever another thread left it, and the
         * packing runs alongside the multiplies. Otherwise B is packed once, up front, for every row block. */
        x.pack_b_in_task = g->m <= PC_BLK_MC;
        x.pack_b = x.ic == 0 && !x.pack_b_in_task;
        const size_t tiles = ((x.mb + PC_BLK_MR - 1) / PC_BLK_MR) * np;
        const int parallel = threads > 1 && tiles >= 2 && x.mb * x.nc * x.kc >= PC_BLK_PARALLEL_FMAS;
        /* Tasks: MC-row blocks x runs of panels, about 4 per thread so a dynamic schedule balances them. */
        const size_t want = parallel ? 4 * (size_t)threads : 1;
        const size_t splits = row_blocks >= want ? 1 : (want + row_blocks - 1) / row_blocks;
        x.panels_per_task = (np + splits - 1) / splits;
        x.chunks = (np + x.panels_per_task - 1) / x.panels_per_task;
        x.pack_tasks = parallel ? (size_t)threads : 1;
        if (parallel) {
          run(PC_BLK_FN(gemm_pack_task), &x, x.pack_tasks);
          run(PC_BLK_FN(gemm_compute_task), &x, row_blocks * x.chunks);
        } else {
          PC_BLK_FN(gemm_pack_task)(&x, 0);
          for (size_t t = 0; t < row_blocks * x.chunks; t++) PC_BLK_FN(gemm_compute_task)(&x, t);
        }
      }
    }
  }
}

#undef PC_BLK_VL
#undef PC_BLK_NR
#undef PC_BLK_NC
#undef PC_BLK_MBIG
#undef PC_BLK_PARALLEL_FMAS
#undef PC_BLK_T
#undef PC_BLK_FN
#undef PC_BLK_ARGS
#undef PC_BLK_FMA
#undef PC_BLK_MR
#undef PC_BLK_NV
#undef PC_BLK_KC
#undef PC_BLK_MC
