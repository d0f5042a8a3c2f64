import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu'
import type { TensorInfo } from '@tensorflow/tfjs'

// Kernels receive their backend untyped (tfjs types it `{}`); on the
// native backend it is always a MathBackendCPU.

/** The Float32Array a CPU-backend tensor's values live in, not a copy. */
export function floatsOf(backend: object, t: TensorInfo): Float32Array {
  const values = (backend as MathBackendCPU).data.get(t.dataId).values
  if (!(values instanceof Float32Array)) {
    throw new Error(`expected float32 values, found ${t.dtype}`)
  }
  return values
}

/** A new float32 tensor on the CPU backend owning `values`. */
export function tensorOf(backend: object, shape: number[],
  values: Float32Array): TensorInfo {
  return (backend as MathBackendCPU).makeTensorInfo(shape, 'float32', values)
}
