// The N-API surface: unpacks Float32Arrays and shapes, checks that every
// array is as long as the shapes say (a wrong shape must throw, never
// write past an array's end), and runs the kernel on the arrays' memory.

#include <node_api.h>

#include <cstdint>
#include <string>

#include "kernels.h"

namespace {

struct Failure {
  std::string message;
};

napi_value* argsOf(napi_env env, napi_callback_info info, size_t want,
                   napi_value* argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < want) {
    throw Failure{"expected " + std::to_string(want) + " arguments"};
  }
  return argv;
}

float* floats(napi_env env, napi_value value, int64_t need,
              const char* name) {
  bool isTyped = false;
  napi_is_typedarray(env, value, &isTyped);
  if (!isTyped) throw Failure{std::string(name) + " must be a Float32Array"};

  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_get_typedarray_info(env, value, &type, &length, &data, nullptr,
                           nullptr);
  if (type != napi_float32_array) {
    throw Failure{std::string(name) + " must be a Float32Array"};
  }
  if (int64_t(length) < need) {
    throw Failure{std::string(name) + " holds " + std::to_string(length) +
                  " values, the shape needs " + std::to_string(need)};
  }
  return static_cast<float*>(data);
}

int64_t integer(napi_env env, napi_value value, const char* name) {
  int64_t out = 0;
  if (napi_get_value_int64(env, value, &out) != napi_ok || out < 0) {
    throw Failure{std::string(name) + " must be a non-negative integer"};
  }
  return out;
}

bool boolean(napi_env env, napi_value value) {
  bool out = false;
  napi_get_value_bool(env, value, &out);
  return out;
}

// A shape struct's fields, sent as an Int32Array of exactly `count`
// non-negative values.
const int32_t* shapeFields(napi_env env, napi_value value, size_t count) {
  bool isTyped = false;
  napi_is_typedarray(env, value, &isTyped);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (isTyped) {
    napi_get_typedarray_info(env, value, &type, &length, &data, nullptr,
                             nullptr);
  }
  if (!isTyped || type != napi_int32_array || length != count) {
    throw Failure{"shape must be an Int32Array of " + std::to_string(count)};
  }
  const int32_t* v = static_cast<int32_t*>(data);
  for (size_t i = 0; i < count; i++) {
    if (v[i] < 0) throw Failure{"shape fields must not be negative"};
  }
  return v;
}

// The geometry arrives in ConvShape's field order.
tq::ConvShape convShape(napi_env env, napi_value value) {
  constexpr size_t fields = sizeof(tq::ConvShape) / sizeof(int);
  const int32_t* v = shapeFields(env, value, fields);
  tq::ConvShape s;
  int* out = reinterpret_cast<int*>(&s);
  for (size_t i = 0; i < fields; i++) out[i] = v[i];
  if (s.strideH < 1 || s.strideW < 1 || s.dilH < 1 || s.dilW < 1) {
    throw Failure{"strides and dilations must be at least 1"};
  }
  return s;
}

int64_t inputSize(const tq::ConvShape& s) {
  return int64_t(s.batch) * s.inH * s.inW * s.inC;
}

int64_t outputSize(const tq::ConvShape& s) {
  return int64_t(s.batch) * s.outH * s.outW * s.outC;
}

int64_t filterSize(const tq::ConvShape& s) {
  return int64_t(s.fh) * s.fw * s.inC * s.outC;
}

template <typename Body>
napi_value guarded(napi_env env, Body body) {
  try {
    return body();
  } catch (const Failure& failure) {
    napi_throw_range_error(env, "TQ_NATIVE", failure.message.c_str());
  } catch (const std::exception& err) {
    napi_throw_error(env, "TQ_NATIVE", err.what());
  }
  return nullptr;
}

napi_value undefinedValue(napi_env env) {
  napi_value out;
  napi_get_undefined(env, &out);
  return out;
}

