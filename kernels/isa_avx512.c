#if defined(__x86_64__) || defined(_M_X64)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx2,fma,bmi2,popcnt,prefer-vector-width=512")
#include <immintrin.h>
#define PC_ISA avx512
#define PC_VBYTES 64
#include "quantize.h"
/* 14 x 32: 28 accumulators + 2 B vectors of the 32 zmm registers; broadcasts fold into the FMAs */
#define PC_GEMM_MR 14
#define PC_GEMM_NV 2
#define PC_GEMM_KC 256
#define PC_GEMM_MC 168
#define PC_GEMM_FMA(a, b, c) ((PC_FN(vf))_mm512_fmadd_ps((__m512)(a), (__m512)(b), (__m512)(c)))
#define PC_GEMM_DFMA(a, b, c) ((__typeof__(c))_mm512_fmadd_pd((__m512d)(a), (__m512d)(b), (__m512d)(c)))
#include "gemm.h"
#include "layers.h"
#include "accum.h"
#include "accum_exact.h"
#include "table.h"
#endif
