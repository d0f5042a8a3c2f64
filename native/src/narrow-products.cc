// Register-blocked loops over groups of 16 or 8 output channels, as eight
// lanes at a time: each group's sums stay in registers across a patch
// rather than going to memory and back once per value.

#include "narrow-products.h"

#include <algorithm>
#include <cstring>

#include "kernels.h"

namespace tq {

namespace {

typedef float Lanes __attribute__((vector_size(32)));

constexpr int kLanes = 8;

// Rows taken together: four rows' sums hide the latency of each chain of
// multiply-adds behind the others.
constexpr int kRowBlock = 4;

// Rows whose filter-gradient sums are gathered apart before they are added
// to the total, so that a large batch is not one long running sum.
constexpr int64_t kSumRows = 256;

TQ_INLINE Lanes load(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

TQ_INLINE void store(float* p, Lanes v) { std::memcpy(p, &v, sizeof v); }

// y[r, o0 : o0 + 8·V] for rows [r, r + R) of the product.
template <int V, int R>
TQ_INLINE void productRows(const float* col, const float* w, float* y,
                        int64_t r, int width, int outC, int o0) {
  Lanes sum[R][V] = {};
  for (int t = 0; t < width; t++) {
    Lanes tap[V];
    for (int v = 0; v < V; v++) tap[v] = load(w + t * outC + o0 + v * kLanes);
    for (int i = 0; i < R; i++) {
      const float value = col[(r + i) * width + t];
      for (int v = 0; v < V; v++) sum[i][v] += value * tap[v];
    }
  }
  for (int i = 0; i < R; i++) {
    for (int v = 0; v < V; v++) {
      store(y + (r + i) * outC + o0 + v * kLanes, sum[i][v]);
    }
  }
}

template <int V>
TQ_INLINE void productGroup(const float* col, const float* w, float* y,
                         int64_t rows, int width, int outC, int o0) {
  int64_t r = 0;
  for (; r + kRowBlock <= rows; r += kRowBlock) {
    productRows<V, kRowBlock>(col, w, y, r, width, outC, o0);
  }
  for (; r < rows; r++) productRows<V, 1>(col, w, y, r, width, outC, o0);
}

// dw[t, o0 : o0 + 8·V] += Σ col[r, t] · dy[r, o0 : o0 + 8·V] over rows
// [first, end).
template <int V>
TQ_INLINE void filterGroup(const float* col, const float* dy, float* dw,
                        int64_t first, int64_t end, int width, int outC,
                        int o0) {
  for (int t = 0; t < width; t++) {
    Lanes sum[kRowBlock][V] = {};
    int64_t r = first;
    for (; r + kRowBlock <= end; r += kRowBlock) {
      for (int i = 0; i < kRowBlock; i++) {
        const float value = col[(r + i) * width + t];
        const float* grad = dy + (r + i) * outC + o0;
        for (int v = 0; v < V; v++) {
          sum[i][v] += value * load(grad + v * kLanes);
        }
      }
    }
    for (; r < end; r++) {
      const float value = col[r * width + t];
      const float* grad = dy + r * outC + o0;
      for (int v = 0; v < V; v++) sum[0][v] += value * load(grad + v * kLanes);
    }

    float* out = dw + t * outC + o0;
    for (int v = 0; v < V; v++) {
      Lanes total = load(out + v * kLanes);
      for (int i = 0; i < kRowBlock; i++) total += sum[i][v];
      store(out + v * kLanes, total);
    }
  }
}

// Channel counts that are not a multiple of eight: plain loops.
TQ_INLINE void productAny(const float* col, const float* w, float* y,
                          int64_t rows, int width, int outC) {
  for (int64_t r = 0; r < rows; r++) {
    float* out = y + r * outC;
    std::fill(out, out + outC, 0.0f);
    for (int t = 0; t < width; t++) {
      const float value = col[r * width + t];
      for (int o = 0; o < outC; o++) out[o] += value * w[t * outC + o];
    }
  }
}

TQ_INLINE void filterAny(const float* col, const float* dy, float* dw,
                         int64_t rows, int width, int outC) {
  for (int64_t r = 0; r < rows; r++) {
    for (int t = 0; t < width; t++) {
      const float value = col[r * width + t];
      const float* grad = dy + r * outC;
      for (int o = 0; o < outC; o++) dw[t * outC + o] += value * grad[o];
    }
  }
}

}  // namespace

TQ_VECTORIZED
void narrowProduct(const float* col, const float* w, float* y, int64_t rows,
                   int width, int outC) {
  if (outC % kLanes != 0) {
    productAny(col, w, y, rows, width, outC);
    return;
  }
  int o0 = 0;
  for (; o0 + 2 * kLanes <= outC; o0 += 2 * kLanes) {
    productGroup<2>(col, w, y, rows, width, outC, o0);
  }
  if (o0 < outC) productGroup<1>(col, w, y, rows, width, outC, o0);
}

TQ_VECTORIZED
void narrowFilterGradient(const float* col, const float* dy, float* dw,
                          int64_t rows, int width, int outC) {
  if (outC % kLanes != 0) {
    filterAny(col, dy, dw, rows, width, outC);
    return;
  }
  for (int64_t first = 0; first < rows; first += kSumRows) {
    const int64_t end = std::min(rows, first + kSumRows);
    int o0 = 0;
    for (; o0 + 2 * kLanes <= outC; o0 += 2 * kLanes) {
      filterGroup<2>(col, dy, dw, first, end, width, outC, o0);
    }
    if (o0 < outC) filterGroup<1>(col, dy, dw, first, end, width, outC, o0);
  }
}

}  // namespace tq
