{
  "targets": [
    {
      "target_name": "tensorq_kernels",
      "sources": [
        "src/adam.cc",
        "src/bias-relu.cc",
        "src/addon.cc",
        "src/conv.cc",
        "src/lstm.cc",
        "src/matmul.cc",
        "src/narrow-products.cc",
        "src/pool.cc",
        "src/reduce.cc"
      ],
      "libraries": [
        "-lopenblas"
      ],
      "cflags_cc": [
        "-O3",
        "-std=c++17",
        "-fno-math-errno",
        "-Wno-psabi"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ]
    }
  ]
}