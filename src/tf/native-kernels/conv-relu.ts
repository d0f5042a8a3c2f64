import * as tf from '@tensorflow/tfjs'
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs'
import { RELU_BACKPROP } from './bias-activation.ts'
import { fusedForward } from './conv2d.ts'
import { type FastCall, soleInput, speedUpLayerCall } from './layer-call.ts'

// While it records gradients, tfjs runs a Conv2D layer with a relu as
// three ops, the convolution, the bias Add and the Relu, and takes their
// gradients as four more (Step, Cast, Multiply, Sum): its fused
// convolution has no gradient for an activation. Those seven elementwise
// passes took a quarter of a small CNN's training step. Here the layer is
// one kernel forward, the convolution with its bias and relu, and its
// gradient one pass through the relu and bias (RELU_BACKPROP) before the
// two convolution gradients.

/** A convolution with its bias and relu, with a gradient of its own. */
export const CONV2D_RELU = 'TensorqConv2DRelu'

interface ConvAttrs {
  strides: [number, number]
  pad: 'same' | 'valid'
  dataFormat: 'NHWC'
  dilations: [number, number]
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

/** CONV2D_RELU, run by the addon. */
export function convReluKernel(backendName: string): KernelConfig {
  return {
    kernelName: CONV2D_RELU, backendName,
    kernelFunc: (args) => {
      const attrs = { ...args.attrs, activation: 'relu' }
      const y = fusedForward(backendName, { ...args, attrs })
      // The layer sends only what the addon takes (see asConvRelu).
      if (!y) throw new Error(`${CONV2D_RELU} takes NHWC float32 only`)
      return y
    },
  }
}

/**
 * CONV2D_RELU's gradient. Each input's is computed only when asked for:
 * a first layer's input needs none.
 */
export const convReluGradient: GradConfig = {
  kernelName: CONV2D_RELU,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved
    const conv = attrs as unknown as ConvAttrs
    const [passed, biasGrad] = tf.engine().runKernel(RELU_BACKPROP,
      { dy: dy as tf.Tensor, y }, {}) as tf.Tensor[]
    return {
      x: () => tf.engine().runKernel('Conv2DBackpropInput',
        { dy: passed, filter }, { ...conv, inputShape: x.shape }) as tf.Tensor,
      filter: () => tf.engine().runKernel('Conv2DBackpropFilter',
        { x, dy: passed }, { ...conv, filterShape: filter.shape }) as tf.Tensor,
      bias: () => biasGrad,
    }
  },
}

// What a Conv2D layer holds that decides the way it runs.
interface ConvLayer {
  activation: { getClassName(): string }
  dataFormat: string
  strides: number[]
  padding: string
  dilationRate: number[]
  kernel: { read(): tf.Tensor }
  bias?: { read(): tf.Tensor } | null
}

/** The layer's call as CONV2D_RELU, where that can run it. */
const asConvRelu: FastCall<ConvLayer> = (layer, inputs) => {
  const x = soleInput(inputs)
  const fits = x !== undefined && x.rank === 4 && x.dtype === 'float32' &&
    layer.activation.getClassName() === 'relu' &&
    layer.dataFormat === 'channelsLast' &&
    (layer.padding === 'same' || layer.padding === 'valid') &&
    layer.dilationRate.every((d) => d === 1) &&
    tf.getKernel(CONV2D_RELU, tf.getBackend()) !== undefined
  if (!fits) return undefined

  const filter = layer.kernel.read()
  const tensors: tf.NamedTensorMap = layer.bias
    ? { x, filter, bias: layer.bias.read() } : { x, filter }
  const attrs: ConvAttrs = {
    strides: [layer.strides[0], layer.strides[1]],
    pad: layer.padding as ConvAttrs['pad'],
    dataFormat: 'NHWC',
    dilations: [1, 1],
  }
  return tf.engine().runKernel(CONV2D_RELU, tensors, attrs as never) as
    tf.Tensor
}

/**
 * Makes tfjs's Conv2D layers with a relu run as CONV2D_RELU where that
 * kernel is registered on the active backend, and as before elsewhere.
 */
export function fuseConvReluLayers(): void {
  speedUpLayerCall(tf.layers.conv2d({ filters: 1, kernelSize: 1 }),
    asConvRelu)
}
