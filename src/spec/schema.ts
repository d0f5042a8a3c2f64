import { Type, type Static, type TSchema } from '@sinclair/typebox'

/**
 * A string enum as JSON Schema `enum`, which Ajv reports in one line with
 * the allowed values (a union of literals would report every branch).
 */
export function StringEnum<T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

/** The activations tfjs ships, spelled as tfjs spells them. */
export const ACTIVATIONS = [
  'elu', 'gelu', 'gelu_new', 'hardSigmoid', 'linear', 'mish', 'relu',
  'relu6', 'selu', 'sigmoid', 'softmax', 'softplus', 'softsign', 'swish',
  'tanh',
] as const

export const LOSSES = [
  'categoricalCrossentropy', 'sparseCategoricalCrossentropy',
  'binaryCrossentropy', 'meanSquaredError',
] as const

/** The metric names tfjs's compile() takes as strings. */
export const METRICS = [
  'accuracy', 'acc', 'binaryAccuracy', 'categoricalAccuracy', 'precision',
  'mse', 'mae', 'mape',
] as const

export const OPTIMIZERS = ['sgd', 'adam', 'rmsprop'] as const

export const INITIALIZERS = [
  'glorotNormal', 'glorotUniform', 'heNormal', 'heUniform', 'leCunNormal',
  'leCunUniform', 'ones', 'zeros', 'randomNormal', 'randomUniform',
  'truncatedNormal', 'varianceScaling',
] as const

const Activation = StringEnum(ACTIVATIONS)

const Regularizer = Type.Object({
  l1: Type.Optional(Type.Number({ minimum: 0 })),
  l2: Type.Optional(Type.Number({ minimum: 0 })),
}, { additionalProperties: false, minProperties: 1 })

const LayerName = Type.Optional(Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$',
  description: 'Unique within the model; tfjs names layers when absent.',
}))

function layer<T extends string, P extends Record<string, TSchema>>(
  type: T,
  props: P,
) {
  return Type.Object({ type: Type.Literal(type), name: LayerName, ...props },
    { additionalProperties: false })
}

export const DenseLayer = layer('dense', {
  units: Type.Integer({ minimum: 1, maximum: 65536 }),
  activation: Type.Optional(Activation),
  useBias: Type.Optional(Type.Boolean()),
  kernelInitializer: Type.Optional(StringEnum(INITIALIZERS)),
  biasInitializer: Type.Optional(StringEnum(INITIALIZERS)),
  kernelRegularizer: Type.Optional(Regularizer),
  biasRegularizer: Type.Optional(Regularizer),
})

export const DropoutLayer = layer('dropout', {
  rate: Type.Number({ minimum: 0, exclusiveMaximum: 1 }),
})

export const ActivationLayer = layer('activation', {
  activation: Activation,
})

const LAYERS = [DenseLayer, DropoutLayer, ActivationLayer]

/** The layer types a spec may use. */
export const LAYER_TYPES: readonly string[] =
  LAYERS.map((l) => l.properties.type.const as string)

export type LayerSpec =
  | Static<typeof DenseLayer>
  | Static<typeof DropoutLayer>
  | Static<typeof ActivationLayer>

// oneOf with a discriminator lets Ajv pick the branch by `type` and report
// the error of that branch alone (`layers[2].units`), instead of one error
// per layer type.
const Layer = Type.Unsafe<LayerSpec>({
  type: 'object',
  oneOf: LAYERS,
  discriminator: { propertyName: 'type' },
  required: ['type'],
})

export const ModelSpec = Type.Object({
  input: Type.Optional(Type.Object({
    shape: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 8 }),
  }, { additionalProperties: false })),
  layers: Type.Array(Layer, { minItems: 1, maxItems: 256 }),
  loss: StringEnum(LOSSES),
  optimizer: Type.Object({
    type: StringEnum(OPTIMIZERS),
    learningRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10 })),
  }, { additionalProperties: false }),
  metrics: Type.Optional(Type.Array(StringEnum(METRICS), { maxItems: 16 })),
}, {
  additionalProperties: false,
  description: 'Close to Keras. The input shape comes from the dataset ' +
    'when `input` is absent.',
})

export type ModelSpec = Static<typeof ModelSpec>

// Fields with defaults are optional in the document (clients may leave
// them out) and filled in before anything else reads them.
export const TrainingSettings = Type.Object({
  epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 10 })),
  batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536, default: 32 })),
  validationSplit: Type.Optional(Type.Number({
    minimum: 0, exclusiveMaximum: 1, default: 0,
    description: 'The fraction of rows held out to compute val_ metrics.',
  })),
  shuffle: Type.Optional(Type.Boolean({ default: true })),
  earlyStopping: Type.Optional(Type.Object({
    monitor: Type.Optional(Type.String({ default: 'val_loss', minLength: 1 })),
    patience: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    minDelta: Type.Optional(Type.Number({ minimum: 0, default: 0 })),
  }, { additionalProperties: false })),
}, { additionalProperties: false })

type TrainingInput = Static<typeof TrainingSettings>

/** Training settings with every default filled in. */
export type TrainingSettings = Required<Omit<TrainingInput, 'earlyStopping'>> & {
  earlyStopping?: Required<NonNullable<TrainingInput['earlyStopping']>>
}

/** Model names: also path segments, so no `/` or `:`, and not `..`. */
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'

export const ModelName = Type.String({
  pattern: MODEL_NAME_PATTERN,
  description: 'Letters, digits, `.`, `_` and `-`; versions count up per name.',
})