// matmul(a, b, out, batch, m, n, k, transA, transB, strideA, strideB)
napi_value Matmul(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    napi_value argv[11];
    argsOf(env, info, 11, argv);
    const int64_t batch = integer(env, argv[3], "batch");
    const int64_t m = integer(env, argv[4], "m");
    const int64_t n = integer(env, argv[5], "n");
    const int64_t k = integer(env, argv[6], "k");
    const bool transA = boolean(env, argv[7]);
    const bool transB = boolean(env, argv[8]);
    const int64_t strideA = integer(env, argv[9], "strideA");
    const int64_t strideB = integer(env, argv[10], "strideB");

    const int64_t last = batch > 0 ? batch - 1 : 0;
    const float* a = floats(env, argv[0], last * strideA + m * k, "a");
    const float* b = floats(env, argv[1], last * strideB + k * n, "b");
    float* out = floats(env, argv[2], batch * m * n, "out");
    if (batch > 0 && m > 0 && n > 0) {
      tq::matmul(a, b, out, int(batch), int(m), int(n), int(k), transA,
                 transB, strideA, strideB);
    }
    return undefinedValue(env);
  });
}

enum class Role { Input, Output, Filter };

int64_t sizeOf(Role role, const tq::ConvShape& s) {
  if (role == Role::Input) return inputSize(s);
  if (role == Role::Output) return outputSize(s);
  return filterSize(s);
}

// Every convolution and pooling kernel takes three arrays (or two) and a
// shape; `roles` says which geometry each array has.
template <typename Kernel>
napi_value convCall(napi_env env, napi_callback_info info, Role r0, Role r1,
                    Role r2, Kernel kernel) {
  return guarded(env, [&]() {
    napi_value argv[4];
    argsOf(env, info, 4, argv);
    const tq::ConvShape s = convShape(env, argv[3]);
    float* a = floats(env, argv[0], sizeOf(r0, s), "first array");
    float* b = floats(env, argv[1], sizeOf(r1, s), "second array");
    float* c = floats(env, argv[2], sizeOf(r2, s), "third array");
    kernel(a, b, c, s);
    return undefinedValue(env);
  });
}

napi_value Conv2d(napi_env env, napi_callback_info info) {
  return convCall(env, info, Role::Input, Role::Filter, Role::Output,
                  [](float* x, float* w, float* y, const tq::ConvShape& s) {
                    tq::conv2d(x, w, y, s);
                  });
}

napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  return convCall(env, info, Role::Output, Role::Filter, Role::Input,
                  [](float* dy, float* w, float* dx,
                     const tq::ConvShape& s) {
                    tq::conv2dBackpropInput(dy, w, dx, s);
                  });
}

napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  return convCall(env, info, Role::Input, Role::Output, Role::Filter,
                  [](float* x, float* dy, float* dw,
                     const tq::ConvShape& s) {
                    tq::conv2dBackpropFilter(x, dy, dw, s);
                  });
}

napi_value MaxPool(napi_env env, napi_callback_info info) {
  // (x, y, y, shape): the output array is passed twice so that the
  // three-array call shape fits; the kernel reads only the first two.
  return convCall(env, info, Role::Input, Role::Output, Role::Output,
                  [](float* x, float* y, float*, const tq::ConvShape& s) {
                    tq::maxPool(x, y, s);
                  });
}

napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return convCall(env, info, Role::Output, Role::Input, Role::Input,
                  [](float* dy, float* x, float* dx,
                     const tq::ConvShape& s) {
                    tq::maxPoolGrad(dy, x, dx, s);
                  });
}

napi_value AvgPoolGrad(napi_env env, napi_callback_info info) {
  return convCall(env, info, Role::Output, Role::Input, Role::Input,
                  [](float* dy, float* dx, float*, const tq::ConvShape& s) {
                    tq::avgPoolGrad(dy, dx, s);
                  });
}

