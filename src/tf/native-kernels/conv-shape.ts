import type { backend_util, TensorInfo } from '@tensorflow/tfjs'
import { heapFloats, newOutput } from '../wasm-kernels/wasm-heap.ts'

/**
 * A convolution's or pooling's geometry in the field order the addon's
 * ConvShape has (native/src/kernels.h).
 */
export function convShape(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth,
    info.padInfo.top, info.padInfo.left,
    info.dilationHeight, info.dilationWidth,
  ])
}

/** Whether every tensor is float32, the one dtype the addon takes. */
export function allFloat32(...dtypes: string[]): boolean {
  return dtypes.every((d) => d === 'float32')
}

/** An addon kernel of the convolution family: three arrays and a shape. */
export type ConvKernel = (a: Float32Array, b: Float32Array, c: Float32Array,
  shape: Int32Array) => void

/**
 * Runs `kernel` into a new float32 output of `outShape`: `inputs` take
 * the first places of the call and the output the rest (a two-array
 * kernel gets the output twice). Views are taken after the output
 * exists, since allocating may grow the heap.
 */
export function runConvKernel(backend: object, kernel: ConvKernel,
  inputs: TensorInfo[], outShape: number[],
  info: backend_util.Conv2DInfo): TensorInfo {
  const out = newOutput(backend, outShape)
  if (outShape.some((d) => d === 0)) return out
  const [a, b, c] = [...inputs, out, out].slice(0, 3)
    .map((t) => heapFloats(backend, t))
  kernel(a, b, c, convShape(info))
  return out
}
