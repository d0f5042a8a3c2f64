import {
  Type, type FastifyPluginAsyncTypebox, type TSchema,
} from '@fastify/type-provider-typebox'
import { errors, withDetails } from '../../errors.ts'
import type { LoadedModel } from '../../serving/model-cache.ts'
import type { RowNames } from '../../serving/predict.ts'
import type { VersionWanted } from '../../serving/resolve-version.ts'
import {
  predictInstances, withModel, type ServeDeps,
} from '../../serving/serve-predict.ts'
import {
  INPUT_NAME, OUTPUT_NAME, columnsOf, refuseGraphModel, signatureOf,
  type TensorSignature,
} from '../../serving/signature.ts'
import type { AppDeps } from '../app.ts'
import { acceptAnyContentType, protocolErrorHandler } from '../error-handler.ts'
import { serveDeps } from './models.ts'

// TensorFlow Serving's REST predict API, for clients that speak it:
//   POST /v1/models/{name}:predict
//   POST /v1/models/{name}/versions/{v}:predict
//   POST /v1/models/{name}/labels/{label}:predict   (a label is an alias)
//   GET  /v1/models/{name}[/versions/{v}|/labels/{label}]/metadata
// Its model status is GET /v1/models/{name}, which tensorq's own answer
// includes (model_version_status). The verb follows a colon in the last
// path segment, so these routes take that segment whole and split it.

const Body = Type.Object({
  signature_name: Type.Optional(Type.String()),
  instances: Type.Optional(Type.Array(Type.Unknown(), { minItems: 1,
    maxItems: 100000 })),
  inputs: Type.Optional(Type.Unknown()),
}, { additionalProperties: false })

const Answer = Type.Object({
  predictions: Type.Optional(Type.Array(Type.Unknown())),
  outputs: Type.Optional(Type.Array(Type.Unknown())),
})

const TfError = Type.Object({ error: Type.String() })

const TensorInfo = Type.Object({
  dtype: Type.String(),
  tensor_shape: Type.Object({
    dim: Type.Array(Type.Object({ size: Type.String(), name: Type.String() })),
    unknown_rank: Type.Boolean(),
  }),
  name: Type.String(),
})

const Metadata = Type.Object({
  model_spec: Type.Object({
    name: Type.String(),
    signature_name: Type.String(),
    version: Type.String(),
  }),
  metadata: Type.Object({
    signature_def: Type.Object({
      signature_def: Type.Record(Type.String(), Type.Object({
        inputs: Type.Record(Type.String(), TensorInfo),
        outputs: Type.Record(Type.String(), TensorInfo),
        method_name: Type.String(),
      })),
    }),
  }),
}, { description: 'TensorFlow Serving\'s model metadata: the one ' +
  'signature, serving_default, that :predict runs.' })

/** Tensors as a TensorFlow SignatureDef lists them, keyed by name. */
function tensorInfos(list: TensorSignature[]) {
  return Object.fromEntries(list.map((t) => [t.name, {
    dtype: t.kind === 'string' ? 'DT_STRING' : 'DT_FLOAT',
    tensor_shape: { dim: t.shape.map((size) => ({ size: String(size),
      name: '' })), unknown_rank: false },
    name: t.name,
  }]))
}

/** TensorFlow Serving's one signature here, under both its names. */
const SIGNATURES = ['', 'serving_default']

async function tfMetadata(serve: ServeDeps, deps: AppDeps, name: string,
  wanted: VersionWanted) {
  const version = await deps.resolver.resolve(name, wanted)
  return withModel(serve, name, version, async (loaded) => {
    refuseGraphModel(loaded.manifest, name, 'params.name')
    const outputShape = loaded.model.outputs[0].shape.slice(1) as number[]
    const { inputs, outputs } = signatureOf(loaded.manifest, outputShape)
    return {
      model_spec: { name, signature_name: '', version: String(version) },
      metadata: { signature_def: { signature_def: { serving_default: {
        inputs: tensorInfos(inputs),
        // :predict answers the output alone; v2's infer also the class.
        outputs: tensorInfos(outputs.filter((o) => o.name === OUTPUT_NAME)),
        method_name: 'tensorflow/serving/predict',
      } } } },
    }
  })
}

