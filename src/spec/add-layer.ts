import { errors, withDetails } from '../errors.ts'
import type { tf } from '../tf/backend.ts'
import type { LayerSpec } from './layer-schemas.ts'

function shapeText(shape: tf.Shape | tf.Shape[]): string {
  return JSON.stringify(shape).replace(/null/g, 'batch')
}

/**
 * Runs `add`, which adds spec layer `i` to a model and returns its output
 * shape, and turns what tfjs throws into a 400 that names the layer and
 * the shape it was given. An output with a dimension of 0 is refused too:
 * tfjs builds it, and WASM kernels then run out of bounds on it.
 */
export function addLayer(i: number, spec: LayerSpec, given: tf.Shape,
  add: () => tf.Shape): void {
  let output: tf.Shape
  try {
    output = add()
  } catch (err) {
    const reason = (err as Error).message
    throw withDetails(new errors.SpecShapeMismatch(
      `layers[${i}] (${spec.type}) does not fit its input of shape ` +
      `${shapeText(given)}: ${reason}`),
    { path: `spec.layers[${i}]`, layer: i, type: spec.type, inputShape: given })
  }

  if (output.includes(0)) {
    throw withDetails(new errors.SpecShapeMismatch(`layers[${i}] ` +
      `(${spec.type}) turns its input of shape ${shapeText(given)} into ` +
      `${shapeText(output)}, which holds no values`),
    { path: `spec.layers[${i}]`, layer: i, type: spec.type, inputShape: given,
      outputShape: output })
  }
}
