import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readManifest } from '../src/serving/model-registry.ts'
import { encodeInstances } from '../src/serving/predict.ts'
import { openStore } from '../src/store/open-store.ts'
import { tf } from '../src/tf/backend.ts'
import { eventually, testEnv, useStack } from './helpers/harness.ts'

// Versions, aliases and deletes; the artifacts loaded by tfjs's own HTTP
// loader from the running server.

const env = testEnv()
const stack = useStack(env, { listen: true })
const { call } = stack

const rows = Array.from({ length: 120 }, (_, i) =>
  ({ x: [i % 4, (i * 7) % 5, i % 3], y: i % 4 < 2 ? 'low' : 'high' }))
let dataset: string | undefined

/** Trains one more version of `model` and returns its number. */
async function trainVersion(model: string): Promise<number> {
  dataset ??= (await call('POST', '/v1/datasets', { name: 'd', rows })).body.id
  const queued = await call('POST', '/v1/jobs', { model, dataset,
    spec: { layers: [{ type: 'dense', units: 8, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs: 3, batchSize: 16 } })
  assert.equal(queued.status, 202, JSON.stringify(queued.body))
  const done = await eventually(async () => {
    const { body } = await call('GET', `/v1/jobs/${queued.body.id}`)
    return ['completed', 'failed'].includes(body.state) ? body : undefined
  }, 60_000, 'training')
  assert.equal(done.state, 'completed', JSON.stringify(done.error))
  return done.result.version
}

const instances = [[1, 2, 0], [3, 4, 2]]

test('aliases choose the version predict uses; deletes keep numbers', async () => {
  assert.equal(await trainVersion('reg'), 1)
  assert.equal(await trainVersion('reg'), 2)

  const latest = await call('POST', '/v1/models/reg/predict', { instances })
  assert.equal(latest.body.version, 2)

  const put = await call('PUT', '/v1/models/reg/aliases/production',
    { version: 1 })
  assert.deepEqual(put.body, { name: 'reg', alias: 'production', version: 1 })
  const byDefault = await call('POST', '/v1/models/reg/predict', { instances })
  assert.equal(byDefault.body.version, 1, 'production should win over latest')
  const named = await call('POST', '/v1/models/reg/predict?version=2',
    { instances })
  assert.equal(named.body.version, 2)
  await call('PUT', '/v1/models/reg/aliases/canary', { version: 2 })
  const canary = await call('POST', '/v1/models/reg/predict?alias=canary',
    { instances })
  assert.equal(canary.body.version, 2)

  const model = await call('GET', '/v1/models/reg')
  assert.deepEqual(model.body.aliases, { canary: 2, production: 1 })
  assert.deepEqual(model.body.model_version_status.map((s: any) =>
    [s.version, s.state]), [['1', 'AVAILABLE'], ['2', 'AVAILABLE']])
  const list = await call('GET', '/v1/models')
  assert.deepEqual(list.body.models, [{ name: 'reg', latest: 2,
    aliases: { canary: 2, production: 1 } }])

  const refused = await call('DELETE', '/v1/models/reg/versions/1')
  assert.equal(refused.status, 409)
  assert.equal(refused.body.code, 'TQ_ERR_MODEL_VERSION_ALIASED')
  assert.deepEqual(refused.body.details.aliases, ['production'])

  await call('PUT', '/v1/models/reg/aliases/production', { version: 2 })
  assert.equal((await call('DELETE', '/v1/models/reg/versions/1')).status, 204)
  assert.equal((await call('GET', '/v1/models/reg/versions/1')).status, 404)
  const gone = await call('POST', '/v1/models/reg/predict?version=1',
    { instances })
  assert.equal(gone.body.code, 'TQ_ERR_MODEL_VERSION_NOT_FOUND')

  assert.equal((await call('DELETE', '/v1/models/reg/aliases/canary')).status,
    204)
  const noAlias = await call('POST', '/v1/models/reg/predict?alias=canary',
    { instances })
  assert.equal(noAlias.status, 404)
  assert.equal(noAlias.body.code, 'TQ_ERR_MODEL_ALIAS_NOT_FOUND')

  // A deleted number is not given again, so cached artifacts stay true.
  await call('DELETE', '/v1/models/reg/aliases/production')
  assert.equal((await call('DELETE', '/v1/models/reg/versions/2')).status, 204)
  assert.equal(await trainVersion('reg'), 3)
})

test('bad alias requests say what is wrong', async () => {
  const noVersion = await call('PUT', '/v1/models/reg/aliases/production',
    { version: 99 })
  assert.equal(noVersion.status, 404)
  assert.equal(noVersion.body.details.path, 'body.version')
  const badName = await call('PUT', '/v1/models/reg/aliases/Prod!', { version: 3 })
  assert.equal(badName.status, 400)
  const both = await call('POST', '/v1/models/reg/predict?version=3&alias=x',
    { instances })
  assert.equal(both.status, 400)
  const noModel = await call('PUT', '/v1/models/nope/aliases/production',
    { version: 1 })
  assert.equal(noModel.body.code, 'TQ_ERR_MODEL_NOT_FOUND')
})

test('tf.loadLayersModel loads a version from the server', async () => {
  const version = await trainVersion('browser')
  const url = `${stack.api.url}/v1/models/browser/versions/${version}/model.json`
  const loaded = await tf.loadLayersModel(url)

  // The server standardizes raw rows first (its stored preprocessing);
  // the browser model gets them standardized the same way.
  const server = await call('POST', '/v1/models/browser/predict', { instances })
  const manifest = (await readManifest(openStore(env.TENSORQ_STORE),
    'browser', version))!
  const encoded = encodeInstances(manifest, instances)
  const here = tf.tidy(() => (loaded.predict(tf.tensor2d(encoded,
    [instances.length, 3])) as tf.Tensor).arraySync() as number[][])
  loaded.dispose()
  here.flat().forEach((v, i) =>
    assert.ok(Math.abs(v - server.body.predictions.flat()[i]) < 1e-5))

  const first = await fetch(url)
  assert.equal(first.headers.get('cache-control'),
    'public, max-age=31536000, immutable')
  assert.equal(first.headers.get('access-control-allow-origin'), '*')
  const etag = first.headers.get('etag')!
  assert.ok(etag)
  const again = await fetch(url, { headers: { 'if-none-match': etag } })
  assert.equal(again.status, 304)
  const missing = await fetch(url.replace('model.json', 'other.bin'))
  assert.equal(missing.status, 404)
})
