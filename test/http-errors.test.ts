import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { cleanUp, startTestApi, testEnv, type TestApi } from './helpers/harness.ts'

const IRIS = readFileSync(new URL('./fixtures/iris.csv', import.meta.url),
  'utf8')

const GOOD_SPEC = {
  layers: [
    { type: 'dense', units: 8, activation: 'relu' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: 'categoricalCrossentropy',
  optimizer: { type: 'adam' },
}

describe('bad input gets a 4xx with a code that says where', () => {
  const env = testEnv({ MAX_UPLOAD_BYTES: '65536' })
  let api: TestApi
  let iris: string

  before(async () => {
    api = await startTestApi(env)
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/datasets?name=iris&label=species',
      headers: { 'content-type': 'text/csv' },
      payload: IRIS,
    })
    assert.equal(res.statusCode, 201, res.body)
    iris = res.json().id
  })

  after(async () => {
    await api.close()
    await cleanUp(env)
  })

  async function send(method: 'GET' | 'POST', url: string, payload?: unknown,
    headers: Record<string, string> = {}) {
    const res = await api.app.inject({
      method, url, headers,
      payload: payload as string | object | undefined,
    })
    return { status: res.statusCode, body: res.json() }
  }

  function job(spec: unknown, extra: object = {}) {
    return send('POST', '/v1/jobs', { model: 'm', dataset: iris, spec, ...extra })
  }

  test('malformed JSON', async () => {
    const res = await send('POST', '/v1/jobs', '{"model": "m", ',
      { 'content-type': 'application/json' })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'TQ_ERR_REQUEST_MALFORMED_JSON')
    assert.equal(res.body.error, 'Bad Request')
    // Why, as JSON.parse says it.
    assert.match(res.body.message, /^the body is not valid JSON: ./)
  })

  test('a __proto__ key is refused as such, not as bad JSON', async () => {
    const body = '{"model": "m", "__proto__": {"admin": true}}'
    const json = { 'content-type': 'application/json' }
    const res = await send('POST', '/v1/jobs', body, json)
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'TQ_ERR_REQUEST_INVALID')
    assert.match(res.body.message, /the body has a __proto__ or /)
    // TensorFlow Serving's routes read any Content-Type as JSON, and
    // answer in its format.
    const serving = await send('POST', '/v1/models/m:predict', body,
      { 'content-type': 'text/plain' })
    assert.equal(serving.status, 400)
    assert.match(serving.body.error, /the body has a __proto__ or /)
  })

  test('an unknown layer type names the layer', async () => {
    const spec = structuredClone(GOOD_SPEC)
    ;(spec.layers[1] as { type: string }).type = 'dense2'
    const res = await job(spec)
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'TQ_ERR_SPEC_UNKNOWN_LAYER')
    assert.equal(res.body.details.path, 'spec.layers[1].type')
    assert.match(res.body.message, /unknown layer type "dense2"; known types: dense/)
  })

  test('an unknown optimizer names the optimizers', async () => {
    const spec = { ...structuredClone(GOOD_SPEC), optimizer: { type: 'magic' } }
    const res = await job(spec)
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'TQ_ERR_SPEC_INVALID')
    assert.equal(res.body.details.path, 'spec.optimizer.type')
    assert.match(res.body.message,
      /unknown optimizer "magic"; known optimizers: sgd, momentum, adam/)
  })

  test('units of 0 names layers[0].units', async () => {
    const spec = structuredClone(GOOD_SPEC)
    spec.layers[0].units = 0
    const res = await job(spec)
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'TQ_ERR_REQUEST_INVALID')
    assert.equal(res.body.details.path, 'spec.layers[0].units')
    assert.match(res.body.message, /spec.layers\[0\].units must be >= 1/)
  })

  test('a misspelt field is refused, not ignored', async () => {
    const spec = structuredClone(GOOD_SPEC) as any
    spec.layers[0].unit = 8
    const res = await job(spec)
    assert.equal(res.status, 400)
    assert.equal(res.body.details.path, 'spec.layers[0].unit')
  })

  test('an output width that does not match the classes names the layer', async () => {
    const spec = structuredClone(GOOD_SPEC)
    spec.layers[1].units = 4
    const res = await job(spec)
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'TQ_ERR_SPEC_SHAPE_MISMATCH')
    assert.equal(res.body.details.path, 'spec.layers[1]')
    assert.match(res.body.message, /4 units but the dataset has 3 classes/)
  })

  test('rows of different lengths name the row', async () => {
    const res = await send('POST', '/v1/datasets', {
      name: 'ragged', rows: [{ x: [1, 2], y: 0 }, { x: [1, 2, 3], y: 1 }],
    })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'TQ_ERR_DATASET_INVALID')
    assert.equal(res.body.details.path, 'rows[1].x')
    assert.equal(res.body.details.row, 1)
  })

  test('an unknown dataset id', async () => {
    const res = await send('POST', '/v1/jobs', {
      model: 'm', dataset: '00000000-0000-0000-0000-000000000000', spec: GOOD_SPEC,
    })
    assert.equal(res.status, 404)
    assert.equal(res.body.code, 'TQ_ERR_DATASET_NOT_FOUND')
    assert.equal(res.body.details.path, 'dataset')

    const get = await send('GET', '/v1/datasets/nope')
    assert.equal(get.status, 404)
    assert.equal(get.body.code, 'TQ_ERR_DATASET_NOT_FOUND')
  })

  test('an unknown model, job and route', async () => {
    const model = await send('POST', '/v1/models/nope/predict', { instances: [[1]] })
    assert.equal(model.status, 404)
    assert.equal(model.body.code, 'TQ_ERR_MODEL_NOT_FOUND')

    const job = await send('GET', '/v1/jobs/00000000-0000-0000-0000-000000000000')
    assert.equal(job.body.code, 'TQ_ERR_JOB_NOT_FOUND')

    const route = await send('GET', '/v1/nothing')
    assert.equal(route.status, 404)
    assert.equal(route.body.code, 'TQ_ERR_ROUTE_NOT_FOUND')
  })

  test('a job without a spec for a model that has no version', async () => {
    const res = await send('POST', '/v1/jobs', { model: 'fresh', dataset: iris })
    assert.equal(res.status, 400)
    assert.equal(res.body.details.path, 'spec')
  })

  test('a CSV upload without its label option', async () => {
    const res = await send('POST', '/v1/datasets?name=x', IRIS,
      { 'content-type': 'text/csv' })
    assert.equal(res.status, 400)
    assert.equal(res.body.details.path, 'query.label')
  })

  test('a body over MAX_UPLOAD_BYTES is a 413 and stores nothing', async () => {
    const before = (await send('GET', '/v1/datasets')).body.datasets.length
    const res = await send('POST', '/v1/datasets?name=big&label=species',
      IRIS.repeat(20), { 'content-type': 'text/csv' })
    assert.equal(res.status, 413)
    assert.equal(res.body.code, 'TQ_ERR_REQUEST_TOO_LARGE')
    const later = (await send('GET', '/v1/datasets')).body.datasets.length
    assert.equal(later, before)
  })

  test('an unsupported content type is a 415', async () => {
    for (const type of ['application/xml', 'text/plain']) {
      for (const url of ['/v1/datasets', '/v1/jobs']) {
        const res = await send('POST', url, 'x', { 'content-type': type })
        assert.equal(res.status, 415, `${type} to ${url}`)
        assert.equal(res.body.code, 'TQ_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE')
      }
    }
  })

  test('types are not converted: "8" is not 8', async () => {
    const spec = structuredClone(GOOD_SPEC) as any
    spec.layers[0].units = '8'
    const res = await job(spec)
    assert.equal(res.status, 400)
    assert.equal(res.body.details.path, 'spec.layers[0].units')
    assert.match(res.body.message, /must be integer/)
  })

  test('an unknown query option is refused', async () => {
    const res = await send('POST', '/v1/datasets?name=x&label=species&feature=a',
      IRIS, { 'content-type': 'text/csv' })
    assert.equal(res.status, 400)
    assert.equal(res.body.details.path, 'query.feature')
  })

  test('content types are case-insensitive', async () => {
    const res = await send('POST', '/v1/datasets?name=iris2&label=species', IRIS,
      { 'content-type': 'Text/CSV; charset=utf-8' })
    assert.equal(res.status, 201)
  })

  test('an upload with no body says what to send', async () => {
    const res = await send('POST', '/v1/datasets')
    assert.equal(res.status, 400)
    assert.match(res.body.message, /the body is empty/)
  })

  test('odd model names are unknown models, not server errors', async () => {
    for (const name of ['%2e%2e', '.tmp', 'a%2F..%2Fb', 'x'.repeat(120)]) {
      const res = await send('POST', `/v1/models/${name}/predict`,
        { instances: [[1]] })
      assert.equal(res.status, 404, name)
      // The router may see a decoded `/` and match no route at all.
      assert.match(res.body.code, /^TQ_ERR_(MODEL|ROUTE)_NOT_FOUND$/, name)
    }
    const res = await send('GET', '/v1/models/a%00b')
    assert.ok(res.status === 404 || res.status === 400, String(res.status))
    assert.match(res.body.code, /^TQ_ERR_/)
  })

  test('a malformed URL gets a catalogue code', async () => {
    const res = await send('GET', '/v1/datasets/%zz')
    assert.equal(res.status, 400)
    assert.match(res.body.code, /^TQ_ERR_/)
  })

  test('a version that is not a number', async () => {
    const res = await send('POST', '/v1/models/m/predict?version=abc',
      { instances: [[1]] })
    assert.equal(res.status, 400)
    assert.equal(res.body.details.path, 'query.version')
  })
})
