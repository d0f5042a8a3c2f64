#include <cblas.h>

#include "kernels.h"

extern "C" {
// Declared by OpenBLAS's own cblas.h but not by the generic one that
// Debian's alternatives may put first on the include path.
void openblas_set_num_threads(int n);
int openblas_get_num_threads(void);
}

namespace tq {

namespace {

// OpenBLAS splits even small products across its threads, and waking a
// sleeping thread costs more than a small product: 256×128 by 128×64 took
// 1.4 ms on two threads against 0.05 ms on one. Between the products of
// a training step the threads do fall asleep, and even an MLP's largest
// (256×784 by 784×128) trained no faster on two. Only products of this
// many flops or more (a 512-cube, say) are split.
constexpr double kThreadedFlops = 256e6;

int wanted = 0;
int current = 0;

void useThreads(double flops) {
  if (wanted == 0) wanted = current = openblas_get_num_threads();
  const int n = flops < kThreadedFlops ? 1 : wanted;
  if (n == current) return;
  openblas_set_num_threads(n);
  current = n;
}

}  // namespace

void matmul(const float* a, const float* b, float* out, int batch, int m,
            int n, int k, bool transA, bool transB, int64_t strideA,
            int64_t strideB) {
  const CBLAS_TRANSPOSE ta = transA ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = transB ? CblasTrans : CblasNoTrans;
  const int lda = transA ? m : k;
  const int ldb = transB ? k : n;
  useThreads(2.0 * batch * m * n * k);

  // A dense layer over [batch, m, k] rows shares one weight matrix: the
  // batch is then one taller product, which BLAS runs faster than many.
  if (batch > 1 && strideB == 0 && !transA && strideA == int64_t(m) * k) {
    cblas_sgemm(CblasRowMajor, ta, tb, batch * m, n, k, 1.0f, a, lda, b, ldb,
                0.0f, out, n);
    return;
  }

  for (int i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a + i * strideA, lda,
                b + i * strideB, ldb, 0.0f, out + int64_t(i) * m * n, n);
  }
}

void setThreads(int n) {
  openblas_set_num_threads(n);
  wanted = current = n;
}

int threads() {
  if (wanted == 0) wanted = current = openblas_get_num_threads();
  return wanted;
}

void useThreadsFor(double flops) { useThreads(flops); }

}  // namespace tq
