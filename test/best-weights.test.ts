import assert from 'node:assert/strict'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { tf } from '../src/tf/backend.ts'
import { deserializeModel } from '../src/tf/model-io.ts'
import {
  eventually, startTestWorker, storeDir, testEnv, useStack,
} from './helpers/harness.ts'

// earlyStopping.restoreBestWeights: the version stores the best epoch's
// weights and metrics; a job stopped before its end (handed back) keeps
// the weights it got to, and a handed-back job cancelled while queued
// keeps its history and drops its checkpoint. A handed-back job resumed
// by another worker shows a history that only grows, and goes on from
// the best epoch of the attempts before; a job whose training ended but
// whose version could not be stored only stores it on its retry.

const env = testEnv()
const stack = useStack(env, { worker: false })
const { call } = stack

const XOR = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]
const rows = XOR.map(([a, b, y]) => ({ x: [a, b], y }))
const SPEC = {
  layers: [{ type: 'dense', units: 16, activation: 'tanh' },
    { type: 'dense', units: 2, activation: 'softmax' }],
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
  optimizer: { type: 'sgd', learningRate: 0.5 },
}
// acc reaches 1 early and stays: its first epoch there is the best, and
// every later epoch has a lower loss.
const training = (epochs: number, restore = true) => ({ epochs,
  batchSize: 4, shuffle: false, seed: 7,
  earlyStopping: restore ? { monitor: 'acc', patience: 100_000,
    restoreBestWeights: true } : undefined })

let uploaded: Promise<string> | undefined
/** The dataset both tests train on, uploaded by the first to ask. */
function xor(): Promise<string> {
  uploaded ??= call('POST', '/v1/datasets', { name: 'xor',
    task: 'classification', rows })
    .then((res) => res.body.id)
  return uploaded
}

async function queue(model: string, epochs: number, restore = true):
  Promise<string> {
  const res = await call('POST', '/v1/jobs', { model, dataset: await xor(),
    spec: SPEC, training: training(epochs, restore) })
  assert.equal(res.status, 202, JSON.stringify(res.body))
  return res.body.id
}

async function job(id: string) {
  return (await call('GET', `/v1/jobs/${id}`)).body
}

/** The row of the first epoch where acc reached 1: the best one. */
function bestRow(history: Array<{ loss: number; acc: number }>) {
  const best = history.findIndex((r) => r.acc === 1)
  assert.ok(best >= 0 && best < history.length - 1, `best epoch ${best + 1}`)
  return history[best]
}

async function finished(id: string) {
  return eventually(async () => {
    const j = await job(id)
    return ['completed', 'failed', 'cancelled'].includes(j.state) ? j
      : undefined
  }, 60_000, `job ${id}`)
}

/** Trains job `id` on a worker of its own until `epochs` show; stops it. */
async function trainThenStop(id: string, epochs: number): Promise<void> {
  const worker = await startTestWorker(env)
  await eventually(async () => (await job(id)).history.length >= epochs ||
    undefined, 60_000, `${epochs} epochs`)
  await worker.stop()
}

test('the version holds the best epoch, with its metrics', async () => {
  const worker = await startTestWorker(env)
  try {
    const id = await queue('best', 300)
    const done = await finished(id)
    assert.equal(done.state, 'completed', JSON.stringify(done.error))

    const best = bestRow(done.history)
    const version = (await call('GET', '/v1/models/best/versions/1')).body
    assert.equal(version.epochs, 300)
    assert.equal(version.metrics.loss, best.loss)
    assert.notEqual(version.metrics.loss, done.history.at(-1)!.loss)
  } finally {
    await worker.stop()
  }
})

