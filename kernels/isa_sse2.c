/* The baseline x86-64 build (SSE2 is part of x86-64). */
#define PC_ISA sse2
#include "quantize.h"
