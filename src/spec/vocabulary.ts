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

/**
 * The activations tfjs ships, spelled as tfjs spells them. Not gelu_new:
 * tfjs 4 saves it as geluNew and then cannot load the model it saved.
 */
export const ACTIVATIONS = [
  'elu', 'gelu', 'hardSigmoid', 'linear', 'mish', 'relu',
  'relu6', 'selu', 'sigmoid', 'softmax', 'softplus', 'softsign', 'swish',
  'tanh',
] as const

/** Losses that compare class scores with class labels. */
export const CLASSIFICATION_LOSSES = [
  'categoricalCrossentropy', 'sparseCategoricalCrossentropy',
  'binaryCrossentropy', 'categoricalHinge', 'hinge', 'squaredHinge',
  'kullbackLeiblerDivergence',
] as const

/** Losses that compare values with values (also usable on one-hot labels). */
export const REGRESSION_LOSSES = [
  'meanSquaredError', 'meanAbsoluteError', 'meanAbsolutePercentageError',
  'meanSquaredLogarithmicError', 'logcosh', 'poisson', 'cosineProximity',
] as const

export const LOSSES = [...CLASSIFICATION_LOSSES, ...REGRESSION_LOSSES] as const

/**
 * Metrics: the names tfjs's compile() takes as strings, plus those it has
 * only as functions (mapped in build-model).
 */
export const METRICS = [
  'accuracy', 'acc', 'binaryAccuracy', 'categoricalAccuracy',
  'sparseCategoricalAccuracy', 'precision', 'recall', 'mse', 'mae', 'mape',
  'cosine', 'categoricalCrossentropy', 'sparseCategoricalCrossentropy',
] as const

export const INITIALIZERS = [
  'glorotNormal', 'glorotUniform', 'heNormal', 'heUniform', 'identity',
  'leCunNormal', 'leCunUniform', 'ones', 'orthogonal', 'randomNormal',
  'randomUniform', 'truncatedNormal', 'varianceScaling', 'zeros',
] as const

export const Activation = StringEnum(ACTIVATIONS)
export const Initializer = StringEnum(INITIALIZERS)

export const Regularizer = Type.Object({
  l1: Type.Optional(Type.Number({ minimum: 0 })),
  l2: Type.Optional(Type.Number({ minimum: 0 })),
}, {
  additionalProperties: false,
  minProperties: 1,
  description: 'L1, L2 or both (l1l2).',
})

const Rate = (description: string) => Type.Number({
  minimum: 0, exclusiveMaximum: 1, description,
})

const lr = (dflt: number) => Type.Optional(Type.Number({
  exclusiveMinimum: 0, maximum: 10, description: `Default ${dflt}.`,
}))
const positive = Type.Optional(Type.Number({ exclusiveMinimum: 0 }))
const fraction = Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 }))

function optimizer<T extends string, P extends Record<string, TSchema>>(
  type: T,
  props: P,
) {
  return Type.Object({ type: Type.Literal(type), ...props },
    { additionalProperties: false })
}

/** Each optimizer with the parameters tfjs gives it. */
export const OPTIMIZERS = [
  optimizer('sgd', { learningRate: lr(0.01) }),
  optimizer('momentum', { learningRate: lr(0.01), momentum: fraction,
    useNesterov: Type.Optional(Type.Boolean()) }),
  optimizer('adam', { learningRate: lr(0.001), beta1: fraction,
    beta2: fraction, epsilon: positive }),
  optimizer('adamax', { learningRate: lr(0.002), beta1: fraction,
    beta2: fraction, epsilon: positive, decay: fraction }),
  optimizer('adadelta', { learningRate: lr(0.001), rho: fraction,
    epsilon: positive }),
  optimizer('adagrad', { learningRate: lr(0.01),
    initialAccumulatorValue: positive }),
  optimizer('rmsprop', { learningRate: lr(0.001), decay: fraction,
    momentum: fraction, epsilon: positive,
    centered: Type.Optional(Type.Boolean()) }),
]

export type OptimizerSpec = Static<(typeof OPTIMIZERS)[number]>

/** The optimizers' names, for messages. */
export const OPTIMIZER_TYPES: readonly string[] =
  OPTIMIZERS.map((o) => o.properties.type.const as string)

export const Optimizer = Type.Unsafe<OptimizerSpec>({
  type: 'object',
  oneOf: OPTIMIZERS,
  discriminator: { propertyName: 'type' },
  required: ['type'],
})

export { Rate }
