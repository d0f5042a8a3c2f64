import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { sizeOf } from '../../data/dataset.ts'
import { errors, withDetails } from '../../errors.ts'
import type { LoadedModel } from '../../serving/model-cache.ts'
import type { RowNames } from '../../serving/predict.ts'
import { versionsOf, type VersionWanted } from '../../serving/resolve-version.ts'
import {
  predictInstances, withModel, type ServeDeps,
} from '../../serving/serve-predict.ts'
import {
  CLASS_OUTPUT_NAME, INPUT_NAME, OUTPUT_NAME, columnsOf, refuseGraphModel,
  signatureOf, type TensorSignature,
} from '../../serving/signature.ts'
import { VERSION, type AppDeps } from '../app.ts'
import {
  HEADER_LENGTH, readBinaryRequest, writeBinaryAnswer,
} from '../binary-tensors.ts'
import { acceptAnyContentType, protocolErrorHandler } from '../error-handler.ts'
import { readiness } from './health.ts'
import { serveDeps } from './models.ts'

// The Open Inference Protocol, version 2 (KServe, Triton), over REST.
// A tensor model has one input, `input`, and one output, `output`; a
// classifier also answers `class`, the name of each row's class. A model
// trained on a table takes one input per column, named as the columns,
// or its raw rows as one `input` of shape [rows, columns].

const NUMERIC = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8',
  'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64']

/** What each integer datatype holds; 64 bits as far as JSON is exact. */
const INT_RANGES: Record<string, [number, number]> = {
  UINT8: [0, 2 ** 8 - 1],
  UINT16: [0, 2 ** 16 - 1],
  UINT32: [0, 2 ** 32 - 1],
  // Past 2^53 a JSON number, like the float32 the model takes, is not
  // exact; the values are in range all the same.
  UINT64: [0, 2 ** 64 - 1],
  INT8: [-(2 ** 7), 2 ** 7 - 1],
  INT16: [-(2 ** 15), 2 ** 15 - 1],
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  INT64: [-(2 ** 63), 2 ** 63 - 1],
}

/** The largest finite half- and single-precision values. */
const FP16_MAX = 65504
const FP32_MAX = 3.4028234663852886e38

const TensorIn = Type.Object({
  name: Type.String(),
  shape: Type.Array(Type.Integer({ minimum: 0 })),
  datatype: Type.String(),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  data: Type.Array(Type.Unknown()),
}, { additionalProperties: false })

const InferBody = Type.Object({
  id: Type.Optional(Type.String()),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  inputs: Type.Array(TensorIn, { minItems: 1 }),
  outputs: Type.Optional(Type.Array(Type.Object({
    name: Type.String(),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }))),
})

const TensorMeta = Type.Object({
  name: Type.String(),
  datatype: Type.String(),
  shape: Type.Array(Type.Integer()),
})

const ModelMeta = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String(),
  inputs: Type.Array(TensorMeta),
  outputs: Type.Array(TensorMeta),
})

const InferAnswer = Type.Object({
  model_name: Type.String(),
  model_version: Type.String(),
  id: Type.Optional(Type.String()),
  outputs: Type.Array(Type.Object({
    name: Type.String(),
    datatype: Type.String(),
    shape: Type.Array(Type.Integer()),
    data: Type.Array(Type.Unknown()),
  })),
})

const V2Error = Type.Object({ error: Type.String() })

const Name = Type.Object({ name: Type.String() })
const NameVersion = Type.Object({
  name: Type.String(),
  version: Type.String({ pattern: '^[1-9][0-9]{0,8}$' }),
})

type Tensor = typeof TensorIn.static

function bad(message: string, path: string) {
  return withDetails(new errors.RequestInvalid(message), { path })
}

/**
 * The values of `data` in row-major order: flat, or nested as the last
 * dimensions of `shape` (every list as long as its dimension, the values
 * all at one depth); undefined when it nests otherwise. Iterative: a body
 * nested thousands deep must not exhaust the stack.
 */
function flatten(data: unknown[], shape: number[]): unknown[] | undefined {
  if (!data.some(Array.isArray)) return data

  let depth = 1
  for (let v: unknown = data[0]; Array.isArray(v); v = v[0]) depth++
  const offset = shape.length - depth
  if (offset < 0) return undefined

  const out: unknown[] = []
  const stack: Array<[unknown[], number, number]> = [[data, 0, 0]]
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    const [list, i, level] = top
    if (i === 0 && list.length !== shape[offset + level]) return undefined
    if (i >= list.length) {
      stack.pop()
      continue
    }
    top[1] = i + 1
    const value = list[i]
    const leafLevel = level === depth - 1
    if (Array.isArray(value) === leafLevel) return undefined
    if (leafLevel) out.push(value)
    else stack.push([value as unknown[], 0, level + 1])
  }
  return out
}

