import { getKernel, type KernelFunc } from '@tensorflow/tfjs'

/** A kernel the WASM backend ships, to build missing ones from. */
export function wasmKernel(name: string): KernelFunc {
  const kernel = getKernel(name, 'wasm')
  if (!kernel) throw new Error(`the WASM backend has no ${name} kernel`)
  return kernel.kernelFunc
}
