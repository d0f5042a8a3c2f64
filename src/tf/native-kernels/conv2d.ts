import {
  backend_util, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { nativeAddon } from './addon.ts'
import { applyEpilogue, type Epilogue } from './bias-activation.ts'
import { allFloat32, convShape } from './conv-shape.ts'
import { heapFloats, newOutput } from '../wasm-kernels/wasm-heap.ts'

type Shape4 = [number, number, number, number]
type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding
type Rounding = 'floor' | 'round' | 'ceil' | undefined

interface ConvAttrs {
  strides: number | [number, number]
  pad: Pad
  dataFormat: 'NHWC' | 'NCHW'
  dilations?: number | [number, number]
  dimRoundingMode?: Rounding
}

/** The geometry, or undefined for layouts the addon does not take. */
function infoFor(xShape: number[], filterShape: number[], attrs: ConvAttrs):
  backend_util.Conv2DInfo | undefined {
  if (attrs.dataFormat === 'NCHW') return undefined
  return backend_util.computeConv2DInfo(xShape as Shape4,
    filterShape as Shape4, attrs.strides, attrs.dilations ?? 1, attrs.pad,
    attrs.dimRoundingMode, false, 'channelsLast')
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

function forward(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo }
  const attrs = args.attrs as unknown as ConvAttrs
  const info = infoFor(x.shape, filter.shape, attrs)
  if (!info || !allFloat32(x.dtype, filter.dtype)) return undefined

  const y = newOutput(args.backend, info.outShape)
  if (size(info.outShape) === 0) return y
  nativeAddon().conv2d(heapFloats(args.backend, x),
    heapFloats(args.backend, filter), heapFloats(args.backend, y),
    convShape(info))
  return y
}

/**
 * Conv2D, FusedConv2D and both convolution gradients on OpenBLAS (as
 * im2col products), else the kernel replaced.
 */
export function convKernels(backendName: string,
  original: (name: string) => KernelFunc): KernelConfig[] {
  const conv2d: KernelFunc = (args) =>
    forward(args) ?? original('Conv2D')(args)

  const fusedConv2d: KernelFunc = (args) => {
    const y = forward(args)
    if (!y) return original('FusedConv2D')(args)
    const { bias, preluActivationWeights } =
      args.inputs as Record<string, TensorInfo>
    const attrs = args.attrs as unknown as Epilogue
    return applyEpilogue(backendName, args.backend, y, {
      bias, preluActivationWeights, activation: attrs.activation,
      leakyreluAlpha: attrs.leakyreluAlpha,
    })
  }

  const backpropInput: KernelFunc = (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo }
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] }
    const info = infoFor(attrs.inputShape, filter.shape, attrs)
    if (!info || !allFloat32(dy.dtype, filter.dtype)) {
      return original('Conv2DBackpropInput')(args)
    }

    const dx = newOutput(args.backend, attrs.inputShape)
    if (size(attrs.inputShape) === 0) return dx
    nativeAddon().conv2dBackpropInput(heapFloats(args.backend, dy),
      heapFloats(args.backend, filter), heapFloats(args.backend, dx),
      convShape(info))
    return dx
  }

  const backpropFilter: KernelFunc = (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo }
    const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] }
    const info = infoFor(x.shape, attrs.filterShape, attrs)
    if (!info || !allFloat32(x.dtype, dy.dtype)) {
      return original('Conv2DBackpropFilter')(args)
    }

    const dw = newOutput(args.backend, attrs.filterShape)
    if (size(attrs.filterShape) === 0) return dw
    nativeAddon().conv2dBackpropFilter(heapFloats(args.backend, x),
      heapFloats(args.backend, dy), heapFloats(args.backend, dw),
      convShape(info))
    return dw
  }

  return [
    { kernelName: 'Conv2D', backendName, kernelFunc: conv2d },
    { kernelName: 'FusedConv2D', backendName, kernelFunc: fusedConv2d },
    { kernelName: 'Conv2DBackpropInput', backendName,
      kernelFunc: backpropInput },
    { kernelName: 'Conv2DBackpropFilter', backendName,
      kernelFunc: backpropFilter },
  ]
}
