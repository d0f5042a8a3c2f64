import { createRequire } from 'node:module'

/** The compiled kernels of the optional package tensorq-native-kernels. */
export interface NativeAddon {
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, batch: number,
    m: number, n: number, k: number, transA: boolean, transB: boolean,
    strideA: number, strideB: number): void
  conv2d(x: Float32Array, w: Float32Array, y: Float32Array,
    shape: Int32Array): void
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array,
    shape: Int32Array): void
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array,
    shape: Int32Array): void
  maxPool(x: Float32Array, y: Float32Array, y2: Float32Array,
    shape: Int32Array): void
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array,
    shape: Int32Array): void
  avgPoolGrad(dy: Float32Array, dx: Float32Array, dx2: Float32Array,
    shape: Int32Array): void
  lstmForward(x: Float32Array, w: Float32Array, u: Float32Array,
    bias: Float32Array, hs: Float32Array, cs: Float32Array, zs: Float32Array,
    shape: Int32Array): void
  lstmBackward(x: Float32Array, w: Float32Array, u: Float32Array,
    hs: Float32Array, cs: Float32Array, zs: Float32Array, dOut: Float32Array,
    dx: Float32Array, dw: Float32Array, du: Float32Array, db: Float32Array,
    shape: Int32Array): void
  sumRows(x: Float32Array, out: Float32Array, rows: number,
    cols: number): void
  biasRelu(y: Float32Array, bias: Float32Array, rows: number, cols: number,
    relu: boolean): void
  reluBackprop(dy: Float32Array, y: Float32Array, dx: Float32Array,
    dbias: Float32Array, rows: number, cols: number): void
  adamUpdate(x: Float32Array, g: Float32Array, m: Float32Array,
    v: Float32Array, x2: Float32Array, m2: Float32Array, v2: Float32Array,
    steps: Float32Array): void
  setThreads(n: number): void
  threads(): number
}

const PACKAGE = 'tensorq-native-kernels'

let loaded: NativeAddon | undefined

/**
 * The addon, loaded once. Throws, saying why, where it was not built
 * (no compiler or no OpenBLAS at install time) or cannot load.
 */
export function nativeAddon(): NativeAddon {
  if (loaded) return loaded

  const require = createRequire(import.meta.url)
  try {
    loaded = require(PACKAGE) as NativeAddon
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new Error(`${PACKAGE} is not built or cannot load (${why}); ` +
      'it builds at npm install where g++ and libopenblas-dev are present')
  }
  return loaded
}
