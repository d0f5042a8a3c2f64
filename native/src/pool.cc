// Pooling and its gradients in NHWC, looping over channels innermost so
// that each window step reads and writes contiguous memory.

#include <algorithm>
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

// Windows that tile the input: each input pixel lies in at most one, as
// in the usual 2×2 pool at stride 2. Such a pool goes window by window
// with no list of taps, and its gradient writes each input pixel once
// instead of clearing the whole gradient and adding into it.
bool tiles(const ConvShape& s) {
  // 'same' padding on an odd size pads only the bottom or right: the last
  // window then runs past the input, which only the general path takes.
  const bool inside = int64_t(s.outH) * s.fh <= s.inH &&
                      int64_t(s.outW) * s.fw <= s.inW;
  return s.strideH == s.fh && s.strideW == s.fw && s.padTop == 0 &&
         s.padLeft == 0 && s.dilH == 1 && s.dilW == 1 && inside;
}

// The first value of window tap (ky, kx) of output pixel (b, oy, ox) in a
// tiling pool.
TQ_INLINE int64_t tileTap(const ConvShape& s, int64_t b, int oy, int ox,
                          int ky, int kx) {
  const int64_t row = int64_t(oy) * s.fh + ky;
  return ((b * s.inH + row) * s.inW + int64_t(ox) * s.fw + kx) * s.inC;
}

// best = the window's maximum per channel, from -inf so that a NaN is
// never the maximum, as in tfjs.
TQ_INLINE void tileMaximum(const ConvShape& s, const float* x, int64_t b,
                           int oy, int ox, float* __restrict best) {
  const int c = s.inC;
  for (int i = 0; i < c; i++) best[i] = kLowest;
  for (int ky = 0; ky < s.fh; ky++) {
    for (int kx = 0; kx < s.fw; kx++) {
      const float* __restrict src = x + tileTap(s, b, oy, ox, ky, kx);
      for (int i = 0; i < c; i++) {
        best[i] = src[i] > best[i] ? src[i] : best[i];
      }
    }
  }
}

TQ_VECTORIZED
void maxPoolTiles(const float* x, float* y, const ConvShape& s) {
  const int c = s.inC;
  for (int64_t b = 0; b < s.batch; b++) {
    for (int oy = 0; oy < s.outH; oy++) {
      for (int ox = 0; ox < s.outW; ox++) {
        float* out = y + ((b * s.outH + oy) * s.outW + ox) * c;
        tileMaximum(s, x, b, oy, ox, out);
      }
    }
  }
}

TQ_VECTORIZED
void maxPoolGradTiles(const float* dy, const float* x, float* dx,
                      const ConvShape& s) {
  const int c = s.inC;
  // Rows and columns past the last whole window get no gradient.
  if (int64_t(s.outH) * s.fh < s.inH || int64_t(s.outW) * s.fw < s.inW) {
    std::memset(dx, 0, sizeof(float) * s.batch * s.inH * s.inW * c);
  }

  std::vector<float> bestBuf(c);
  std::vector<int32_t> takenBuf(c);
  float* __restrict best = bestBuf.data();
  int32_t* __restrict taken = takenBuf.data();
  for (int64_t b = 0; b < s.batch; b++) {
    for (int oy = 0; oy < s.outH; oy++) {
      for (int ox = 0; ox < s.outW; ox++) {
        tileMaximum(s, x, b, oy, ox, best);
        for (int i = 0; i < c; i++) taken[i] = 0;
        const float* __restrict grad =
            dy + ((b * s.outH + oy) * s.outW + ox) * c;

        // The gradient goes to the first tap that holds the maximum, as
        // tfjs's own kernels choose it; a window of NaNs (maximum -inf)
        // passes none. Masks, not branches: which tap wins is data.
        for (int ky = 0; ky < s.fh; ky++) {
          for (int kx = 0; kx < s.fw; kx++) {
            const int64_t at = tileTap(s, b, oy, ox, ky, kx);
            const float* __restrict src = x + at;
            float* __restrict dst = dx + at;
            for (int i = 0; i < c; i++) {
              const int32_t hit = -int32_t(src[i] == best[i] &&
                                           best[i] > kLowest) & ~taken[i];
              dst[i] = hit ? grad[i] : 0.0f;
              taken[i] |= hit;
            }
          }
        }
      }
    }
  }
}

}  // namespace

void maxPool(const float* x, float* y, const ConvShape& s) {
  if (tiles(s)) {
    maxPoolTiles(x, y, s);
    return;
  }
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

  // A window wholly in the padding, or past the input (ceil rounding), has
  // no taps, and its maximum is -inf.
  const bool pastInput =
      int64_t(s.outH - 1) * s.strideH - s.padTop >= s.inH ||
      int64_t(s.outW - 1) * s.strideW - s.padLeft >= s.inW;
  if (s.padTop == 0 && s.padLeft == 0 && !pastInput) return;
  const int64_t outputs = int64_t(s.batch) * s.outH * s.outW;
  std::vector<bool> seen(outputs, false);
  forEachWindowTap(s, [&](int64_t out, int64_t) { seen[out] = true; });
  for (int64_t o = 0; o < outputs; o++) {
    if (!seen[o]) std::fill(y + o * c, y + (o + 1) * c, kLowest);
  }
}

void maxPoolGrad(const float* dy, const float* x, float* dx,
                 const ConvShape& s) {
  if (tiles(s)) {
    maxPoolGradTiles(dy, x, dx, s);
    return;
  }
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
