#if defined(__x86_64__) || defined(_M_X64)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512cd,avx2,bmi2,popcnt,prefer-vector-width=512")
#define PC_ISA avx512
#define PC_VBYTES 64
#include "quantize.h"
#endif
