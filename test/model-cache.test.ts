import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { pino } from 'pino'
import { ModelCache } from '../src/serving/model-cache.ts'
import {
  publishVersion, type ModelManifest,
} from '../src/serving/model-registry.ts'
import { openStore } from '../src/store/open-store.ts'
import { initBackend, tf } from '../src/tf/backend.ts'
import { serializeModel } from '../src/tf/model-io.ts'
import { cleanUp, startTestApi, testEnv } from './helpers/harness.ts'

// The model cache on a real store with real tfjs models: one load for
// concurrent first requests, LRU eviction by bytes with the evicted
// model disposed, and never while a request is using it.

const dir = join(tmpdir(), `tensorq-cache-${randomUUID().slice(0, 8)}`)
const store = openStore(`file://${dir}`)
const log = pino({ level: 'silent' })
after(() => rm(dir, { recursive: true, force: true }))

let published: Promise<number> | undefined

/**
 * Stores three versions of a 4-16-2 model, once; resolves to the weight
 * bytes of one.
 */
function publish(): Promise<number> {
  published ??= publishThree()
  return published
}

async function publishThree(): Promise<number> {
  await initBackend('wasm', log)
  let bytes = 0
  for (let i = 0; i < 3; i++) {
    const model = tf.sequential({ layers: [
      tf.layers.dense({ units: 16, inputShape: [4], activation: 'relu' }),
      tf.layers.dense({ units: 2, activation: 'softmax' })] })
    const artifacts = await serializeModel(model)
    model.dispose()
    bytes = artifacts.weights.byteLength
    await publishVersion(store, { model: 'm', inputShape: [4],
      preprocessing: { kind: 'tensor' } } as unknown as
      Omit<ModelManifest, 'version' | 'createdAt'>, artifacts)
  }
  return bytes
}

function counted() {
  const n = { hit: 0, miss: 0, evict: 0, bytes: 0 }
  return { n, counts: { hit: () => n.hit++, miss: () => n.miss++,
    evict: () => n.evict++, bytes: (b: number) => { n.bytes = b } } }
}

test('concurrent first requests load a version once', async () => {
  const bytes = await publish()
  const { n, counts } = counted()
  const cache = new ModelCache({ store, maxBytes: 10 * bytes, log, counts })
  const models = await Promise.all(Array.from({ length: 10 }, () =>
    cache.use('m', 1, async (loaded) => loaded.model)))
  assert.equal(n.miss, 1)
  assert.equal(n.hit, 0)
  assert.ok(models.every((m) => m === models[0]))
  await cache.use('m', 1, async () => undefined)
  assert.equal(n.hit, 1)
  assert.equal(await cache.use('m', 99, async () => 'ran'), undefined)
  cache.close()
})

test('the least recently used version is evicted and disposed', async () => {
  const bytes = await publish()
  const { n, counts } = counted()
  const cache = new ModelCache({ store, maxBytes: 2 * bytes, log, counts })
  const before = tf.memory().numTensors
  await cache.use('m', 1, async () => undefined)
  await cache.use('m', 2, async () => undefined)
  await cache.use('m', 1, async () => undefined) // 2 is now least recent
  const loaded = tf.memory().numTensors
  await cache.use('m', 3, async () => undefined)
  assert.equal(n.evict, 1)
  assert.equal(n.bytes, 2 * bytes)
  // Version 2's four weight tensors went, version 3's came.
  assert.equal(tf.memory().numTensors, loaded)
  assert.equal(n.miss, 3)
  await cache.use('m', 1, async () => undefined)
  assert.equal(n.miss, 3, 'version 1 should still be loaded')
  await cache.use('m', 2, async () => undefined)
  assert.equal(n.miss, 4, 'version 2 should have been evicted')
  cache.close()
  assert.equal(tf.memory().numTensors, before)
})

test('a version in use is disposed only when its request ends', async () => {
  await publish()
  const { counts } = counted()
  const cache = new ModelCache({ store, maxBytes: 1, log, counts })
  let release!: () => void
  const held = new Promise<void>((r) => { release = r })
  let started!: () => void
  const inUse = new Promise<void>((r) => { started = r })
  let usable = false
  const using = cache.use('m', 1, async (loaded) => {
    started()
    await held
    // Evicted meanwhile (the bound holds one), yet still usable here.
    usable = tf.tidy(() =>
      (loaded.model.predict(tf.ones([1, 4])) as tf.Tensor).shape[1] === 2)
  })
  await inUse
  const before = tf.memory().numTensors
  await cache.use('m', 2, async () => undefined) // evicts version 1
  assert.equal(tf.memory().numTensors, before + 4, 'disposed while in use')
  release()
  await using
  assert.ok(usable)
  assert.equal(tf.memory().numTensors, before, 'not disposed after use')
  cache.close()
})

test('readiness is 503 while the store cannot be written', async () => {
  // A file where the store folder should be: every write fails.
  const file = join(tmpdir(), `tensorq-notadir-${randomUUID().slice(0, 8)}`)
  await mkdir(dir, { recursive: true })
  await writeFile(file, 'not a folder')
  const env = testEnv({ TENSORQ_STORE: `file://${file}` })
  const api = await startTestApi(env)
  try {
    const ready = await api.app.inject('/health/ready')
    assert.equal(ready.statusCode, 503)
    assert.equal(ready.json().store, 'down')
    const v2 = await api.app.inject('/v2/health/ready')
    assert.equal(v2.statusCode, 503)
    assert.deepEqual(v2.json(), { ready: false })
  } finally {
    await api.close()
    await cleanUp({ ...env, TENSORQ_STORE: `file://${dir}-gone` })
    await rm(file, { force: true })
  }
})
