import {
  getKernel, registerKernel, type KernelConfig, type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs'
import { heapFloats, newOutput } from './wasm-heap.ts'

/** The kernel's name; FusedAdam runs it where it is registered. */
export const ADAM_UPDATE = 'TensorqAdamUpdate'

/** A step's constants: the bias corrections are 1 − β^t for step t. */
export interface AdamUpdateAttrs {
  learningRate: number
  beta1: number
  beta2: number
  epsilon: number
  correction1: number
  correction2: number
}

// One Adam step for one variable, in one pass over its values: tfjs's
// own Adam runs some thirteen elementwise ops per variable, and at a
// training step of a few milliseconds their dispatch costs more than
// their arithmetic. The arithmetic is tfjs's, in the same order:
//
//   m' = β1·m + (1−β1)·g        v' = β2·v + (1−β2)·g²
//   x' = x − lr · (m'/c1) / (√(v'/c2) + ε)
//
// The results are new tensors (the variables then take them by assign),
// never writes into x, m or v: a clone of a variable shares its memory.

const adamUpdate: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, g, m, v } = inputs as Record<string, TensorInfo>
  const a = attrs as unknown as AdamUpdateAttrs
  const outputs = [x, m, v].map((t) => newOutput(backend, t.shape))
  const [x2, m2, v2] = outputs.map((t) => heapFloats(backend, t))
  const [xs, gs, ms, vs] = [x, g, m, v].map((t) => heapFloats(backend, t))

  const { beta1, beta2, epsilon } = a
  const rest1 = 1 - beta1
  const rest2 = 1 - beta2
  const step = -a.learningRate
  for (let i = 0; i < xs.length; i++) {
    const grad = gs[i]
    const first = beta1 * ms[i] + rest1 * grad
    const second = beta2 * vs[i] + rest2 * grad * grad
    m2[i] = first
    v2[i] = second
    x2[i] = xs[i] + step * ((first / a.correction1) /
      (Math.sqrt(second / a.correction2) + epsilon))
  }
  return outputs
}

const config: KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: 'wasm',
  kernelFunc: adamUpdate,
}

/** Registers the fused Adam step for WASM. */
export function registerAdamUpdate(): void {
  if (!getKernel(ADAM_UPDATE, 'wasm')) registerKernel(config)
}