/** A flat row as the nested arrays of `shape`. */
function nest(flat: unknown[], shape: number[]): unknown {
  if (shape.length <= 1) return flat
  const [, ...inner] = shape
  const step = flat.length / shape[0]
  return Array.from({ length: shape[0] }, (_, i) =>
    nest(flat.slice(i * step, (i + 1) * step), inner))
}

function outputShape(loaded: LoadedModel): number[] {
  return loaded.model.outputs[0].shape.slice(1) as number[]
}

/** The model's signature in v2's terms: FP32 numbers, BYTES strings. */
function signatureMeta(loaded: LoadedModel) {
  const { inputs, outputs } = signatureOf(loaded.manifest, outputShape(loaded))
  const meta = (list: TensorSignature[]) => list.map((t) => ({ name: t.name,
    datatype: t.kind === 'string' ? 'BYTES' : 'FP32', shape: t.shape }))
  return { inputs: meta(inputs), outputs: meta(outputs) }
}

/** Checks one tensor's shape against its data; returns the flat data. */
function checkedData(tensor: Tensor, at: string): unknown[] {
  const data = flatten(tensor.data, tensor.shape)
  if (!data) {
    throw bad(`${at}: data nests otherwise than its shape ` +
      `[${tensor.shape.join(', ')}]: send it flat, or as nested lists as ` +
      'long as the dimensions they stand for', `${at}.data`)
  }
  const size = tensor.shape.reduce((a, b) => a * b, 1)
  if (data.length !== size) {
    throw bad(`${at}: shape [${tensor.shape.join(', ')}] holds ${size} ` +
      `values; data has ${data.length}`, `${at}.data`)
  }
  if (tensor.datatype === 'BYTES') return data
  if (!NUMERIC.includes(tensor.datatype)) {
    throw bad(`${at}: datatype ${tensor.datatype} is not one of ` +
      `${NUMERIC.join(', ')}, BYTES`, `${at}.datatype`)
  }
  const range = INT_RANGES[tensor.datatype]
  const fits = tensor.datatype === 'BOOL'
    ? (v: unknown) => typeof v === 'boolean' || v === 0 || v === 1
    : range
      ? (v: unknown) => Number.isInteger(v) && (v as number) >= range[0] &&
        (v as number) <= range[1]
      : tensor.datatype === 'FP64'
        // 1e999 parses as Infinity.
        ? (v: unknown) => typeof v === 'number' && Number.isFinite(v)
        : (v: unknown) => typeof v === 'number' && Math.abs(v) <=
          (tensor.datatype === 'FP16' ? FP16_MAX : FP32_MAX)
  const wrong = data.findIndex((v) => !fits(v))
  if (wrong >= 0) {
    const where = `${at}.data${indexPath(wrong, tensor)}`
    throw bad(`${where} is not a valid ${tensor.datatype} value`, where)
  }
  return data.map(Number)
}

/**
 * Where value `index` (row-major) is in `data` as sent: [i] in flat data,
 * [i][j]… in data nested as the shape's last dimensions.
 */
function indexPath(index: number, tensor: Tensor): string {
  let depth = 0
  for (let v: unknown = tensor.data; Array.isArray(v); v = v[0]) depth++
  if (depth <= 1) return `[${index}]`

  const dims = tensor.shape.slice(tensor.shape.length - depth)
  const parts: number[] = []
  for (let d = dims.length - 1; d >= 0; d--) {
    parts.unshift(index % dims[d])
    index = Math.floor(index / dims[d])
  }
  return parts.map((p) => `[${p}]`).join('')
}

/** A tensor model's rows from its one input tensor. */
function tensorRows(loaded: LoadedModel, tensors: Tensor[]): unknown[][] {
  const { inputShape } = loaded.manifest
  const at = 'inputs[0]'
  const [tensor] = tensors
  if (tensors.length !== 1 || tensor.name !== INPUT_NAME) {
    throw bad(`inputs: the model takes one input, named ${INPUT_NAME}, of ` +
      `shape [-1, ${inputShape.join(', ')}]`, 'inputs')
  }
  const rowShape = tensor.shape.slice(1)
  if (rowShape.join(',') !== inputShape.join(',')) {
    throw bad(`${at}: shape [${tensor.shape.join(', ')}] does not fit the ` +
      `model's input [-1, ${inputShape.join(', ')}]`, `${at}.shape`)
  }
  const data = checkedData(tensor, at)
  const size = sizeOf(inputShape)
  return Array.from({ length: tensor.shape[0] }, (_, r) =>
    nest(data.slice(r * size, (r + 1) * size), inputShape) as unknown[])
}

