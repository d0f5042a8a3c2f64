import assert from 'node:assert/strict'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, storeDir, testEnv, useStack } from './helpers/harness.ts'

// A failure that may pass (the store refusing writes) is retried after a
// backoff and the job goes on; bad data fails on its first attempt.
// Checkpoints after every epoch, so that a refused write fails the
// attempt inside model.fit, between epochs.

const env = testEnv({ CHECKPOINT_INTERVAL_MS: '0' })
const stack = useStack(env)
const { call } = stack

const rows = Array.from({ length: 64 }, (_, i) => ({ x: [i % 5, i % 3], y: i % 2 }))
const spec = (units: number, activation: string, loss: string) => ({
  layers: [{ type: 'dense', units: 8, activation: 'relu' },
    { type: 'dense', units, activation }],
  loss, optimizer: { type: 'sgd', learningRate: 0.1 },
})

async function finished(id: string) {
  return eventually(async () => {
    const { body } = await call('GET', `/v1/jobs/${id}`)
    return ['completed', 'failed'].includes(body.state) ? body : undefined
  }, 60_000, `job ${id} to finish`)
}

test('a store that refuses writes is retried with backoff', async (t) => {
  const dataset = (await call('POST', '/v1/datasets', { name: 'd', rows })).body.id
  // A file where the checkpoints folder goes: every checkpoint write
  // fails until it is removed.
  const blocker = join(storeDir(env), 'checkpoints')
  await writeFile(blocker, 'not a folder')

  const id = (await call('POST', '/v1/jobs', { model: 'retried', dataset,
    spec: spec(2, 'softmax', 'categoricalCrossentropy'),
    training: { epochs: 3, batchSize: 16, validationSplit: 0.25 } })).body.id
  const waiting = await eventually(async () => {
    const { body } = await call('GET', `/v1/jobs/${id}`)
    return body.lastError ? body : undefined
  }, 30_000, 'the first attempt to fail')
  assert.equal(waiting.state, 'queued')
  assert.equal(waiting.attempts, 1)
  await rm(blocker)

  const done = await finished(id)
  assert.equal(done.state, 'completed', JSON.stringify(done.error))
  assert.equal(done.attempts, 2)
  assert.deepEqual(done.history.map((r: any) => r.epoch), [1, 2, 3])

  const logs = stack.worker!.logs.filter((l) => l.jobId === id)
  const failedAt = logs.find((l) => l.msg === 'training failed')!.time as number
  const starts = logs.filter((l) => l.msg === 'training started')
  assert.equal(starts.length, 2)
  const waitedMs = (starts[1].time as number) - failedAt
  t.diagnostic(`retried ${waitedMs} ms after the failure`)
  assert.ok(waitedMs >= 1900, `retried after only ${waitedMs} ms`)

  // The failed attempt left no tensors behind: tfjs's fit leaks some of
  // its own when a callback throws.
  const ready = stack.worker!.logs.find((l) => l.msg === 'worker ready')!
  for (const msg of ['job failed', 'job completed']) {
    const line = logs.find((l) => l.msg === msg)!
    assert.equal(line.tensors, ready.tensors, `tensors after ${msg}`)
  }
})

test('bad data fails on its first attempt, without a retry', async () => {
  // Targets near float32's limit: the squared error is infinite at once.
  const huge = (await call('POST', '/v1/datasets', { name: 'h',
    task: 'regression', rows: rows.map((r) => ({ x: r.x, y: 3e38 })) })).body.id
  const id = (await call('POST', '/v1/jobs', { model: 'diverged',
    dataset: huge, spec: spec(1, 'linear', 'meanSquaredError'),
    training: { epochs: 3, batchSize: 16 } })).body.id

  const done = await finished(id)
  assert.equal(done.state, 'failed')
  assert.equal(done.error.code, 'TQ_ERR_JOB_DIVERGED')
  assert.equal(done.attempts, 1)
  const starts = stack.worker!.logs.filter((l) =>
    l.jobId === id && l.msg === 'training started')
  assert.equal(starts.length, 1)
})

test("the worker's /metrics counts those attempts and their epochs", async () => {
  const ready = stack.worker!.logs.find((l) => l.msg === 'worker ready')!
  const text = await (await fetch(ready.metricsUrl as string)).text()
  const value = (name: string) => Number(text.split('\n')
    .find((l) => l.startsWith(name + ' '))?.split(' ')[1])
  assert.equal(value('tensorq_training_jobs_total{outcome="retried"}'), 1)
  assert.equal(value('tensorq_training_jobs_total{outcome="completed"}'), 1)
  assert.equal(value('tensorq_training_jobs_total{outcome="failed"}'), 1)
  // The retried job's three epochs; the failed attempts finished none.
  assert.equal(value('tensorq_training_epoch_duration_seconds_count'), 3)
  assert.equal(value('tensorq_worker_tensors'), 0)
  assert.ok(value('process_resident_memory_bytes') > 0)
})
