import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm'
import type { DataType, TensorInfo } from '@tensorflow/tfjs'

// Kernels written in JavaScript or in tensorq's native addon work on the
// WASM backend's own memory: every tensor there is a range of one
// WebAssembly heap, read and written through typed-array views, with no
// copies. Kernels receive the
// backend untyped (tfjs types it `{}`).
//
// Allocating a tensor can grow the heap, which detaches every view made
// before; so a kernel allocates its output first and takes views after
// (a detached view has length 0, and the addon refuses it as too short).

/** A float32 view of a WASM tensor's values, not a copy. */
export function heapFloats(backend: object, t: TensorInfo): Float32Array {
  if (t.dtype !== 'float32') {
    throw new Error(`expected float32 values, found ${t.dtype}`)
  }
  return (backend as BackendWasm).typedArrayFromHeap(t) as Float32Array
}

/** A view of a WASM tensor's values, of its dtype, not a copy. */
export function heapValues(backend: object, t: TensorInfo):
  Float32Array | Int32Array | Uint8Array {
  return (backend as BackendWasm).typedArrayFromHeap(t) as
    Float32Array | Int32Array | Uint8Array
}

/** A new tensor on the WASM heap, its values yet to be written. */
export function newOutput(backend: object, shape: number[],
  dtype: DataType = 'float32'): TensorInfo {
  return (backend as BackendWasm).makeOutput(shape, dtype)
}
