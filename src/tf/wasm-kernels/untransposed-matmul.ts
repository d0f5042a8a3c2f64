import {
  getKernel, registerKernel, unregisterKernel, type KernelBackend,
  type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { wasmKernel } from './wasm-kernel.ts'

// WASM runs BatchMatMul (and _FusedMatMul) through XNNPACK only when
// neither operand is transposed; with a transpose it falls back to a
// scalar loop, an order of magnitude slower. Backpropagation transposes
// one operand of every gradient matmul, so training spent most of its
// time there. Transposing the operand explicitly (WASM's Transpose is
// fast) and calling the untransposed product is the same product.

const NAMES = ['BatchMatMul', '_FusedMatMul']

interface MatMulAttrs {
  transposeA: boolean
  transposeB: boolean
  [other: string]: unknown
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i)
  perm[rank - 2] = rank - 1
  perm[rank - 1] = rank - 2
  return perm
}

function untransposed(original: KernelFunc): KernelFunc {
  const transpose = wasmKernel('Transpose')
  return ({ inputs, backend, attrs }) => {
    const { transposeA, transposeB, ...rest } = attrs as unknown as MatMulAttrs
    if (!transposeA && !transposeB) {
      return original({ inputs, backend, attrs })
    }

    const made: TensorInfo[] = []
    const flip = (t: TensorInfo) => {
      const out = transpose({ inputs: { x: t }, backend,
        attrs: { perm: swapLastTwo(t.shape.length) } }) as TensorInfo
      made.push(out)
      return out
    }
    const { a, b, ...others } = inputs as Record<string, TensorInfo>
    try {
      return original({
        inputs: { ...others, a: transposeA ? flip(a) : a,
          b: transposeB ? flip(b) : b },
        backend,
        attrs: { ...rest, transposeA: false, transposeB: false },
      })
    } finally {
      for (const t of made) (backend as KernelBackend).disposeData(t.dataId)
    }
  }
}

let registered = false

/** Replaces WASM's matmul kernels by ones that never run transposed. */
export function registerUntransposedMatMul(): void {
  if (registered) return
  registered = true
  for (const name of NAMES) {
    const kernel = getKernel(name, 'wasm')
    if (!kernel) continue
    unregisterKernel(name, 'wasm')
    registerKernel({ ...kernel, kernelFunc: untransposed(kernel.kernelFunc) })
  }
}
