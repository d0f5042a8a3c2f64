import {
  getKernel, getKernelsForBackend, registerBackend, registerKernel,
  unregisterKernel, type KernelFunc,
} from '@tensorflow/tfjs'
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu'
import { nativeAddon } from './addon.ts'
import { convKernels } from './conv2d.ts'
import { matmulKernels } from './matmul.ts'
import { poolKernels } from './pool.ts'

/** What tfjs calls the backend: tfjs's CPU backend with our kernels. */
export const NATIVE_BACKEND = 'native'

let registered = false

/**
 * Registers `native`: a second instance of tfjs's CPU backend, with every
 * CPU kernel, whose matmul, convolution and pooling kernels run in the
 * addon over OpenBLAS. `cpu` itself stays pure JS, so the two can be
 * compared in one process. Throws where the addon cannot load.
 */
export function registerNativeBackend(threads?: number): void {
  const addon = nativeAddon()
  if (threads) addon.setThreads(threads)
  if (registered) return

  registerBackend(NATIVE_BACKEND, () => new MathBackendCPU(), 0)
  for (const kernel of getKernelsForBackend('cpu')) {
    registerKernel({ ...kernel, backendName: NATIVE_BACKEND })
  }

  // Where the addon does not take an input (another dtype, NCHW), the
  // pure-JS kernel it replaced runs instead.
  const original = (name: string): KernelFunc => {
    const kernel = getKernel(name, 'cpu')
    if (!kernel) throw new Error(`the CPU backend has no ${name} kernel`)
    return kernel.kernelFunc
  }
  const ours = [
    ...matmulKernels(NATIVE_BACKEND, original),
    ...convKernels(NATIVE_BACKEND, original),
    ...poolKernels(NATIVE_BACKEND, original),
  ]
  for (const kernel of ours) {
    // tfjs refuses to register a kernel twice under one name.
    if (getKernel(kernel.kernelName, NATIVE_BACKEND)) {
      unregisterKernel(kernel.kernelName, NATIVE_BACKEND)
    }
    registerKernel(kernel)
  }
  registered = true
}
