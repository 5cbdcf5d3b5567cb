/*
 * The training kernels besides GEMM, written once: the optimizer updates
 * (SGD, Adam/AdamW), convolution's im2col/col2im and axis swap, and pooling.
 * Included after quantize.h by each isa_*.c and by wasm.c; the compiler
 * vectorises the element loops for each target.
 *
 * Every loop is the reference loop of src/backend (optim.ts, conv.ts,
 * pool.ts) with the same operations in the same order, so the results match
 * bit for bit: the optimizers compute each element in double (as JavaScript
 * numbers) and round to float32 where the reference stores into a
 * Float32Array; -ffp-contract=off keeps a*b + c from fusing. Work splits into
 * independent units (elements, rows, planes), and no sum ever spans two
 * units, so a thread split never changes a result.
 */

/* The loop-invariant cases become separate loops (compile-time flags after inlining), so each vectorises. */
static inline __attribute__((always_inline)) void PC_FN(sgd_loop)(const int decay, const int first, const int nesterov,
                                                                  const pc_sgd_args *a, float *restrict p,
                                                                  const float *restrict g, float *restrict buf,
                                                                  size_t begin, size_t end) {
  const double lr = a->lr, wd = a->weight_decay, mu = a->momentum, keep = a->keep;
  for (size_t i = begin; i < end; i++) {
    const double pi = p[i];
    const double gi = decay ? (double)g[i] + wd * pi : (double)g[i];
    const float b = first ? (float)gi : (float)(mu * (double)buf[i] + keep * gi);
    buf[i] = b;
    p[i] = (float)(pi - lr * (nesterov ? gi + mu * (double)b : (double)b));
  }
}

static void PC_FN(pc_sgd)(const pc_sgd_args *a, float *p, const float *g, float *buf, size_t begin, size_t end) {
  const int decay = a->weight_decay != 0;
  if (!buf) {
    const double lr = a->lr, wd = a->weight_decay;
    if (decay)
      for (size_t i = begin; i < end; i++) p[i] = (float)((double)p[i] - lr * ((double)g[i] + wd * (double)p[i]));
    else
      for (size_t i = begin; i < end; i++) p[i] = (float)((double)p[i] - lr * (double)g[i]);
    return;
  }
  switch (decay << 2 | (a->first != 0) << 1 | (a->nesterov != 0)) {
    case 0: PC_FN(sgd_loop)(0, 0, 0, a, p, g, buf, begin, end); break;
    case 1: PC_FN(sgd_loop)(0, 0, 1, a, p, g, buf, begin, end); break;
    case 2: PC_FN(sgd_loop)(0, 1, 0, a, p, g, buf, begin, end); break;
    case 3: PC_FN(sgd_loop)(0, 1, 1, a, p, g, buf, begin, end); break;
    case 4: PC_FN(sgd_loop)(1, 0, 0, a, p, g, buf, begin, end); break;
    case 5: PC_FN(sgd_loop)(1, 0, 1, a, p, g, buf, begin, end); break;
    case 6: PC_FN(sgd_loop)(1, 1, 0, a, p, g, buf, begin, end); break;
    default: PC_FN(sgd_loop)(1, 1, 1, a, p, g, buf, begin, end); break;
  }
}

static inline __attribute__((always_inline)) void PC_FN(adam_loop)(const int l2, const int small_w, const int decay,
                                                                   const pc_adam_args *a, float *restrict p,
                                                                   const float *restrict g, float *restrict m,
                                                                   float *restrict v, size_t begin, size_t end) {
  const double step_size = a->step_size, bc2 = a->bc2_sqrt, w = a->w, omw = a->one_minus_w, b2 = a->beta2,
               omb2 = a->one_minus_beta2, eps = a->eps, dec = a->decay, wd = a->l2;
  for (size_t i = begin; i < end; i++) {
    const double pi = p[i];
    const double gi = l2 ? (double)g[i] + wd * pi : (double)g[i];
    const double m0 = m[i];
    /* torch.lerp's two formulas */
    const float mi = (float)(small_w ? m0 + w * (gi - m0) : gi - (gi - m0) * omw);
    m[i] = mi;
    const float vi = (float)(b2 * (double)v[i] + omb2 * gi * gi);
    v[i] = vi;
    const double denom = __builtin_sqrt((double)vi) / bc2 + eps;
    p[i] = (float)((decay ? pi * dec : pi) - (step_size * (double)mi) / denom);
  }
}

