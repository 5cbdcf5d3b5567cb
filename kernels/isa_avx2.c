#if defined(__x86_64__) || defined(_M_X64)
#pragma GCC target("avx2,bmi2,popcnt")
#define PC_ISA avx2
#define PC_VBYTES 32
#include "quantize.h"
#endif
