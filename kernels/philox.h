/* Philox4x32-10, the counter-based generator of src/rng/philox.ts: element i
 * uses word (i mod 4) of the block with counter (i/4 lo, i/4 hi, stream lo,
 * stream hi) and key (seed lo, seed hi). */
#ifndef PRECIS_PHILOX_H
#define PRECIS_PHILOX_H
#include <stdint.h>
#include <stddef.h>

#define PC_PHILOX_ROUND(k0, k1)                                   \
  do {                                                            \
    uint64_t p0 = (uint64_t)0xD2511F53u * x0;                     \
    uint64_t p1 = (uint64_t)0xCD9E8D57u * x2;                     \
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ x1 ^ (k0);               \
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ x3 ^ (k1);               \
    x1 = (uint32_t)p1;                                            \
    x3 = (uint32_t)p0;                                            \
    x0 = n0;                                                      \
    x2 = n2;                                                      \
  } while (0)

/* Writes the random words of elements first .. first+n-1 to out[0 .. n-1]
 * (out must hold n + 7 words: whole blocks are written). Returns the offset
 * in out of element `first`. */
static inline size_t pc_philox_fill(uint32_t *restrict out, uint64_t first, size_t n,
                                    uint32_t key0, uint32_t key1, uint32_t s0, uint32_t s1) {
  uint64_t b0 = first >> 2;
  size_t skip = (size_t)(first & 3);
  size_t nb = (skip + n + 3) >> 2;
  for (size_t q = 0; q < nb; q++) {
    uint64_t b = b0 + q;
    uint32_t x0 = (uint32_t)b, x1 = (uint32_t)(b >> 32), x2 = s0, x3 = s1;
    const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    PC_PHILOX_ROUND(key0, key1);
    PC_PHILOX_ROUND(key0 + W0, key1 + W1);
    PC_PHILOX_ROUND(key0 + 2 * W0, key1 + 2 * W1);
    PC_PHILOX_ROUND(key0 + 3 * W0, key1 + 3 * W1);
    PC_PHILOX_ROUND(key0 + 4 * W0, key1 + 4 * W1);
    PC_PHILOX_ROUND(key0 + 5 * W0, key1 + 5 * W1);
    PC_PHILOX_ROUND(key0 + 6 * W0, key1 + 6 * W1);
    PC_PHILOX_ROUND(key0 + 7 * W0, key1 + 7 * W1);
    PC_PHILOX_ROUND(key0 + 8 * W0, key1 + 8 * W1);
    PC_PHILOX_ROUND(key0 + 9 * W0, key1 + 9 * W1);
    out[4 * q + 0] = x0;
    out[4 * q + 1] = x1;
    out[4 * q + 2] = x2;
    out[4 * q + 3] = x3;
  }
  return skip;
}

#endif
