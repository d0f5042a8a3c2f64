import {
  getKernel, registerKernel, type KernelBackend, type KernelConfig,
  type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { wasmKernel } from './wasm-kernel.ts'

// Gradients of gather (embedding lookups) sum rows by index with
// UnsortedSegmentSum, which the WASM backend lacks. ScatterNd over the
// segment ids as indices sums the rows that share an id, in native code.

const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo }
  const { numSegments } = attrs as unknown as { numSegments: number }
  const reshape = wasmKernel('Reshape')
  const scatter = wasmKernel('ScatterNd')

  // x has segmentIds' shape followed by the row shape.
  const ids = segmentIds.shape.reduce((a, b) => a * b, 1)
  const row = x.shape.slice(segmentIds.shape.length)
  const indices = reshape({ inputs: { x: segmentIds }, backend,
    attrs: { shape: [ids, 1] } }) as TensorInfo
  const updates = reshape({ inputs: { x }, backend,
    attrs: { shape: [ids, ...row] } }) as TensorInfo

  const out = scatter({ inputs: { indices, updates }, backend,
    attrs: { shape: [numSegments, ...row] } }) as TensorInfo
  for (const t of [indices, updates]) (backend as KernelBackend).disposeData(t.dataId)
  return out
}

const config: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
}

/** Registers the kernel unless the WASM backend has one of its own. */
export function registerUnsortedSegmentSum(): void {
  if (!getKernel(config.kernelName, 'wasm')) registerKernel(config)
}
