// A layer's bias and relu after its product, and the relu's gradient with
// the bias's, each in one pass: as separate tfjs kernels they were four
// passes forward and back (Add, Relu; Step, Cast, Multiply, Sum), which
// took a quarter of a small CNN's training step.

#include <algorithm>
#include <vector>

#include "kernels.h"

namespace tq {

TQ_VECTORIZED
void biasRelu(float* y, const float* bias, int64_t rows, int cols,
              bool relu) {
  for (int64_t r = 0; r < rows; r++) {
    float* row = y + r * cols;
    if (bias) {
      for (int c = 0; c < cols; c++) row[c] += bias[c];
    }
    // A NaN stays NaN, as in tfjs's Relu, so that a diverging model
    // shows it in its loss.
    if (relu) {
      for (int c = 0; c < cols; c++) row[c] = row[c] < 0.0f ? 0.0f : row[c];
    }
  }
}

TQ_VECTORIZED
void reluBackprop(const float* dy, const float* y, float* dx, float* dbias,
                  int64_t rows, int cols) {
  // The bias's sums run in float over a block of rows, then in double
  // over the blocks: double throughout took three times as long, and one
  // float sum over a whole batch would lose its small terms.
  constexpr int64_t kBlock = 64;
  std::vector<double> total(cols, 0.0);
  std::vector<float> blockSums(cols);
  float* __restrict partial = blockSums.data();

  for (int64_t first = 0; first < rows; first += kBlock) {
    const int64_t end = std::min(rows, first + kBlock);
    std::fill(partial, partial + cols, 0.0f);
    for (int64_t r = first; r < end; r++) {
      const float* __restrict grad = dy + r * cols;
      const float* __restrict out = y + r * cols;
      float* __restrict passed = dx + r * cols;
      for (int c = 0; c < cols; c++) {
        // Where the relu passed its input on, so does its gradient; where
        // it gave 0 (at 0 itself too), the gradient is 0. out · 0 is that
        // 0, or NaN for a NaN output, as tfjs's Step gives.
        passed[c] = out[c] > 0.0f ? grad[c] : out[c] * 0.0f;
        partial[c] += passed[c];
      }
    }
    for (int c = 0; c < cols; c++) total[c] += partial[c];
  }
  for (int c = 0; c < cols; c++) dbias[c] = float(total[c]);
}

}  // namespace tq
