import { errors, withDetails } from '../errors.ts'
import type { tf } from '../tf/backend.ts'
import type { LayerSpec } from './layer-schemas.ts'
import { UnsupportedOption } from './make-layer.ts'

function shapeText(shape: tf.Shape | tf.Shape[]): string {
  return JSON.stringify(shape).replace(/null/g, 'batch')
}

/**
 * tfjs names each layer it builds with a process-wide counter
 * (`conv2d_Conv2D13`), which means nothing to a client and differs from
 * one request to the next: "layer conv2d_Conv2D13" becomes "the layer".
 */
export function withoutLayerIds(message: string): string {
  return message
    .replace(/\blayer [a-z][a-z0-9]*_[A-Z][A-Za-z0-9]*?\d+\b/g, 'the layer')
    .replace(/\b[a-z][a-z0-9]*_[A-Z][A-Za-z0-9]*?\d+\b/g, 'a layer')
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
    if (err instanceof UnsupportedOption) {
      throw withDetails(new errors.SpecInvalid(`spec.layers[${i}].` +
        `${err.field} ${err.message}`), { path: `spec.layers[${i}].` +
        `${err.field}`, layer: i, type: spec.type })
    }
    const reason = withoutLayerIds((err as Error).message)
    throw withDetails(new errors.SpecShapeMismatch(
      `layers[${i}] (${spec.type}) does not fit its input of shape ` +
      `${shapeText(given)}: ${reason}`),
    { path: `spec.layers[${i}]`, layer: i, type: spec.type, inputShape: given })
  }

  // tfjs checks a reshape's size only when it runs: while it builds, the
  // batch is unknown. A row must hold as many values after as before.
  const values = (shape: tf.Shape) =>
    shape.slice(1).reduce((a: number, b) => a * (b ?? 1), 1)
  if (spec.type === 'reshape' && values(given) !== values(output)) {
    throw withDetails(new errors.SpecShapeMismatch(`layers[${i}] ` +
      `(reshape) cannot turn its input of shape ${shapeText(given)} ` +
      `(${values(given)} values a row) into ${shapeText(output)} ` +
      `(${values(output)})`),
    { path: `spec.layers[${i}]`, layer: i, type: spec.type, inputShape: given,
      outputShape: output })
  }

  if (output.includes(0)) {
    throw withDetails(new errors.SpecShapeMismatch(`layers[${i}] ` +
      `(${spec.type}) turns its input of shape ${shapeText(given)} into ` +
      `${shapeText(output)}, which holds no values`),
    { path: `spec.layers[${i}]`, layer: i, type: spec.type, inputShape: given,
      outputShape: output })
  }
}