function bad(message: string, path: string) {
  return withDetails(new errors.RequestInvalid(message), { path })
}

function versionNumber(v: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(v)) {
    throw bad(`${v} is not a version number`, 'params.version')
  }
  return Number(v)
}

/** Splits `name:predict`; only predict is served. */
function verbOf(segment: string, path: string): string {
  const at = segment.lastIndexOf(':')
  const verb = at < 0 ? '' : segment.slice(at + 1)
  if (verb === 'predict') return segment.slice(0, at)
  if (verb === 'classify' || verb === 'regress') {
    throw bad(`:${verb} is not served; use :predict`, path)
  }
  throw new errors.RouteNotFound(`no route for ${segment}; TensorFlow ` +
    'Serving paths end in :predict')
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Row format: each instance is a row, or for a model with one input an
 * object naming it ({ "input": row }); a table model's instance may name
 * its columns, and an image model's may be { "b64": … }.
 */
function rowsOfInstances(loaded: LoadedModel, instances: unknown[]): unknown[] {
  const table = columnsOf(loaded.manifest) !== undefined
  return instances.map((instance, i) => {
    if (!isPlainObject(instance) || 'b64' in instance) return instance
    const keys = Object.keys(instance)
    if (keys.length === 1 && keys[0] === INPUT_NAME) return instance[INPUT_NAME]
    // A table model's columns are its named inputs.
    if (table) return instance
    throw bad(`instances[${i}]: the model has one input, named ` +
      `${INPUT_NAME}; got ${keys.join(', ') || 'no names'}`, `instances[${i}]`)
  })
}

/**
 * Columnar format: `inputs` is the batch of rows, or an object naming the
 * input ({ "input": rows }), or for a table model one list per column.
 */
function rowsOfInputs(loaded: LoadedModel, inputs: unknown): unknown[] {
  const columns = columnsOf(loaded.manifest)
  if (Array.isArray(inputs)) return inputs
  if (!isPlainObject(inputs)) {
    throw bad('inputs must be a list of rows or an object of named inputs',
      'inputs')
  }
  const value = inputs[INPUT_NAME]
  if (Object.keys(inputs).length === 1 && Array.isArray(value)) return value
  if (!columns) {
    throw bad(`inputs: the model has one input, named ${INPUT_NAME}, ` +
      'holding a list of rows', 'inputs')
  }

  const unknown = Object.keys(inputs).find((k) => !columns.includes(k))
  if (unknown !== undefined) {
    throw bad(`inputs.${unknown}: the model has no input ${unknown}; its ` +
      `inputs are its columns (${columns.join(', ')}), or all of them as ` +
      `one ${INPUT_NAME}`, `inputs.${unknown}`)
  }
  const lists = columns.map((c) => inputs[c])
  const missing = columns.filter((_, i) => !Array.isArray(lists[i]))
  if (missing.length > 0) {
    throw bad(`inputs: give every column as a list; missing ` +
      missing.join(', '), 'inputs')
  }
  const count = (lists[0] as unknown[]).length
  const uneven = columns.find((_, i) => (lists[i] as unknown[]).length !== count)
  if (uneven) {
    throw bad(`inputs.${uneven}: every column must have ${count} values`,
      `inputs.${uneven}`)
  }
  return Array.from({ length: count }, (_, r) => Object.fromEntries(
    columns.map((c, i) => [c, (lists[i] as unknown[])[r]])))
}

async function tfPredict(serve: ServeDeps, deps: AppDeps, name: string,
  wanted: VersionWanted, body: typeof Body.static) {
  if ((body.instances === undefined) === (body.inputs === undefined)) {
    throw bad('send either instances (rows) or inputs (columns)', 'body')
  }
  if (!SIGNATURES.includes(body.signature_name ?? '')) {
    throw bad(`no signature ${JSON.stringify(body.signature_name)}; ` +
      'tensorq models have one, serving_default', 'signature_name')
  }
  const version = await deps.resolver.resolve(name, wanted)
  return withModel(serve, name, version, async (loaded) => {
    refuseGraphModel(loaded.manifest, name, 'instances')
    const columnar = body.inputs !== undefined
    const rows = columnar ? rowsOfInputs(loaded, body.inputs)
      : rowsOfInstances(loaded, body.instances!)
    if (rows.length === 0) throw bad('there are no rows to predict', 'inputs')
    const names: RowNames | undefined = !columnar ? undefined
      : Array.isArray(body.inputs)
        ? { row: (i) => `inputs[${i}]`, all: 'rows of inputs' }
        : { row: (i) => `row ${i} of inputs`, all: 'rows of inputs' }
    const { predictions } = await predictInstances(serve, loaded, rows, names)
    return columnar ? { outputs: predictions } : { predictions }
  })
}

export const tfServingRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> =
  async (app, { deps }) => {
    const serve = serveDeps(deps)
    // Errors as TensorFlow Serving sends them: { "error": "…" }.
    app.setErrorHandler(protocolErrorHandler)
    acceptAnyContentType(app)

    const schema = <P extends TSchema>(summary: string, params: P) => ({
      tags: ['tensorflow-serving'],
      summary,
      params,
      body: Body,
      response: { 200: Answer, 400: TfError, 404: TfError, 413: TfError },
    })

    // The verb is checked before the body: a :classify body is no
    // predict body, and what the client needs to hear is to use :predict.
    const verbFirst = async (request: { params: unknown }) => {
      verbOf((request.params as { target: string }).target, 'params.target')
    }

    app.post('/v1/models/:target', {
      schema: schema('TensorFlow Serving predict: {name}:predict',
        Type.Object({ target: Type.String() })),
      preValidation: verbFirst,
    }, async (request) => {
      const name = verbOf(request.params.target, 'params.target')
      return tfPredict(serve, deps, name, {}, request.body)
    })

    app.post('/v1/models/:name/versions/:target', {
      schema: schema('TensorFlow Serving predict with a version: {v}:predict',
        Type.Object({ name: Type.String(), target: Type.String() })),
      preValidation: verbFirst,
    }, async (request) => {
      const v = verbOf(request.params.target, 'params.target')
      return tfPredict(serve, deps, request.params.name,
        { version: versionNumber(v) }, request.body)
    })

    app.post('/v1/models/:name/labels/:target', {
      schema: schema('TensorFlow Serving predict with a label (an alias): ' +
        '{label}:predict', Type.Object({ name: Type.String(),
        target: Type.String() })),
      preValidation: verbFirst,
    }, async (request) => {
      const alias = verbOf(request.params.target, 'params.target')
      return tfPredict(serve, deps, request.params.name, { alias },
        request.body)
    })

    const metadataSchema = <P extends TSchema>(summary: string, params: P) => ({
      tags: ['tensorflow-serving'],
      summary,
      params,
      response: { 200: Metadata, 400: TfError, 404: TfError },
    })

    app.get('/v1/models/:name/metadata', {
      schema: metadataSchema('TensorFlow Serving model metadata',
        Type.Object({ name: Type.String() })),
    }, async (request) => tfMetadata(serve, deps, request.params.name, {}))

    app.get('/v1/models/:name/versions/:version/metadata', {
      schema: metadataSchema('TensorFlow Serving metadata of a version',
        Type.Object({ name: Type.String(), version: Type.String() })),
    }, async (request) => tfMetadata(serve, deps, request.params.name,
      { version: versionNumber(request.params.version) }))

    app.get('/v1/models/:name/labels/:label/metadata', {
      schema: metadataSchema('TensorFlow Serving metadata of a label ' +
        '(an alias)', Type.Object({ name: Type.String(),
        label: Type.String() })),
    }, async (request) => tfMetadata(serve, deps, request.params.name,
      { alias: request.params.label }))
  }
