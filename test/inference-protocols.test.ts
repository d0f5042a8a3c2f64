import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { eventually, testEnv, useStack } from './helpers/harness.ts'

// TensorFlow Serving's REST predict and the Open Inference Protocol v2,
// sent the bodies their documents show, against a tensor model and a
// model trained on a CSV table. Both must answer what /v1 predict does.

const stack = useStack(testEnv())
const { call } = stack

const IRIS = readFileSync(new URL('./fixtures/iris.csv', import.meta.url),
  'utf8')

async function inject(method: 'GET' | 'POST', url: string, payload?: object) {
  return call(method, url, payload)
}

async function train(model: string, dataset: string, units: number,
  first: object[] = []) {
  const queued = await call('POST', '/v1/jobs', { model, dataset,
    spec: { layers: [...first, { type: 'dense', units: 8, activation: 'relu' },
      { type: 'dense', units, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs: 2, batchSize: 16 } })
  assert.equal(queued.status, 202, JSON.stringify(queued.body))
  await eventually(async () => {
    const { body } = await call('GET', `/v1/jobs/${queued.body.id}`)
    return body.state === 'completed' ? body : undefined
  }, 60_000, `${model} to train`)
}

let ready: Promise<void> | undefined
function models(): Promise<void> {
  ready ??= (async () => {
    const rows = Array.from({ length: 90 }, (_, i) =>
      ({ x: [i % 3, (i * 7) % 4, i % 5], y: `c${i % 3}` }))
    const tensor = (await call('POST', '/v1/datasets', { name: 't', rows })).body.id
    const res = await stack.api.app.inject({ method: 'POST',
      url: '/v1/datasets?name=iris&label=species',
      headers: { 'content-type': 'text/csv' }, payload: IRIS })
    assert.equal(res.statusCode, 201, res.body)
    await train('dense3', tensor, 3)
    await train('iris', res.json().id, 3)
    const grids = (await call('POST', '/v1/datasets', { name: 'g',
      rows: rows.map((r) => ({ x: [r.x, r.x.map((v) => v * 2)], y: r.y })) }))
      .body.id
    await train('grid', grids, 3, [{ type: 'flatten' }])
  })()
  return ready
}

const rows = [[1, 2, 3], [0, 1, 4]]

function close(a: number[], b: number[]) {
  assert.equal(a.length, b.length)
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6, `${v} vs ${b[i]}`))
}

test('TensorFlow Serving: row and columnar bodies, named or not', async () => {
  await models()
  const v1 = (await call('POST', '/v1/models/dense3/predict',
    { instances: rows })).body.predictions

  const row = await inject('POST', '/v1/models/dense3:predict',
    { signature_name: 'serving_default', instances: rows })
  assert.equal(row.status, 200, JSON.stringify(row.body))
  close(row.body.predictions.flat(), v1.flat())

  const named = await inject('POST', '/v1/models/dense3:predict',
    { instances: rows.map((r) => ({ input: r })) })
  close(named.body.predictions.flat(), v1.flat())

  const columnar = await inject('POST', '/v1/models/dense3/versions/1:predict',
    { inputs: rows })
  close(columnar.body.outputs.flat(), v1.flat())
  const columnarNamed = await inject('POST', '/v1/models/dense3:predict',
    { inputs: { input: rows } })
  close(columnarNamed.body.outputs.flat(), v1.flat())

  await call('PUT', '/v1/models/dense3/aliases/stable', { version: 1 })
  const label = await inject('POST', '/v1/models/dense3/labels/stable:predict',
    { instances: rows })
  close(label.body.predictions.flat(), v1.flat())

  const status = await inject('GET', '/v1/models/dense3')
  assert.deepEqual(status.body.model_version_status, [{ version: '1',
    state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }])
})

