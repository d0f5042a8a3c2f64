// One Adam step over a variable's values, as tfjs computes it (see
// src/tf/wasm-kernels/adam-update.ts); a loop the compiler vectorizes.

#include <cmath>

#include "kernels.h"

namespace tq {

void adamUpdate(const float* x, const float* g, const float* m,
                const float* v, float* x2, float* m2, float* v2, int64_t n,
                const AdamStep& s) {
  const float rest1 = 1.0f - s.beta1;
  const float rest2 = 1.0f - s.beta2;
  const float step = -s.learningRate;
  const float inv1 = 1.0f / s.correction1;
  const float inv2 = 1.0f / s.correction2;
  for (int64_t i = 0; i < n; i++) {
    const float grad = g[i];
    const float first = s.beta1 * m[i] + rest1 * grad;
    const float second = s.beta2 * v[i] + rest2 * grad * grad;
    m2[i] = first;
    v2[i] = second;
    x2[i] = x[i] + step * ((first * inv1) /
                           (std::sqrt(second * inv2) + s.epsilon));
  }
}

}  // namespace tq
