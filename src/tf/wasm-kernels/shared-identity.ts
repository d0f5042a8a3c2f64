import {
  getKernel, registerKernel, unregisterKernel, type KernelBackend,
  type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'

// WASM's Identity copies its input (tf.clone, and tfjs's training loop
// runs one per weight each step: 7% of an MLP step). Tensors are never
// written in place, so the copy can share the input's memory, counted
// by reference, as tfjs's CPU backend does. Strings keep WASM's kernel.

function sharedIdentity(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo }
    if (x.dtype === 'string') return original(args)
    const backend = args.backend as KernelBackend
    backend.incRef(x.dataId)
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
  }
}

let registered = false

/** Replaces WASM's Identity by one that shares its input's memory. */
export function registerSharedIdentity(): void {
  if (registered) return
  const kernel = getKernel('Identity', 'wasm')
  if (!kernel) return
  registered = true
  unregisterKernel('Identity', 'wasm')
  registerKernel({ ...kernel, kernelFunc: sharedIdentity(kernel.kernelFunc) })
}