test('TensorFlow Serving: a table model by columns', async () => {
  await models()
  // What a client that loads model.json itself must apply to raw rows.
  const stored = (await inject('GET', '/v1/models/iris/versions/1')).body
  assert.equal(stored.preprocessing.kind, 'table')
  assert.equal(stored.preprocessing.features.length, 4)
  const flowers = [
    { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
    { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 },
  ]
  const v1 = (await call('POST', '/v1/models/iris/predict',
    { instances: flowers })).body.predictions
  const row = await inject('POST', '/v1/models/iris:predict',
    { instances: flowers })
  close(row.body.predictions.flat(), v1.flat())
  const columns = Object.fromEntries(Object.keys(flowers[0]).map((k) =>
    [k, flowers.map((f) => f[k as keyof typeof f])]))
  const columnar = await inject('POST', '/v1/models/iris:predict',
    { inputs: columns })
  close(columnar.body.outputs.flat(), v1.flat())
  const raw = flowers.map((f) => Object.values(f))
  const named = await inject('POST', '/v1/models/iris:predict',
    { instances: raw.map((r) => ({ input: r })) })
  close(named.body.predictions.flat(), v1.flat())
  const whole = await inject('POST', '/v1/models/iris:predict',
    { inputs: { input: raw } })
  close(whole.body.outputs.flat(), v1.flat())

  const extra = await inject('POST', '/v1/models/iris:predict',
    { inputs: { ...columns, sepal_colour: ['blue', 'red'] } })
  assert.equal(extra.status, 400)
  assert.match(extra.body.error, /inputs.sepal_colour: the model has no input/)
})

test('TensorFlow Serving: model metadata, as its GetModelMetadata answers', async () => {
  await models()
  const meta = await inject('GET', '/v1/models/dense3/metadata')
  assert.equal(meta.status, 200, JSON.stringify(meta.body))
  assert.deepEqual(meta.body.model_spec,
    { name: 'dense3', signature_name: '', version: '1' })
  const signature = meta.body.metadata.signature_def.signature_def
    .serving_default
  assert.equal(signature.method_name, 'tensorflow/serving/predict')
  assert.deepEqual(signature.inputs.input, { dtype: 'DT_FLOAT', name: 'input',
    tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '3', name: '' }],
      unknown_rank: false } })
  // What :predict answers: the output alone, no class names.
  assert.deepEqual(Object.keys(signature.outputs), ['output'])
  assert.equal(signature.outputs.output.tensor_shape.dim[1].size, '3')

  for (const url of ['/v1/models/dense3/versions/1/metadata',
    '/v1/models/dense3/labels/latest/metadata']) {
    const res = await inject('GET', url)
    assert.equal(res.status, url.includes('labels') ? 404 : 200, url)
  }
  const iris = (await inject('GET', '/v1/models/iris/metadata')).body
  assert.deepEqual(Object.keys(iris.metadata.signature_def.signature_def
    .serving_default.inputs),
  ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'])

  const missing = await inject('GET', '/v1/models/nope/metadata')
  assert.equal(missing.status, 404)
  assert.deepEqual(Object.keys(missing.body), ['error'])
  const badVersion = await inject('GET', '/v1/models/dense3/versions/x/metadata')
  assert.equal(badVersion.status, 400)
  assert.deepEqual(Object.keys(badVersion.body), ['error'])
})

