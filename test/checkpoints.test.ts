import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { pino } from 'pino'
import {
  encodeCheckpoint, restoreCheckpoint, writeCheckpoint,
} from '../src/queue/checkpoints.ts'
import { buildModel, compileModel } from '../src/spec/build-model.ts'
import type { ModelSpec } from '../src/spec/schema.ts'
import { openStore } from '../src/store/open-store.ts'
import { initBackend, tf } from '../src/tf/backend.ts'

// A checkpoint holds the optimizer's state with the weights: a job resumed
// from it takes the next step exactly as the job it came from would have.

const folder = join(tmpdir(), `tensorq-checkpoints-${process.pid}`)
const store = openStore(`file://${folder}`)

before(async () => {
  await initBackend('wasm', pino({ level: 'silent' }))
})

after(async () => {
  await rm(folder, { recursive: true, force: true })
})

function spec(optimizer: ModelSpec['optimizer']): ModelSpec {
  return {
    layers: [{ type: 'dense', units: 8, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy',
    optimizer,
  } as ModelSpec
}

function model(s: ModelSpec): tf.LayersModel {
  const m = buildModel(s, [4])
  compileModel(m, s)
  return m
}

const x = () => tf.tensor2d(Array.from({ length: 64 }, (_, i) =>
  [Math.sin(i), Math.cos(i), (i % 7) / 7, (i % 3) - 1]))
const y = () => tf.oneHot(tf.tensor1d(Array.from({ length: 64 },
  (_, i) => i % 2), 'int32'), 2).toFloat()

async function fitOnce(m: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor) {
  await m.fit(xs, ys, { epochs: 1, batchSize: 16, shuffle: false,
    verbose: 0 })
}

async function values(m: tf.LayersModel): Promise<number[]> {
  return m.getWeights().flatMap((w) => [...w.dataSync()])
}

function close(a: number[], b: number[]): void {
  assert.equal(a.length, b.length)
  const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i])))
  assert.ok(worst < 1e-6, `weights differ by ${worst}`)
}

for (const optimizer of [{ type: 'adam' }, { type: 'rmsprop' },
  { type: 'momentum' }] as Array<ModelSpec['optimizer']>) {
  test(`${optimizer.type}: a resumed model steps as the original`, async () => {
    const s = spec(optimizer)
    const [xs, ys] = [x(), y()]
    const before = tf.memory().numTensors
    const original = model(s)
    await fitOnce(original, xs, ys)
    await fitOnce(original, xs, ys)
    const id = `job-${optimizer.type}`
    await writeCheckpoint(store, id, await encodeCheckpoint(original,
      { epoch: 2, history: [] }))

    const resumed = model(s)
    const stood = await restoreCheckpoint(store, id, resumed)
    assert.equal(stood?.epoch, 2)
    close(await values(resumed), await values(original))

    // The same next epoch from the same state: the same weights. With
    // the optimizer's state started afresh they drift apart at once.
    await fitOnce(original, xs, ys)
    await fitOnce(resumed, xs, ys)
    close(await values(resumed), await values(original))

    for (const m of [original, resumed]) {
      m.optimizer.dispose()
      m.dispose()
    }
    assert.equal(tf.memory().numTensors, before, 'tensors left behind')
    tf.dispose([xs, ys])
  })
}

test('adamax: its state cannot be read, so a resume starts it afresh',
  async () => {
    const s = spec({ type: 'adamax' } as ModelSpec['optimizer'])
    const [xs, ys] = [x(), y()]
    const original = model(s)
    await fitOnce(original, xs, ys)
    await writeCheckpoint(store, 'job-adamax', await encodeCheckpoint(
      original, { epoch: 1, history: [] }))
    const resumed = model(s)
    assert.equal((await restoreCheckpoint(store, 'job-adamax', resumed))
      ?.epoch, 1)
    close(await values(resumed), await values(original))
    for (const m of [original, resumed]) {
      m.optimizer.dispose()
      m.dispose()
    }
    tf.dispose([xs, ys])
  })