// The LSTM's shape arrives in LstmShape's field order.
tq::LstmShape lstmShape(napi_env env, napi_value value) {
  const int32_t* v = shapeFields(env, value, 6);
  for (int i = 0; i < 4; i++) {
    if (v[i] < 1) throw Failure{"batch, steps, features, units must be > 0"};
  }
  return tq::LstmShape{v[0], v[1], v[2], v[3], v[4], v[5]};
}

// lstmForward(x, w, u, bias, hs, cs, zs, shape)
napi_value LstmForward(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    napi_value argv[8];
    argsOf(env, info, 8, argv);
    const tq::LstmShape s = lstmShape(env, argv[7]);
    const int64_t B = s.batch, T = s.steps, F = s.features, U = s.units;
    const float* x = floats(env, argv[0], B * T * F, "x");
    const float* w = floats(env, argv[1], F * 4 * U, "kernel");
    const float* u = floats(env, argv[2], U * 4 * U, "recurrent kernel");
    const float* bias = floats(env, argv[3], 4 * U, "bias");
    float* hs = floats(env, argv[4], T * B * U, "hs");
    float* cs = floats(env, argv[5], T * B * U, "cs");
    float* zs = floats(env, argv[6], T * B * 4 * U, "zs");
    tq::lstmForward(x, w, u, bias, hs, cs, zs, s);
    return undefinedValue(env);
  });
}

// lstmBackward(x, w, u, hs, cs, zs, dOut, dx, dw, du, db, shape)
napi_value LstmBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    napi_value argv[12];
    argsOf(env, info, 12, argv);
    const tq::LstmShape s = lstmShape(env, argv[11]);
    const int64_t B = s.batch, T = s.steps, F = s.features, U = s.units;
    const float* x = floats(env, argv[0], B * T * F, "x");
    const float* w = floats(env, argv[1], F * 4 * U, "kernel");
    const float* u = floats(env, argv[2], U * 4 * U, "recurrent kernel");
    const float* hs = floats(env, argv[3], T * B * U, "hs");
    const float* cs = floats(env, argv[4], T * B * U, "cs");
    const float* zs = floats(env, argv[5], T * B * 4 * U, "zs");
    const float* dOut = floats(env, argv[6],
                               s.returnSequences ? B * T * U : B * U, "dOut");
    float* dx = floats(env, argv[7], B * T * F, "dx");
    float* dw = floats(env, argv[8], F * 4 * U, "dw");
    float* du = floats(env, argv[9], U * 4 * U, "du");
    float* db = floats(env, argv[10], 4 * U, "db");
    tq::lstmBackward(x, w, u, hs, cs, zs, dOut, dx, dw, du, db, s);
    return undefinedValue(env);
  });
}

// sumRows(x, out, rows, cols)
napi_value SumRows(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    napi_value argv[4];
    argsOf(env, info, 4, argv);
    const int64_t rows = integer(env, argv[2], "rows");
    const int64_t cols = integer(env, argv[3], "cols");
    const float* x = floats(env, argv[0], rows * cols, "x");
    float* out = floats(env, argv[1], cols, "out");
    tq::sumRows(x, out, rows, cols);
    return undefinedValue(env);
  });
}

// biasRelu(y, bias, rows, cols, relu): an empty bias adds none.
napi_value BiasRelu(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    napi_value argv[5];
    argsOf(env, info, 5, argv);
    const int64_t rows = integer(env, argv[2], "rows");
    const int64_t cols = integer(env, argv[3], "cols");
    float* y = floats(env, argv[0], rows * cols, "y");
    const float* bias = floats(env, argv[1], 0, "bias");
    size_t biasLength = 0;
    napi_get_typedarray_info(env, argv[1], nullptr, &biasLength, nullptr,
                             nullptr, nullptr);
    if (biasLength == 0) {
      bias = nullptr;
    } else {
      bias = floats(env, argv[1], cols, "bias");
    }
    tq::biasRelu(y, bias, rows, int(cols), boolean(env, argv[4]));
    return undefinedValue(env);
  });
}

