import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  cleanUp, eventually, startTestApi, startTestWorker, storeDir, testEnv,
  type TestApi, type TestWorker,
} from './helpers/harness.ts'

const SPEC = {
  layers: [{ type: 'dense' as const, units: 2, activation: 'softmax' as const }],
  loss: 'categoricalCrossentropy' as const,
  optimizer: { type: 'sgd' as const },
}
const TRAINING = {
  epochs: 2, batchSize: 4, validationSplit: 0, shuffle: true, priority: 5,
}

describe('a job that cannot train fails at once, with its error', () => {
  const env = testEnv({ JOB_ATTEMPTS: '3' })
  let api: TestApi
  let worker: TestWorker
  let dataset: string

  before(async () => {
    api = await startTestApi(env)
    worker = await startTestWorker(env)
    const res = await api.app.inject({
      method: 'POST', url: '/v1/datasets',
      payload: { name: 'xor', rows: [
        { x: [0, 0], y: 'no' }, { x: [0, 1], y: 'yes' },
        { x: [1, 0], y: 'yes' }, { x: [1, 1], y: 'no' },
      ] },
    })
    dataset = res.json().id
  })

  after(async () => {
    await worker?.stop()
    await api?.close()
    await cleanUp(env)
  })

  async function failedJob(id: string) {
    return eventually(async () => {
      const res = await api.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })
      const job = res.json()
      return job.state === 'failed' || job.state === 'completed' ? job : undefined
    }, 30_000, `job ${id}`)
  }

  test('a spec that does not fit, queued past the api checks', async () => {
    // Straight onto the queue, as an older api replica could have done:
    // the worker checks again and must not retry what cannot work.
    const queued = await api.queue.enqueue({
      model: 'bad', dataset,
      spec: { ...SPEC, layers: [{ ...SPEC.layers[0], units: 5 }] },
      training: TRAINING,
    })

    const job = await failedJob(queued.id)
    assert.equal(job.state, 'failed')
    assert.equal(job.attempts, 1)
    assert.equal(job.error.code, 'TQ_ERR_SPEC_SHAPE_MISMATCH')
    assert.match(job.error.message, /5 units but the dataset has 2 classes/)
  })

  test('a loss that overflows fails the job as diverged, without retries', async () => {
    const upload = await api.app.inject({
      method: 'POST', url: '/v1/datasets',
      payload: { name: 'huge', rows: [
        { x: [1e30], y: 1e30 }, { x: [-1e30], y: 0.5 }, { x: [3e30], y: 2.5 },
      ] },
    })
    const queued = await api.queue.enqueue({
      model: 'diverges', dataset: upload.json().id,
      spec: {
        layers: [{ type: 'dense', units: 1 }],
        loss: 'meanSquaredError',
        optimizer: { type: 'sgd', learningRate: 10 },
      },
      training: { ...TRAINING, epochs: 5 },
    })

    const job = await failedJob(queued.id)
    assert.equal(job.state, 'failed')
    assert.equal(job.attempts, 1)
    assert.equal(job.error.code, 'TQ_ERR_JOB_DIVERGED')
    assert.match(job.error.message, /diverged: the loss became .* in epoch 1/)
  })

  test('a dataset that is gone by the time the job runs', async () => {
    const other = await api.app.inject({
      method: 'POST', url: '/v1/datasets',
      payload: { name: 'tmp', rows: [{ x: [0], y: 0 }, { x: [1], y: 1 }] },
    })
    const id = other.json().id
    await rm(join(storeDir(env), 'datasets', id), { recursive: true })

    const queued = await api.queue.enqueue({
      model: 'gone', dataset: id, spec: SPEC, training: TRAINING,
    })
    const job = await failedJob(queued.id)
    assert.equal(job.state, 'failed')
    assert.equal(job.attempts, 1)
    assert.equal(job.error.code, 'TQ_ERR_DATASET_NOT_FOUND')

    const models = await api.app.inject({ method: 'GET', url: '/v1/models/gone' })
    assert.equal(models.statusCode, 404)
  })
})
