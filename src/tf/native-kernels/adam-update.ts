import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs'
import {
  ADAM_UPDATE, type AdamUpdateAttrs,
} from '../wasm-kernels/adam-update.ts'
import { heapFloats, newOutput } from '../wasm-kernels/wasm-heap.ts'
import { nativeAddon } from './addon.ts'

/** FusedAdam's step in the addon: the same arithmetic, vectorized. */
export function adamKernels(backendName: string): KernelConfig[] {
  const adamUpdate: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, g, m, v } = inputs as Record<string, TensorInfo>
    const a = attrs as unknown as AdamUpdateAttrs
    const outputs = [x, m, v].map((t) => newOutput(backend, t.shape))
    const steps = Float32Array.of(a.learningRate, a.beta1, a.beta2,
      a.epsilon, a.correction1, a.correction2)
    const [x2, m2, v2] = outputs.map((t) => heapFloats(backend, t))
    nativeAddon().adamUpdate(heapFloats(backend, x), heapFloats(backend, g),
      heapFloats(backend, m), heapFloats(backend, v), x2, m2, v2, steps)
    return outputs
  }
  return [{ kernelName: ADAM_UPDATE, backendName, kernelFunc: adamUpdate }]
}
