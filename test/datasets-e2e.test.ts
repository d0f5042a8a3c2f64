import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { after, before, describe, test } from 'node:test'
import { mnistSplit } from '../scripts/mnist-split.ts'
import { barPng, form, idxFile, zipOf } from './helpers/files.ts'
import {
  cleanUp, eventually, startTestApi, startTestWorker, testEnv,
  type TestApi, type TestWorker,
} from './helpers/harness.ts'

// Datasets as people have them, uploaded as files through the real HTTP
// server and trained by a worker: the Iris CSV, MNIST as IDX files, and
// a zip of PNGs in one folder per class.

const SHARED = new URL('../../shared/data/iris.csv', import.meta.url)
const IRIS = readFileSync(existsSync(SHARED) ? SHARED
  : new URL('./fixtures/iris.csv', import.meta.url), 'utf8')

describe('file uploads train', () => {
  const env = testEnv()
  let api: TestApi
  let worker: TestWorker

  before(async () => {
    api = await startTestApi(env, true)
    worker = await startTestWorker(env)
  })

  after(async () => {
    await worker?.stop()
    await api?.close()
    await cleanUp(env)
  })

  type Body = NonNullable<RequestInit['body']> | object

  async function call(method: string, path: string, body?: Body) {
    const json = body !== undefined && !(body instanceof FormData)
    const res = await fetch(api.url + path, {
      method,
      headers: json ? { 'content-type': 'application/json' } : {},
      body: json ? JSON.stringify(body) : body as NonNullable<RequestInit['body']> | undefined,
    })
    return { status: res.status, body: await res.json() as any }
  }

  async function train(model: string, dataset: string, spec: object,
    training: object): Promise<number> {
    const queued = await call('POST', '/v1/jobs',
      { model, dataset, spec, training })
    assert.equal(queued.status, 202, JSON.stringify(queued.body))
    const job = await eventually(async () => {
      const { body } = await call('GET', `/v1/jobs/${queued.body.id}`)
      return ['completed', 'failed'].includes(body.state) ? body : undefined
    }, 180_000, model)
    assert.equal(job.state, 'completed', JSON.stringify(job.error))
    return job.result.version
  }

  const dense = (units: number) => ({
    layers: [
      { type: 'dense', units: 32, activation: 'relu' },
      { type: 'dense', units, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
    optimizer: { type: 'adam', learningRate: 0.01 },
  })

  test('Iris from a CSV file predicts species from raw rows', async (t) => {
    const [header, ...rows] = IRIS.trim().split(/\r?\n/)
    // Every fifth flower is held out, ten of each species.
    const held = rows.filter((_, i) => i % 5 === 0)
    const kept = rows.filter((_, i) => i % 5 !== 0)
    const csv = Buffer.from([header, ...kept].join('\n'))
    const up = await call('POST', '/v1/datasets', form(
      { name: 'iris', label: 'species' }, [['file', 'iris.csv', csv]]))
    assert.equal(up.status, 201, JSON.stringify(up.body))

    const version = await train('iris', up.body.id, dense(3),
      { epochs: 60, batchSize: 16, seed: 3 })
    const names = header.split(',')
    const instances = held.map((line) => Object.fromEntries(
      line.split(',').slice(0, 4).map((v, i) => [names[i], Number(v)])))
    const predicted = await call('POST',
      `/v1/models/iris/predict?version=${version}`, { instances })
    assert.equal(predicted.status, 200, JSON.stringify(predicted.body))
    const right = held.filter((line, i) =>
      predicted.body.classes[i] === line.split(',')[4]).length
    const accuracy = right / held.length
    t.diagnostic(`held-out accuracy ${accuracy}`)
    assert.ok(accuracy >= 0.9, `held-out accuracy ${accuracy}`)
  })

  test('MNIST from an IDX pair', async (t) => {
    const { train: digits, test: held } = mnistSplit(3000)
    const bytes = (ds: typeof digits) =>
      ds.flatMap((d) => d.pixels.map((p) => Math.round(p * 255)))
    const up = await call('POST', '/v1/datasets', form({ name: 'mnist' }, [
      ['images', 'train-images-idx3-ubyte.gz',
        idxFile([digits.length, 28, 28], bytes(digits), true)],
      ['labels', 'train-labels-idx1-ubyte',
        idxFile([digits.length], digits.map((d) => d.label))],
    ]))
    assert.equal(up.status, 201, JSON.stringify(up.body))
    assert.deepEqual(up.body.inputShape, [28, 28, 1])

    const spec = dense(10)
    const version = await train('mnist-idx', up.body.id,
      { ...spec, layers: [{ type: 'flatten' }, ...spec.layers] },
      { epochs: 6, batchSize: 32, seed: 5 })
    const sample = held.slice(0, 500)
    const instances = sample.map((d) => Array.from({ length: 28 }, (_, r) =>
      Array.from({ length: 28 }, (_, c) =>
        [Math.round(d.pixels[r * 28 + c] * 255) / 255])))
    const predicted = await call('POST',
      `/v1/models/mnist-idx/predict?version=${version}`, { instances })
    assert.equal(predicted.status, 200)
    const right = sample.filter((d, i) =>
      predicted.body.classes[i] === String(d.label)).length
    const accuracy = right / sample.length
    t.diagnostic(`held-out accuracy ${accuracy}`)
    assert.ok(accuracy > 0.9, `held-out accuracy ${accuracy}`)
  })

  test('a zip of PNGs trains a small CNN', async (t) => {
    let s = 11
    const noise = () => ((s = (s * 48271) % 2147483647) / 2147483647)
    const entries: Array<[string, Buffer]> = []
    const heldOut: Array<[string, Buffer]> = []
    for (let i = 0; i < 60; i++) {
      const offset = i % 8
      for (const [kind, vertical] of [['across', false], ['down', true]] as const) {
        const png = await barPng(8, vertical, offset, noise)
        ;(i < 48 ? entries : heldOut).push([`bars/${kind}/${i}.png`, png])
      }
    }
    const up = await call('POST', '/v1/datasets', form({ name: 'bars' },
      [['file', 'bars.zip', await zipOf(entries)]]))
    assert.equal(up.status, 201, JSON.stringify(up.body))
    assert.deepEqual(up.body.inputShape, [8, 8, 1])

    const version = await train('bars', up.body.id, {
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 2, activation: 'softmax' },
      ],
      loss: 'categoricalCrossentropy',
      optimizer: { type: 'adam', learningRate: 0.01 },
    }, { epochs: 15, batchSize: 16, seed: 7 })

    // The held-out images go as files, prepared at predict as the upload's.
    const instances = heldOut.map(([, png]) => ({ b64: png.toString('base64') }))
    const predicted = await call('POST',
      `/v1/models/bars/predict?version=${version}`, { instances })
    assert.equal(predicted.status, 200, JSON.stringify(predicted.body))

    const sharp = (await import('sharp')).default
    const arrays = await Promise.all(heldOut.map(async ([, png]) => {
      const raw = await sharp(png).toColourspace('b-w').raw().toBuffer()
      return Array.from({ length: 8 }, (_, r) =>
        Array.from({ length: 8 }, (_, c) => [raw[r * 8 + c] / 255]))
    }))
    const same = await call('POST',
      `/v1/models/bars/predict?version=${version}`, { instances: arrays })
    same.body.predictions.forEach((row: number[], i: number) => row.forEach(
      (v, j) => assert.ok(Math.abs(v - predicted.body.predictions[i][j]) < 1e-6)))

    const broken = await call('POST', `/v1/models/bars/predict`,
      { instances: [instances[0], { b64: 'bm90IGFuIGltYWdl' }] })
    assert.equal(broken.status, 400)
    assert.equal(broken.body.details.path, 'instances[1].b64')
    const garbled = await call('POST', `/v1/models/bars/predict`,
      { instances: [{ b64: '!!!not base64***' }] })
    assert.equal(garbled.status, 400)
    assert.match(garbled.body.message, /instances\[0\].b64: is not base64/)
    const extra = await call('POST', `/v1/models/bars/predict`,
      { instances: [{ ...instances[0], size: 16 }] })
    assert.equal(extra.status, 400)
    assert.equal(extra.body.details.path, 'instances[0].size')
    const right = heldOut.filter(([name], i) =>
      name.includes(`/${predicted.body.classes[i]}/`)).length
    const accuracy = right / heldOut.length
    t.diagnostic(`held-out accuracy ${accuracy} (chance 0.5)`)
    assert.ok(accuracy > 0.75, `held-out accuracy ${accuracy}`)
  })
})
