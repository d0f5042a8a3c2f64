import { tf } from '../tf/backend.ts'
import type { LayerSpec, RecurrentSpec } from './layer-schemas.ts'

type Regularizer = { l1?: number; l2?: number } | undefined

function regularizer(r: Regularizer) {
  if (!r) return undefined
  return tf.regularizers.l1l2({ l1: r.l1 ?? 0, l2: r.l2 ?? 0 })
}

// The spec's fields are tfjs's own names; only regularizers need turning
// from { l1, l2 } into tfjs objects. `type` is ours, not a tfjs option.
function config<S extends { type: string }>(spec: S, inputShape?: number[]) {
  const { type: _type, ...rest } = spec as Record<string, unknown>
  const out: Record<string, unknown> = { ...rest }
  for (const [key, value] of Object.entries(rest)) {
    if (key.endsWith('Regularizer')) out[key] = regularizer(value as Regularizer)
  }
  if (inputShape) out.inputShape = inputShape
  return out as never
}

function recurrentLayer(spec: RecurrentSpec, inputShape?: number[]) {
  switch (spec.type) {
    case 'simpleRNN': return tf.layers.simpleRNN(config(spec, inputShape))
    case 'lstm': return tf.layers.lstm(config(spec, inputShape))
    case 'gru': return tf.layers.gru(config(spec, inputShape))
  }
}

/**
 * The tfjs layer a layer spec describes. `inputShape` (without the batch)
 * is given for the first layer only.
 */
export function makeLayer(spec: LayerSpec, inputShape?: number[]):
  tf.layers.Layer {
  const c = config(spec, inputShape)
  switch (spec.type) {
    case 'dense': return tf.layers.dense(c)
    case 'dropout': return tf.layers.dropout(c)
    case 'spatialDropout1d': return tf.layers.spatialDropout1d(c)
    case 'activation': return tf.layers.activation(c)
    case 'flatten': return tf.layers.flatten(c)
    case 'reshape': return tf.layers.reshape(c)
    case 'batchNormalization': return tf.layers.batchNormalization(c)
    case 'layerNormalization': return tf.layers.layerNormalization(c)
    case 'conv1d': return tf.layers.conv1d(c)
    case 'conv2d': return tf.layers.conv2d(c)
    case 'maxPooling1d': return tf.layers.maxPooling1d(c)
    case 'maxPooling2d': return tf.layers.maxPooling2d(c)
    case 'averagePooling1d': return tf.layers.averagePooling1d(c)
    case 'averagePooling2d': return tf.layers.averagePooling2d(c)
    case 'globalAveragePooling1d': return tf.layers.globalAveragePooling1d(c)
    case 'globalAveragePooling2d': return tf.layers.globalAveragePooling2d(c)
    case 'globalMaxPooling1d': return tf.layers.globalMaxPooling1d(c)
    case 'globalMaxPooling2d': return tf.layers.globalMaxPooling2d(c)
    case 'simpleRNN':
    case 'lstm':
    case 'gru':
      return recurrentLayer(spec, inputShape)
    case 'bidirectional':
      return tf.layers.bidirectional({
        layer: recurrentLayer(spec.layer) as never,
        mergeMode: spec.mergeMode,
        name: spec.name,
        inputShape,
      })
    case 'embedding': return tf.layers.embedding(c)
  }
}
