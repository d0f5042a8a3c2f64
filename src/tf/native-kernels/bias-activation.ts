import {
  getKernel, type KernelBackend, type NamedAttrMap, type TensorInfo,
} from '@tensorflow/tfjs'
import { heapFloats } from '../wasm-kernels/wasm-heap.ts'

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
  const channels = out.shape[out.shape.length - 1]
  if (bias && size(bias.shape) === channels && bias.dtype === 'float32') {
    // One bias per output channel, the only shape layers use: a loop.
    const values = heapFloats(backend, out)
    const add = heapFloats(backend, bias)
    for (let i = 0; i < values.length; i += channels) {
      for (let c = 0; c < channels; c++) values[i + c] += add[c]
    }
  } else if (bias) {
    replace(run(backendName, 'Add', backend, { a: result, b: bias }))
  }

  const activation = epilogue.activation ?? 'linear'
  if (activation === 'linear') return result
  if (activation === 'relu') {
    const values = heapFloats(backend, result)
    for (let i = 0; i < values.length; i++) {
      if (values[i] < 0) values[i] = 0
    }
    return result
  }

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
