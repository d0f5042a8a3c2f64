import {
  backend_util, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { nativeAddon } from './addon.ts'
import { applyEpilogue, type Epilogue } from './bias-activation.ts'
import { allFloat32, runConvKernel } from './conv-shape.ts'

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

function forward(args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo }
  const attrs = args.attrs as unknown as ConvAttrs
  const info = infoFor(x.shape, filter.shape, attrs)
  if (!info || !allFloat32(x.dtype, filter.dtype)) return undefined

  return runConvKernel(args.backend, nativeAddon().conv2d, [x, filter],
    info.outShape, info)
}

/**
 * FusedConv2D's work, the convolution with its bias and activation, or
 * undefined where the addon does not take the input.
 */
export function fusedForward(backendName: string,
  args: Parameters<KernelFunc>[0]): TensorInfo | undefined {
  const y = forward(args)
  if (!y) return undefined
  const { bias, preluActivationWeights } =
    args.inputs as Record<string, TensorInfo>
  const attrs = args.attrs as unknown as Epilogue
  return applyEpilogue(backendName, args.backend, y, {
    bias, preluActivationWeights, activation: attrs.activation,
    leakyreluAlpha: attrs.leakyreluAlpha,
  })
}

/**
 * Conv2D, FusedConv2D and both convolution gradients on OpenBLAS (as
 * im2col products), else the kernel replaced.
 */
export function convKernels(backendName: string,
  original: (name: string) => KernelFunc): KernelConfig[] {
  const conv2d: KernelFunc = (args) =>
    forward(args) ?? original('Conv2D')(args)

  const fusedConv2d: KernelFunc = (args) =>
    fusedForward(backendName, args) ?? original('FusedConv2D')(args)

  const backpropInput: KernelFunc = (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo }
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] }
    const info = infoFor(attrs.inputShape, filter.shape, attrs)
    if (!info || !allFloat32(dy.dtype, filter.dtype)) {
      return original('Conv2DBackpropInput')(args)
    }

    return runConvKernel(args.backend, nativeAddon().conv2dBackpropInput,
      [dy, filter], attrs.inputShape, info)
  }

  const backpropFilter: KernelFunc = (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo }
    const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] }
    const info = infoFor(x.shape, attrs.filterShape, attrs)
    if (!info || !allFloat32(x.dtype, dy.dtype)) {
      return original('Conv2DBackpropFilter')(args)
    }

    return runConvKernel(args.backend, nativeAddon().conv2dBackpropFilter,
      [x, dy], attrs.filterShape, info)
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
