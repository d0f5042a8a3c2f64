// The products of a convolution whose patch is a few values wide (a first
// layer over one or three channels), for which BLAS is slow.
#pragma once

#include <cstdint>

namespace tq {

// Patches up to this many values wide are narrow: at 9 values, BLAS ran
// the forward product and the filter gradient at about 5 GFLOP/s.
constexpr int64_t kNarrowWidth = 32;

// y = col · w: col is [rows, width], w is [width, outC], y is [rows, outC].
void narrowProduct(const float* col, const float* w, float* y, int64_t rows,
                   int width, int outC);

// dw += colᵀ · dy: col is [rows, width], dy is [rows, outC], dw is
// [width, outC].
void narrowFilterGradient(const float* col, const float* dy, float* dw,
                          int64_t rows, int width, int outC);

}  // namespace tq
