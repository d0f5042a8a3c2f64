import {
  getKernel, registerKernel, unregisterKernel, type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs'
import { heapValues, newOutput } from './wasm-heap.ts'

// model.fit takes every batch out of the training tensors with a gather
// along the first axis, and embeddings look rows up the same way. WASM's
// Gather computes an index per element: 10 ms for a batch of 256 MNIST
// digits, more than the rest of an MLP's training step. Along the first
// axis a gather is a copy of whole rows, done here with TypedArray.set
// (a memcpy). Other axes, and indices out of range (which the original
// kernel reports), go to WASM's kernel.

interface GatherAttrs {
  axis: number
  batchDims: number
}

function gatherRows(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo }
    const { axis, batchDims } = args.attrs as unknown as GatherAttrs
    const firstAxis = (axis === 0 || axis === -x.shape.length) &&
      batchDims === 0 && indices.dtype === 'int32' && x.shape.length > 0
    if (!firstAxis) return original(args)

    const rows = x.shape[0]
    const ids = heapValues(args.backend, indices)
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= rows) return original(args)
    }

    const rowShape = x.shape.slice(1)
    const width = rowShape.reduce((a, b) => a * b, 1)
    const out = newOutput(args.backend, [...indices.shape, ...rowShape],
      x.dtype)
    if (ids.length * width === 0) return out

    // Views are taken after the output exists: allocating may grow the
    // heap, which detaches views made before.
    const source = heapValues(args.backend, x)
    const target = heapValues(args.backend, out)
    const index = heapValues(args.backend, indices)
    for (let i = 0; i < index.length; i++) {
      const from = index[i] * width
      target.set(source.subarray(from, from + width), i * width)
    }
    return out
  }
}

let registered = false

/** Replaces WASM's GatherV2 by one that copies whole rows. */
export function registerGatherRows(): void {
  if (registered) return
  const kernel = getKernel('GatherV2', 'wasm')
  if (!kernel) return
  registered = true
  unregisterKernel('GatherV2', 'wasm')
  registerKernel({ ...kernel, kernelFunc: gatherRows(kernel.kernelFunc) })
}
