// The kernels, free of N-API: addon.cc unpacks JavaScript arguments and
// calls these on the typed arrays' own memory.
#pragma once

#include <cstdint>

// Marks a loop-heavy function to be compiled twice, for AVX2 with FMA and
// for baseline x86-64, the one to run chosen when the addon loads: the
// addon may be built on one machine and run on another (a Docker image),
// so it cannot be compiled for the builder's CPU alone. GCC names the
// x86-64-v3 level from version 12; other compilers get one baseline build.
#if defined(__x86_64__) && !defined(__clang__) && __GNUC__ >= 12
#define TQ_VECTORIZED \
  __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TQ_VECTORIZED
#endif

// For what a TQ_VECTORIZED function calls: inlined into each of its two
// compilations, as a call apart it would run as baseline code.
#define TQ_INLINE inline __attribute__((always_inline))

namespace tq {

// A 2-D convolution's geometry, NHWC input and [fh, fw, inC, outC] filter,
// as tfjs's computeConv2DInfo describes it.
struct ConvShape {
  int batch, inH, inW, inC;
  int outH, outW, outC;
  int fh, fw;
  int strideH, strideW;
  int padTop, padLeft;
  int dilH, dilW;
};

// out[i] = op(a[i]) · op(b[i]) for each of `batch` products of m×k by k×n.
// A stride of 0 broadcasts that operand over the batch.
void matmul(const float* a, const float* b, float* out, int batch, int m,
            int n, int k, bool transA, bool transB, int64_t strideA,
            int64_t strideB);

void conv2d(const float* x, const float* w, float* y, const ConvShape& s);
void conv2dBackpropInput(const float* dy, const float* w, float* dx,
                         const ConvShape& s);
void conv2dBackpropFilter(const float* x, const float* dy, float* dw,
                          const ConvShape& s);

// Pooling reuses ConvShape with outC == inC.
void maxPool(const float* x, float* y, const ConvShape& s);
void maxPoolGrad(const float* dy, const float* x, float* dx,
                 const ConvShape& s);
void avgPoolGrad(const float* dy, float* dx, const ConvShape& s);

// An LSTM layer over [batch, steps, features] with zero initial state.
struct LstmShape {
  int batch, steps, features, units;
  int hardSigmoid;      // the gates' activation: tfjs's hard sigmoid or not
  int returnSequences;  // dOut is [batch, steps, units], else [batch, units]
};

// hs and cs are [steps, batch, units]: each step's output and cell state;
// zs is [steps, batch, 4·units], each step's gate inputs, kept for the
// gradient.
void lstmForward(const float* x, const float* w, const float* u,
                 const float* bias, float* hs, float* cs, float* zs,
                 const LstmShape& s);

// The gradients of x, the kernel w, the recurrent kernel u and the bias
// from the forward pass's hs, cs, zs and the output's gradient dOut.
void lstmBackward(const float* x, const float* w, const float* u,
                  const float* hs, const float* cs, const float* zs,
                  const float* dOut, float* dx, float* dw, float* du,
                  float* db, const LstmShape& s);

// out[c] = Σ_r x[r·cols + c]: a sum over the leading axes, as gradients
// of a bias take it. Accumulated in double, written as float.
void sumRows(const float* x, float* out, int64_t rows, int64_t cols);

// y[r, c] += bias[c] (unless bias is null), then y = max(y, 0) if relu,
// in place, for a [rows, cols] y.
void biasRelu(float* y, const float* bias, int64_t rows, int cols,
              bool relu);

// The gradients below a bias and relu whose output was y: dx = dy where
// y > 0, else 0, and dbias[c] = Σ_r dx[r, c].
void reluBackprop(const float* dy, const float* y, float* dx, float* dbias,
                  int64_t rows, int cols);

// Adam's constants for one step; correction1 and 2 are 1 − β^t.
struct AdamStep {
  float learningRate, beta1, beta2, epsilon, correction1, correction2;
};

// One Adam step: x2, m2, v2 from x, its gradient g and moments m, v.
void adamUpdate(const float* x, const float* g, const float* m,
                const float* v, float* x2, float* m2, float* v2, int64_t n,
                const AdamStep& s);

void setThreads(int n);
int threads();

// Sets OpenBLAS's threads for a product of `flops`: one for small ones.
void useThreadsFor(double flops);

}  // namespace tq