test('bodies come as JSON whatever their Content-Type, as curl -d sends', async () => {
  await models()
  const v1 = (await call('POST', '/v1/models/dense3/predict',
    { instances: rows })).body.predictions
  const infer = JSON.stringify({ inputs: [{ name: 'input', shape: [2, 3],
    datatype: 'FP32', data: rows.flat() }] })
  // Those of dataset uploads too, which have parsers of their own.
  for (const type of ['application/x-www-form-urlencoded', 'text/plain',
    'text/csv', 'application/x-ndjson', 'application/zip',
    'multipart/form-data; boundary=x', undefined]) {
    const headers: Record<string, string> = type ? { 'content-type': type } : {}
    const tf = await stack.api.app.inject({ method: 'POST', headers,
      url: '/v1/models/dense3:predict', payload: JSON.stringify({ instances: rows }) })
    assert.equal(tf.statusCode, 200, `${type}: ${tf.body}`)
    close(tf.json().predictions.flat(), v1.flat())
    const v2 = await stack.api.app.inject({ method: 'POST', headers,
      url: '/v2/models/dense3/infer', payload: infer })
    assert.equal(v2.statusCode, 200, `${type}: ${v2.body}`)
    const own = await stack.api.app.inject({ method: 'POST', headers,
      url: '/v1/models/dense3/predict', payload: { instances: rows } })
    assert.equal(own.statusCode, 200, `${type}: ${own.body}`)
    close(own.json().predictions.flat(), v1.flat())
  }
  const broken = await stack.api.app.inject({ method: 'POST',
    url: '/v1/models/dense3:predict', payload: '{ "instances": [',
    headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  assert.equal(broken.statusCode, 400)
  assert.match(broken.json().error, /JSON/)
})

test('TensorFlow Serving: a signature other than serving_default is a 400', async () => {
  await models()
  for (const name of ['', 'serving_default']) {
    const res = await inject('POST', '/v1/models/dense3:predict',
      { signature_name: name, instances: rows })
    assert.equal(res.status, 200, name)
  }
  const other = await inject('POST', '/v1/models/dense3:predict',
    { signature_name: 'other', instances: rows })
  assert.equal(other.status, 400)
  assert.match(other.body.error, /no signature "other"/)
})

test('TensorFlow Serving errors are { error }', async () => {
  await models()
  const cases: Array<[string, object, number, RegExp]> = [
    ['/v1/models/nope:predict', { instances: rows }, 404, /no model nope/],
    ['/v1/models/dense3:predict', { instances: [[1, 2]] }, 400,
      /instances\[0\]/],
    ['/v1/models/dense3:predict', { instances: rows, inputs: rows }, 400,
      /either instances/],
    ['/v1/models/dense3:classify', { instances: rows }, 400, /:predict/],
    // Its own body, which is no predict body: still told to use :predict.
    ['/v1/models/dense3:regress', { examples: [{ a: 1 }] }, 400,
      /:regress is not served; use :predict/],
    ['/v1/models/dense3/versions/7:predict', { instances: rows }, 404,
      /no version 7/],
    ['/v1/models/dense3:predict', { instances: [{ x: [1, 2, 3] }] }, 400,
      /named input/],
    ['/v1/models/dense3:predict', { instancez: rows }, 400, /instancez/],
    ['/v1/models/dense3:predict', { inputs: [[1, 2]] }, 400, /^inputs\[0\]: /],
  ]
  for (const [url, body, status, message] of cases) {
    const res = await inject('POST', url, body)
    assert.equal(res.status, status, `${url} ${JSON.stringify(res.body)}`)
    assert.deepEqual(Object.keys(res.body), ['error'])
    assert.match(res.body.error, message)
  }
})

test('Open Inference Protocol v2: health, metadata, ready, infer', async () => {
  await models()
  assert.deepEqual((await inject('GET', '/v2/health/live')).body, { live: true })
  assert.deepEqual((await inject('GET', '/v2/health/ready')).body,
    { ready: true })
  assert.equal((await inject('GET', '/v2')).body.name, 'tensorq')

  const meta = (await inject('GET', '/v2/models/dense3')).body
  assert.deepEqual(meta.inputs, [{ name: 'input', datatype: 'FP32',
    shape: [-1, 3] }])
  assert.deepEqual(meta.outputs.map((o: any) => [o.name, o.shape]),
    [['output', [-1, 3]], ['class', [-1]]])
  assert.deepEqual(meta.versions, ['1'])
  assert.equal((await inject('GET', '/v2/models/dense3/versions/1')).status, 200)
  assert.deepEqual((await inject('GET', '/v2/models/dense3/ready')).body,
    { name: 'dense3', ready: true })
  assert.equal((await inject('GET', '/v2/models/dense3/versions/1/ready'))
    .status, 200)
  assert.equal((await inject('GET', '/v2/models/nope/ready')).status, 404)
  for (const url of ['/v2/models', '/v2/models/dense3/infer', '/v2/nothing']) {
    const missing = await inject('GET', url)
    assert.equal(missing.status, 404, url)
    assert.deepEqual(Object.keys(missing.body), ['error'], url)
  }

  const v1 = (await call('POST', '/v1/models/dense3/predict',
    { instances: rows })).body
  const infer = await inject('POST', '/v2/models/dense3/infer', {
    id: '42',
    inputs: [{ name: 'input', shape: [2, 3], datatype: 'FP32',
      data: rows.flat() }],
    outputs: [{ name: 'output' }],
  })
  assert.equal(infer.status, 200, JSON.stringify(infer.body))
  assert.equal(infer.body.model_name, 'dense3')
  assert.equal(infer.body.model_version, '1')
  assert.equal(infer.body.id, '42')
  assert.equal(infer.body.outputs.length, 1)
  assert.deepEqual(infer.body.outputs[0].shape, [2, 3])
  assert.equal(infer.body.outputs[0].datatype, 'FP32')
  close(infer.body.outputs[0].data, v1.predictions.flat())

  // Nested data, INT32, and every output (the class names too).
  const nested = await inject('POST', '/v2/models/dense3/versions/1/infer', {
    inputs: [{ name: 'input', shape: [2, 3], datatype: 'INT32', data: rows }],
  })
  assert.deepEqual(nested.body.outputs[1], { name: 'class', datatype: 'BYTES',
    shape: [2], data: v1.classes })
})

test('Open Inference Protocol v2: a model whose input has two dimensions', async () => {
  await models()
  const grid = [[1, 2, 3], [2, 4, 6]]
  const v1 = (await call('POST', '/v1/models/grid/predict',
    { instances: [grid] })).body.predictions
  for (const data of [grid.flat(), grid]) {
    const infer = await inject('POST', '/v2/models/grid/infer', { inputs: [
      { name: 'input', shape: [1, 2, 3], datatype: 'FP32', data }] })
    assert.equal(infer.status, 200, JSON.stringify(infer.body))
    close(infer.body.outputs[0].data, v1.flat())
  }
})

test('Open Inference Protocol v2: a table model takes its columns', async () => {
  await models()
  const meta = (await inject('GET', '/v2/models/iris')).body
  assert.deepEqual(meta.inputs.map((i: any) => i.name),
    ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'])
  const v1 = (await call('POST', '/v1/models/iris/predict',
    { instances: [[5.1, 3.5, 1.4, 0.2]] })).body.predictions
  const infer = await inject('POST', '/v2/models/iris/infer', {
    inputs: meta.inputs.map((i: any, k: number) => ({ name: i.name,
      shape: [1], datatype: 'FP64', data: [[5.1, 3.5, 1.4, 0.2][k]] })),
  })
  assert.equal(infer.status, 200, JSON.stringify(infer.body))
  close(infer.body.outputs[0].data, v1.flat())
})

test('Open Inference Protocol v2 errors are { error }', async () => {
  await models()
  // Nested far deeper than any shape: refused, not a stack overflow.
  const deep = '[1, 2, ' + '['.repeat(10000) + ']'.repeat(10000) + ']'
  const res = await stack.api.app.inject({ method: 'POST',
    url: '/v2/models/dense3/infer', headers: { 'content-type':
      'application/json' }, payload: '{"inputs": [{"name": "input", ' +
      `"shape": [1, 3], "datatype": "FP32", "data": ${deep}}]}` })
  assert.equal(res.statusCode, 400, res.body)
  const input = (over: object) => ({ inputs: [{ name: 'input',
    shape: [1, 3], datatype: 'FP32', data: [1, 2, 3], ...over }] })
  const cases: Array<[string, object, number, RegExp]> = [
    ['/v2/models/nope/infer', input({}), 404, /no model nope/],
    ['/v2/models/dense3/infer', input({ shape: [1, 4] }), 400,
      /does not fit/],
    ['/v2/models/dense3/infer', input({ data: [1, 2] }), 400, /holds 3/],
    ['/v2/models/dense3/infer', input({ name: 'x' }), 400, /named input/],
    ['/v2/models/dense3/infer', input({ datatype: 'FP8' }), 400, /FP8/],
    ['/v2/models/dense3/infer', input({ data: [1, 'a', 3] }), 400,
      /data\[1\]/],
    ['/v2/models/dense3/infer', input({ data: [1, 2, 1e39] }), 400,
      /^inputs\[0\]\.data\[2\] is not a valid FP32 value/],
    // Named where it is in data as sent, nested or flat.
    ['/v2/models/dense3/infer', input({ data: [[1, 2, 1e39]] }), 400,
      /^inputs\[0\]\.data\[0\]\[2\] is not a valid FP32 value/],
    ['/v2/models/dense3/infer', input({ shape: [2, 3], datatype: 'FP64',
      data: [[1, 2, 3], [4, 1e999, 6]] }), 400,
      /^inputs\[0\]\.data\[1\]\[1\] is not a valid FP64 value/],
    ['/v2/models/dense3/infer', { ...input({}), outputs: [{ name: 'y' }] },
      400, /no output y/],
    ['/v2/models/dense3/infer', { inputs: [] }, 400, /inputs/],
    ['/v2/models/dense3/infer', input({ data: [1, 2, [3, [[]]]] }), 400,
      /nests otherwise than its shape/],
    // The right count of values, but lists that do not match the shape.
    ['/v2/models/dense3/infer', input({ shape: [2, 3],
      data: [[1, 2, 3, 4], [5, 6]] }), 400, /nests otherwise/],
    ['/v2/models/dense3/infer', input({ shape: [2, 3],
      data: [[1, 2, 3], [4, [5, 6]]] }), 400, /nests otherwise/],
    ['/v2/models/dense3/infer', input({ datatype: 'UINT8',
      data: [1, -5, 3] }), 400, /data\[1\] is not a valid UINT8/],
    ['/v2/models/dense3/infer', input({ datatype: 'INT8',
      data: [1, 2, 100000] }), 400, /data\[2\] is not a valid INT8/],
    ['/v2/models/dense3/infer', input({ datatype: 'FP16',
      data: [70000, 2, 3] }), 400, /data\[0\] is not a valid FP16/],
    ['/v2/models/dense3/infer', input({ datatype: 'INT8',
      data: [1, 0.5, 3] }), 400, /data\[1\] is not a valid INT8/],
    ['/v2/models/dense3/infer', input({ extra: 1 }), 400, /extra/],
    ['/v2/models/iris/infer', { inputs: ['sepal_length', 'sepal_width',
      'petal_length', 'petal_width', 'sepal_length'].map((name) => ({ name,
      shape: [1], datatype: 'FP32', data: [1] })) }, 400, /more than once/],
  ]
  for (const [url, body, status, message] of cases) {
    const res = await inject('POST', url, body)
    assert.equal(res.status, status, `${url} ${JSON.stringify(res.body)}`)
    assert.deepEqual(Object.keys(res.body), ['error'])
    assert.match(res.body.error, message)
  }
})

test('Open Inference Protocol v2: binary tensor data, in and out', async () => {
  await models()
  const v1 = (await call('POST', '/v1/models/dense3/predict',
    { instances: rows })).body.predictions
  const data = Buffer.from(Float32Array.from(rows.flat()).buffer)
  const send = (header: object, tail: Buffer, length?: number) => {
    const json = Buffer.from(JSON.stringify(header))
    return stack.api.app.inject({ method: 'POST',
      url: '/v2/models/dense3/infer',
      headers: { 'content-type': 'application/octet-stream',
        'inference-header-content-length': String(length ?? json.length) },
      payload: Buffer.concat([json, tail]) })
  }
  const input = { name: 'input', shape: [2, 3], datatype: 'FP32',
    parameters: { binary_data_size: data.length } }

  const asJson = await send({ inputs: [input] }, data)
  assert.equal(asJson.statusCode, 200, asJson.body)
  close(asJson.json().outputs[0].data, v1.flat())

  const binary = await send({ inputs: [input],
    outputs: [{ name: 'output', parameters: { binary_data: true } }] }, data)
  assert.equal(binary.statusCode, 200, binary.body)
  assert.equal(binary.headers['content-type'], 'application/octet-stream')
  const length = Number(binary.headers['inference-header-content-length'])
  const raw = binary.rawPayload
  const header = JSON.parse(raw.subarray(0, length).toString('utf8'))
  const size = header.outputs[0].parameters.binary_data_size
  assert.equal(size, 2 * 3 * 4)
  const values = new Float32Array(raw.buffer.slice(raw.byteOffset + length,
    raw.byteOffset + length + size))
  close([...values], v1.flat())

  const short = await send({ inputs: [input] }, data.subarray(0, 20))
  assert.equal(short.statusCode, 400)
  assert.match(short.json().error, /binary_data_size 24 does not fit/)
  const extra = await send({ inputs: [input] }, Buffer.concat([data, data]))
  assert.match(extra.json().error, /24 bytes follow/)
  const text = await send({ inputs: [{ ...input,
    parameters: { binary_data_size: '24' } }] }, data)
  assert.match(text.json().error,
    /binary_data_size must be a whole number of bytes; got "24"/)
  const noLength = await send({ inputs: [input] }, data, 99999)
  assert.match(noLength.json().error, /inference-header-content-length/)

  // Values given twice, a length that is not plain digits, and a header
  // that poisons prototypes: each refused as a JSON body would be.
  const twice = await send({ inputs: [{ ...input, data: rows.flat() }] }, data)
  assert.equal(twice.statusCode, 400)
  assert.match(twice.json().error, /not both/)
  const json = JSON.stringify({ inputs: [input] })
  const hex = await stack.api.app.inject({ method: 'POST',
    url: '/v2/models/dense3/infer', headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': `0x${json.length.toString(16)}` },
    payload: Buffer.concat([Buffer.from(json), data]) })
  assert.equal(hex.statusCode, 400)
  assert.match(hex.json().error, /inference-header-content-length/)
  const poisoned = Buffer.from(json.replace('{', '{"__proto__": {"x": 1}, '))
  const proto = await stack.api.app.inject({ method: 'POST',
    url: '/v2/models/dense3/infer', headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(poisoned.length) },
    payload: Buffer.concat([poisoned, data]) })
  assert.equal(proto.statusCode, 400)
  assert.match(proto.json().error, /the JSON header has a __proto__/)
})
