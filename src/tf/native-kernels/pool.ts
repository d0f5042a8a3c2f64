import {
  backend_util, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { nativeAddon } from './addon.ts'
import { allFloat32, convShape } from './conv-shape.ts'
import { floatsOf, tensorOf } from './cpu-data.ts'

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
    const y = new Float32Array(size(info.outShape))
    nativeAddon().maxPool(floatsOf(args.backend, x), y, y, convShape(info))
    return tensorOf(args.backend, info.outShape, y)
  }

  const maxPoolGrad: KernelFunc = (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo }
    if (!allFloat32(dy.dtype, input.dtype)) {
      return original('MaxPoolGrad')(args)
    }

    const info = infoFor(input.shape, args.attrs as unknown as PoolAttrs)
    const dx = new Float32Array(size(input.shape))
    nativeAddon().maxPoolGrad(floatsOf(args.backend, dy),
      floatsOf(args.backend, input), dx, convShape(info))
    return tensorOf(args.backend, input.shape, dx)
  }

  const avgPoolGrad: KernelFunc = (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo }
    if (!allFloat32(dy.dtype, input.dtype)) {
      return original('AvgPoolGrad')(args)
    }

    const info = infoFor(input.shape, args.attrs as unknown as PoolAttrs)
    const dx = new Float32Array(size(input.shape))
    nativeAddon().avgPoolGrad(floatsOf(args.backend, dy), dx, dx,
      convShape(info))
    return tensorOf(args.backend, input.shape, dx)
  }

  return [
    { kernelName: 'MaxPool', backendName, kernelFunc: maxPool },
    { kernelName: 'MaxPoolGrad', backendName, kernelFunc: maxPoolGrad },
    { kernelName: 'AvgPoolGrad', backendName, kernelFunc: avgPoolGrad },
  ]
}
