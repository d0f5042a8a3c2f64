import { Type, type Static } from '@sinclair/typebox'

import {
  LAYERS, type LayerSpec,
} from './layer-schemas.ts'
import { LOSSES, METRICS, Optimizer, StringEnum } from './vocabulary.ts'

export { StringEnum } from './vocabulary.ts'
export type { LayerSpec } from './layer-schemas.ts'

/** The layer types a spec may use. */
export const LAYER_TYPES: readonly string[] =
  LAYERS.map((l) => l.properties.type.const as string)

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
  layers: Type.Array(Layer, { minItems: 1, maxItems: 1024 }),
  loss: StringEnum(LOSSES),
  optimizer: Optimizer,
  metrics: Type.Optional(Type.Array(StringEnum(METRICS), { maxItems: 16 })),
}, {
  additionalProperties: false,
  description: 'Close to Keras. The input shape comes from the dataset ' +
    'when `input` is absent.',
})

export type ModelSpec = Static<typeof ModelSpec>

// Fields with defaults are optional in the document (clients may leave
// them out); POST /v1/jobs fills them in (Value.Default) before anything
// else reads them.
export const TrainingSettings = Type.Object({
  epochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 10 })),
  batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536, default: 32 })),
  validationSplit: Type.Optional(Type.Number({
    minimum: 0, exclusiveMaximum: 1, default: 0,
    description: 'The fraction of rows held out to compute val_ metrics.',
  })),
  shuffle: Type.Optional(Type.Boolean({ default: true })),
  maxRuntimeSeconds: Type.Optional(Type.Integer({
    minimum: 1, maximum: 30 * 24 * 3600,
    description: 'Training stops past this many seconds and the job ends ' +
      'failed with TQ_ERR_JOB_TIMEOUT; the worker\'s MAX_JOB_SECONDS ' +
      'caps it.',
  })),
  priority: Type.Optional(Type.Integer({
    minimum: 1, maximum: 10, default: 5,
    description: 'Queue order: 1 trains first, 10 last; jobs of one ' +
      'priority in the order they came.',
  })),
  seed: Type.Optional(Type.Integer({
    minimum: 0, maximum: 2 ** 32 - 1,
    description: 'Makes initial weights, shuffling and dropout repeatable: ' +
      'the same seed, data and backend give the same weights.',
  })),
  earlyStopping: Type.Optional(Type.Object({
    monitor: Type.Optional(Type.String({ default: 'val_loss', minLength: 1 })),
    patience: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    minDelta: Type.Optional(Type.Number({ minimum: 0, default: 0 })),
    restoreBestWeights: Type.Optional(Type.Boolean({
      default: false,
      description: 'End with the weights of the best epoch, not the last.',
    })),
  }, { additionalProperties: false })),
  classWeight: Type.Optional(Type.Record(Type.String(),
    Type.Number({ exclusiveMinimum: 0 }), {
      description: 'Loss weight per class name; classes left out weigh 1.',
    })),
}, { additionalProperties: false })

type TrainingInput = Static<typeof TrainingSettings>

/** Training settings with every default filled in. */
export type TrainingSettings = Required<Omit<TrainingInput,
  'earlyStopping' | 'classWeight' | 'seed' | 'maxRuntimeSeconds'>> & {
    earlyStopping?: Required<NonNullable<TrainingInput['earlyStopping']>>
    classWeight?: Record<string, number>
    seed?: number
    maxRuntimeSeconds?: number
  }

/** Model names: also path segments, so no `/` or `:`, and not `..`. */
export const MODEL_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'

export const ModelName = Type.String({
  pattern: MODEL_NAME_PATTERN,
  description: 'Letters, digits, `.`, `_` and `-`; versions count up per name.',
})
