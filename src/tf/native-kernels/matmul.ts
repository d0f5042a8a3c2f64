import {
  backend_util, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs'
import { nativeAddon } from './addon.ts'
import { applyEpilogue, type Epilogue } from './bias-activation.ts'
import { heapFloats, newOutput } from '../wasm-kernels/wasm-heap.ts'

/** Products of fewer rows than this stay with the kernel replaced. */
const FEW_ROWS = 8

interface MatMulAttrs {
  transposeA: boolean
  transposeB: boolean
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/**
 * The product on OpenBLAS, or undefined for what it does not take:
 * other dtypes, and batch shapes that broadcast other than one-to-many.
 */
function nativeProduct(a: TensorInfo, b: TensorInfo, attrs: MatMulAttrs,
  backend: object): TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined

  const ra = a.shape.length
  const rb = b.shape.length
  const { transposeA, transposeB } = attrs
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2]
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1]
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1]
  // Mismatched inner sizes are the replaced kernel's to report.
  const kB = transposeB ? b.shape[rb - 1] : b.shape[rb - 2]
  if (k !== kB) return undefined

  const outerA = a.shape.slice(0, -2)
  const outerB = b.shape.slice(0, -2)
  const batchA = size(outerA)
  const batchB = size(outerB)
  const outer = backend_util.assertAndGetBroadcastShape(outerA, outerB)
  const batch = size(outer)
  const oneToMany = batchA === batchB || batchA === 1 || batchB === 1
  if (!oneToMany || batch !== Math.max(batchA, batchB)) return undefined
  // A product of a few rows reads the whole weight matrix for little
  // arithmetic; XNNPACK's does that faster than OpenBLAS here (a 2048-wide
  // layer answered one row at 543 rows/s on WASM, 87 natively).
  if (batch * m < FEW_ROWS) return undefined

  const out = newOutput(backend, [...outer, m, n])
  if (batch * m * n === 0) return out
  nativeAddon().matmul(heapFloats(backend, a), heapFloats(backend, b),
    heapFloats(backend, out), batch, m, n, k, transposeA, transposeB,
    batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n)
  return out
}

/** BatchMatMul and _FusedMatMul on OpenBLAS, else the kernel replaced. */
export function matmulKernels(backendName: string,
  original: (name: string) => KernelFunc): KernelConfig[] {
  const batchMatMul: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo }
    const attrs = args.attrs as unknown as MatMulAttrs
    return nativeProduct(a, b, attrs, args.backend) ??
      original('BatchMatMul')(args)
  }

  const fusedMatMul: KernelFunc = (args) => {
    const { a, b, bias, preluActivationWeights } =
      args.inputs as Record<string, TensorInfo>
    const attrs = args.attrs as unknown as MatMulAttrs & Epilogue
    const product = nativeProduct(a, b, attrs, args.backend)
    if (!product) return original('_FusedMatMul')(args)

    return applyEpilogue(backendName, args.backend, product, {
      bias, preluActivationWeights, activation: attrs.activation,
      leakyreluAlpha: attrs.leakyreluAlpha,
    })
  }

  return [
    { kernelName: 'BatchMatMul', backendName, kernelFunc: batchMatMul },
    { kernelName: '_FusedMatMul', backendName, kernelFunc: fusedMatMul },
  ]
}
