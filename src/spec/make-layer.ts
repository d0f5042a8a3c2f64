import { tf } from '../tf/backend.ts'
import {
  ActivityRegularization, GraphConv,
} from '../tf/layers/register.ts'
import { regularizerOf, type Penalty } from '../tf/layers/weight-options.ts'
import type { LayerSpec, RecurrentSpec } from './layer-schemas.ts'

/** What a graphConv layer needs to know of its graph when it is built. */
export interface GraphSize {
  numNodes: number
  /** Edges in both directions plus one self-loop per node. */
  numEdges: number
}

// The spec's fields are tfjs's own names; only regularizers need turning
// from { l1, l2 } into tfjs objects. `type` is ours, not a tfjs option, and
// an activity regularizer is a layer of its own (see activityOf).
function config<S extends { type: string }>(spec: S, inputShape?: number[]) {
  const { type: _type, activityRegularizer: _activity, ...rest } =
    spec as Record<string, unknown>
  const out: Record<string, unknown> = { ...rest }
  for (const [key, value] of Object.entries(rest)) {
    if (key.endsWith('Regularizer')) out[key] = regularizerOf(value as Penalty)
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

function graphConv(spec: Extract<LayerSpec, { type: 'graphConv' }>,
  graph?: GraphSize): tf.layers.Layer {
  if (!graph) {
    throw new Error('graphConv needs a graph dataset (format graph), whose ' +
      'edges it convolves over')
  }
  const { type: _type, activityRegularizer: _activity, ...rest } = spec
  return new GraphConv({ ...rest, ...graph })
}

type ConvSpec = Extract<LayerSpec, { type: 'conv1d' | 'conv2d' }>

/**
 * A layer option the schema takes but tensorq cannot honour: the spec's
 * fault, named by its field, not a shape that does not fit.
 */
export class UnsupportedOption extends Error {
  constructor(readonly field: string, message: string) {
    super(message)
  }
}

// tfjs builds such a layer and fails only when it trains it, in every
// attempt of the job: it has no gradient for dilated convolutions.
function checkDilation(spec: ConvSpec): void {
  const dilated = [spec.dilationRate ?? 1].flat().some((d) => d > 1)
  if (dilated) {
    throw new UnsupportedOption('dilationRate', 'must be 1: tfjs has no ' +
      'gradient for dilated convolutions, so such a layer cannot train')
  }
}

/**
 * The tfjs layer a layer spec describes. `inputShape` (without the batch)
 * is given for the first layer of a sequential model only; `graph` is
 * given when the model trains on a graph dataset.
 */
export function makeLayer(spec: LayerSpec, inputShape?: number[],
  graph?: GraphSize): tf.layers.Layer {
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
    case 'conv1d':
      checkDilation(spec)
      return tf.layers.conv1d(c)
    case 'conv2d':
      checkDilation(spec)
      return tf.layers.conv2d(c)
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
      if (spec.layer.activityRegularizer) {
        throw new Error('put activityRegularizer on the bidirectional ' +
          'layer, not on the layer it wraps')
      }
      return tf.layers.bidirectional({
        layer: recurrentLayer(spec.layer) as never,
        mergeMode: spec.mergeMode,
        name: spec.name,
        inputShape,
      })
    case 'embedding': return tf.layers.embedding(c)
    case 'activityRegularization':
      return new ActivityRegularization({ name: spec.name, l1: spec.l1,
        l2: spec.l2, inputShape })
    case 'graphConv': return graphConv(spec, graph)
  }
}

/**
 * The layer that applies a spec's `activityRegularizer`, to go right
 * after the spec's own layer, or undefined when it has none.
 */
export function activityOf(spec: LayerSpec): tf.layers.Layer | undefined {
  const { activityRegularizer: penalty } =
    spec as { activityRegularizer?: Penalty }
  if (!penalty) return undefined
  const name = spec.name ? `${spec.name}_activity` : undefined
  return new ActivityRegularization({ name, ...penalty })
}
