import { Type, type Static, type TSchema } from '@sinclair/typebox'
import {
  Activation, Initializer, Rate, Regularizer, StringEnum,
} from './vocabulary.ts'

// One schema per layer type, named and spelled as tfjs names them, with
// the options people set. Each is closed (unknown fields are an error).

const LayerName = Type.Optional(Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$',
  description: 'Unique within the model; tfjs names layers when absent.',
}))

function layer<T extends string, P extends Record<string, TSchema>>(
  type: T,
  props: P,
  description?: string,
) {
  return Type.Object({ type: Type.Literal(type), name: LayerName, ...props },
    { additionalProperties: false, description })
}

const opt = Type.Optional
const Size = (max: number) => Type.Integer({ minimum: 1, maximum: max })
const Size2 = (max: number) => Type.Union([Size(max),
  Type.Array(Size(max), { minItems: 2, maxItems: 2 })])
const Padding = StringEnum(['valid', 'same'] as const)

// activityRegularizer penalizes the layer's output, averaged over the
// batch; it becomes an activityRegularization layer after this one.
const ActivityRegularizer = opt(Regularizer)

/** What dense, convolution, recurrent and graph layers share. */
const weights = {
  activation: opt(Activation),
  useBias: opt(Type.Boolean()),
  kernelInitializer: opt(Initializer),
  biasInitializer: opt(Initializer),
  kernelRegularizer: opt(Regularizer),
  biasRegularizer: opt(Regularizer),
  activityRegularizer: ActivityRegularizer,
}

export const DenseLayer = layer('dense', {
  units: Size(65536),
  ...weights,
})

export const DropoutLayer = layer('dropout', { rate: Rate('Fraction dropped.') })
export const SpatialDropout1dLayer = layer('spatialDropout1d', {
  rate: Rate('Fraction of channels dropped.'),
})
export const ActivationLayer = layer('activation', { activation: Activation })
export const FlattenLayer = layer('flatten', {})
export const ReshapeLayer = layer('reshape', {
  targetShape: Type.Array(Size(1 << 24), { minItems: 1, maxItems: 8 }),
})

export const BatchNormalizationLayer = layer('batchNormalization', {
  momentum: opt(Type.Number({ minimum: 0, maximum: 1 })),
  epsilon: opt(Type.Number({ exclusiveMinimum: 0 })),
  center: opt(Type.Boolean()),
  scale: opt(Type.Boolean()),
})
export const LayerNormalizationLayer = layer('layerNormalization', {
  epsilon: opt(Type.Number({ exclusiveMinimum: 0 })),
  center: opt(Type.Boolean()),
  scale: opt(Type.Boolean()),
})

export const Conv1dLayer = layer('conv1d', {
  filters: Size(4096),
  kernelSize: Size(1024),
  strides: opt(Size(1024)),
  // Not causal: tfjs 4 builds it and then cannot run it.
  padding: opt(Padding),
  dilationRate: opt(Size(1024)),
  ...weights,
}, 'Input [steps, channels].')

export const Conv2dLayer = layer('conv2d', {
  filters: Size(4096),
  kernelSize: Size2(1024),
  strides: opt(Size2(1024)),
  padding: opt(Padding),
  dilationRate: opt(Size2(1024)),
  ...weights,
}, 'Input [height, width, channels].')

const pool1d = { poolSize: opt(Size(1024)), strides: opt(Size(1024)),
  padding: opt(Padding) }
const pool2d = { poolSize: opt(Size2(1024)), strides: opt(Size2(1024)),
  padding: opt(Padding) }
export const MaxPooling1dLayer = layer('maxPooling1d', pool1d)
export const AveragePooling1dLayer = layer('averagePooling1d', pool1d)
export const MaxPooling2dLayer = layer('maxPooling2d', pool2d)
export const AveragePooling2dLayer = layer('averagePooling2d', pool2d)
export const GlobalAveragePooling1dLayer = layer('globalAveragePooling1d', {})
export const GlobalMaxPooling1dLayer = layer('globalMaxPooling1d', {})
export const GlobalAveragePooling2dLayer = layer('globalAveragePooling2d', {})
export const GlobalMaxPooling2dLayer = layer('globalMaxPooling2d', {})

const recurrent = {
  units: Size(4096),
  ...weights,
  recurrentInitializer: opt(Initializer),
  recurrentRegularizer: opt(Regularizer),
  returnSequences: opt(Type.Boolean()),
  dropout: opt(Rate('Fraction of inputs dropped.')),
  recurrentDropout: opt(Rate('Fraction of recurrent state dropped.')),
}
const gated = { ...recurrent, recurrentActivation: opt(Activation) }

export const SimpleRnnLayer = layer('simpleRNN', recurrent,
  'Input [steps, features].')
export const LstmLayer = layer('lstm', gated, 'Input [steps, features].')
export const GruLayer = layer('gru', gated, 'Input [steps, features].')

const RECURRENT = [SimpleRnnLayer, LstmLayer, GruLayer]
type RecurrentSpec = Static<(typeof RECURRENT)[number]>

export const BidirectionalLayer = layer('bidirectional', {
  layer: Type.Unsafe<RecurrentSpec>({
    type: 'object',
    oneOf: RECURRENT,
    discriminator: { propertyName: 'type' },
    required: ['type'],
    description: 'The recurrent layer run both ways.',
  }),
  mergeMode: opt(StringEnum(['concat', 'sum', 'mul', 'ave'] as const)),
  activityRegularizer: ActivityRegularizer,
})

export const EmbeddingLayer = layer('embedding', {
  inputDim: Size(1_000_000),
  outputDim: Size(4096),
  embeddingsInitializer: opt(Initializer),
  embeddingsRegularizer: opt(Regularizer),
  activityRegularizer: ActivityRegularizer,
}, 'Input: token ids, whole numbers in [0, inputDim).')

export const ActivityRegularizationLayer = layer('activityRegularization', {
  l1: opt(Type.Number({ minimum: 0 })),
  l2: opt(Type.Number({ minimum: 0 })),
}, 'Passes its input on and adds an L1/L2 penalty on it to the loss.')

export const GraphConvLayer = layer('graphConv', {
  units: Size(65536),
  ...weights,
}, 'Graph convolution (Kipf and Welling) over the dataset\'s edges; ' +
  'graph datasets only. Input [nodes, features].')

/** Every layer a spec may use, in the order the docs list them. */
export const LAYERS = [
  DenseLayer, DropoutLayer, ActivationLayer, FlattenLayer, ReshapeLayer,
  BatchNormalizationLayer, LayerNormalizationLayer,
  Conv1dLayer, Conv2dLayer, MaxPooling1dLayer, MaxPooling2dLayer,
  AveragePooling1dLayer, AveragePooling2dLayer,
  GlobalAveragePooling1dLayer, GlobalAveragePooling2dLayer,
  GlobalMaxPooling1dLayer, GlobalMaxPooling2dLayer, SpatialDropout1dLayer,
  SimpleRnnLayer, LstmLayer, GruLayer, BidirectionalLayer, EmbeddingLayer,
  ActivityRegularizationLayer, GraphConvLayer,
]

export type LayerSpec = Static<(typeof LAYERS)[number]>
export type { RecurrentSpec }