static void PC_FN(pc_adam)(const pc_adam_args *a, float *p, const float *g, float *m, float *v, size_t begin, size_t end) {
  switch ((a->l2 != 0) << 2 | (a->w < 0.5) << 1 | (a->decay != 1)) {
    case 0: PC_FN(adam_loop)(0, 0, 0, a, p, g, m, v, begin, end); break;
    case 1: PC_FN(adam_loop)(0, 0, 1, a, p, g, m, v, begin, end); break;
    case 2: PC_FN(adam_loop)(0, 1, 0, a, p, g, m, v, begin, end); break;
    case 3: PC_FN(adam_loop)(0, 1, 1, a, p, g, m, v, begin, end); break;
    case 4: PC_FN(adam_loop)(1, 0, 0, a, p, g, m, v, begin, end); break;
    case 5: PC_FN(adam_loop)(1, 0, 1, a, p, g, m, v, begin, end); break;
    case 6: PC_FN(adam_loop)(1, 1, 0, a, p, g, m, v, begin, end); break;
    default: PC_FN(adam_loop)(1, 1, 1, a, p, g, m, v, begin, end); break;
  }
}

/* Output positions o in [lo, hi) whose input index o·s - p + k lies in 0..size-1 (hi = lo: none). */
static inline void PC_FN(valid_range)(size_t size, size_t out, size_t k, size_t s, size_t p, size_t *lo, size_t *hi) {
  size_t l = p > k ? (p - k + s - 1) / s : 0;
  size_t h = size - 1 + p >= k ? (size - 1 + p - k) / s + 1 : 0;
  if (l > out) l = out;
  if (h > out) h = out;
  *lo = l;
  *hi = h < l ? l : h;
}

/* Units are (row, image) pairs, row = (c·KH + kh)·KW + kw: col[row, n·OH·OW ..] gets image n's receptive-field
 * values for that kernel offset, zeros in the padding. */
static void PC_FN(pc_im2col)(const pc_conv_geo *g, const float *x, float *col, size_t begin, size_t end) {
  const size_t N = g->n, C = g->c, H = g->h, W = g->w, KH = g->kh, KW = g->kw, OH = g->oh, OW = g->ow, S = g->stride,
               P = g->pad;
  const size_t OHW = OH * OW, L = N * OHW;
  for (size_t u = begin; u < end; u++) {
    const size_t r = u / N, n = u % N;
    const size_t kw = r % KW, kh = r / KW % KH, c = r / (KW * KH);
    size_t oh0, oh1, ow0, ow1;
    PC_FN(valid_range)(H, OH, kh, S, P, &oh0, &oh1);
    PC_FN(valid_range)(W, OW, kw, S, P, &ow0, &ow1);
    const float *plane = x + (n * C + c) * H * W;
    float *dst = col + r * L + n * OHW;
    for (size_t i = 0; i < oh0 * OW; i++) dst[i] = 0;
    for (size_t oh = oh0; oh < oh1; oh++) {
      float *row = dst + oh * OW;
      const float *src = plane + (oh * S + kh - P) * W + kw; /* src[ow·S - P] for ow ≥ ow0 */
      for (size_t ow = 0; ow < ow0; ow++) row[ow] = 0;
      if (S == 1)
        for (size_t ow = ow0; ow < ow1; ow++) row[ow] = src[ow - P];
      else
        for (size_t ow = ow0; ow < ow1; ow++) row[ow] = src[ow * S - P];
      for (size_t ow = ow1; ow < OW; ow++) row[ow] = 0;
    }
    for (size_t i = oh1 * OW; i < OHW; i++) dst[i] = 0;
  }
}

