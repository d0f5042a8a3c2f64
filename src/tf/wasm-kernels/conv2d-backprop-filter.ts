import {
  backend_util, getKernel, registerKernel, type KernelBackend, type KernelConfig,
  type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { wasmKernel } from './wasm-kernel.ts'

// The WASM backend has no Conv2DBackpropFilter, so no convolution could
// train on it. (Its Conv3DBackpropFilterV2 with a depth of 1 would do for
// stride 1, but gives wrong values for larger strides.) The filter
// gradient is itself a convolution, run on WASM's fast Conv2D:
//
//   dW[a, b, ci, co] = Σ_{n,i,j} x[n, i·sh + a, j·sw + b, ci] · dy[n, i, j, co]
//
// which is Conv2D of x laid out as [ci, H, W, n] with dy as the filter
// [oh, ow, n, co], dilated by the strides, cut to the kernel size and
// transposed back to [kh, kw, ci, co].

interface Attrs {
  strides: number | [number, number]
  pad: 'valid' | 'same' | number | unknown
  dataFormat: 'NHWC' | 'NCHW'
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
  filterShape: [number, number, number, number]
}

function check(attrs: Attrs): void {
  if (attrs.dataFormat === 'NCHW') {
    throw new Error('Conv2DBackpropFilter on WASM supports NHWC only')
  }
  if (attrs.pad !== 'same' && attrs.pad !== 'valid') {
    throw new Error(`Conv2DBackpropFilter on WASM supports padding same ` +
      `or valid, not ${JSON.stringify(attrs.pad)}`)
  }
}

const conv2dBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo }
  const a = attrs as unknown as Attrs
  check(a)
  const [kh, kw, ci, co] = a.filterShape
  const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides]
    : a.strides
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], a.filterShape, [sh, sw], 1,
    a.pad as 'same' | 'valid', a.dimRoundingMode)
  const { top, bottom, left, right } = info.padInfo

  const run = (name: string, ins: Record<string, TensorInfo>,
    kernelAttrs: Record<string, unknown>) =>
    wasmKernel(name)({ inputs: ins, backend,
      attrs: kernelAttrs as never }) as TensorInfo
  const made: TensorInfo[] = []
  const keep = (t: TensorInfo) => {
    made.push(t)
    return t
  }

  const padded = top + bottom + left + right === 0 ? x
    : keep(run('PadV2', { x }, { paddings: [[0, 0], [top, bottom],
      [left, right], [0, 0]], constantValue: 0 }))
  const xT = keep(run('Transpose', { x: padded }, { perm: [3, 1, 2, 0] }))
  const dyT = keep(run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }))
  const full = keep(run('Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw],
  }))
  const cut = keep(run('Slice', { x: full }, {
    begin: [0, 0, 0, 0], size: [ci, kh, kw, co],
  }))
  const dw = run('Transpose', { x: cut }, { perm: [1, 2, 0, 3] })

  for (const t of made) (backend as KernelBackend).disposeData(t.dataId)
  return dw
}

const config: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter,
}

/** Registers the kernel unless the WASM backend has one of its own. */
export function registerConv2dBackpropFilter(): void {
  if (!getKernel(config.kernelName, 'wasm')) registerKernel(config)
}
