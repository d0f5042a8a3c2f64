import {
  getKernel, registerGradient, registerKernel, unregisterKernel,
  type KernelConfig, type KernelFunc,
} from '@tensorflow/tfjs'
import { adamKernels } from './adam-update.ts'
import { nativeAddon } from './addon.ts'
import { RELU_BACKPROP, reluBackpropKernel } from './bias-activation.ts'
import {
  CONV2D_RELU, convReluGradient, convReluKernel, fuseConvReluLayers,
} from './conv-relu.ts'
import { convKernels } from './conv2d.ts'
import { fuseLstmLayers, LSTM_KERNELS, lstmKernels } from './lstm.ts'
import { matmulKernels } from './matmul.ts'
import { poolKernels } from './pool.ts'
import { sumKernels } from './sum.ts'

// The kernels run on the WASM backend, not on tfjs's CPU backend: with
// matmul and convolution native, a CPU-backend training step still spent
// most of its time in pure-JS elementwise kernels (Adam's broadcasts,
// the batch gathers), and trained the MLP at a quarter of WASM's rate.
// WASM's own elementwise kernels are compiled; only the products and
// pooling gradients, which it runs single-threaded or as scalar loops,
// are taken over here.

const BACKEND = 'wasm'

let replaced: KernelConfig[] | undefined

/**
 * The kernels the addon adds that WASM has no counterpart of. The layers
 * that use them (LSTM, Conv2D with a relu) run as tfjs runs them wherever
 * these are not registered.
 */
export const ADDED_KERNELS = [...LSTM_KERNELS, CONV2D_RELU, RELU_BACKPROP]

/**
 * Replaces the WASM backend's matmul, convolution and pooling kernels by
 * the addon's, over OpenBLAS, on WASM's own memory. Call after the WASM
 * backend and tensorq's WASM kernels are registered. Throws where the
 * addon cannot load. Returns the kernels that were replaced; the
 * kernels it adds besides are named by ADDED_KERNELS.
 */
export function registerNativeKernels(): KernelConfig[] {
  nativeAddon()
  if (replaced) return replaced

  // Where the addon does not take an input (another dtype, NCHW), the
  // kernel it replaced runs instead.
  const before = new Map<string, KernelConfig>()
  const original = (name: string): KernelFunc => {
    const kernel = before.get(name)
    if (!kernel) throw new Error(`the WASM backend has no ${name} kernel`)
    return kernel.kernelFunc
  }
  const ours = [
    ...adamKernels(BACKEND),
    ...matmulKernels(BACKEND, original),
    ...convKernels(BACKEND, original),
    ...poolKernels(BACKEND, original),
    ...sumKernels(BACKEND, original),
  ]

  for (const kernel of ours) {
    const theirs = getKernel(kernel.kernelName, BACKEND)
    if (!theirs) throw new Error(`the WASM backend has no ${kernel.kernelName}`)
    before.set(kernel.kernelName, theirs)
    // tfjs refuses to register a kernel twice under one name. WASM binds
    // its kernel to the module in setupFunc at init: kept, so that the
    // fallback finds it bound.
    unregisterKernel(kernel.kernelName, BACKEND)
    registerKernel({ ...kernel, setupFunc: theirs.setupFunc,
      disposeFunc: theirs.disposeFunc })
  }
  // Kernels WASM has no counterpart of, and the layers that use them.
  const added = [...lstmKernels(BACKEND), convReluKernel(BACKEND),
    reluBackpropKernel(BACKEND)]
  for (const kernel of added) {
    if (!getKernel(kernel.kernelName, BACKEND)) registerKernel(kernel)
  }
  registerGradient(convReluGradient)
  fuseLstmLayers()
  fuseConvReluLayers()
  replaced = [...before.values()]
  return replaced
}