/* Units are input planes (n, c): each dx element starts at +0 and adds its col entries in (kh, kw) order. */
static void PC_FN(pc_col2im)(const pc_conv_geo *g, const float *col, float *dx, size_t begin, size_t end) {
  const size_t N = g->n, C = g->c, H = g->h, W = g->w, KH = g->kh, KW = g->kw, OH = g->oh, OW = g->ow, S = g->stride,
               P = g->pad;
  const size_t OHW = OH * OW, L = N * OHW;
  for (size_t u = begin; u < end; u++) {
    const size_t n = u / C, c = u % C;
    float *plane = dx + u * H * W;
    for (size_t i = 0; i < H * W; i++) plane[i] = 0;
    for (size_t kh = 0; kh < KH; kh++) {
      size_t oh0, oh1;
      PC_FN(valid_range)(H, OH, kh, S, P, &oh0, &oh1);
      for (size_t kw = 0; kw < KW; kw++) {
        size_t ow0, ow1;
        PC_FN(valid_range)(W, OW, kw, S, P, &ow0, &ow1);
        const float *src = col + ((c * KH + kh) * KW + kw) * L + n * OHW;
        for (size_t oh = oh0; oh < oh1; oh++) {
          float *row = plane + (oh * S + kh - P) * W + kw; /* row[ow·S - P] */
          const float *s = src + oh * OW;
          if (S == 1)
            for (size_t ow = ow0; ow < ow1; ow++) row[ow - P] += s[ow];
          else
            for (size_t ow = ow0; ow < ow1; ow++) row[ow * S - P] += s[ow];
        }
      }
    }
  }
}

/* [A, B, inner] -> [B, A, inner]; units are the A·B blocks of src. */
static void PC_FN(pc_swap01)(const float *src, float *dst, size_t a, size_t b, size_t inner, size_t begin, size_t end) {
  for (size_t u = begin; u < end; u++) {
    const float *s = src + u * inner;
    float *d = dst + ((u % b) * a + u / b) * inner;
    for (size_t i = 0; i < inner; i++) d[i] = s[i];
  }
}

/* Columns [begin, end) of out: each summed from +0 down the rows of g ([rows, n], row-major) in order, every add in
 * float32 (the reference's double add of two float32 values, rounded to float32 on the store, is the same), a
 * vector of columns at a time. */
static void PC_FN(pc_sum_rows)(const float *g, float *out, size_t rows, size_t n, size_t begin, size_t end) {
  for (size_t j = begin; j < end; j++) out[j] = 0.0f;
  for (size_t r = 0; r < rows; r++) {
    const float *row = g + r * n;
    for (size_t j = begin; j < end; j++) out[j] += row[j];
  }
}

/* Elements [begin, end): relu (grad NULL) or its gradient, as src/backend/activation.ts. Both are selects and one
 * product, so the loops vectorise; relu keeps a NaN input's bits. */
static void PC_FN(pc_relu)(const float *x, const float *grad, float *out, size_t begin, size_t end) {
  if (!grad)
    for (size_t i = begin; i < end; i++) {
      const float v = x[i];
      out[i] = v > 0 || v != v ? v : 0.0f;
    }
  else
    for (size_t i = begin; i < end; i++) out[i] = grad[i] * (x[i] > 0 ? 1.0f : 0.0f);
}

/* Window bounds of output position o, clipped to the image: [lo, hi). */
static inline void PC_FN(pool_window)(size_t o, size_t s, size_t p, size_t k, size_t size, size_t *lo, size_t *hi) {
  const size_t start = o * s; /* the window is [start - p, start - p + k) */
  *lo = start > p ? start - p : 0;
  *hi = start + k - p < size ? start + k - p : size;
}

/* Units are planes. The first maximum in scan order wins; the first NaN wins over everything. For each output
 * row the window's input rows and columns are visited in scan order, each step across the whole row of outputs
 * (which vectorises), keeping every output's running maximum in out and arg. K, S and P are compile-time
 * constants in the common instantiations below. */
static inline __attribute__((always_inline)) void PC_FN(max_pool_planes)(const size_t K, const size_t S, const size_t P,
                                                                        const pc_pool_geo *g, const float *x, float *out,
                                                                        int32_t *arg, size_t begin, size_t end) {
  const size_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
  for (size_t u = begin; u < end; u++) {
    const float *X = x + u * H * W;
    for (size_t oh = 0; oh < OH; oh++) {
      float *restrict best = out + (u * OH + oh) * OW;
      int32_t *restrict at = arg + (u * OH + oh) * OW;
      size_t h0, h1;
      PC_FN(pool_window)(oh, S, P, K, H, &h0, &h1);
      for (size_t ow = 0; ow < OW; ow++) {
        size_t w0, w1;
        PC_FN(pool_window)(ow, S, P, K, W, &w0, &w1);
        best[ow] = -__builtin_inff();
        at[ow] = (int32_t)(h0 * W + w0);
      }
      for (size_t h = h0; h < h1; h++) {
        const float *row = X + h * W;
        for (size_t kw = 0; kw < K; kw++) {
          size_t ow0 = 0, ow1 = OW; /* outputs whose column ow·S - P + kw lies in the image: all when P = 0 */
          if (P) PC_FN(valid_range)(W, OW, kw, S, P, &ow0, &ow1);
          for (size_t ow = ow0; ow < ow1; ow++) {
            const size_t i = ow * S + kw - P;
            const float v = row[i];
            const float b = best[ow];
            /* once best is NaN nothing replaces it: the reference's early exit */
            const int take = (v > b) | ((v != v) & (b == b));
            best[ow] = take ? v : b;
            at[ow] = take ? (int32_t)(h * W + i) : at[ow];
          }
        }
      }
    }
  }
}

