import {
  backend_util, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { nativeAddon } from './addon.ts'
import { allFloat32, convShape } from './conv-shape.ts'
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

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** MaxPool and the max and average pooling gradients, in C++. */
export function poolKernels(backendName: string,
  original: (name: string) => KernelFunc): KernelConfig[] {
  const maxPool: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo }
    if (!allFloat32(x.dtype)) return original('MaxPool')(args)

    const info = infoFor(x.shape, args.attrs as unknown as PoolAttrs)
    const y = newOutput(args.backend, info.outShape)
    if (size(info.outShape) === 0) return y
    const out = heapFloats(args.backend, y)
    nativeAddon().maxPool(heapFloats(args.backend, x), out, out,
      convShape(info))
    return y
  }

  const maxPoolGrad: KernelFunc = (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo }
    if (!allFloat32(dy.dtype, input.dtype)) {
      return original('MaxPoolGrad')(args)
    }

    const info = infoFor(input.shape, args.attrs as unknown as PoolAttrs)
    const dx = newOutput(args.backend, input.shape)
    if (size(input.shape) === 0) return dx
    nativeAddon().maxPoolGrad(heapFloats(args.backend, dy),
      heapFloats(args.backend, input), heapFloats(args.backend, dx),
      convShape(info))
    return dx
  }

  const avgPoolGrad: KernelFunc = (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo }
    if (!allFloat32(dy.dtype, input.dtype)) {
      return original('AvgPoolGrad')(args)
    }

    const info = infoFor(input.shape, args.attrs as unknown as PoolAttrs)
    const dx = newOutput(args.backend, input.shape)
    if (size(input.shape) === 0) return dx
    const out = heapFloats(args.backend, dx)
    nativeAddon().avgPoolGrad(heapFloats(args.backend, dy), out, out,
      convShape(info))
    return dx
  }

  return [
    { kernelName: 'MaxPool', backendName, kernelFunc: maxPool },
    { kernelName: 'MaxPoolGrad', backendName, kernelFunc: maxPoolGrad },
    { kernelName: 'AvgPoolGrad', backendName, kernelFunc: avgPoolGrad },
  ]
}
