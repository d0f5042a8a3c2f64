import { registerAdamUpdate } from './adam-update.ts'
import { registerConv2dBackpropFilter } from './conv2d-backprop-filter.ts'
import { registerConv2dBackpropInput } from './conv2d-backprop-input.ts'
import { registerGatherRows } from './gather-rows.ts'
import { registerSharedIdentity } from './shared-identity.ts'
import { registerUnsortedSegmentSum } from './unsorted-segment-sum.ts'
import { registerUntransposedMatMul } from './untransposed-matmul.ts'

/**
 * Adds the kernels training needs that the WASM backend does not ship
 * (and the fused step of tensorq's Adam), and replaces the ones it ships
 * slow. Call after
 * @tensorflow/tfjs-backend-wasm is imported.
 */
export function registerWasmKernels(): void {
  registerAdamUpdate()
  registerConv2dBackpropFilter()
  registerConv2dBackpropInput()
  registerGatherRows()
  registerSharedIdentity()
  registerUnsortedSegmentSum()
  registerUntransposedMatMul()
}
