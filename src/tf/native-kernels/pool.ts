import {
  backend_util, util, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { nativeAddon } from './addon.ts'
import { allFloat32, runConvKernel } from './conv-shape.ts'
import { heapFloats, newOutput } from '../wasm-kernels/wasm-heap.ts'

type Shape4 = [number, number, number, number]

interface PoolAttrs {
  filterSize: number | [number, number]
  strides: number | [number, number]
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

function infoFor(xShape: number[], attrs: PoolAttrs): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(xShape as Shape4, attrs.filterSize,
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode)
}

/** MaxPool and the max and average pooling gradients, in C++. */
export function poolKernels(backendName: string,
  original: (name: string) => KernelFunc): KernelConfig[] {
  const maxPool: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo }
    if (!allFloat32(x.dtype)) return original('MaxPool')(args)

    const info = infoFor(x.shape, args.attrs as unknown as PoolAttrs)
    // A 1×1 pool that keeps the shape is the identity in tfjs's own
    // kernels (a NaN stays NaN), not a maximum over one value.
    const identity = info.filterHeight === 1 && info.filterWidth === 1 &&
      util.arraysEqual(info.inShape, info.outShape)
    if (identity) {
      const out = newOutput(args.backend, x.shape)
      heapFloats(args.backend, out).set(heapFloats(args.backend, x))
      return out
    }
    return runConvKernel(args.backend, nativeAddon().maxPool, [x],
      info.outShape, info)
  }

  const maxPoolGrad: KernelFunc = (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo }
    if (!allFloat32(dy.dtype, input.dtype)) {
      return original('MaxPoolGrad')(args)
    }

    const info = infoFor(input.shape, args.attrs as unknown as PoolAttrs)
    return runConvKernel(args.backend, nativeAddon().maxPoolGrad,
      [dy, input], input.shape, info)
  }

  const avgPoolGrad: KernelFunc = (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo }
    if (!allFloat32(dy.dtype, input.dtype)) {
      return original('AvgPoolGrad')(args)
    }

    const info = infoFor(input.shape, args.attrs as unknown as PoolAttrs)
    return runConvKernel(args.backend, nativeAddon().avgPoolGrad, [dy],
      input.shape, info)
  }

  return [
    { kernelName: 'MaxPool', backendName, kernelFunc: maxPool },
    { kernelName: 'MaxPoolGrad', backendName, kernelFunc: maxPoolGrad },
    { kernelName: 'AvgPoolGrad', backendName, kernelFunc: avgPoolGrad },
  ]
}
