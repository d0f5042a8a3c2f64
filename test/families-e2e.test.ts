import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { mnistSplit, type Digit } from '../scripts/mnist-split.ts'
import {
  cleanUp, eventually, startTestApi, startTestWorker, testEnv,
  type TestApi, type TestWorker,
} from './helpers/harness.ts'

// Convolutional and recurrent networks trained through the service on the
// default backend, on real MNIST digits: as images and as sequences of rows.

function image(d: Digit): number[][][] {
  return Array.from({ length: 28 }, (_, r) =>
    Array.from({ length: 28 }, (_, c) => [d.pixels[r * 28 + c]]))
}

function rows(d: Digit): number[][] {
  return Array.from({ length: 28 }, (_, r) => d.pixels.slice(r * 28, r * 28 + 28))
}

describe('every family trains through the API', () => {
  const env = testEnv()
  const { train, test: held } = mnistSplit(1500)
  const heldOut = held.slice(0, 300)
  let api: TestApi
  let worker: TestWorker

  before(async () => {
    api = await startTestApi(env)
    worker = await startTestWorker(env)
  })

  after(async () => {
    await worker?.stop()
    await api?.close()
    await cleanUp(env)
  })

  async function call(method: 'GET' | 'POST', url: string, payload?: object) {
    const res = await api.app.inject({ method, url, payload })
    return { status: res.statusCode, body: res.json() }
  }

  async function trainAndScore(model: string, toX: (d: Digit) => unknown,
    spec: object, epochs: number): Promise<number> {
    const upload = await call('POST', '/v1/datasets', {
      name: model, rows: train.map((d) => ({ x: toX(d), y: d.label })),
    })
    assert.equal(upload.status, 201, JSON.stringify(upload.body))

    const queued = await call('POST', '/v1/jobs', {
      model, dataset: upload.body.id, spec,
      training: { epochs, batchSize: 32 },
    })
    assert.equal(queued.status, 202, JSON.stringify(queued.body))
    const job = await eventually(async () => {
      const { body } = await call('GET', `/v1/jobs/${queued.body.id}`)
      return ['completed', 'failed'].includes(body.state) ? body : undefined
    }, 180_000, model)
    assert.equal(job.state, 'completed', JSON.stringify(job.error))

    const predicted = await call('POST', `/v1/models/${model}/predict`,
      { instances: heldOut.map(toX) })
    assert.equal(predicted.status, 200)
    const right = heldOut.filter((d, i) =>
      predicted.body.classes[i] === String(d.label)).length
    return right / heldOut.length
  }

  test('a CNN on 28×28×1 images', async () => {
    const accuracy = await trainAndScore('cnn', image, {
      layers: [
        { type: 'conv2d', filters: 8, kernelSize: 3, activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
      loss: 'categoricalCrossentropy',
      optimizer: { type: 'adam', learningRate: 0.003 },
    }, 2)
    assert.ok(accuracy > 0.6, `held-out accuracy ${accuracy} (chance 0.1)`)
  })

  test('an LSTM and a GRU on digits as 28 rows of 28', async () => {
    for (const type of ['lstm', 'gru']) {
      const accuracy = await trainAndScore(type, rows, {
        layers: [
          { type, units: 32 },
          { type: 'dense', units: 10, activation: 'softmax' },
        ],
        loss: 'categoricalCrossentropy',
        optimizer: { type: 'adam', learningRate: 0.01 },
      }, 3)
      assert.ok(accuracy > 0.4, `${type} held-out accuracy ${accuracy}`)
    }
  })
})