/* The running maximum's update, as masks: compilers turn `take ? v : best` into a branch, which random data
 * mispredicts half the time. Once best is NaN nothing replaces it (the reference's early exit). */
static inline void PC_FN(max_step)(float v, uint32_t i, float *best, uint32_t *at) {
  const uint32_t take = 0u - (uint32_t)((v > *best) | ((v != v) & (*best == *best)));
  const uint32_t b = (PC_FN(f2u)(v) & take) | (PC_FN(f2u)(*best) & ~take);
  *best = PC_FN(u2f)(b);
  *at = (i & take) | (*at & ~take);
}

/* Without padding every window lies inside the image: one output at a time, its K×K window (a compile-time
 * size) scanned in registers. */
static inline __attribute__((always_inline)) void PC_FN(max_pool_inside)(const size_t K, const size_t S,
                                                                        const pc_pool_geo *g, const float *x, float *out,
                                                                        int32_t *arg, size_t begin, size_t end) {
  const size_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
  for (size_t u = begin; u < end; u++) {
    const float *X = x + u * H * W;
    size_t o = u * OH * OW;
    for (size_t oh = 0; oh < OH; oh++) {
      for (size_t ow = 0; ow < OW; ow++, o++) {
        const size_t i0 = oh * S * W + ow * S;
        float best = -__builtin_inff();
        uint32_t at = (uint32_t)i0;
        for (size_t kh = 0; kh < K; kh++)
          for (size_t kw = 0; kw < K; kw++) PC_FN(max_step)(X[i0 + kh * W + kw], (uint32_t)(i0 + kh * W + kw), &best, &at);
        out[o] = best;
        arg[o] = (int32_t)at;
      }
    }
  }
}

/* 2×2 windows, stride 2, no padding (LeNet's and most CNNs' pooling): four outputs at a time in 128-bit vectors
 * (every ISA and wasm has them), each window's four values de-interleaved from its two input rows and visited in
 * scan order with max_step's rule; the row's last OW mod 4 outputs go one at a time. */
static void PC_FN(max_pool_2x2)(const pc_pool_geo *g, const float *x, float *out, int32_t *arg, size_t begin, size_t end) {
  typedef float f4 __attribute__((vector_size(16)));
  typedef int32_t i4 __attribute__((vector_size(16)));
  const size_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
  const i4 lane2 = {0, 2, 4, 6};
  for (size_t u = begin; u < end; u++) {
    const float *X = x + u * H * W;
    size_t o = u * OH * OW;
    for (size_t oh = 0; oh < OH; oh++) {
      const size_t r0 = 2 * oh * W;
      size_t ow = 0;
      for (; ow + 4 <= OW; ow += 4, o += 4) {
        f4 t0, t1, b0, b1;
        __builtin_memcpy(&t0, X + r0 + 2 * ow, 16);
        __builtin_memcpy(&t1, X + r0 + 2 * ow + 4, 16);
        __builtin_memcpy(&b0, X + r0 + W + 2 * ow, 16);
        __builtin_memcpy(&b1, X + r0 + W + 2 * ow + 4, 16);
        const f4 cand[4] = {__builtin_shufflevector(t0, t1, 0, 2, 4, 6), __builtin_shufflevector(t0, t1, 1, 3, 5, 7),
                            __builtin_shufflevector(b0, b1, 0, 2, 4, 6), __builtin_shufflevector(b0, b1, 1, 3, 5, 7)};
        const i4 first = (i4){0} + (int32_t)(r0 + 2 * ow) + lane2;
        const i4 offs[4] = {(i4){0}, (i4){0} + 1, (i4){0} + (int32_t)W, (i4){0} + (int32_t)W + 1};
        f4 best = cand[0];
        i4 at = first;
        for (int c = 1; c < 4; c++) {
          /* once best is NaN nothing replaces it; a NaN candidate replaces a number */
          const i4 take = (cand[c] > best) | ((cand[c] != cand[c]) & (best == best));
          best = (f4)((take & (i4)cand[c]) | (~take & (i4)best));
          at = (take & (first + offs[c])) | (~take & at);
        }
        __builtin_memcpy(out + o, &best, 16);
        __builtin_memcpy(arg + o, &at, 16);
      }
      for (; ow < OW; ow++, o++) {
        const size_t i0 = r0 + 2 * ow;
        float best = -__builtin_inff();
        uint32_t at = (uint32_t)i0;
        for (size_t kh = 0; kh < 2; kh++)
          for (size_t kw = 0; kw < 2; kw++) PC_FN(max_step)(X[i0 + kh * W + kw], (uint32_t)(i0 + kh * W + kw), &best, &at);
        out[o] = best;
        arg[o] = (int32_t)at;
      }
    }
  }
}