/** A table model's rows: one input per column, or all of them as input. */
function tableRows(columns: string[], tensors: Tensor[]): unknown[] {
  if (tensors.length === 1 && tensors[0].name === INPUT_NAME) {
    const [tensor] = tensors
    if (tensor.shape.length !== 2 || tensor.shape[1] !== columns.length) {
      throw bad(`inputs[0]: shape must be [rows, ${columns.length}] ` +
        `(${columns.join(', ')})`, 'inputs[0].shape')
    }
    const data = checkedData(tensor, 'inputs[0]')
    return Array.from({ length: tensor.shape[0] }, (_, r) =>
      data.slice(r * columns.length, (r + 1) * columns.length))
  }

  const byName = new Map(tensors.map((t, i) => [t.name, i]))
  if (byName.size < tensors.length) {
    const twice = tensors.find((t, i) => byName.get(t.name) !== i)!
    throw bad(`inputs: ${twice.name} is given more than once`, 'inputs')
  }
  const unknown = tensors.find((t) => !columns.includes(t.name))
  if (unknown) {
    throw bad(`inputs: the model has no input ${unknown.name}; its inputs ` +
      `are its columns (${columns.join(', ')}), or all of them as one ` +
      `${INPUT_NAME} of shape [rows, ${columns.length}]`, 'inputs')
  }
  const missing = columns.filter((c) => !byName.has(c))
  if (missing.length > 0) {
    throw bad(`inputs: missing ${missing.join(', ')}`, 'inputs')
  }
  const lists = columns.map((c) => {
    const i = byName.get(c)!
    const t = tensors[i]
    if (t.shape.length > 2 || (t.shape.length === 2 && t.shape[1] !== 1)) {
      throw bad(`inputs[${i}]: a column's shape is [rows] or [rows, 1]`,
        `inputs[${i}].shape`)
    }
    return checkedData(t, `inputs[${i}]`)
  })
  const count = lists[0].length
  const uneven = lists.findIndex((l) => l.length !== count)
  if (uneven >= 0) {
    throw bad(`inputs: ${columns[uneven]} has ${lists[uneven].length} rows, ` +
      `${columns[0]} ${count}`, 'inputs')
  }
  return Array.from({ length: count }, (_, r) =>
    Object.fromEntries(columns.map((c, i) => [c, lists[i][r]])))
}

async function infer(serve: ServeDeps, deps: AppDeps, name: string,
  wanted: VersionWanted, body: typeof InferBody.static) {
  const version = await deps.resolver.resolve(name, wanted)
  return withModel(serve, name, version, async (loaded) => {
    refuseGraphModel(loaded.manifest, name, 'inputs')
    const columns = columnsOf(loaded.manifest)
    const rows = columns ? tableRows(columns, body.inputs)
      : tensorRows(loaded, body.inputs)
    if (rows.length === 0) throw bad('inputs hold no rows', 'inputs')

    // Rows are named as the request sent them: rows of the one tensor, or
    // rows across a table's column tensors.
    const names: RowNames = columns && body.inputs.length > 1
      ? { row: (i) => `row ${i} of inputs`, all: 'rows' }
      : { row: (i) => `inputs[0].data[${i}]`, all: 'rows' }
    const { predictions, classes } = await predictInstances(serve, loaded,
      rows, names)
    const all = [{ name: OUTPUT_NAME, datatype: 'FP32',
      shape: [rows.length, ...outputShape(loaded)],
      data: predictions.flat(Infinity) as unknown[] }]
    if (classes) {
      all.push({ name: CLASS_OUTPUT_NAME, datatype: 'BYTES',
        shape: [rows.length], data: classes })
    }
    const wantedNames = body.outputs?.map((o) => o.name)
    const unknown = wantedNames?.find((n) => !all.some((o) => o.name === n))
    if (unknown) {
      throw bad(`outputs: the model has no output ${unknown}; it has ` +
        all.map((o) => o.name).join(', '), 'outputs')
    }
    return {
      model_name: name,
      model_version: String(version),
      id: body.id,
      outputs: wantedNames ? all.filter((o) => wantedNames.includes(o.name))
        : all,
    }
  })
}

async function metadata(serve: ServeDeps, deps: AppDeps, name: string,
  wanted: VersionWanted | undefined) {
  const versions = await versionsOf(deps.store, name)
  const version = await deps.resolver.resolve(name, wanted ?? {})
  return withModel(serve, name, version, async (loaded) => {
    refuseGraphModel(loaded.manifest, name, 'params.name')
    return {
      name,
      versions: (wanted ? [version] : versions).map(String),
      platform: 'tensorflowjs_layers',
      ...signatureMeta(loaded),
    }
  })
}

