import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { pino } from 'pino'
import { buildModel, compileModel } from '../src/spec/build-model.ts'
import type { LayerSpec } from '../src/spec/layer-schemas.ts'
import { countParameters } from '../src/spec/limits.ts'
import type { ModelSpec } from '../src/spec/schema.ts'
import { initBackend, tf } from '../src/tf/backend.ts'
import { deserializeModel, serializeModel } from '../src/tf/model-io.ts'

before(async () => {
  await initBackend('wasm', pino({ level: 'silent' }))
})

const HEAD: LayerSpec = { type: 'dense', units: 2, activation: 'softmax' }

// One small network per family, with the input shape it takes.
const FAMILIES: Record<string, { input: number[]; layers: LayerSpec[];
  ids?: number }> = {
  dense: { input: [6], layers: [
    { type: 'dense', units: 8, activation: 'relu',
      kernelRegularizer: { l1: 1e-4, l2: 1e-4 } },
    { type: 'batchNormalization' },
    { type: 'layerNormalization' },
    { type: 'dropout', rate: 0.1 },
    { type: 'activation', activation: 'gelu' },
    { type: 'reshape', targetShape: [2, 4] },
    { type: 'flatten' },
  ] },
  conv2d: { input: [8, 8, 1], layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same',
      activation: 'relu', biasRegularizer: { l2: 1e-4 } },
    { type: 'maxPooling2d', poolSize: 2 },
    { type: 'conv2d', filters: 4, kernelSize: [2, 2], strides: 2 },
    { type: 'averagePooling2d', poolSize: 1 },
    { type: 'globalAveragePooling2d' },
  ] },
  conv1d: { input: [10, 3], layers: [
    { type: 'conv1d', filters: 4, kernelSize: 3, activation: 'relu' },
    { type: 'spatialDropout1d', rate: 0.2 },
    { type: 'maxPooling1d', poolSize: 2 },
    { type: 'averagePooling1d', poolSize: 2 },
    { type: 'globalMaxPooling1d' },
  ] },
  recurrent: { input: [6, 3], layers: [
    { type: 'simpleRNN', units: 4, returnSequences: true },
    { type: 'lstm', units: 4, returnSequences: true, recurrentDropout: 0.1 },
    { type: 'bidirectional', layer: { type: 'gru', units: 3,
      returnSequences: true }, mergeMode: 'concat' },
    { type: 'globalAveragePooling1d' },
  ] },
  embedding: { input: [5], ids: 12, layers: [
    { type: 'embedding', inputDim: 12, outputDim: 4 },
    { type: 'gru', units: 4 },
  ] },
}

function specOf(layers: LayerSpec[]): ModelSpec {
  return {
    layers: [...layers, HEAD],
    loss: 'categoricalCrossentropy',
    optimizer: { type: 'adam', learningRate: 0.01 },
    metrics: ['accuracy'],
  }
}

function inputs(input: number[], ids?: number): tf.Tensor {
  const n = 8
  if (ids) return tf.randomUniform([n, ...input], 0, ids, 'int32').toFloat()
  return tf.randomNormal([n, ...input], 0, 1, 'float32', 7)
}

for (const [family, { input, layers, ids }] of Object.entries(FAMILIES)) {
  test(`${family}: builds, counts its parameters, trains on WASM, reloads`,
    async () => {
      const spec = specOf(layers)
      const model = buildModel(spec, input)
      assert.equal(countParameters(spec, input), model.countParams())

      compileModel(model, spec)
      const x = inputs(input, ids)
      const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1], 'int32'), 2)
      const history = await model.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0 })
      assert.ok(history.history.loss.every((l) => Number.isFinite(l as number)))

      const again = await deserializeModel(await serializeModel(model))
      const a = (model.predict(x) as tf.Tensor).dataSync()
      const b = (again.predict(x) as tf.Tensor).dataSync()
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5)

      model.optimizer?.dispose()
      tf.dispose([x, y])
      model.dispose()
      again.dispose()
    })
}

test('a conv2d on flat rows names the layer and both shapes', () => {
  const spec = specOf([{ type: 'conv2d', filters: 2, kernelSize: 3 }])
  assert.throws(() => buildModel(spec, [784]), (err: any) => {
    assert.equal(err.code, 'TQ_ERR_SPEC_SHAPE_MISMATCH')
    assert.equal(err.details.path, 'spec.layers[0]')
    assert.match(err.message,
      /layers\[0\] \(conv2d\) does not fit its input of shape \[batch,784\]/)
    return true
  })
})

test('every optimizer builds with its parameters', () => {
  const optimizers: ModelSpec['optimizer'][] = [
    { type: 'sgd', learningRate: 0.1 },
    { type: 'momentum', momentum: 0.8, useNesterov: true },
    { type: 'adam', beta1: 0.8, beta2: 0.99, epsilon: 1e-7 },
    { type: 'adamax', decay: 0.01 },
    { type: 'adadelta', rho: 0.9 },
    { type: 'adagrad', initialAccumulatorValue: 0.2 },
    { type: 'rmsprop', momentum: 0.1, centered: true },
  ]
  for (const optimizer of optimizers) {
    const spec = { ...specOf([]), optimizer }
    const model = buildModel(spec, [3])
    compileModel(model, spec)
    model.optimizer.dispose()
    model.dispose()
  }
})

test('an activity regularizer adds its penalty to the training loss', async () => {
  // One row [1, 1] through 3 units of all-ones weights gives [2, 2, 2]
  // against targets of 0: the squared error is 4, and an L2 penalty of
  // 0.5 on the activations adds 0.5 × (4 + 4 + 4) = 6.
  const losses: number[] = []
  for (const activityRegularizer of [undefined, { l2: 0.5 }]) {
    const spec: ModelSpec = {
      layers: [{ type: 'dense', units: 3, useBias: false,
        kernelInitializer: 'ones', activityRegularizer }],
      loss: 'meanSquaredError',
      optimizer: { type: 'sgd', learningRate: 1e-9 },
    }
    const model = buildModel(spec, [2])
    compileModel(model, spec)
    const x = tf.tensor2d([[1, 1]])
    const y = tf.zeros([1, 3])
    const history = await model.fit(x, y, { epochs: 1, verbose: 0 })
    losses.push(history.history.loss[0] as number)

    // Saved with its penalty layer, it loads and predicts as before.
    const again = await deserializeModel(await serializeModel(model))
    assert.deepEqual((again.predict(x) as tf.Tensor).dataSync(),
      (model.predict(x) as tf.Tensor).dataSync())
    model.optimizer?.dispose()
    tf.dispose([x, y])
    model.dispose()
    again.dispose()
  }
  assert.ok(Math.abs(losses[0] - 4) < 1e-4, `plain loss ${losses[0]}`)
  assert.ok(Math.abs(losses[1] - 10) < 1e-4, `regularized loss ${losses[1]}`)
})
