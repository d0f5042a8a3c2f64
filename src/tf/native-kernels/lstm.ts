import * as tf from '@tensorflow/tfjs'
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs'
import { heapFloats, newOutput } from '../wasm-kernels/wasm-heap.ts'
import { nativeAddon } from './addon.ts'
import { type FastCall, speedUpLayerCall } from './layer-call.ts'

// tfjs runs an LSTM layer step by step: some forty ops a time step and
// as many for the gradient, over 28 steps of a digit about two thousand
// ops a batch, and their dispatch is most of the layer's time. Here the
// whole sequence is one kernel forward and one back (native/src/lstm.cc),
// for the LSTM layers tfjs would run the same way: tanh, a sigmoid or
// hard-sigmoid gate, no dropout, mask, initial or returned state,
// stateful or backwards run. Every other LSTM runs as tfjs runs it. The
// layer stays tfjs's own class, so a saved model loads anywhere.

const FORWARD = 'TensorqLstm'
const BACKWARD = 'TensorqLstmGrad'

/** The kernels this file adds (the WASM backend has none of its own). */
export const LSTM_KERNELS = [FORWARD, BACKWARD]

interface LstmAttrs {
  hardSigmoid: boolean
  returnSequences: boolean
}

function shapeOf(x: TensorInfo, units: number, a: LstmAttrs): Int32Array {
  const [batch, steps, features] = x.shape
  return Int32Array.of(batch, steps, features, units, a.hardSigmoid ? 1 : 0,
    a.returnSequences ? 1 : 0)
}

const forward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, kernel, recurrentKernel, bias } =
    inputs as Record<string, TensorInfo>
  const a = attrs as unknown as LstmAttrs
  const [batch, steps] = x.shape
  const units = recurrentKernel.shape[0]
  const hs = newOutput(backend, [steps, batch, units])
  const cs = newOutput(backend, [steps, batch, units])
  const zs = newOutput(backend, [steps, batch, 4 * units])
  const out = newOutput(backend, a.returnSequences
    ? [batch, steps, units] : [batch, units])

  const h = heapFloats(backend, hs)
  nativeAddon().lstmForward(heapFloats(backend, x),
    heapFloats(backend, kernel), heapFloats(backend, recurrentKernel),
    heapFloats(backend, bias), h, heapFloats(backend, cs),
    heapFloats(backend, zs), shapeOf(x, units, a))

  // hs is [steps, batch, units]; the layer answers [batch, steps, units],
  // or the last step.
  const o = heapFloats(backend, out)
  if (!a.returnSequences) {
    o.set(h.subarray((steps - 1) * batch * units))
    return [out, hs, cs, zs]
  }
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < batch; b++) {
      const from = (t * batch + b) * units
      o.set(h.subarray(from, from + units), (b * steps + t) * units)
    }
  }
  return [out, hs, cs, zs]
}

const backward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, kernel, recurrentKernel, hs, cs, zs, dy } =
    inputs as Record<string, TensorInfo>
  const a = attrs as unknown as LstmAttrs
  const units = recurrentKernel.shape[0]
  const outputs = [x, kernel, recurrentKernel].map((t) =>
    newOutput(backend, t.shape))
  outputs.push(newOutput(backend, [4 * units]))
  const [dx, dw, du, db] = outputs.map((t) => heapFloats(backend, t))
  nativeAddon().lstmBackward(heapFloats(backend, x),
    heapFloats(backend, kernel), heapFloats(backend, recurrentKernel),
    heapFloats(backend, hs), heapFloats(backend, cs),
    heapFloats(backend, zs), heapFloats(backend, dy), dx, dw, du, db,
    shapeOf(x, units, a))
  return outputs
}

/** The two kernels, for `backendName`. */
export function lstmKernels(backendName: string): KernelConfig[] {
  return [
    { kernelName: FORWARD, backendName, kernelFunc: forward },
    { kernelName: BACKWARD, backendName, kernelFunc: backward },
  ]
}

/** The whole layer as one op, with its gradient as one more. */
function lstmSequence(x: tf.Tensor, kernel: tf.Tensor,
  recurrentKernel: tf.Tensor, bias: tf.Tensor, attrs: LstmAttrs): tf.Tensor {
  const op = tf.customGrad((...args: unknown[]) => {
    const [xs, w, u, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor,
      tf.Tensor, tf.GradSaveFunc]
    const [out, hs, cs, zs] = tf.engine().runKernel(FORWARD,
      { x: xs, kernel: w, recurrentKernel: u, bias: b },
      attrs as never) as tf.Tensor[]
    save([xs, w, u, hs, cs, zs])
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sw, su, shs, scs, szs] = saved
        return tf.engine().runKernel(BACKWARD, { x: sx, kernel: sw,
          recurrentKernel: su, hs: shs, cs: scs, zs: szs,
          dy: dy as tf.Tensor }, attrs as never) as tf.Tensor[]
      },
    }
  })
  return op(x, kernel, recurrentKernel, bias) as tf.Tensor
}

// What an LSTM layer and its cell hold that decides the way it runs.
interface LstmLayer {
  cell: {
    units: number
    useBias: boolean
    dropout: number
    recurrentDropout: number
    activation: { getClassName(): string }
    recurrentActivation: { getClassName(): string }
    kernel: { read(): tf.Tensor }
    recurrentKernel: { read(): tf.Tensor }
    bias?: { read(): tf.Tensor }
  }
  returnSequences: boolean
  returnState: boolean
  goBackwards: boolean
  stateful: boolean
}

function fusable(layer: LstmLayer, inputs: tf.Tensor | tf.Tensor[],
  kwargs: Record<string, unknown> | undefined): inputs is tf.Tensor {
  const { cell } = layer
  const gates = cell.recurrentActivation.getClassName()
  return !Array.isArray(inputs) && inputs.rank === 3 &&
    inputs.dtype === 'float32' && inputs.shape.every((d) => d > 0) &&
    kwargs?.mask == null && kwargs?.initialState == null &&
    !layer.returnState && !layer.goBackwards && !layer.stateful &&
    !cell.dropout && !cell.recurrentDropout &&
    cell.activation.getClassName() === 'tanh' &&
    (gates === 'sigmoid' || gates === 'hardSigmoid') &&
    tf.getKernel(FORWARD, tf.getBackend()) !== undefined
}

/** The layer's call as one kernel each way, where that can run it. */
const asLstmSequence: FastCall<LstmLayer> = (layer, inputs, kwargs) => {
  if (!fusable(layer, inputs, kwargs)) return undefined
  const { cell } = layer
  const kernel = cell.kernel.read()
  const bias = cell.useBias && cell.bias ? cell.bias.read()
    : tf.zeros([4 * cell.units])
  return lstmSequence(inputs, kernel, cell.recurrentKernel.read(), bias, {
    hardSigmoid: cell.recurrentActivation.getClassName() === 'hardSigmoid',
    returnSequences: layer.returnSequences,
  })
}

/**
 * Makes tfjs's LSTM layers run as one kernel each way where the active
 * backend has the kernels and the layer allows it (see above).
 */
export function fuseLstmLayers(): void {
  speedUpLayerCall(tf.layers.lstm({ units: 1 }), asLstmSequence)
}