// reluBackprop(dy, y, dx, dbias, rows, cols)
napi_value ReluBackprop(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    napi_value argv[6];
    argsOf(env, info, 6, argv);
    const int64_t rows = integer(env, argv[4], "rows");
    const int64_t cols = integer(env, argv[5], "cols");
    const float* dy = floats(env, argv[0], rows * cols, "dy");
    const float* y = floats(env, argv[1], rows * cols, "y");
    float* dx = floats(env, argv[2], rows * cols, "dx");
    float* dbias = floats(env, argv[3], cols, "dbias");
    tq::reluBackprop(dy, y, dx, dbias, rows, int(cols));
    return undefinedValue(env);
  });
}

// adamUpdate(x, g, m, v, x2, m2, v2, steps): steps is a Float32Array of
// AdamStep's six fields; all seven arrays as long as x.
napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    napi_value argv[8];
    argsOf(env, info, 8, argv);
    const float* steps = floats(env, argv[7], 6, "steps");
    size_t length = 0;
    napi_get_typedarray_info(env, argv[0], nullptr, &length, nullptr,
                             nullptr, nullptr);
    const int64_t n = int64_t(length);
    const float* x = floats(env, argv[0], n, "x");
    const float* g = floats(env, argv[1], n, "g");
    const float* m = floats(env, argv[2], n, "m");
    const float* v = floats(env, argv[3], n, "v");
    float* x2 = floats(env, argv[4], n, "x2");
    float* m2 = floats(env, argv[5], n, "m2");
    float* v2 = floats(env, argv[6], n, "v2");
    const tq::AdamStep step{steps[0], steps[1], steps[2], steps[3], steps[4],
                            steps[5]};
    tq::adamUpdate(x, g, m, v, x2, m2, v2, n, step);
    return undefinedValue(env);
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() {
    napi_value argv[1];
    argsOf(env, info, 1, argv);
    const int64_t n = integer(env, argv[0], "threads");
    if (n < 1) throw Failure{"threads must be at least 1"};
    tq::setThreads(int(n));
    return undefinedValue(env);
  });
}

napi_value Threads(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, tq::threads(), &out);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor methods[] = {
      {"matmul", nullptr, Matmul, nullptr, nullptr, nullptr, napi_default_jsproperty,
       nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default_jsproperty,
       nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr,
       nullptr, napi_default_jsproperty, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr,
       nullptr, nullptr, napi_default_jsproperty, nullptr},
      {"maxPool", nullptr, MaxPool, nullptr, nullptr, nullptr, napi_default_jsproperty,
       nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr,
       napi_default_jsproperty, nullptr},
      {"avgPoolGrad", nullptr, AvgPoolGrad, nullptr, nullptr, nullptr,
       napi_default_jsproperty, nullptr},
      {"lstmForward", nullptr, LstmForward, nullptr, nullptr, nullptr,
       napi_default_jsproperty, nullptr},
      {"lstmBackward", nullptr, LstmBackward, nullptr, nullptr, nullptr,
       napi_default_jsproperty, nullptr},
      {"sumRows", nullptr, SumRows, nullptr, nullptr, nullptr,
       napi_default_jsproperty, nullptr},
      {"biasRelu", nullptr, BiasRelu, nullptr, nullptr, nullptr,
       napi_default_jsproperty, nullptr},
      {"reluBackprop", nullptr, ReluBackprop, nullptr, nullptr, nullptr,
       napi_default_jsproperty, nullptr},
      {"adamUpdate", nullptr, AdamUpdate, nullptr, nullptr, nullptr,
       napi_default_jsproperty, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr,
       napi_default_jsproperty, nullptr},
      {"threads", nullptr, Threads, nullptr, nullptr, nullptr, napi_default_jsproperty,
       nullptr},
  };
  napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]),
                         methods);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
