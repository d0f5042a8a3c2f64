import { tf } from '../tf/backend.ts'
import { buildGraphModel } from './graph-model.ts'
import { addLayer } from './add-layer.ts'
import { activityOf, makeLayer, type GraphSize } from './make-layer.ts'
import type { ModelSpec } from './schema.ts'
import type { OptimizerSpec } from './vocabulary.ts'
import { FusedAdam } from '../tf/fused-adam.ts'
import { Momentum } from '../tf/momentum.ts'

/**
 * Builds the layers of `spec` on `inputShape`, one at a time, so that a
 * layer that does not fit its input is named in the error with the shape
 * it was given. With `graph`, builds a graph model (see graph-model.ts).
 * The caller owns (and must dispose) the model.
 */
export function buildModel(
  spec: ModelSpec,
  inputShape: number[],
  graph?: GraphSize,
): tf.LayersModel {
  if (graph) return buildGraphModel(spec, inputShape, graph)

  const model = tf.sequential()
  try {
    spec.layers.forEach((layerSpec, i) => {
      const given = i === 0 ? [null, ...inputShape] : model.outputs[0].shape
      addLayer(i, layerSpec, given, () => {
        model.add(makeLayer(layerSpec, i === 0 ? inputShape : undefined))
        const activity = activityOf(layerSpec)
        if (activity) model.add(activity)
        return model.outputs[0].shape
      })
    })
  } catch (err) {
    model.dispose()
    throw err
  }
  return model
}

/** The optimizer a spec names, with tfjs's defaults for what it leaves out. */
export function makeOptimizer(spec: OptimizerSpec): tf.Optimizer {
  const s = spec as unknown as Record<string, number | boolean | undefined>
  const n = (key: string) => s[key] as number | undefined
  switch (spec.type) {
    case 'sgd': return tf.train.sgd(n('learningRate') ?? 0.01)
    case 'momentum': return new Momentum(n('learningRate') ?? 0.01,
      n('momentum') ?? 0.9, s.useNesterov as boolean | undefined)
    case 'adam': return new FusedAdam(n('learningRate') ?? 0.001,
      n('beta1') ?? 0.9, n('beta2') ?? 0.999, n('epsilon'))
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
