// Convolutions as matrix products (im2col): each output pixel's receptive
// field is copied out as one row of a [pixels, fh·fw·inC] matrix, so that
// the convolution and both its gradients are single BLAS calls over it,
// or, for a patch only a few values wide, loops of our own over it
// (narrow-products.cc).

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "narrow-products.h"

namespace tq {

namespace {

// Rows of the patch matrix built at a time, so that a large batch needs
// a bounded scratch buffer (about 8 MB) rather than one per whole batch.
constexpr int64_t kChunkFloats = int64_t(1) << 21;

int64_t patchWidth(const ConvShape& s) { return int64_t(s.fh) * s.fw * s.inC; }

int64_t pixels(const ConvShape& s) {
  return int64_t(s.batch) * s.outH * s.outW;
}

int64_t chunkRows(const ConvShape& s) {
  return std::max<int64_t>(1, kChunkFloats / patchWidth(s));
}

// A 1×1 filter at stride 1 without padding reads each input pixel once, in
// order: the input is already the patch matrix.
bool isPointwise(const ConvShape& s) {
  return s.fh == 1 && s.fw == 1 && s.strideH == 1 && s.strideW == 1 &&
         s.padTop == 0 && s.padLeft == 0 && s.outH == s.inH &&
         s.outW == s.inW;
}

// The output pixels from a given one on, in order, found by counting
// rather than dividing: three 64-bit divisions a pixel took longer than
// copying a first layer's whole patch.
struct PixelCursor {
  PixelCursor(const ConvShape& s, int64_t pixel) : s(s) {
    const int64_t plane = int64_t(s.outH) * s.outW;
    b = pixel / plane;
    oy = int((pixel % plane) / s.outW);
    ox = int(pixel % s.outW);
  }

  // The input row and column of the window's first tap; either may lie in
  // the padding.
  int top() const { return oy * s.strideH - s.padTop; }
  int left() const { return ox * s.strideW - s.padLeft; }

  const float* image(const float* x) const {
    return x + b * s.inH * s.inW * s.inC;
  }

  // Whether every tap of the window reads the image, none the padding.
  bool windowInside() const {
    const int bottom = top() + (s.fh - 1) * s.dilH;
    const int right = left() + (s.fw - 1) * s.dilW;
    return top() >= 0 && left() >= 0 && bottom < s.inH && right < s.inW;
  }

  void next() {
    if (++ox < s.outW) return;
    ox = 0;
    if (++oy < s.outH) return;
    oy = 0;
    b++;
  }

  const ConvShape& s;
  int64_t b;
  int oy, ox;
};

// Calls visit(tap, source) for each filter tap of the cursor's pixel:
// source points at that tap's inC input values, or is null where the tap
// falls in the padding.
template <typename Visit>
void forEachTapOf(const PixelCursor& at, const float* x, Visit visit) {
  const ConvShape& s = at.s;
  const float* image = at.image(x);
  for (int ky = 0; ky < s.fh; ky++) {
    const int iy = at.top() + ky * s.dilH;
    for (int kx = 0; kx < s.fw; kx++) {
      const int ix = at.left() + kx * s.dilW;
      const bool inside = iy >= 0 && iy < s.inH && ix >= 0 && ix < s.inW;
      const float* source =
          inside ? image + (int64_t(iy) * s.inW + ix) * s.inC : nullptr;
      visit(ky * s.fw + kx, source);
    }
  }
}

// Calls visit(row, tap, source) as forEachTapOf does, for each output
// pixel in [first, first + rows).
template <typename Visit>
void forEachTap(const ConvShape& s, const float* x, int64_t first,
                int64_t rows, Visit visit) {
  PixelCursor at(s, first);
  for (int64_t r = 0; r < rows; r++, at.next()) {
    forEachTapOf(at, x, [&](int tap, const float* source) {
      visit(r, tap, source);
    });
  }
}

// A window wholly inside the image is a few runs of contiguous input
// values: a run per filter row when its taps are adjacent (no dilation
// across), else a run per tap. Starts are offsets from the first tap's
// first value.
struct WindowRuns {
  explicit WindowRuns(const ConvShape& s) {
    const bool adjacent = s.dilW == 1;
    length = adjacent ? s.fw * s.inC : s.inC;
    for (int ky = 0; ky < s.fh; ky++) {
      for (int kx = 0; kx < (adjacent ? 1 : s.fw); kx++) {
        starts.push_back((int64_t(ky) * s.dilH * s.inW + kx * s.dilW) *
                         s.inC);
      }
    }
  }