type InferAnswer = Awaited<ReturnType<typeof infer>>

/**
 * Sends an infer answer as JSON, or in the binary extension when the
 * request asks for it (`binary_data_output`, or `binary_data` on an
 * output): FP32 outputs then follow the JSON header as raw bytes.
 */
function answer(reply: FastifyReply, body: typeof InferBody.static,
  result: InferAnswer) {
  const wanted = body.parameters?.binary_data_output === true ||
    (body.outputs ?? []).some((o) => o.parameters?.binary_data === true)
  if (!wanted) return result
  const { body: bytes, headerLength } = writeBinaryAnswer(result)
  return reply.header(HEADER_LENGTH, headerLength)
    .type('application/octet-stream').send(bytes)
}

/** The v2 routes; register them with `prefix: '/v2'`. */
export const inferenceV2Routes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> =
  async (app, { deps }) => {
    const serve = serveDeps(deps)
    // Errors as the protocol sends them: { "error": "…" }.
    app.setErrorHandler(protocolErrorHandler)
    acceptAnyContentType(app)
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' },
      (request, body, done) => {
        try {
          done(null, readBinaryRequest(body as Buffer,
            request.headers[HEADER_LENGTH]))
        } catch (err) {
          done(err as Error)
        }
      })
    // Registered under /v2: a path there that matches no route is
    // answered in the protocol's shape too.
    app.setNotFoundHandler((request, reply) => protocolErrorHandler(
      new errors.RouteNotFound(`no route ${request.method} ${request.url}`),
      request, reply))

    const doc = (summary: string) => ({ tags: ['open-inference-v2'], summary })
    const versionOf = (p: { version: string }) => ({ version: Number(p.version) })

    app.get('', { schema: { ...doc('Server metadata'),
      response: { 200: Type.Object({ name: Type.String(),
        version: Type.String(), extensions: Type.Array(Type.String()) }) } },
    }, async () => ({ name: 'tensorq', version: VERSION, extensions: [] }))

    app.get('/health/live', { schema: { ...doc('The server is live'),
      response: { 200: Type.Object({ live: Type.Boolean() }) } },
    }, async () => ({ live: true }))

    app.get('/health/ready', { schema: { ...doc('Redis and the store ' +
      'answer'), response: { 200: Type.Object({ ready: Type.Boolean() }),
      503: Type.Object({ ready: Type.Boolean() }) } },
    }, async (_request, reply) => {
      const { ok } = await readiness(deps)
      return reply.status(ok ? 200 : 503).send({ ready: ok })
    })

    app.get('/models/:name', { schema: { ...doc('Model metadata'), params: Name,
      response: { 200: ModelMeta, 404: V2Error } },
    }, async (request) => metadata(serve, deps, request.params.name, undefined))

    app.get('/models/:name/versions/:version', { schema: {
      ...doc('Model version metadata'), params: NameVersion,
      response: { 200: ModelMeta, 404: V2Error } },
    }, async (request) => metadata(serve, deps, request.params.name,
      versionOf(request.params)))

    const Ready = Type.Object({ name: Type.String(), ready: Type.Boolean() })
    app.get('/models/:name/ready', { schema: {
      ...doc('The model can answer'), params: Name,
      response: { 200: Ready, 404: V2Error } },
    }, async (request) => {
      await deps.resolver.resolve(request.params.name)
      return { name: request.params.name, ready: true }
    })

    app.get('/models/:name/versions/:version/ready', { schema: {
      ...doc('The model version can answer'), params: NameVersion,
      response: { 200: Ready, 404: V2Error } },
    }, async (request) => {
      await deps.resolver.resolve(request.params.name,
        versionOf(request.params))
      return { name: request.params.name, ready: true }
    })

    const inferResponse = { 200: InferAnswer, 400: V2Error, 404: V2Error,
      413: V2Error }
    app.post('/models/:name/infer', { schema: {
      ...doc('Inference with production, else the latest version'), params: Name,
      body: InferBody, response: inferResponse },
    }, async (request, reply) => answer(reply, request.body,
      await infer(serve, deps, request.params.name, {}, request.body)))

    app.post('/models/:name/versions/:version/infer', { schema: {
      ...doc('Inference with a version'), params: NameVersion,
      body: InferBody, response: inferResponse },
    }, async (request, reply) => answer(reply, request.body,
      await infer(serve, deps, request.params.name, versionOf(request.params),
        request.body)))
  }
