// A whole LSTM layer over a sequence, forward and back, as tfjs's LSTM
// computes it (gates i, f, c, o in that order in the kernel's columns;
// zero initial state). tfjs runs some forty ops per time step and as
// many again for the gradient; here each step is two BLAS products and
// one pass over the gates.

#include <cblas.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"

namespace tq {

namespace {

float gate(float z, bool hard) {
  if (!hard) return 1.0f / (1.0f + std::exp(-z));
  const float v = 0.2f * z + 0.5f;
  return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

// The gate's derivative, from its input: tfjs's hard sigmoid is a clip,
// whose gradient passes where 0 ≤ 0.2·z + 0.5 ≤ 1, bounds included.
float gateSlope(float z, float out, bool hard) {
  if (!hard) return out * (1.0f - out);
  const float v = 0.2f * z + 0.5f;
  return v >= 0.0f && v <= 1.0f ? 0.2f : 0.0f;
}

}  // namespace

void lstmForward(const float* x, const float* w, const float* u,
                 const float* bias, float* hs, float* cs, float* zs,
                 const LstmShape& s) {
  const int B = s.batch, T = s.steps, F = s.features, U = s.units;
  const int G = 4 * U;
  useThreadsFor(2.0 * B * G * (F + U));
  for (int t = 0; t < T; t++) {
    float* z = zs + int64_t(t) * B * G;
    // z_t = x_t · W + h_{t-1} · U + b; x_t is every T-th row of x.
    for (int b = 0; b < B; b++) std::memcpy(z + int64_t(b) * G, bias,
                                            sizeof(float) * G);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, G, F, 1.0f,
                x + int64_t(t) * F, T * F, w, G, 1.0f, z, G);
    if (t > 0) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, G, U, 1.0f,
                  hs + int64_t(t - 1) * B * U, U, u, G, 1.0f, z, G);
    }

    const float* cPrev = t > 0 ? cs + int64_t(t - 1) * B * U : nullptr;
    float* c = cs + int64_t(t) * B * U;
    float* h = hs + int64_t(t) * B * U;
    for (int b = 0; b < B; b++) {
      const float* zb = z + int64_t(b) * G;
      for (int k = 0; k < U; k++) {
        const float i = gate(zb[k], s.hardSigmoid);
        const float f = gate(zb[U + k], s.hardSigmoid);
        const float g = std::tanh(zb[2 * U + k]);
        const float o = gate(zb[3 * U + k], s.hardSigmoid);
        const float before = cPrev ? cPrev[int64_t(b) * U + k] : 0.0f;
        const float cell = f * before + i * g;
        c[int64_t(b) * U + k] = cell;
        h[int64_t(b) * U + k] = o * std::tanh(cell);
      }
    }
  }
}

void lstmBackward(const float* x, const float* w, const float* u,
                  const float* hs, const float* cs, const float* zs,
                  const float* dOut, float* dx, float* dw, float* du,
                  float* db, const LstmShape& s) {
  const int B = s.batch, T = s.steps, F = s.features, U = s.units;
  const int G = 4 * U;
  useThreadsFor(4.0 * B * G * (F + U));
  std::vector<float> dz(int64_t(B) * G);
  std::vector<float> dh(int64_t(B) * U, 0.0f);
  std::vector<float> dc(int64_t(B) * U, 0.0f);
  std::vector<double> bias(G, 0.0);
  std::memset(dw, 0, sizeof(float) * F * G);
  std::memset(du, 0, sizeof(float) * U * G);

  for (int t = T - 1; t >= 0; t--) {
    // The output's gradient at this step joins the one from step t + 1.
    if (s.returnSequences) {
      for (int b = 0; b < B; b++) {
        const float* d = dOut + (int64_t(b) * T + t) * U;
        for (int k = 0; k < U; k++) dh[int64_t(b) * U + k] += d[k];
      }
    } else if (t == T - 1) {
      for (int64_t j = 0; j < int64_t(B) * U; j++) dh[j] += dOut[j];
    }

    const float* z = zs + int64_t(t) * B * G;
    const float* c = cs + int64_t(t) * B * U;
    const float* cPrev = t > 0 ? cs + int64_t(t - 1) * B * U : nullptr;
    for (int b = 0; b < B; b++) {
      const float* zb = z + int64_t(b) * G;
      float* dzb = dz.data() + int64_t(b) * G;
      for (int k = 0; k < U; k++) {
        const int64_t j = int64_t(b) * U + k;
        const float i = gate(zb[k], s.hardSigmoid);
        const float f = gate(zb[U + k], s.hardSigmoid);
        const float g = std::tanh(zb[2 * U + k]);
        const float o = gate(zb[3 * U + k], s.hardSigmoid);
        const float tc = std::tanh(c[j]);
        const float before = cPrev ? cPrev[j] : 0.0f;

        const float dcell = dc[j] + dh[j] * o * (1.0f - tc * tc);
        dzb[k] = dcell * g * gateSlope(zb[k], i, s.hardSigmoid);
        dzb[U + k] = dcell * before * gateSlope(zb[U + k], f, s.hardSigmoid);
        dzb[2 * U + k] = dcell * i * (1.0f - g * g);
        dzb[3 * U + k] = dh[j] * tc * gateSlope(zb[3 * U + k], o,
                                                s.hardSigmoid);
        dc[j] = dcell * f;
      }
    }

    for (int b = 0; b < B; b++) {
      const float* dzb = dz.data() + int64_t(b) * G;
      for (int k = 0; k < G; k++) bias[k] += dzb[k];
    }
    // dx_t = dz_t · Wᵀ, into every T-th row of dx; dW += x_tᵀ · dz_t.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, F, G, 1.0f,
                dz.data(), G, w, G, 0.0f, dx + int64_t(t) * F, T * F);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, F, G, B, 1.0f,
                x + int64_t(t) * F, T * F, dz.data(), G, 1.0f, dw, G);
    // The state's gradient for step t − 1: dh = dz_t · Uᵀ; dU += h_{t-1}ᵀ dz_t.
    if (t > 0) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, U, G, 1.0f,
                  dz.data(), G, u, G, 0.0f, dh.data(), U);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, U, G, B, 1.0f,
                  hs + int64_t(t - 1) * B * U, U, dz.data(), G, 1.0f, du, G);
    }
  }
  for (int k = 0; k < G; k++) db[k] = float(bias[k]);
}

}  // namespace tq
