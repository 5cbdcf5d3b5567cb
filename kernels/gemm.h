/*
 * fp32 GEMM, written once, BLIS style: C = op(A)·op(B) (+ C).
 *
 * The result is specified exactly (see src/backend/gemm.ts, the reference):
 * each C[i,j] is a chain of fused multiply-adds in increasing k, each rounded
 * once to float32. Every ISA, every block size and every thread split gives
 * the same bits; gemm_blocked.h, the loop nest, says why.
 *
 * Included after quantize.h (which sets PC_ISA, PC_VBYTES and the vector
 * types). The including file may set:
 *   PC_GEMM_FMA(a, b, c)  a fused a*b + c on PC_FN(vf) vectors; when unset, an
 *                         exact emulation in double (for targets without FMA)
 *   PC_GEMM_MR            rows of the microkernel (register tile height)
 *   PC_GEMM_NV            vectors per row (the tile width NR = NV lanes·vectors)
 *   PC_GEMM_KC, PC_GEMM_MC  cache blocking over k (B micro-panel in L1) and m
 *                         (A block in L2)
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

#define PC_BLK_T float
#define PC_BLK_FN(name) PC_FN(name)
#define PC_BLK_ARGS pc_gemm_args
#define PC_BLK_FMA(a, b, c) PC_GEMM_FMA(a, b, c)
#define PC_BLK_MR PC_GEMM_MR
#define PC_BLK_NV PC_GEMM_NV
#define PC_BLK_KC PC_GEMM_KC
#define PC_BLK_MC PC_GEMM_MC
#include "gemm_blocked.h"
