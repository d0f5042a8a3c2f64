import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { pino } from 'pino'
import { buildModel } from '../src/spec/build-model.ts'
import { checkBatchLimit } from '../src/spec/limits.ts'
import type { ModelSpec } from '../src/spec/schema.ts'
import { initBackend, tf } from '../src/tf/backend.ts'
import { deserializeModel, serializeModel } from '../src/tf/model-io.ts'
import { cleanUp, startTestApi, testEnv, type TestApi } from './helpers/harness.ts'

// Specs that pass the shape checks of tfjs but would fail (or hang) once
// a worker ran them: each is refused before it is queued.

const HEAD = { type: 'dense', units: 2, activation: 'softmax' }

describe('specs that would only fail when run', () => {
  const env = testEnv()
  let api: TestApi
  const ids: Record<string, string> = {}

  async function send(url: string, payload: object) {
    const res = await api.app.inject({ method: 'POST', url, payload })
    return { status: res.statusCode, body: res.json() }
  }

  before(async () => {
    api = await startTestApi(env)
    const zeros = (shape: number[]): unknown =>
      shape.length === 0 ? 0 : Array.from({ length: shape[0] },
        () => zeros(shape.slice(1)))
    for (const [name, shape] of Object.entries({
      image: [3, 3, 1], sequence: [3, 2], flat: [2],
    })) {
      const rows = [0, 1].map((y) => ({ x: zeros(shape), y }))
      ids[name] = (await send('/v1/datasets', { name, rows })).body.id
    }
  })

  after(async () => {
    await api.close()
    await cleanUp(env)
  })

  const cases: Array<[string, string, object[], RegExp, string]> = [
    ['pooling down to nothing', 'image',
      [{ type: 'maxPooling2d', poolSize: 5 }, { type: 'flatten' }, HEAD],
      /\[batch,0,0,1\], which holds no values/, 'spec.layers[0]'],
    ['1-d pooling down to nothing', 'sequence',
      [{ type: 'maxPooling1d', poolSize: 5 }, { type: 'flatten' }, HEAD],
      /holds no values/, 'spec.layers[0]'],
    ['a reshape to another size, which tfjs refuses only when it runs',
      'image', [{ type: 'reshape', targetShape: [2, 5] }, { type: 'flatten' },
        HEAD],
      new RegExp(String.raw`\(reshape\) cannot turn its input of shape ` +
        String.raw`\[batch,3,3,1\] \(9 values a row\) into \[batch,2,5\] \(10\)`),
      'spec.layers[0]'],
    ['a 1-d convolution over an image', 'image',
      [{ type: 'conv1d', filters: 4, kernelSize: 3 }, { type: 'flatten' }, HEAD],
      /expected ndim=3, found ndim=4/, 'spec.layers[0]'],
    ['a dilated convolution, which tfjs cannot train', 'image',
      [{ type: 'conv2d', filters: 2, kernelSize: 2, dilationRate: 2 },
        { type: 'flatten' }, HEAD],
      /spec.layers\[0\].dilationRate must be 1: tfjs has no gradient/,
      'spec.layers[0].dilationRate'],
    ['causal padding, which tfjs cannot run', 'sequence',
      [{ type: 'conv1d', filters: 2, kernelSize: 2, padding: 'causal' },
        { type: 'flatten' }, HEAD],
      /padding must be one of valid, same/, 'spec.layers[0].padding'],
    ['an embedding after another layer', 'flat',
      [{ type: 'dense', units: 3 }, { type: 'embedding', inputDim: 4,
        outputDim: 2 }, { type: 'flatten' }, HEAD],
      /embedding\) looks up token ids, so it must be the first/,
      'spec.layers[1]'],
    ['an activity regularizer inside bidirectional', 'sequence',
      [{ type: 'bidirectional', layer: { type: 'lstm', units: 2,
        activityRegularizer: { l1: 1 } } }, HEAD],
      /put activityRegularizer on the bidirectional layer/, 'spec.layers[0]'],
    ['bidirectional around a dense layer', 'sequence',
      [{ type: 'bidirectional', layer: { type: 'dense', units: 2 } }, HEAD],
      /bidirectional wraps simpleRNN, lstm or gru, not "dense"/,
      'spec.layers[0].layer.type'],
  ]
  for (const [what, dataset, layers, message, path] of cases) {
    test(what, async () => {
      const res = await send('/v1/jobs', { model: 'm', dataset: ids[dataset],
        spec: { layers, loss: 'categoricalCrossentropy',
          optimizer: { type: 'adam' } } })
      assert.equal(res.status, 400, JSON.stringify(res.body))
      assert.match(res.body.message, message)
      assert.equal(res.body.details.path, path)
      // Not the names tfjs gives layers (conv1d_Conv1D3), which count up
      // from one request to the next.
      assert.doesNotMatch(res.body.message, /_[A-Z][A-Za-z0-9]*?[0-9]+\b/)
    })
  }

  test('an option tensorq cannot train is the spec\'s, not a shape', async () => {
    const res = await send('/v1/jobs', { model: 'm', dataset: ids.image,
      spec: { layers: [{ type: 'conv2d', filters: 2, kernelSize: 2,
        dilationRate: [1, 2] }, { type: 'flatten' }, HEAD],
      loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } } })
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'TQ_ERR_SPEC_INVALID')
  })

  test('an activity regularizer on bidirectional itself is queued', async () => {
    const res = await send('/v1/jobs', { model: 'm', dataset: ids.sequence,
      spec: { layers: [{ type: 'bidirectional', layer: { type: 'gru', units: 2 },
        activityRegularizer: { l2: 0.01 } }, HEAD],
      loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } } })
    assert.equal(res.status, 202, JSON.stringify(res.body))
  })
})

test('graph memory counts the edges each graphConv keeps', async () => {
  await initBackend('wasm', pino({ level: 'silent' }))
  const layers = Array.from({ length: 200 }, () =>
    ({ type: 'graphConv' as const, units: 1 }))
  const spec: ModelSpec = { layers, loss: 'meanSquaredError',
    optimizer: { type: 'sgd' } }
  const graph = { numNodes: 1_000_000, numEdges: 1_000_004 }
  assert.throws(() => checkBatchLimit(spec, [1], 32, 1_000_000, graph),
    /1000004 edges .* would hold [0-9,]+ values, more than/)
  assert.doesNotThrow(() => checkBatchLimit({ ...spec,
    layers: layers.slice(0, 2) }, [1], 32, 1_000_000, graph))
})

test('a model that starts with activityRegularization loads again', async () => {
  await initBackend('wasm', pino({ level: 'silent' }))
  const spec: ModelSpec = {
    layers: [{ type: 'activityRegularization', l1: 0.1 },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' },
  }
  const model = buildModel(spec, [2])
  const again = await deserializeModel(await serializeModel(model))
  const x = tf.tensor2d([[0, 1]])
  assert.deepEqual((again.predict(x) as tf.Tensor).dataSync(),
    (model.predict(x) as tf.Tensor).dataSync())
  tf.dispose([x])
  model.dispose()
  again.dispose()
})
