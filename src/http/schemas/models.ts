import { Type } from '@sinclair/typebox'
import { Metrics } from './common.ts'
import { ALIAS_NAME, VERSION_NUMBER } from './patterns.ts'

export const NameParams = Type.Object({ name: Type.String() })

export const VersionSummary = Type.Object({
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  job: Type.String(),
  dataset: Type.String(),
  backend: Type.String(),
  epochs: Type.Integer(),
  metrics: Metrics,
})

/**
 * TensorFlow Serving's model status, so that its clients can read ours:
 * every stored version is AVAILABLE (loaded on first use).
 */
export const VersionStatus = Type.Array(Type.Object({
  version: Type.String(),
  state: Type.Literal('AVAILABLE'),
  status: Type.Object({
    error_code: Type.Literal('OK'),
    error_message: Type.String(),
  }),
}), { description: 'TensorFlow Serving model status, one per version.' })

export const Aliases = Type.Record(Type.String(), Type.Integer(), {
  description: 'Aliases and the versions they point at. Predict without ' +
    'a version uses `production` when it is set, else the latest version.',
})

export const ModelSchema = Type.Object({
  name: Type.String(),
  latest: Type.Integer(),
  aliases: Aliases,
  model_version_status: VersionStatus,
  inputShape: Type.Array(Type.Integer()),
  task: Type.String(),
  classes: Type.Optional(Type.Array(Type.String())),
  graph: Type.Optional(Type.Object({ nodes: Type.Integer() }, {
    description: 'A graph model: predict takes `nodes`, not `instances`.',
  })),
  versions: Type.Array(VersionSummary),
})

export const VersionParams = Type.Object({
  name: Type.String(),
  version: Type.String({ pattern: VERSION_NUMBER }),
})

export const ManifestSchema = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  job: Type.String(),
  dataset: Type.String(),
  backend: Type.String(),
  spec: Type.Any({ description: 'The model spec, input shape included.' }),
  training: Type.Any({ description: 'The training settings, defaults in.' }),
  metrics: Metrics,
  epochs: Type.Integer(),
  inputShape: Type.Array(Type.Integer()),
  task: Type.String(),
  classes: Type.Optional(Type.Array(Type.String())),
  targetShape: Type.Optional(Type.Array(Type.Integer())),
  featureNames: Type.Optional(Type.Array(Type.String())),
  preprocessing: Type.Any({ description: 'How predict turns raw rows into ' +
    'the model\'s input (a CSV\'s per-column mean and std, category ' +
    'values), as its dataset had it; what a client that loads model.json ' +
    'itself must apply.' }),
  graph: Type.Optional(Type.Object({ nodes: Type.Integer() }, {
    description: 'Graph models: predict takes node numbers below `nodes`.',
  })),
  sizes: Type.Object({
    parameters: Type.Integer(),
    weightBytes: Type.Integer(),
  }),
  aliases: Type.Array(Type.String(), {
    description: 'The aliases that point at this version.',
  }),
  model_version_status: VersionStatus,
})

export const AliasParams = Type.Object({
  name: Type.String(),
  alias: Type.String({ pattern: ALIAS_NAME }),
})

export const AliasBody = Type.Object({
  version: Type.Integer({ minimum: 1 }),
}, { additionalProperties: false })

export const AliasResponse = Type.Object({
  name: Type.String(),
  alias: Type.String(),
  version: Type.Integer(),
})

export const ArtifactParams = Type.Object({
  name: Type.String(),
  version: Type.String({ pattern: VERSION_NUMBER }),
  file: Type.String(),
})

export const PredictQuery = Type.Object({
  version: Type.Optional(Type.String({
    pattern: VERSION_NUMBER,
    description: 'A version number.',
  })),
  alias: Type.Optional(Type.String({
    pattern: ALIAS_NAME,
    description: 'An alias; without version or alias, `production` ' +
      'when it is set, else the latest version.',
  })),
}, { additionalProperties: false })

export const PredictBody = Type.Object({
  instances: Type.Optional(Type.Array(Type.Unknown(), {
    minItems: 1,
    maxItems: 100000,
    description: 'Rows in the shape of the model input; for a model ' +
      'trained on CSV, objects keyed by column or arrays of raw values; ' +
      'for a model trained on an image zip, also { "b64": "<base64 PNG ' +
      'or JPEG>" }. Required, except for graph models.',
  })),
  nodes: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), {
    minItems: 1,
    maxItems: 1_000_000,
    description: 'Graph models only: the numbers of the nodes to predict ' +
      'for; every node when absent.',
  })),
}, { additionalProperties: false })

export const PredictResponse = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  nodes: Type.Optional(Type.Array(Type.Integer(), {
    description: 'Graph models: the node of each prediction.',
  })),
  predictions: Type.Array(Type.Array(Type.Number())),
  classes: Type.Optional(Type.Array(Type.String(), {
    description: 'The argmax class name of each prediction (classifiers).',
  })),
})
