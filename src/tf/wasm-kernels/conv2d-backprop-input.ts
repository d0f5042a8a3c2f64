import {
  backend_util, getKernel, registerKernel, unregisterKernel,
  type KernelBackend, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { wasmKernel } from './wasm-kernel.ts'

// WASM's Conv2DBackpropInput is a scalar loop: in a CNN's training step
// it took more time than every other kernel. The input gradient is itself
// a convolution, run here on WASM's fast Conv2D: dy spread out by the
// strides (zeros between its values), padded, and convolved with the
// filter turned by 180° and its channels swapped:
//
//   dx[n, r, c, ci] = Σ_{a,b,co} dy'[n, r + pt − a, c + pl − b, co] · W[a, b, ci, co]
//
// where dy'[i·sh, j·sw] = dy[i, j] and pt, pl are the forward padding.

interface Attrs {
  strides: number | [number, number]
  pad: 'valid' | 'same' | number | unknown
  dataFormat: 'NHWC' | 'NCHW'
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
  inputShape: [number, number, number, number]
}

function supported(attrs: Attrs): boolean {
  return attrs.dataFormat !== 'NCHW' &&
    (attrs.pad === 'same' || attrs.pad === 'valid')
}

function throughConv2d(shipped: KernelFunc): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const a = attrs as unknown as Attrs
    if (!supported(a)) return shipped({ inputs, backend, attrs })
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo }
    const [n, h, w] = a.inputShape
    const [kh, kw, , co] = filter.shape as number[]
    const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides]
      : a.strides
    const info = backend_util.computeConv2DInfo(a.inputShape,
      filter.shape as [number, number, number, number], [sh, sw], 1,
      a.pad as 'same' | 'valid', a.dimRoundingMode)
    const { top, left } = info.padInfo
    const [oh, ow] = [info.outHeight, info.outWidth]

    const made: TensorInfo[] = []
    const run = (name: string, ins: Record<string, TensorInfo>,
      kernelAttrs: Record<string, unknown>) => {
      const out = wasmKernel(name)({ inputs: ins, backend,
        attrs: kernelAttrs as never }) as TensorInfo
      made.push(out)
      return out
    }
    const reshape = (x: TensorInfo, shape: number[]) =>
      run('Reshape', { x }, { shape })

    // dy spread by the strides: each value followed by sh − 1 rows and
    // sw − 1 columns of zeros, the trailing ones cut by the padding below.
    let spread = dy
    if (sh > 1 || sw > 1) {
      const grid = run('PadV2', { x: reshape(dy, [n, oh, 1, ow, 1, co]) }, {
        paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
        constantValue: 0 })
      spread = reshape(grid, [n, oh * sh, ow * sw, co])
    }
    const spreadH = (oh - 1) * sh + 1
    const spreadW = (ow - 1) * sw + 1
    const cut = spread === dy ? dy : run('Slice', { x: spread }, {
      begin: [0, 0, 0, 0], size: [n, spreadH, spreadW, co] })
    const padded = run('PadV2', { x: cut }, { paddings: [[0, 0],
      [kh - 1 - top, h + top - spreadH], [kw - 1 - left, w + left - spreadW],
      [0, 0]], constantValue: 0 })

    const turned = run('Reverse', { x: filter }, { dims: [0, 1] })
    const swapped = run('Transpose', { x: turned }, { perm: [0, 1, 3, 2] })
    const dx = wasmKernel('Conv2D')({ inputs: { x: padded, filter: swapped },
      backend, attrs: { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC',
        dilations: [1, 1] } as never }) as TensorInfo
    for (const t of made) (backend as KernelBackend).disposeData(t.dataId)
    return dx
  }
}

let registered = false

/** Replaces WASM's Conv2DBackpropInput by one built on its Conv2D. */
export function registerConv2dBackpropInput(): void {
  if (registered) return
  registered = true
  const kernel = getKernel('Conv2DBackpropInput', 'wasm')
  if (!kernel) return
  unregisterKernel('Conv2DBackpropInput', 'wasm')
  registerKernel({ ...kernel, kernelFunc: throughConv2d(kernel.kernelFunc) })
}
