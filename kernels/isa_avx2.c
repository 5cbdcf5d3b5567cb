#if defined(__x86_64__) || defined(_M_X64)
#pragma GCC target("avx2,fma,bmi2,popcnt")
#include <immintrin.h>
#define PC_ISA avx2
#define PC_VBYTES 32
#include "quantize.h"
/* 6 x 16: 12 accumulators + 2 B vectors + 1 broadcast of the 16 ymm registers */
#define PC_GEMM_MR 6
#define PC_GEMM_NV 2
#define PC_GEMM_KC 256
#define PC_GEMM_MC 144
#define PC_GEMM_FMA(a, b, c) ((PC_FN(vf))_mm256_fmadd_ps((__m256)(a), (__m256)(b), (__m256)(c)))
#define PC_GEMM_DFMA(a, b, c) ((__typeof__(c))_mm256_fmadd_pd((__m256d)(a), (__m256d)(b), (__m256d)(c)))
#include "gemm.h"
#include "layers.h"
#include "accum.h"
#include "accum_exact.h"
#include "table.h"
#endif