  std::vector<int64_t> starts;
  int length;
};

void im2col(const ConvShape& s, const float* x, int64_t first, int64_t rows,
            float* col) {
  const int64_t width = patchWidth(s);
  const int channels = s.inC;
  const WindowRuns runs(s);
  const int length = runs.length;

  PixelCursor at(s, first);
  for (int64_t r = 0; r < rows; r++, at.next()) {
    float* dst = col + r * width;
    if (at.windowInside()) {
      const float* origin = at.image(x) +
          (int64_t(at.top()) * s.inW + at.left()) * channels;
      // Loops rather than memcpy: a first layer's runs are three values,
      // and a call per run cost more than the copy.
      for (const int64_t start : runs.starts) {
        const float* src = origin + start;
        for (int i = 0; i < length; i++) dst[i] = src[i];
        dst += length;
      }
      continue;
    }

    // Near the border, tap by tap, zeros for the padding.
    forEachTapOf(at, x, [&](int tap, const float* src) {
      float* out = dst + int64_t(tap) * channels;
      for (int c = 0; c < channels; c++) out[c] = src ? src[c] : 0.0f;
    });
  }
}

// Calls use(first, rows, col) for each chunk of the patch matrix of x:
// `rows` rows from row `first`, built into `col`. A pointwise filter's
// patch matrix is x itself, in one chunk.
template <typename Use>
void forEachPatchChunk(const ConvShape& s, const float* x, Use use) {
  const int64_t total = pixels(s);
  if (isPointwise(s)) {
    use(int64_t(0), total, x);
    return;
  }
  const int64_t step = chunkRows(s);
  std::vector<float> col(std::min(step, total) * patchWidth(s));
  for (int64_t first = 0; first < total; first += step) {
    const int64_t rows = std::min(step, total - first);
    im2col(s, x, first, rows, col.data());
    use(first, rows, static_cast<const float*>(col.data()));
  }
}

// Whether the products go to narrow-products.cc rather than to BLAS.
bool isNarrow(const ConvShape& s) { return patchWidth(s) <= kNarrowWidth; }

}  // namespace

void conv2d(const float* x, const float* w, float* y, const ConvShape& s) {
  const int64_t width = patchWidth(s);
  const int64_t total = pixels(s);
  if (total == 0 || s.outC == 0) return;
  // No input channels: every output is a sum of nothing.
  if (width == 0) {
    std::memset(y, 0, sizeof(float) * total * s.outC);
    return;
  }
  if (isNarrow(s)) {
    forEachPatchChunk(s, x, [&](int64_t first, int64_t rows,
                                const float* col) {
      narrowProduct(col, w, y + first * s.outC, rows, int(width), s.outC);
    });
    return;
  }
  useThreadsFor(2.0 * total * width * s.outC);
  forEachPatchChunk(s, x, [&](int64_t first, int64_t rows, const float* col) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), s.outC,
                int(width), 1.0f, col, int(width), w, s.outC, 0.0f,
                y + first * s.outC, s.outC);
  });
}

void conv2dBackpropFilter(const float* x, const float* dy, float* dw,
                          const ConvShape& s) {
  const int64_t width = patchWidth(s);
  const int64_t total = pixels(s);
  if (width == 0 || s.outC == 0) return;
  // An empty batch, or outputs that read no input: no gradient at all.
  if (total == 0) {
    std::memset(dw, 0, sizeof(float) * width * s.outC);
    return;
  }
  if (isNarrow(s)) {
    std::memset(dw, 0, sizeof(float) * width * s.outC);
    forEachPatchChunk(s, x, [&](int64_t first, int64_t rows,
                                const float* col) {
      narrowFilterGradient(col, dy + first * s.outC, dw, rows, int(width),
                           s.outC);
    });
    return;
  }
  useThreadsFor(2.0 * total * width * s.outC);
  // dW = colᵀ · dy, summed over the chunks of rows.
  forEachPatchChunk(s, x, [&](int64_t first, int64_t rows, const float* col) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(width), s.outC,
                int(rows), 1.0f, col, int(width), dy + first * s.outC, s.outC,
                first == 0 ? 0.0f : 1.0f, dw, s.outC);
  });
}

void conv2dBackpropInput(const float* dy, const float* w, float* dx,
                         const ConvShape& s) {
  const int64_t width = patchWidth(s);
  const int64_t total = pixels(s);
  const int64_t inputs = int64_t(s.batch) * s.inH * s.inW * s.inC;
  if (inputs == 0) return;
  if (total == 0 || width == 0 || s.outC == 0) {
    std::memset(dx, 0, sizeof(float) * inputs);
    return;
  }
  useThreadsFor(2.0 * total * width * s.outC);
  if (isPointwise(s)) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(total),
                int(width), s.outC, 1.0f, dy, s.outC, w, s.outC, 0.0f, dx,
                int(width));
    return;
  }

  // The patch-matrix gradient dy · Wᵀ is scattered back (col2im): each
  // tap adds into the input pixel it was copied from.
  std::memset(dx, 0, sizeof(float) * inputs);
  const int64_t step = chunkRows(s);
  std::vector<float> col(std::min(step, total) * width);
  for (int64_t first = 0; first < total; first += step) {
    const int64_t rows = std::min(step, total - first);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows),
                int(width), s.outC, 1.0f, dy + first * s.outC, s.outC, w,
                s.outC, 0.0f, col.data(), int(width));
    forEachTap(s, dx, first, rows, [&](int64_t r, int tap, const float* dst) {
      if (!dst) return;
      float* target = const_cast<float*>(dst);
      const float* src = col.data() + r * width + int64_t(tap) * s.inC;
      for (int c = 0; c < s.inC; c++) target[c] += src[c];
    });
  }
}

}  // namespace tq
