import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { pino } from 'pino'
import { buildModel, compileModel } from '../src/spec/build-model.ts'
import { putGraph } from '../src/spec/graph-model.ts'
import type { ModelSpec } from '../src/spec/schema.ts'
import { initBackend, tf } from '../src/tf/backend.ts'
import { normalizeEdges } from '../src/tf/layers/register.ts'
import { deserializeModel, serializeModel } from '../src/tf/model-io.ts'

before(async () => {
  await initBackend('wasm', pino({ level: 'silent' }))
})

// A path 0–1–2–3 and a lone node 4, both directions listed.
const NODES = 5
const EDGES = Int32Array.from([0, 1, 1, 0, 1, 2, 2, 1, 2, 3, 3, 2])
const FEATURES = Float32Array.from([1, 0, 0, 1, 1, 1, 2, 0, 0, 3])

/** D^-1/2 (A + I) D^-1/2 as a dense matrix, the textbook way. */
function denseAdjacency(): number[][] {
  const a = Array.from({ length: NODES }, (_, i) =>
    Array.from({ length: NODES }, (_, j): number => (i === j ? 1 : 0)))
  for (let e = 0; e < EDGES.length; e += 2) a[EDGES[e]][EDGES[e + 1]] = 1
  const degree = a.map((row) => row.reduce((s, v) => s + v, 0))
  return a.map((row, i) => row.map((v, j) => v / Math.sqrt(degree[i] * degree[j])))
}

const SPEC: ModelSpec = {
  layers: [{ type: 'graphConv', units: 3, name: 'conv' }],
  loss: 'meanSquaredError',
  optimizer: { type: 'sgd' },
}

function graphModel(spec: ModelSpec) {
  const edges = normalizeEdges(NODES, EDGES)
  const model = buildModel(spec, [2],
    { numNodes: NODES, numEdges: edges.source.length })
  putGraph(model, FEATURES, edges)
  return model
}

test('graphConv computes Â·X·W + b by message passing', () => {
  const model = graphModel(SPEC)
  const conv = model.getLayer('conv')
  const [kernel, , ...edges] = conv.getWeights()
  conv.setWeights([kernel, tf.tensor1d([0.1, -0.2, 0.3]), ...edges])

  const ids = tf.tensor2d([0, 1, 2, 3, 4], [5, 1])
  const got = (model.predict(ids) as tf.Tensor).arraySync() as number[][]

  const w = conv.getWeights()[0].arraySync() as number[][]
  const x = Array.from({ length: NODES }, (_, i) => [FEATURES[2 * i], FEATURES[2 * i + 1]])
  const xw = x.map((row) => [0, 1, 2].map((u) => row[0] * w[0][u] + row[1] * w[1][u]))
  const a = denseAdjacency()
  const want = a.map((row) => [0, 1, 2].map((u) =>
    row.reduce((s, v, j) => s + v * xw[j][u], 0) + [0.1, -0.2, 0.3][u]))

  for (let i = 0; i < NODES; i++) {
    for (let u = 0; u < 3; u++) assert.ok(Math.abs(got[i][u] - want[i][u]) < 1e-5,
      `node ${i} unit ${u}: ${got[i][u]} vs ${want[i][u]}`)
  }
  ids.dispose()
  model.dispose()
})

test('a graph model trains on the default backend and loads again', async () => {
  const spec: ModelSpec = {
    layers: [
      { type: 'graphConv', units: 8, activation: 'relu',
        kernelRegularizer: { l2: 1e-4 }, activityRegularizer: { l1: 1e-4 } },
      { type: 'dropout', rate: 0.2 },
      { type: 'graphConv', units: 2, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
    optimizer: { type: 'adam', learningRate: 0.05 },
  }
  const model = graphModel(spec)
  compileModel(model, spec)
  const ids = tf.tensor2d([0, 1, 3, 4], [4, 1])
  const ys = tf.tensor2d([[1, 0], [1, 0], [0, 1], [0, 1]])
  const history = await model.fit(ids, ys, { epochs: 30, verbose: 0,
    batchSize: 4 })
  const losses = history.history.loss as number[]
  assert.ok(losses.at(-1)! < losses[0], `loss ${losses[0]} → ${losses.at(-1)}`)

  const all = tf.tensor2d([0, 1, 2, 3, 4], [5, 1])
  const before = (model.predict(all) as tf.Tensor).arraySync() as number[][]
  const loaded = await deserializeModel(await serializeModel(model))
  const after = (loaded.predict(all) as tf.Tensor).arraySync() as number[][]
  before.forEach((row, i) => row.forEach((v, j) =>
    assert.ok(Math.abs(v - after[i][j]) < 1e-6, `node ${i}: ${v} vs ${after[i][j]}`)))

  model.optimizer?.dispose()
  for (const t of [ids, ys, all]) t.dispose()
  model.dispose()
  loaded.dispose()
})
