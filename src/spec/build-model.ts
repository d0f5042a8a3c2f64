import { errors, withDetails } from '../errors.ts'
import { tf } from '../tf/backend.ts'
import { makeLayer } from './make-layer.ts'
import type { ModelSpec } from './schema.ts'
import type { OptimizerSpec } from './vocabulary.ts'

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

/** The optimizer a spec names, with tfjs's defaults for what it leaves out. */
export function makeOptimizer(spec: OptimizerSpec): tf.Optimizer {
  const s = spec as unknown as Record<string, number | boolean | undefined>
  const n = (key: string) => s[key] as number | undefined
  switch (spec.type) {
    case 'sgd': return tf.train.sgd(n('learningRate') ?? 0.01)
    case 'momentum': return tf.train.momentum(n('learningRate') ?? 0.01,
      n('momentum') ?? 0.9, s.useNesterov as boolean | undefined)
    case 'adam': return tf.train.adam(n('learningRate') ?? 0.001,
      n('beta1'), n('beta2'), n('epsilon'))
    case 'adamax': return tf.train.adamax(n('learningRate') ?? 0.002,
      n('beta1'), n('beta2'), n('epsilon'), n('decay'))
    case 'adadelta': return tf.train.adadelta(n('learningRate') ?? 0.001,
      n('rho'), n('epsilon'))
    case 'adagrad': return tf.train.adagrad(n('learningRate') ?? 0.01,
      n('initialAccumulatorValue'))
    case 'rmsprop': return tf.train.rmsprop(n('learningRate') ?? 0.001,
      n('decay'), n('momentum'), n('epsilon'), s.centered as boolean)
  }
}

// tfjs's compile() takes most metric names as strings; these it has only
// as functions. History rows name them after the function.
type MetricFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor

const METRIC_FUNCTIONS: Record<string, MetricFn> = {
  recall: tf.metrics.recall,
  sparseCategoricalAccuracy: tf.metrics.sparseCategoricalAccuracy,
}

/** Compiles a built model with the spec's loss, optimizer and metrics. */
export function compileModel(model: tf.LayersModel, spec: ModelSpec): void {
  model.compile({
    loss: spec.loss,
    optimizer: makeOptimizer(spec.optimizer),
    metrics: (spec.metrics ?? []).map((m) => METRIC_FUNCTIONS[m] ?? m) as never,
  })
}
