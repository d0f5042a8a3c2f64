import {
  getKernel, type KernelBackend, type KernelConfig, type KernelFunc,
  type NamedAttrMap, type TensorInfo,
} from '@tensorflow/tfjs'
import { heapFloats, newOutput } from '../wasm-kernels/wasm-heap.ts'
import { nativeAddon } from './addon.ts'

/** What tfjs's fused kernels (_FusedMatMul, FusedConv2D) add after. */
export interface Epilogue {
  bias?: TensorInfo
  activation?: string
  leakyreluAlpha?: number
  preluActivationWeights?: TensorInfo
}

// The activations a fused kernel may name, by the kernel that computes
// each; relu and linear are done in place below, without a kernel.
const ACTIVATION_KERNELS: Record<string, string> = {
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
}

const NO_BIAS = new Float32Array(0)

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

function run(backendName: string, kernel: string, backend: object,
  inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  const config = getKernel(kernel, backendName)
  if (!config) throw new Error(`backend ${backendName} has no ${kernel}`)
  return config.kernelFunc({ inputs, backend, attrs }) as TensorInfo
}

/**
 * Adds the bias and applies the activation to `out`, a tensor the caller
 * made and owns; returns the result, which may be `out` itself, changed in
 * place. Kernels of `backendName` do what is not done in place.
 */
export function applyEpilogue(backendName: string, backend: object,
  out: TensorInfo, epilogue: Epilogue): TensorInfo {
  let result = out
  const replace = (next: TensorInfo) => {
    const owner = backend as KernelBackend
    owner.disposeData(result.dataId)
    result = next
  }

  const { bias } = epilogue
  const activation = epilogue.activation ?? 'linear'
  const channels = out.shape[out.shape.length - 1]
  const perChannel = bias !== undefined && bias.dtype === 'float32' &&
    size(bias.shape) === channels
  const inPlace = activation === 'linear' || activation === 'relu'
  if (bias && !perChannel) {
    replace(run(backendName, 'Add', backend, { a: result, b: bias }))
  }
  // One bias per output channel, the only shape layers use, and a relu
  // are one pass of the addon's over the output.
  if (perChannel || activation === 'relu') {
    const values = heapFloats(backend, result)
    nativeAddon().biasRelu(values,
      perChannel ? heapFloats(backend, bias) : NO_BIAS,
      values.length / Math.max(channels, 1), channels, activation === 'relu')
  }
  if (inPlace) return result

  const kernel = ACTIVATION_KERNELS[activation]
  if (!kernel) throw new Error(`unknown fused activation '${activation}'`)
  if (activation === 'prelu') {
    const alpha = epilogue.preluActivationWeights
    if (!alpha) throw new Error('prelu needs its activation weights')
    replace(run(backendName, kernel, backend, { x: result, alpha }))
  } else {
    replace(run(backendName, kernel, backend, { x: result },
      { alpha: epilogue.leakyreluAlpha ?? 0.2 }))
  }
  return result
}

/** The kernel that takes a gradient back through a bias and relu. */
export const RELU_BACKPROP = 'TensorqReluBackprop'

/**
 * RELU_BACKPROP: from dy and the relu's output y, [dx, dbias]: dx is dy
 * where y is positive, else 0, and dbias is dx summed over all but the
 * last axis. One pass, where tfjs's own gradients take Step, Cast,
 * Multiply and Sum.
 */
export function reluBackpropKernel(backendName: string): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend }) => {
    const { dy, y } = inputs as { dy: TensorInfo; y: TensorInfo }
    const channels = y.shape[y.shape.length - 1] ?? 1
    const dx = newOutput(backend, y.shape)
    const dbias = newOutput(backend, [channels])
    const passed = heapFloats(backend, dx)
    nativeAddon().reluBackprop(heapFloats(backend, dy),
      heapFloats(backend, y), passed, heapFloats(backend, dbias),
      passed.length / Math.max(channels, 1), channels)
    return [dx, dbias]
  }
  return { kernelName: RELU_BACKPROP, backendName, kernelFunc }
}
