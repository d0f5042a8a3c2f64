import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  cleanUp, eventually, startTestApi, startTestWorker, storeDir, testEnv,
  type TestApi, type TestWorker,
} from './helpers/harness.ts'

// A worker killed with SIGKILL in mid-training: once its lock runs out,
// another worker takes the job and goes on from the last checkpoint.
// The lock is short here, so this also shows that a healthy worker keeps
// renewing it between batches: the job never changes hands before the
// kill.

const env = testEnv({ WORKER_LOCK_DURATION_MS: '5000',
  WORKER_STALLED_INTERVAL_MS: '1000' })
let api: TestApi
const workers: TestWorker[] = []

before(async () => {
  api = await startTestApi(env)
})

after(async () => {
  for (const w of workers) await w.stop()
  await api?.close()
  await cleanUp(env)
})

async function call(method: 'GET' | 'POST', url: string, payload?: object) {
  const res = await api.app.inject({ method, url, payload })
  return { status: res.statusCode, body: res.json() }
}

test('kill -9 mid-training: another worker resumes from a checkpoint', async (t) => {
  const rows = Array.from({ length: 3000 }, (_, i) => ({
    x: Array.from({ length: 16 }, (_, j) => Math.sin(i * (j + 1))), y: i % 2 }))
  const dataset = (await call('POST', '/v1/datasets', { name: 'd', rows })).body.id
  const queued = await call('POST', '/v1/jobs', {
    model: 'resumed', dataset,
    spec: { layers: [{ type: 'dense', units: 64, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs: 40, batchSize: 16 },
  })
  const id = queued.body.id

  const first = await startTestWorker(env)
  workers.push(first)
  await eventually(async () => {
    const { body } = await call('GET', `/v1/jobs/${id}`)
    return body.history.length >= 3 ? body : undefined
  }, 60_000, 'three epochs')
  first.child.kill('SIGKILL')
  await new Promise((r) => first.child.once('exit', r))

  const second = await startTestWorker(env)
  workers.push(second)
  const done = await eventually(async () => {
    const { body } = await call('GET', `/v1/jobs/${id}`)
    return ['completed', 'failed'].includes(body.state) ? body : undefined
  }, 120_000, 'the job to complete')
  assert.equal(done.state, 'completed', JSON.stringify(done.error))

  const resumed = second.logs.find((l) => l.msg === 'resumed from checkpoint')
  assert.ok(resumed, 'the second worker did not resume from a checkpoint')
  t.diagnostic(`resumed after epoch ${resumed.epoch}`)
  assert.ok((resumed.epoch as number) >= 3)
  assert.deepEqual(done.history.map((r: any) => r.epoch),
    Array.from({ length: 40 }, (_, i) => i + 1))
  assert.ok(done.attempts >= 2, `attempts ${done.attempts}`)
  // The second worker's log lines name one attempt, the record's.
  const started = second.logs.find((l) => l.msg === 'training started')
  assert.equal(started?.attempt, resumed.attempt)
  assert.equal(resumed.attempt, done.attempts)
  assert.equal(first.logs.filter((l) => l.msg === 'job stalled').length, 0)

  const model = await call('GET', '/v1/models/resumed')
  assert.equal(model.body.versions.length, 1)
})

test('a job whose workers keep dying ends failed, recorded, without a checkpoint',
  async () => {
    // One stall allowed: the second worker killed under it is the last.
    const strict = testEnv({ WORKER_LOCK_DURATION_MS: '5000',
      WORKER_STALLED_INTERVAL_MS: '1000', JOB_ATTEMPTS: '1' })
    const strictApi = await startTestApi(strict)
    try {
      const post = async (url: string, payload: object) =>
        (await strictApi.app.inject({ method: 'POST', url, payload })).json()
      const rows = Array.from({ length: 3000 }, (_, i) => ({
        x: Array.from({ length: 16 }, (_, j) => Math.cos(i * (j + 1))),
        y: i % 2 }))
      const dataset = (await post('/v1/datasets', { name: 'd', rows })).id
      const id = (await post('/v1/jobs', { model: 'doomed', dataset,
        spec: { layers: [{ type: 'dense', units: 64, activation: 'relu' },
          { type: 'dense', units: 2, activation: 'softmax' }],
        loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
        training: { epochs: 200, batchSize: 16 } })).id
      const get = async () => (await strictApi.app.inject(`/v1/jobs/${id}`))
        .json()

      for (let kill = 0; kill < 2; kill++) {
        const doomed = await startTestWorker(strict)
        await eventually(async () => doomed.logs.some((l) => l.jobId === id &&
          l.msg === 'epoch finished') && (await get()).history.length > 0 ||
          undefined, 60_000, 'an epoch shown')
        doomed.child.kill('SIGKILL')
        await new Promise((r) => doomed.child.once('exit', r))
      }
      const last = await startTestWorker(strict)
      workers.push(last)
      const ended = await eventually(async () => {
        const body = await get()
        return body.state === 'failed' ? body : undefined
      }, 60_000, 'the job to fail')
      assert.equal(ended.error.code, 'TQ_ERR_JOB_TRAINING_FAILED')
      assert.match(ended.error.message, /stopped answering/)
      assert.ok(ended.history.length >= 1)

      // Its record is in the store, as any finished job's, and its
      // checkpoint is gone.
      const dir = storeDir(strict)
      await eventually(async () => (await readdir(join(dir, 'checkpoints'))
        .catch(() => [])).length === 0 || undefined, 10_000,
      'the checkpoint to go')
      const stored = JSON.parse(await readFile(join(dir, 'jobs', `${id}.json`),
        'utf8'))
      assert.equal(stored.state, 'failed')
      assert.equal(stored.history.length, ended.history.length)
    } finally {
      await strictApi.close()
      await cleanUp(strict)
    }
  })
