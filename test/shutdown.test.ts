import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, startTestWorker, testEnv, useStack } from './helpers/harness.ts'

// SIGTERM on a worker in mid-training: it stops at the next batch, keeps
// a checkpoint and hands the job back; another worker goes on from there.

const env = testEnv()
const stack = useStack(env, { worker: false })
const { call } = stack

test('SIGTERM mid-training: the job is handed back and resumed', async (t) => {
  const rows = Array.from({ length: 3000 }, (_, i) => ({
    x: Array.from({ length: 16 }, (_, j) => Math.sin(i * (j + 1))), y: i % 2 }))
  const dataset = (await call('POST', '/v1/datasets', { name: 'd', rows })).body.id
  const id = (await call('POST', '/v1/jobs', {
    model: 'handed-back', dataset,
    spec: { layers: [{ type: 'dense', units: 64, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs: 40, batchSize: 16, validationSplit: 0.1 },
  })).body.id

  const first = await startTestWorker(env)
  await eventually(async () => {
    const { body } = await call('GET', `/v1/jobs/${id}`)
    return body.history.length >= 2 ? body : undefined
  }, 60_000, 'two epochs')
  const signalled = Date.now()
  first.child.kill('SIGTERM')
  const code = await new Promise((r) => first.child.once('exit', r))
  const exitMs = Date.now() - signalled
  t.diagnostic(`the first worker exited ${exitMs} ms after SIGTERM`)
  assert.equal(code, 0)

  const handed = first.logs.find((l) => l.msg === 'job handed back')
  assert.ok(handed, 'the first worker did not hand the job back')
  assert.equal(first.logs.filter((l) => l.msg === 'job failed').length, 0)
  const waiting = await call('GET', `/v1/jobs/${id}`)
  assert.equal(waiting.body.state, 'queued')
  assert.equal(waiting.body.history.length, handed.epoch)

  const second = await startTestWorker(env)
  try {
    const done = await eventually(async () => {
      const { body } = await call('GET', `/v1/jobs/${id}`)
      return ['completed', 'failed'].includes(body.state) ? body : undefined
    }, 120_000, 'the job to complete')
    assert.equal(done.state, 'completed', JSON.stringify(done.error))

    const resumed = second.logs.find((l) => l.msg === 'resumed from checkpoint')
    assert.ok(resumed, 'the second worker started from scratch')
    assert.equal(resumed.epoch, handed.epoch)
    assert.ok((resumed.epoch as number) >= 2)
    assert.deepEqual(done.history.map((r: any) => r.epoch),
      Array.from({ length: 40 }, (_, i) => i + 1))
    // The epoch cut short was trained again in full: every row has its
    // validation loss, which tfjs computes after an epoch's last batch.
    for (const row of done.history) assert.ok('val_loss' in row, JSON.stringify(row))
    const model = await call('GET', '/v1/models/handed-back')
    assert.equal(model.body.versions.length, 1)
  } finally {
    await second.stop()
  }
})

test('a worker hit by a fault signal dies of it rather than handle it',
  async () => {
    // A JavaScript handler for SIGSEGV once hung a worker whose WASM heap
    // was overrun: it returned to the faulting instruction forever. Sent
    // from outside, the signal shows whether anything handles it.
    const worker = await startTestWorker(env)
    const exited = new Promise<string | null>((resolve) =>
      worker.child.once('exit', (_code, signal) => resolve(signal)))
    worker.child.kill('SIGSEGV')
    assert.equal(await exited, 'SIGSEGV')
  })
