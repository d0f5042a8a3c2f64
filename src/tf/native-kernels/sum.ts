import {
  backend_util, util, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { heapFloats, newOutput } from '../wasm-kernels/wasm-heap.ts'
import { nativeAddon } from './addon.ts'

interface SumAttrs {
  axis: number | number[]
  keepDims: boolean
}

/**
 * Sum over leading axes (a bias gradient's [0, 1, 2] of NHWC) in the
 * addon, which reads the tensor once; WASM's Sum transposes it first.
 * Other axes, and other dtypes, go to the kernel replaced.
 */
export function sumKernels(backendName: string,
  original: (name: string) => KernelFunc): KernelConfig[] {
  const sum: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo }
    const { axis, keepDims } = args.attrs as unknown as SumAttrs
    const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b)
    const leading = axes.length > 0 && axes.every((a, i) => a === i)
    if (!leading || x.dtype !== 'float32') return original('Sum')(args)

    const rows = util.sizeFromShape(x.shape.slice(0, axes.length))
    const kept = x.shape.slice(axes.length)
    const shape = keepDims
      ? backend_util.expandShapeToKeepDim(kept, axes) : kept
    const out = newOutput(args.backend, shape)
    const cols = util.sizeFromShape(kept)
    if (cols === 0) return out
    nativeAddon().sumRows(heapFloats(args.backend, x),
      heapFloats(args.backend, out), rows, cols)
    return out
  }
  return [{ kernelName: 'Sum', backendName, kernelFunc: sum }]
}
