import * as tf from '@tensorflow/tfjs'

type Inputs = tf.Tensor | tf.Tensor[]
type Kwargs = Record<string, unknown>
type Call = (inputs: Inputs, kwargs: Kwargs) => tf.Tensor | tf.Tensor[]

/**
 * A faster way to run a layer, or undefined where it does not apply and
 * the layer should run as tfjs runs it.
 */
export type FastCall<Layer> = (layer: Layer, inputs: Inputs,
  kwargs: Kwargs) => tf.Tensor | undefined

const patched = new Set<string>()

/**
 * Makes the class of `sample` (an unbuilt layer: it holds no tensors, it
 * is only a way to its class) try `fast` first each time a layer of it is
 * called. The class stays tfjs's own, so a model saved with it loads
 * anywhere. Patches each class once, however often it is called.
 */
export function speedUpLayerCall<Layer>(sample: tf.layers.Layer,
  fast: FastCall<Layer>): void {
  const name = sample.getClassName()
  if (patched.has(name)) return
  patched.add(name)

  const proto = Object.getPrototypeOf(sample) as { call: Call }
  const original = proto.call
  proto.call = function (this: Layer & tf.layers.Layer, inputs, kwargs) {
    // Subclasses that inherit call (none of tfjs's own do now) keep
    // tfjs's way.
    if (this.getClassName() !== name) {
      return original.call(this, inputs, kwargs)
    }
    return tf.tidy(() => fast(this, inputs, kwargs)) ??
      original.call(this, inputs, kwargs)
  }
}

/** The one input tensor of a layer call, as tfjs layers take it. */
export function soleInput(inputs: Inputs): tf.Tensor | undefined {
  if (!Array.isArray(inputs)) return inputs
  return inputs.length === 1 ? inputs[0] : undefined
}
