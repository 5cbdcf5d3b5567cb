/* The baseline x86-64 build (SSE2 is part of x86-64). No FMA here: gemm.h emulates it exactly. */
#define PC_ISA sse2
#define PC_VBYTES 16
#include "quantize.h"
#define PC_GEMM_MR 4
#define PC_GEMM_NV 2
#include "gemm.h"
#include "layers.h"
#include "accum.h"
#include "accum_exact.h"
#include "table.h"
