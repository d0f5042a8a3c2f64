import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, startTestWorker, testEnv, useStack } from './helpers/harness.ts'

// One epoch that lasts several times the lock, with a second worker
// checking for stalled jobs every second: the healthy worker renews its
// lock between batches, so the job is never taken from it.

const LOCK_MS = 5000
const env = testEnv({ WORKER_LOCK_DURATION_MS: String(LOCK_MS),
  WORKER_STALLED_INTERVAL_MS: '1000' })
const stack = useStack(env)
const { call } = stack

test('a long epoch with a short lock is not taken for a stall', async (t) => {
  const rows = Array.from({ length: 28000 }, (_, i) => ({
    x: Array.from({ length: 32 }, (_, j) => Math.sin(i * (j + 1))), y: i % 2 }))
  const dataset = (await call('POST', '/v1/datasets', { name: 'd', rows })).body.id
  const id = (await call('POST', '/v1/jobs', {
    model: 'long-epoch', dataset,
    spec: { layers: [{ type: 'dense', units: 768, activation: 'relu' },
      { type: 'dense', units: 768, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs: 1, batchSize: 32 },
  })).body.id

  // Started once the first worker has taken the job, so that it only
  // watches for stalls.
  const trainer = stack.worker!
  await eventually(async () => trainer.logs.find((l) =>
    l.msg === 'training started'), 30_000, 'training to start')
  const watcher = await startTestWorker(env)
  try {
    const done = await eventually(async () => {
      const { body } = await call('GET', `/v1/jobs/${id}`)
      return ['completed', 'failed'].includes(body.state) ? body : undefined
    }, 240_000, 'the job to finish')
    assert.equal(done.state, 'completed', JSON.stringify(done.error))

    const started = trainer.logs.find((l) => l.msg === 'training started')!
    const epoch = trainer.logs.find((l) => l.msg === 'epoch finished')!
    const epochMs = (epoch.time as number) - (started.time as number)
    t.diagnostic(`one epoch took ${epochMs} ms against a ${LOCK_MS} ms lock`)
    // Otherwise the lock never needed renewing and this shows nothing.
    assert.ok(epochMs > 2 * LOCK_MS, `the epoch took only ${epochMs} ms`)

    assert.equal(done.attempts, 1)
    for (const w of [trainer, watcher]) {
      assert.equal(w.logs.filter((l) => l.msg === 'job stalled').length, 0)
    }
    assert.equal(watcher.logs.filter((l) => l.msg === 'training started')
      .length, 0, 'the watching worker took the job')
  } finally {
    await watcher.stop()
  }
})
