// Pooling and its gradients in NHWC, looping over channels innermost so
// that each window step reads and writes contiguous memory.

#include <cstring>
#include <limits>
#include <vector>

#include "kernels.h"

namespace tq {

namespace {

constexpr float kLowest = -std::numeric_limits<float>::infinity();

// Lists the in-range window taps of output pixel (b, oy, ox) into `taps`,
// in row-major window order, and returns how many there are; pixel
// indexes count [batch, row, column] positions, to be scaled by the
// channels.
int windowTaps(const ConvShape& s, int b, int oy, int ox, int64_t* taps) {
  int n = 0;
  for (int ky = 0; ky < s.fh; ky++) {
    const int iy = oy * s.strideH - s.padTop + ky * s.dilH;
    if (iy < 0 || iy >= s.inH) continue;
    for (int kx = 0; kx < s.fw; kx++) {
      const int ix = ox * s.strideW - s.padLeft + kx * s.dilW;
      if (ix < 0 || ix >= s.inW) continue;
      taps[n++] = (int64_t(b) * s.inH + iy) * s.inW + ix;
    }
  }
  return n;
}

// Calls visit(outPixel, inPixel) for each in-range window tap of each
// output pixel, as windowTaps lists them.
template <typename Visit>
void forEachWindowTap(const ConvShape& s, Visit visit) {
  std::vector<int64_t> taps(size_t(s.fh) * s.fw);
  for (int b = 0; b < s.batch; b++) {
    for (int oy = 0; oy < s.outH; oy++) {
      for (int ox = 0; ox < s.outW; ox++) {
        const int64_t out = (int64_t(b) * s.outH + oy) * s.outW + ox;
        const int n = windowTaps(s, b, oy, ox, taps.data());
        for (int k = 0; k < n; k++) visit(out, taps[k]);
      }
    }
  }
}

}  // namespace

void maxPool(const float* x, float* y, const ConvShape& s) {
  const int c = s.inC;
  // The first tap of each window is copied and the rest compared against
  // it: one pass over the output, not a fill and then a pass.
  int64_t current = -1;
  forEachWindowTap(s, [&](int64_t out, int64_t in) {
    float* dst = y + out * c;
    const float* src = x + in * c;
    // Comparisons as tfjs's, from -inf: a NaN is never the maximum.
    if (out != current) {
      current = out;
      for (int i = 0; i < c; i++) {
        dst[i] = src[i] > kLowest ? src[i] : kLowest;
      }
      return;
    }
    for (int i = 0; i < c; i++) dst[i] = src[i] > dst[i] ? src[i] : dst[i];
  });

  // A window wholly in the padding has no taps, and its maximum is -inf.
  if (s.padTop == 0 && s.padLeft == 0) return;
  const int64_t outputs = int64_t(s.batch) * s.outH * s.outW;
  std::vector<bool> seen(outputs, false);
  forEachWindowTap(s, [&](int64_t out, int64_t) { seen[out] = true; });
  for (int64_t o = 0; o < outputs; o++) {
    if (!seen[o]) std::fill(y + o * c, y + (o + 1) * c, kLowest);
  }
}

void maxPoolGrad(const float* dy, const float* x, float* dx,
                 const ConvShape& s) {
  const int c = s.inC;
  std::memset(dx, 0, sizeof(float) * s.batch * s.inH * s.inW * c);

  // The gradient goes to the first maximum of each window, as tfjs's own
  // kernels choose it: strictly greater than everything before it, from
  // -inf, so a window of NaNs passes none. Each window's taps are listed
  // first; the comparisons then run over the channels without branches,
  // which the compiler vectorizes, keeping the winning tap's number.
  std::vector<int64_t> taps(size_t(s.fh) * s.fw);
  std::vector<float> bestBuf(c);
  std::vector<int32_t> tapBuf(c);
  float* __restrict best = bestBuf.data();
  int32_t* __restrict tapOf = tapBuf.data();

  for (int b = 0; b < s.batch; b++) {
    for (int oy = 0; oy < s.outH; oy++) {
      for (int ox = 0; ox < s.outW; ox++) {
        const int n = windowTaps(s, b, oy, ox, taps.data());
        if (n == 0) continue;

        for (int i = 0; i < c; i++) {
          best[i] = kLowest;
          tapOf[i] = -1;
        }
        for (int k = 0; k < n; k++) {
          const float* __restrict src = x + taps[k] * c;
          // As masks, not branches: which tap wins is data, and a
          // mispredicted branch per value cost more than the rest.
          for (int i = 0; i < c; i++) {
            const int32_t more = -int32_t(src[i] > best[i]);
            best[i] = src[i] > best[i] ? src[i] : best[i];
            tapOf[i] = (tapOf[i] & ~more) | (k & more);
          }
        }

        const int64_t out = (int64_t(b) * s.outH + oy) * s.outW + ox;
        const float* grad = dy + out * c;
        for (int i = 0; i < c; i++) {
          if (tapOf[i] >= 0) dx[taps[tapOf[i]] * c + i] += grad[i];
        }
      }
    }
  }
}

void avgPoolGrad(const float* dy, float* dx, const ConvShape& s) {
  const int c = s.inC;
  std::memset(dx, 0, sizeof(float) * s.batch * s.inH * s.inW * c);

  // tfjs's kernels divide every window's gradient by the full window size,
  // padding included, while its forward pass divides by the taps inside;
  // this matches the gradient kernels so that every backend agrees.
  const float share = 1.0f / float(s.fh * s.fw);
  forEachWindowTap(s, [&](int64_t out, int64_t in) {
    const float* grad = dy + out * c;
    float* dst = dx + in * c;
    for (int i = 0; i < c; i++) dst[i] += grad[i] * share;
  });
}

}  // namespace tq
