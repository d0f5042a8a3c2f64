import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, storeDir, testEnv, useStack } from './helpers/harness.ts'

// training.seed: the same seed, data and backend give the same weights,
// even for two jobs that train at the same time in one worker.

const env = testEnv({ WORKER_CONCURRENCY: '2' })
const stack = useStack(env)
const { call } = stack

const SPEC = {
  layers: [
    { type: 'dense', units: 16, activation: 'relu' },
    { type: 'dropout', rate: 0.3 },
    { type: 'dense', units: 2, activation: 'softmax' },
  ],
  loss: 'categoricalCrossentropy',
  optimizer: { type: 'adam', learningRate: 0.01 },
}

async function weightsOf(model: string): Promise<Buffer> {
  const { body: job } = await call('GET', `/v1/models/${model}`)
  return readFile(join(storeDir(env), 'models', model, 'versions',
    String(job.latest), 'weights.bin'))
}

test('the same seed gives the same weights; another seed does not', async () => {
  const rows = Array.from({ length: 300 }, (_, i) => {
    const x = [Math.sin(i), Math.cos(i * 0.7), (i % 7) / 7, (i % 3) - 1]
    return { x, y: x[0] + x[1] > 0 ? 'up' : 'down' }
  })
  const upload = await call('POST', '/v1/datasets', { name: 'waves', rows })
  assert.equal(upload.status, 201)

  const runs = { a: 42, b: 42, c: 43, d: undefined }
  const jobs = await Promise.all(Object.entries(runs).map(async ([model, seed]) => {
    const res = await call('POST', '/v1/jobs', {
      model, dataset: upload.body.id, spec: SPEC,
      training: { epochs: 4, batchSize: 16, validationSplit: 0.2, seed },
    })
    assert.equal(res.status, 202, JSON.stringify(res.body))
    return res.body.id as string
  }))
  for (const id of jobs) {
    const job = await eventually(async () => {
      const { body } = await call('GET', `/v1/jobs/${id}`)
      return ['completed', 'failed'].includes(body.state) ? body : undefined
    }, 120_000, `job ${id}`)
    assert.equal(job.state, 'completed', JSON.stringify(job.error))
  }

  // Two jobs at once in one worker: their batches interleave.
  const started = stack.worker!.logs.filter((l) => l.msg === 'training started')
  assert.equal(started.length, 4)

  const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map(weightsOf))
  assert.ok(a.equals(b), 'seed 42 twice gave different weights')
  assert.ok(!a.equals(c), 'seeds 42 and 43 gave the same weights')
  assert.ok(!a.equals(d), 'no seed gave the weights of seed 42')
})
