import assert from 'node:assert/strict'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, storeDir, testEnv, useStack } from './helpers/harness.ts'

// Cancel through the API while a worker, in its own process, trains.

const env = testEnv()
const stack = useStack(env)
const { call } = stack
let uploaded: Promise<string> | undefined

/** The dataset both tests train on, uploaded by the first to ask. */
function dataset(): Promise<string> {
  const rows = Array.from({ length: 2000 }, (_, i) => ({
    x: Array.from({ length: 32 }, (_, j) => Math.sin(i * (j + 1))),
    y: i % 2,
  }))
  uploaded ??= call('POST', '/v1/datasets', { name: 'waves', rows })
    .then((res) => res.body.id)
  return uploaded
}

async function queue(model: string, epochs: number) {
  return call('POST', '/v1/jobs', {
    model, dataset: await dataset(),
    spec: { layers: [{ type: 'dense', units: 128, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs, batchSize: 8 },
  })
}

const state = async (id: string) => (await call('GET', `/v1/jobs/${id}`)).body

test('cancel a queued job and an active one', async (t) => {
  const long = (await queue('long', 500)).body.id
  await eventually(async () => {
    const job = await state(long)
    return job.state === 'active' && job.progress?.epoch >= 1 ? job : undefined
  }, 60_000, 'the long job to train')

  // One job at a time in this worker: the second waits.
  const waiting = (await queue('waiting', 500)).body.id
  const queued = await call('POST', `/v1/jobs/${waiting}/cancel`)
  assert.equal(queued.status, 202)
  assert.equal(queued.body.state, 'cancelled')
  assert.equal((await state(waiting)).state, 'cancelled')
  assert.equal((await state(waiting)).error.code, 'TQ_ERR_JOB_CANCELLED')

  const asked = Date.now()
  const active = await call('POST', `/v1/jobs/${long}/cancel`)
  assert.equal(active.status, 202)
  assert.equal(active.body.state, 'active')
  const ended = await eventually(async () => {
    const job = await state(long)
    return job.state === 'active' ? undefined : job
  }, 10_000, 'the cancel to take')
  const took = Date.now() - asked
  t.diagnostic(`the active job ended cancelled ${took} ms after the request`)
  assert.equal(ended.state, 'cancelled', JSON.stringify(ended))
  assert.equal(ended.error.code, 'TQ_ERR_JOB_CANCELLED')
  assert.ok(took < 2000, `cancelled after ${took} ms`)
  assert.ok(ended.history.length < 500)
  // Epochs trained since the last report are in the record, and its
  // progress is theirs.
  assert.equal(ended.progress.epoch, ended.history.length)
  assert.equal((await call('GET', '/v1/models/long')).status, 404)
  // A cancel is what the client asked for: logged as such, at info.
  const said = stack.worker!.logs.filter((l) => l.jobId === long)
  assert.ok(said.some((l) => l.msg === 'job cancelled' && l.level === 30),
    JSON.stringify(said.map((l) => l.msg)))
  assert.ok(!said.some((l) => l.msg === 'job failed' ||
    (l.level as number) >= 40),
    JSON.stringify(said.map((l) => [l.msg, l.level])))

  // The worker goes on to the next job.
  const next = (await queue('next', 1)).body.id
  const done = await eventually(async () => {
    const job = await state(next)
    return ['completed', 'failed'].includes(job.state) ? job : undefined
  }, 60_000, 'the next job')
  assert.equal(done.state, 'completed')

  const again = await call('POST', `/v1/jobs/${long}/cancel`)
  assert.equal(again.status, 409)
  assert.equal(again.body.code, 'TQ_ERR_JOB_FINISHED')
  const unknown = await call('POST',
    '/v1/jobs/00000000-0000-4000-8000-000000000000/cancel')
  assert.equal(unknown.status, 404)
})

test('a job past its time limit ends failed with its code', async () => {
  const res = await call('POST', '/v1/jobs', {
    model: 'slow', dataset: await dataset(),
    spec: { layers: [{ type: 'dense', units: 128, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs: 500, batchSize: 8, maxRuntimeSeconds: 2 },
  })
  assert.equal(res.status, 202, JSON.stringify(res.body))
  const ended = await eventually(async () => {
    const job = await state(res.body.id)
    return ['completed', 'failed', 'cancelled'].includes(job.state)
      ? job : undefined
  }, 30_000, 'the time limit')
  assert.equal(ended.state, 'failed')
  assert.equal(ended.error.code, 'TQ_ERR_JOB_TIMEOUT')
  assert.match(ended.error.message, /past its limit of 2 s/)
  assert.equal(ended.attempts, 1)
  assert.equal((await call('GET', '/v1/models/slow')).status, 404)
  // It trained whole epochs, each checkpointed, and ended for good:
  // nothing would read its checkpoint again.
  assert.ok(ended.history.length >= 1)
  await assert.rejects(stat(join(storeDir(env), 'checkpoints',
    `${res.body.id}.bin`)), { code: 'ENOENT' })
})