test('handed back, a job keeps its weights; cancelled, its history', async () => {
  const id = await queue('handed', 10_000)
  await trainThenStop(id, 200)

  const queued = await job(id)
  assert.equal(queued.state, 'queued')
  const history = queued.history as Array<{ loss: number; acc: number }>
  const best = history.findIndex((r) => r.acc === 1)
  const last = history.at(-1)!
  assert.ok(best >= 0 && last.loss < history[best].loss / 10,
    `best loss ${history[best]?.loss}, last ${last.loss}`)

  // The checkpoint's weights are where training got to, not the best.
  const file = join(storeDir(env), 'checkpoints', `${id}.bin`)
  const bytes = await readFile(file)
  const length = bytes.readUInt32BE(0)
  const head = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8'))
  assert.equal(head.epoch, history.length)
  // tfjs here is the one the api in this process set up.
  const model = await deserializeModel({ modelJson: head.modelJson,
    weights: bytes.subarray(4 + length) })
  const x = tf.tensor2d(XOR.map(([a, b]) => [a, b]))
  const y = tf.oneHot(tf.tensor1d(XOR.map((r) => r[2]), 'int32'), 2)
  const loss = tf.metrics.categoricalCrossentropy(y, model.predict(x) as
    tf.Tensor).mean().dataSync()[0]
  tf.dispose([x, y])
  model.dispose()
  assert.ok(loss < (last.loss + history[best].loss) / 2,
    `checkpoint loss ${loss}: best ${history[best].loss}, last ${last.loss}`)

  const cancel = await call('POST', `/v1/jobs/${id}/cancel`)
  assert.equal(cancel.status, 202)
  const cancelled = await job(id)
  assert.equal(cancelled.state, 'cancelled')
  assert.equal(cancelled.history.length, history.length)
  assert.equal(cancelled.progress.epoch, history.length)
  assert.match(cancelled.error.message,
    new RegExp(`while queued, after epoch ${history.length}`))
  await assert.rejects(stat(file), { code: 'ENOENT' })
})

test("resumed by another worker, a job's history only grows", async () => {
  const id = await queue('resumed', 3000, false)
  await trainThenStop(id, 300)

  const second = await startTestWorker(env)
  try {
    // Polled often: the log of a job taken up again must never be
    // cleared and written anew, which a client would see as epochs lost.
    const lengths: number[] = []
    let done
    while (!done) {
      const body = await job(id)
      lengths.push(body.history.length)
      if (body.state !== 'active' && body.state !== 'queued') done = body
      else await new Promise((r) => setTimeout(r, 5))
    }
    assert.equal(done.state, 'completed', JSON.stringify(done.error))
    const shrank = lengths.findIndex((n, i) => i > 0 && n < lengths[i - 1])
    assert.equal(shrank, -1,
      `history ${lengths[shrank - 1]} rows, then ${lengths[shrank]}`)
    assert.deepEqual(done.history.map((r: { epoch: number }) => r.epoch),
      Array.from({ length: 3000 }, (_, i) => i + 1))
  } finally {
    await second.stop()
  }
})

test('handed back and resumed, a job keeps the best epoch of both attempts',
  async () => {
    const id = await queue('across', 3000)
    await trainThenStop(id, 200)
    const second = await startTestWorker(env)
    try {
      const done = await finished(id)
      assert.equal(done.state, 'completed', JSON.stringify(done.error))
      assert.equal(done.attempts, 2)
      const version = (await call('GET', '/v1/models/across/versions/1')).body
      assert.equal(version.metrics.loss, bestRow(done.history).loss)
    } finally {
      await second.stop()
    }
  })

test('training over, a retry only stores the version, with the best metrics',
  async () => {
    // A file where the model's folder goes: the first attempt trains to
    // the end, then cannot store its version.
    const blocker = join(storeDir(env), 'models', 'retried')
    await mkdir(join(storeDir(env), 'models'), { recursive: true })
    await writeFile(blocker, 'not a folder')
    const id = await queue('retried', 300)
    const worker = await startTestWorker(env)
    try {
      await eventually(async () => (await job(id)).lastError, 60_000,
        'the first attempt to fail')
      await rm(blocker)
      const done = await finished(id)
      assert.equal(done.state, 'completed', JSON.stringify(done.error))
      assert.equal(done.attempts, 2)
      assert.equal(done.history.length, 300)
      const starts = worker.logs.filter((l) => l.jobId === id &&
        l.msg === 'epoch finished')
      assert.equal(starts.length, 300, 'the retry trained again')
      const version = (await call('GET', '/v1/models/retried/versions/1'))
        .body
      assert.equal(version.metrics.loss, bestRow(done.history).loss)
    } finally {
      await worker.stop()
    }
  })
