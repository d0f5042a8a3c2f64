// A sum over leading axes. WASM's own Sum reduces innermost axes only, so
// for a bias gradient (a sum over batch, rows and columns of an NHWC
// tensor) it first transposes the whole tensor; this reads it once, in
// order.

#include <vector>

#include "kernels.h"

namespace tq {

void sumRows(const float* x, float* out, int64_t rows, int64_t cols) {
  std::vector<double> total(cols, 0.0);
  double* acc = total.data();
  for (int64_t r = 0; r < rows; r++) {
    const float* row = x + r * cols;
    for (int64_t c = 0; c < cols; c++) acc[c] += row[c];
  }
  for (int64_t c = 0; c < cols; c++) out[c] = float(acc[c]);
}

}  // namespace tq
