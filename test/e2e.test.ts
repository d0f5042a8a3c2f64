import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import createClient from 'openapi-fetch'
import type { paths } from '../openapi/schema.d.ts'
import { mnistSplit } from '../scripts/mnist-split.ts'
import {
  cleanUp, eventually, startTestApi, startTestWorker, testEnv,
  type TestApi, type TestWorker,
} from './helpers/harness.ts'

const IRIS = readFileSync(new URL('./fixtures/iris.csv', import.meta.url),
  'utf8')

type Client = ReturnType<typeof createClient<paths>>

async function finished(client: Client, id: string, timeoutMs: number) {
  return eventually(async () => {
    const { data } = await client.GET('/v1/jobs/{id}', {
      params: { path: { id } },
    })
    return data && ['completed', 'failed'].includes(data.state) ? data : undefined
  }, timeoutMs, `job ${id}`)
}

describe('through the HTTP API with the generated client', () => {
  const env = testEnv({ MAX_PREDICT_VALUES: '20000' })
  let api: TestApi
  let worker: TestWorker
  let client: Client
  let irisId: string

  before(async () => {
    api = await startTestApi(env, true)
    worker = await startTestWorker(env)
    client = createClient<paths>({ baseUrl: api.url })
  })

  after(async () => {
    await worker?.stop()
    await api?.close()
    await cleanUp(env)
  })

  test('MNIST: upload, train, wait, predict held-out digits', async () => {
    const { train, test: held } = mnistSplit(2000)
    const heldOut = held.slice(0, 500)

    const upload = await client.POST('/v1/datasets', {
      body: { name: 'mnist-2000', rows: train.map((d) => ({ x: d.pixels, y: d.label })) },
    })
    assert.equal(upload.response.status, 201)
    assert.deepEqual(upload.data!.inputShape, [784])
    assert.equal(upload.data!.classes!.length, 10)

    const queued = await client.POST('/v1/jobs', {
      body: {
        model: 'mnist',
        dataset: upload.data!.id,
        spec: {
          layers: [
            { type: 'dense', units: 64, activation: 'relu',
              kernelRegularizer: { l2: 0.0001 } },
            { type: 'dropout', rate: 0.1 },
            { type: 'dense', units: 10, activation: 'softmax' },
          ],
          loss: 'categoricalCrossentropy',
          optimizer: { type: 'adam', learningRate: 0.002 },
          metrics: ['accuracy'],
        },
        training: { epochs: 3, batchSize: 64, validationSplit: 0.1 },
      },
    })
    assert.equal(queued.response.status, 202)
    assert.equal(queued.data!.state, 'queued')
    assert.equal(queued.response.headers.get('location'),
      `/v1/jobs/${queued.data!.id}`)

    const job = await finished(client, queued.data!.id, 120_000)
    assert.equal(job.state, 'completed', JSON.stringify(job.error))
    assert.equal(job.backend, 'wasm')
    assert.equal(job.attempts, 1)
    assert.deepEqual(job.history.map((h) => h.epoch), [1, 2, 3])
    assert.ok('val_loss' in job.history[0] && 'acc' in job.history[0])
    assert.deepEqual(job.result, { model: 'mnist', version: 1 })

    // The worker logged every epoch, bound to the job.
    const epochs = worker.logs.filter((l) => l.msg === 'epoch finished' &&
      l.jobId === job.id)
    assert.equal(epochs.length, 3)

    const predicted = await client.POST('/v1/models/{name}/predict', {
      params: { path: { name: 'mnist' } },
      body: { instances: heldOut.map((d) => d.pixels) },
    })
    assert.equal(predicted.response.status, 200)
    const right = heldOut.filter((d, i) =>
      predicted.data!.classes![i] === String(d.label)).length
    const accuracy = right / heldOut.length
    assert.ok(accuracy > 0.6, `held-out accuracy ${accuracy} (chance is 0.1)`)
    assert.equal(predicted.data!.predictions[0].length, 10)

    const model = await client.GET('/v1/models/{name}', {
      params: { path: { name: 'mnist' } },
    })
    assert.equal(model.data!.latest, 1)
    assert.equal(model.data!.versions[0].job, job.id)
    assert.equal(model.data!.versions[0].backend, 'wasm')
  })

  test('a predict instance of the wrong length says both shapes', async () => {
    const res = await client.POST('/v1/models/{name}/predict', {
      params: { path: { name: 'mnist' } },
      body: { instances: [new Array(784).fill(0), new Array(783).fill(0)] },
    })
    assert.equal(res.response.status, 400)
    const err = res.error as { code: string; message: string; details: any }
    assert.equal(err.code, 'TQ_ERR_PREDICT_INVALID_INSTANCE')
    assert.equal(err.details.path, 'instances[1]')
    assert.match(err.message, /shape \[783\] where shape \[784\] was expected/)
  })

  test('an answer too large to send is refused before predicting', async () => {
    const res = await client.POST('/v1/models/{name}/predict', {
      params: { path: { name: 'mnist' } },
      body: { instances: Array.from({ length: 2001 }, () => new Array(784).fill(0)) },
    })
    assert.equal(res.response.status, 413)
    assert.equal(res.error!.code, 'TQ_ERR_PREDICT_TOO_LARGE')
    assert.match(res.error!.message, /send at most 2000 per request/)
  })

  test('iris CSV: raw rows as objects come back as species names', async () => {
    const upload = await fetch(`${api.url}/v1/datasets?name=iris&label=species`, {
      method: 'POST', headers: { 'content-type': 'text/csv' }, body: IRIS,
    })
    assert.equal(upload.status, 201)
    const dataset = await upload.json() as { id: string }
    irisId = dataset.id

    const queued = await client.POST('/v1/jobs', {
      body: {
        model: 'iris', dataset: dataset.id,
        spec: {
          layers: [
            { type: 'dense', units: 16, activation: 'relu' },
            { type: 'dense', units: 3, activation: 'softmax' },
          ],
          loss: 'sparseCategoricalCrossentropy',
          optimizer: { type: 'adam', learningRate: 0.02 },
          metrics: ['accuracy'],
        },
        training: { epochs: 60, batchSize: 16, validationSplit: 0.2,
          earlyStopping: { monitor: 'val_loss', patience: 3 } },
      },
    })
    const job = await finished(client, queued.data!.id, 60_000)
    assert.equal(job.state, 'completed', JSON.stringify(job.error))
    assert.equal(job.attempts, 1)
    assert.ok(job.history.length <= 60)
    assert.ok('val_acc' in job.history[0])

    const res = await client.POST('/v1/models/{name}/predict', {
      params: { path: { name: 'iris' } },
      body: { instances: [
        { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
        [7.7, 3.0, 6.1, 2.3],
      ] },
    })
    assert.equal(res.response.status, 200)
    assert.deepEqual(res.data!.classes, ['setosa', 'virginica'])

    // More rows than one predict chunk: answers stay in order.
    const many = await client.POST('/v1/models/{name}/predict', {
      params: { path: { name: 'iris' } },
      body: { instances: Array.from({ length: 1500 }, (_, i) =>
        i % 2 ? [7.7, 3.0, 6.1, 2.3] : [5.1, 3.5, 1.4, 0.2]) },
    })
    assert.equal(many.data!.classes!.length, 1500)
    assert.equal(many.data!.classes![1024], 'setosa')
    assert.equal(many.data!.classes![1025], 'virginica')

    const bad = await client.POST('/v1/models/{name}/predict', {
      params: { path: { name: 'iris' } },
      body: { instances: [{ sepal_length: 5.1 }] },
    })
    assert.equal(bad.response.status, 400)
    assert.match((bad.error as { message: string }).message,
      /instances\[0\]: missing columns sepal_width, petal_length/)
    assert.equal(bad.error!.details!.column, 'sepal_width')
    const word = await client.POST('/v1/models/{name}/predict', {
      params: { path: { name: 'iris' } },
      body: { instances: [{ sepal_length: 5.1, sepal_width: 'wide',
        petal_length: 1.4, petal_width: 0.2 }] },
    })
    assert.equal(word.response.status, 400)
    assert.deepEqual(word.error!.details,
      { path: 'instances[0]', instance: 0, column: 'sepal_width' })

    // Finite, but standardized past float32: the output would be NaN.
    const huge = await client.POST('/v1/models/{name}/predict', {
      params: { path: { name: 'iris' } },
      body: { instances: [[5.1, 3.5, 1.4, 0.2], [3e38, 3.0, 6.1, 2.3]] },
    })
    assert.equal(huge.response.status, 400)
    assert.match((huge.error as { message: string }).message,
      /instances\[1\]: the model output is not finite/)
  })

  test('early stopping ends training once val_loss stops improving', async () => {
    // A minDelta no epoch can reach: the second epoch is no improvement.
    const queued = await client.POST('/v1/jobs', {
      body: {
        model: 'iris-early', dataset: irisId,
        training: { epochs: 50, validationSplit: 0.2,
          classWeight: { setosa: 2 },
          earlyStopping: { monitor: 'val_loss', patience: 1, minDelta: 100,
            restoreBestWeights: true } },
        spec: {
          layers: [{ type: 'dense', units: 3, activation: 'softmax' }],
          loss: 'categoricalCrossentropy',
          optimizer: { type: 'sgd' },
        },
      },
    })
    const job = await finished(client, queued.data!.id, 60_000)
    assert.equal(job.state, 'completed', JSON.stringify(job.error))
    assert.equal(job.history.length, 2)

    // Named alone, the model trains again with its spec and settings.
    const again = await client.POST('/v1/jobs', {
      body: { model: 'iris-early', dataset: irisId },
    })
    assert.equal(again.response.status, 202)
    const second = await finished(client, again.data!.id, 60_000)
    assert.equal(second.history.length, 2)
    assert.deepEqual(second.result, { model: 'iris-early', version: 2 })

    const version = await client.GET('/v1/models/{name}/versions/{version}', {
      params: { path: { name: 'iris-early', version: '2' } },
    })
    assert.equal(version.response.status, 200)
    const manifest = version.data as unknown as {
      training: { earlyStopping: { restoreBestWeights: boolean },
        classWeight: object }
      spec: { input: object }
    }
    assert.equal(manifest.training.earlyStopping.restoreBestWeights, true)
    assert.deepEqual(manifest.training.classWeight, { setosa: 2 })
    assert.deepEqual(manifest.spec.input, { shape: [4] })

    // Settings given with a reused spec override it field by field.
    const third = await client.POST('/v1/jobs', {
      body: { model: 'iris-early', dataset: irisId,
        training: { earlyStopping: { patience: 0 } } },
    })
    assert.equal(third.response.status, 202, JSON.stringify(third.error))
    const done = await finished(client, third.data!.id, 60_000)
    assert.equal(done.state, 'completed', JSON.stringify(done.error))
  })

  test('a class weight for a class the dataset lacks is a 400', async () => {
    const res = await client.POST('/v1/jobs', {
      body: { model: 'iris-early', dataset: irisId,
        training: { classWeight: { daisy: 3 } } },
    })
    assert.equal(res.response.status, 400)
    assert.equal(res.error!.details!.path, 'training.classWeight.daisy')
  })
})
