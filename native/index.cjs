// Loads the compiled addon; throws (with node-gyp's build missing or
// OpenBLAS absent) when it cannot, and tensorq then falls back to WASM.
module.exports = require('./build/Release/tensorq_kernels.node')
