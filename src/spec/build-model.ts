import { errors, withDetails } from '../errors.ts'
import { tf } from '../tf/backend.ts'
import type { LayerSpec, ModelSpec } from './schema.ts'

type Regularizer = { l1?: number; l2?: number } | undefined

function regularizer(r: Regularizer) {
  if (!r) return undefined
  return tf.regularizers.l1l2({ l1: r.l1 ?? 0, l2: r.l2 ?? 0 })
}

function makeLayer(spec: LayerSpec, inputShape?: number[]): tf.layers.Layer {
  const common = { name: spec.name, inputShape }

  switch (spec.type) {
    case 'dense':
      return tf.layers.dense({
        ...common,
        units: spec.units,
        activation: spec.activation,
        useBias: spec.useBias,
        kernelInitializer: spec.kernelInitializer,
        biasInitializer: spec.biasInitializer,
        kernelRegularizer: regularizer(spec.kernelRegularizer),
        biasRegularizer: regularizer(spec.biasRegularizer),
      })
    case 'dropout':
      return tf.layers.dropout({ ...common, rate: spec.rate })
    case 'activation':
      return tf.layers.activation({ ...common, activation: spec.activation })
  }
}

function shapeText(shape: tf.Shape | tf.Shape[]): string {
  return JSON.stringify(shape).replace(/null/g, 'batch')
}

/**
 * Builds the layers of `spec` on `inputShape`, one at a time, so that a
 * layer that does not fit its input is named in the error with the shape
 * it was given. The caller owns (and must dispose) the model.
 */
export function buildModel(
  spec: ModelSpec,
  inputShape: number[],
): tf.Sequential {
  const model = tf.sequential()

  spec.layers.forEach((layerSpec, i) => {
    const given = i === 0 ? [null, ...inputShape] : model.outputs[0].shape
    try {
      model.add(makeLayer(layerSpec, i === 0 ? inputShape : undefined))
    } catch (err) {
      model.dispose()
      const reason = (err as Error).message
      throw withDetails(new errors.SpecShapeMismatch(
        `layers[${i}] (${layerSpec.type}) does not fit its input of shape ` +
        `${shapeText(given)}: ${reason}`),
      { path: `spec.layers[${i}]`, layer: i, type: layerSpec.type,
        inputShape: given })
    }
  })

  return model
}

/** The optimizer a spec names, with its learning rate when given. */
export function makeOptimizer(spec: ModelSpec['optimizer']): tf.Optimizer {
  const lr = spec.learningRate
  switch (spec.type) {
    case 'sgd': return tf.train.sgd(lr ?? 0.01)
    case 'adam': return tf.train.adam(lr ?? 0.001)
    case 'rmsprop': return tf.train.rmsprop(lr ?? 0.001)
  }
}

/** Compiles a built model with the spec's loss, optimizer and metrics. */
export function compileModel(model: tf.LayersModel, spec: ModelSpec): void {
  model.compile({
    loss: spec.loss,
    optimizer: makeOptimizer(spec.optimizer),
    metrics: spec.metrics ?? [],
  })
}