static void PC_FN(pc_max_pool)(const pc_pool_geo *g, const float *x, float *out, int32_t *arg, size_t begin, size_t end) {
  const size_t K = g->k, S = g->stride, P = g->pad;
  if (K == 2 && S == 2 && P == 0) PC_FN(max_pool_2x2)(g, x, out, arg, begin, end);
  else if (K == 3 && S == 2 && P == 0) PC_FN(max_pool_inside)(3, 2, g, x, out, arg, begin, end);
  else if (K == 3 && S == 3 && P == 0) PC_FN(max_pool_inside)(3, 3, g, x, out, arg, begin, end);
  else PC_FN(max_pool_planes)(K, S, P, g, x, out, arg, begin, end);
}

/* Units are planes: dx starts at +0 and each output's gradient is added at its argmax, in output order. */
static void PC_FN(pc_max_pool_backward)(const pc_pool_geo *g, const float *grad, const int32_t *arg, float *dx,
                                        size_t begin, size_t end) {
  const size_t HW = g->h * g->w, OHW = g->oh * g->ow;
  for (size_t u = begin; u < end; u++) {
    float *d = dx + u * HW;
    for (size_t i = 0; i < HW; i++) d[i] = 0;
    for (size_t o = u * OHW, e = o + OHW; o < e; o++) d[arg[o]] += grad[o];
  }
}

/* Units are planes: each window summed in double in scan order, divided by K·K (padding counts as zeros). */
static void PC_FN(pc_avg_pool)(const pc_pool_geo *g, const float *x, float *out, size_t begin, size_t end) {
  const size_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
  const double area = (double)(g->k * g->k);
  for (size_t u = begin; u < end; u++) {
    const float *X = x + u * H * W;
    size_t o = u * OH * OW;
    for (size_t oh = 0; oh < OH; oh++) {
      size_t h0, h1;
      PC_FN(pool_window)(oh, g->stride, g->pad, g->k, H, &h0, &h1);
      for (size_t ow = 0; ow < OW; ow++, o++) {
        size_t w0, w1;
        PC_FN(pool_window)(ow, g->stride, g->pad, g->k, W, &w0, &w1);
        double s = 0;
        for (size_t h = h0; h < h1; h++)
          for (size_t i = h * W + w0, e = h * W + w1; i < e; i++) s += X[i];
        out[o] = (float)(s / area);
      }
    }
  }
}

/* Units are planes: dx starts at +0; each output adds grad/(K·K) (a double) to its window, in output order. */
static void PC_FN(pc_avg_pool_backward)(const pc_pool_geo *g, const float *grad, float *dx, size_t begin, size_t end) {
  const size_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
  const double area = (double)(g->k * g->k);
  for (size_t u = begin; u < end; u++) {
    float *d = dx + u * H * W;
    for (size_t i = 0; i < H * W; i++) d[i] = 0;
    size_t o = u * OH * OW;
    for (size_t oh = 0; oh < OH; oh++) {
      size_t h0, h1;
      PC_FN(pool_window)(oh, g->stride, g->pad, g->k, H, &h0, &h1);
      for (size_t ow = 0; ow < OW; ow++, o++) {
        size_t w0, w1;
        PC_FN(pool_window)(ow, g->stride, g->pad, g->k, W, &w0, &w1);
        const double gi = (double)grad[o] / area;
        for (size_t h = h0; h < h1; h++)
          for (size_t i = h * W + w0, e = h * W + w1; i < e; i++) d[i] = (float)((double)d[i] + gi);
      }
    }
  }
}
