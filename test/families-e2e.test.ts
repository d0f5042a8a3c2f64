import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { mnistSplit, type Digit } from '../scripts/mnist-split.ts'
import { communityGraph } from '../scripts/community-graph.ts'
import {
  eventually, predictInFreshProcess, testEnv, useStack,
} from './helpers/harness.ts'

// Every family trained through the service on the default backend: dense,
// convolutional and recurrent networks on real MNIST digits (flat, as
// images, as sequences of rows), an embedding on token sequences, and
// graph convolutions on a graph. Each stored version is then loaded by a
// fresh process, which must predict what the server predicted.

function image(d: Digit): number[][][] {
  return Array.from({ length: 28 }, (_, r) =>
    Array.from({ length: 28 }, (_, c) => [d.pixels[r * 28 + c]]))
}

function rows(d: Digit): number[][] {
  return Array.from({ length: 28 }, (_, r) => d.pixels.slice(r * 28, r * 28 + 28))
}

describe('every family trains through the API', () => {
  const env = testEnv()
  const { train, test: held } = mnistSplit(1500)
  const heldOut = held.slice(0, 300)
  const { call } = useStack(env)

  /** Trains `model` on an uploaded dataset; returns the version. */
  async function trainOn(model: string, dataset: object, spec: object,
    training: object): Promise<number> {
    const upload = await call('POST', '/v1/datasets', { name: model, ...dataset })
    assert.equal(upload.status, 201, JSON.stringify(upload.body))

    const queued = await call('POST', '/v1/jobs', {
      model, dataset: upload.body.id, spec, training,
    })
    assert.equal(queued.status, 202, JSON.stringify(queued.body))
    const job = await eventually(async () => {
      const { body } = await call('GET', `/v1/jobs/${queued.body.id}`)
      return ['completed', 'failed'].includes(body.state) ? body : undefined
    }, 180_000, model)
    assert.equal(job.state, 'completed', JSON.stringify(job.error))
    return job.result.version
  }

  /** Predicts through the API, and again from a fresh process. */
  async function predictTwice(model: string, version: number, body: object) {
    const predicted = await call('POST', `/v1/models/${model}/predict`, body)
    assert.equal(predicted.status, 200, JSON.stringify(predicted.body))

    const fresh = await predictInFreshProcess(env, model, version, body)
    const served = predicted.body.predictions as number[][]
    assert.equal(fresh.predictions.length, served.length)
    served.forEach((row, i) => row.forEach((v, j) => {
      const other = fresh.predictions[i][j]
      assert.ok(Math.abs(v - other) <= 1e-5,
        `${model} row ${i} output ${j}: served ${v}, fresh process ${other}`)
    }))
    return predicted.body
  }

  async function trainAndScore(model: string, toX: (d: Digit) => unknown,
    spec: object, epochs: number): Promise<number> {
    const rows = train.map((d) => ({ x: toX(d), y: d.label }))
    const version = await trainOn(model, { rows }, spec,
      { epochs, batchSize: 32 })

    const predicted = await predictTwice(model, version,
      { instances: heldOut.map(toX) })
    const right = heldOut.filter((d, i) =>
      predicted.classes[i] === String(d.label)).length
    return right / heldOut.length
  }

  test('a dense network on flat pixels', async (t) => {
    const accuracy = await trainAndScore('mlp', (d) => d.pixels, {
      layers: [
        { type: 'dense', units: 32, activation: 'relu',
          activityRegularizer: { l1: 1e-5 } },
        { type: 'dropout', rate: 0.1 },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
      loss: 'categoricalCrossentropy',
      optimizer: { type: 'adam', learningRate: 0.003 },
    }, 3)
    t.diagnostic(`held-out accuracy ${accuracy}`)
    assert.ok(accuracy > 0.7, `held-out accuracy ${accuracy} (chance 0.1)`)
  })

  test('a CNN on 28×28×1 images', async (t) => {
    const accuracy = await trainAndScore('cnn', image, {
      layers: [
        { type: 'conv2d', filters: 8, kernelSize: 3, activation: 'relu' },
        { type: 'maxPooling2d', poolSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
      loss: 'categoricalCrossentropy',
      optimizer: { type: 'adam', learningRate: 0.003 },
    }, 2)
    t.diagnostic(`held-out accuracy ${accuracy}`)
    assert.ok(accuracy > 0.6, `held-out accuracy ${accuracy} (chance 0.1)`)
  })

  test('an LSTM and a GRU on digits as 28 rows of 28', async (t) => {
    for (const type of ['lstm', 'gru']) {
      const accuracy = await trainAndScore(type, rows, {
        layers: [
          { type, units: 32 },
          { type: 'dense', units: 10, activation: 'softmax' },
        ],
        loss: 'categoricalCrossentropy',
        optimizer: { type: 'adam', learningRate: 0.01 },
      }, 3)
      t.diagnostic(`${type} held-out accuracy ${accuracy}`)
      assert.ok(accuracy > 0.4, `${type} held-out accuracy ${accuracy}`)
    }
  })

  test('an embedding and a GRU on token sequences', async (t) => {
    // Does token 5 occur in a sequence of 12 tokens from 0 to 19? About
    // half the sequences hold one; the order of tokens says nothing.
    let state = 7
    const token = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0
      return state % 20
    }
    const rows = Array.from({ length: 1200 }, () => {
      const x = Array.from({ length: 12 }, token)
      return { x, y: x.includes(5) ? 'has-5' : 'no-5' }
    })
    const [fit, held] = [rows.slice(0, 1000), rows.slice(1000)]
    const version = await trainOn('tokens', { rows: fit }, {
      layers: [
        { type: 'embedding', inputDim: 20, outputDim: 8 },
        { type: 'gru', units: 16 },
        { type: 'dense', units: 2, activation: 'softmax' },
      ],
      loss: 'categoricalCrossentropy',
      optimizer: { type: 'adam', learningRate: 0.01 },
    }, { epochs: 8, batchSize: 32 })

    const predicted = await predictTwice('tokens', version,
      { instances: held.map((r) => r.x) })
    const right = held.filter((r, i) => predicted.classes[i] === r.y).length
    const majority = Math.max(...['has-5', 'no-5'].map((c) =>
      held.filter((r) => r.y === c).length)) / held.length
    const accuracy = right / held.length
    t.diagnostic(`held-out accuracy ${accuracy}, majority class ${majority}`)
    assert.ok(accuracy > 0.85, `accuracy ${accuracy}, majority ${majority}`)

    for (const id of [20, -1, 1.5]) {
      const bad = await call('POST', '/v1/models/tokens/predict',
        { instances: [held[0].x, [...held[1].x.slice(1), id]] })
      assert.equal(bad.status, 400, `token ${id}: ${JSON.stringify(bad.body)}`)
      assert.equal(bad.body.details.path, 'instances[1]')
      assert.match(bad.body.message, /is not a token id.*from 0 to 19/)
    }
  })

  test('graph convolutions on a graph with communities', async (t) => {
    const graph = communityGraph()
    const version = await trainOn('communities',
      { format: 'graph', ...graph }, {
        layers: [
          { type: 'graphConv', units: 16, activation: 'relu',
            kernelRegularizer: { l2: 5e-4 } },
          { type: 'dropout', rate: 0.5 },
          { type: 'graphConv', units: 3, activation: 'softmax' },
        ],
        loss: 'categoricalCrossentropy',
        optimizer: { type: 'adam', learningRate: 0.01 },
        metrics: ['accuracy'],
      }, { epochs: 100, batchSize: 64, seed: 1 })

    const testNodes = graph.nodes.flatMap((n, i) =>
      (n.split === 'test' ? [i] : []))
    const predicted = await predictTwice('communities', version,
      { nodes: testNodes })
    assert.deepEqual(predicted.nodes, testNodes)
    const right = testNodes.filter((node, i) =>
      predicted.classes[i] === graph.nodes[node].label).length
    const accuracy = right / testNodes.length
    t.diagnostic(`held-out node accuracy ${accuracy}`)
    assert.ok(accuracy >= 0.9, `held-out node accuracy ${accuracy}`)

    const manifest = await call('GET',
      `/v1/models/communities/versions/${version}`)
    assert.ok(Math.abs(manifest.body.metrics.test_acc - accuracy) < 1e-6,
      `test_acc ${manifest.body.metrics.test_acc} vs ${accuracy}`)

    const all = await call('POST', '/v1/models/communities/predict', {})
    assert.equal(all.status, 200)
    assert.equal(all.body.predictions.length, graph.nodes.length)

    const rows = await call('POST', '/v1/models/communities/predict',
      { instances: [[1, 2]] })
    assert.equal(rows.status, 400)
    assert.match(rows.body.message, /a graph model; send \{ "nodes"/)
    const outside = await call('POST', '/v1/models/communities/predict',
      { nodes: [0, 300] })
    assert.equal(outside.status, 400)
    assert.equal(outside.body.details.path, 'nodes[1]')
    assert.match(outside.body.message, /node 300 does not exist/)
    // The protocol routes cannot name nodes: their metadata, predict and
    // infer all say so, rather than describe an input they refuse.
    for (const url of ['/v1/models/communities/metadata',
      '/v2/models/communities']) {
      const refused = await call('GET', url)
      assert.equal(refused.status, 400, url)
      assert.match(refused.body.error, /a graph model; use POST/, url)
    }
    const notGraph = await call('POST', '/v1/models/mlp/predict',
      { nodes: [0] })
    assert.equal(notGraph.status, 400)
    assert.match(notGraph.body.message, /mlp is not a graph model/)
    // Not taken silently next to instances either.
    const both = await call('POST', '/v1/models/mlp/predict',
      { instances: [[0, 1]], nodes: [0] })
    assert.equal(both.status, 400)
    assert.equal(both.body.details.path, 'nodes')

    // The same nodes without their edges: dense layers see one node's
    // features only, which hold too faint a hint of its community.
    const alone = await trainOn('communities-alone',
      { format: 'graph', ...graph }, {
        layers: [
          { type: 'dense', units: 16, activation: 'relu' },
          { type: 'dense', units: 3, activation: 'softmax' },
        ],
        loss: 'categoricalCrossentropy',
        optimizer: { type: 'adam', learningRate: 0.01 },
        metrics: ['accuracy'],
      }, { epochs: 100, batchSize: 64, seed: 1 })
    const baseline = await call('GET',
      `/v1/models/communities-alone/versions/${alone}`)
    const without = baseline.body.metrics.test_acc
    t.diagnostic(`the same nodes without edges: ${without}`)
    assert.ok(without < accuracy - 0.15, `without edges ${without}, with ` +
      `${accuracy}: the graph convolutions should be what makes it work`)
  })
})
