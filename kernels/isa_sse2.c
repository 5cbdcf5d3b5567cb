/* The baseline x86-64 build (SSE2 is part of x86-64). */
#define PC_ISA sse2
#define PC_VBYTES 16
#include "quantize.h"
