import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { pino } from 'pino'
import type { DatasetRecord } from '../src/data/dataset.ts'
import { checkSpec } from '../src/spec/check-spec.ts'
import type { ModelSpec, TrainingSettings } from '../src/spec/schema.ts'
import { initBackend, tf } from '../src/tf/backend.ts'

const dataset: DatasetRecord = {
  id: 'd', name: 'd', format: 'json', rows: 100, inputShape: [4],
  task: 'classification', classes: ['a', 'b', 'c'],
  preprocessing: { kind: 'tensor' }, createdAt: '',
}

const LIMIT = { maxParameters: 1_000_000, maxLayers: 256 }

const training: TrainingSettings = {
  epochs: 1, batchSize: 8, validationSplit: 0, shuffle: true, priority: 5,
}

function spec(units: number, loss: ModelSpec['loss'] =
  'categoricalCrossentropy'): ModelSpec {
  return {
    layers: [
      { type: 'dense', units: 8, activation: 'relu',
        kernelRegularizer: { l1: 0.01, l2: 0.01 } },
      { type: 'dropout', rate: 0.5 },
      { type: 'dense', units },
      { type: 'activation', activation: 'softmax' },
    ],
    loss,
    optimizer: { type: 'sgd', learningRate: 0.1 },
  }
}

before(async () => {
  await initBackend('wasm', pino({ level: 'silent' }))
})

test('a fitting spec gets the dataset input shape and leaks no tensors', () => {
  const start = tf.memory().numTensors
  const checked = checkSpec(spec(3), training, dataset, LIMIT)

  assert.deepEqual(checked.input, { shape: [4] })
  assert.equal(tf.memory().numTensors, start)
})

test('an output width that is not the class count names the layer', () => {
  const start = tf.memory().numTensors
  assert.throws(() => checkSpec(spec(5), training, dataset, LIMIT), (err: any) => {
    assert.equal(err.code, 'TQ_ERR_SPEC_SHAPE_MISMATCH')
    assert.equal(err.details.path, 'spec.layers[3]')
    assert.match(err.message, /5 units but the dataset has 3 classes/)
    return true
  })
  assert.equal(tf.memory().numTensors, start)
})

test('binary cross-entropy with one unit fits two classes only', () => {
  const two = { ...dataset, classes: ['no', 'yes'] }
  const sigmoid: ModelSpec = {
    layers: [{ type: 'dense', units: 1, activation: 'sigmoid' }],
    loss: 'binaryCrossentropy',
    optimizer: { type: 'adam' },
  }
  assert.doesNotThrow(() => checkSpec(sigmoid, training, two, LIMIT))
  assert.throws(() => checkSpec(sigmoid, training, dataset, LIMIT),
    /binaryCrossentropy with 1 unit needs 2 classes/)
})

test('a classification loss on a regression dataset names the loss', () => {
  const regression: DatasetRecord = { ...dataset, task: 'regression',
    classes: undefined, targetShape: [1] }
  assert.throws(() => checkSpec(spec(1), training, regression, LIMIT), (err: any) => {
    assert.equal(err.details.path, 'spec.loss')
    return true
  })
  assert.doesNotThrow(() =>
    checkSpec(spec(1, 'meanSquaredError'), training, regression, LIMIT))
})

test('a declared input shape must be the dataset shape', () => {
  const wrong = { ...spec(3), input: { shape: [5] } }
  assert.throws(() => checkSpec(wrong, training, dataset, LIMIT),
    /spec.input.shape \[5\] differs from the dataset's input shape \[4\]/)
})

test('a spec over the parameter limit is refused before it is built', () => {
  const huge: ModelSpec = {
    layers: [
      { type: 'dense', units: 65536 },
      { type: 'dense', units: 65536 },
      { type: 'dense', units: 3 },
    ],
    loss: 'categoricalCrossentropy',
    optimizer: { type: 'adam' },
  }
  const start = tf.memory().numBytes
  assert.throws(() => checkSpec(huge, training, dataset, LIMIT), (err: any) => {
    assert.equal(err.code, 'TQ_ERR_SPEC_TOO_LARGE')
    assert.equal(err.details.parameters, 4 * 65536 + 65536 + 65536 * 65536 +
      65536 + 65536 * 3 + 3)
    return true
  })
  assert.equal(tf.memory().numBytes, start)
})

test('early stopping on val_loss needs a validation split', () => {
  const settings = { ...training,
    earlyStopping: { monitor: 'val_loss', patience: 1, minDelta: 0,
      restoreBestWeights: false } }
  assert.throws(() => checkSpec(spec(3), settings, dataset, LIMIT), (err: any) => {
    assert.equal(err.code, 'TQ_ERR_SPEC_INVALID')
    assert.equal(err.details.path, 'training.earlyStopping.monitor')
    return true
  })
})

test('a validation split that leaves no rows to train on', () => {
  const settings = { ...training, validationSplit: 0.995 }
  assert.throws(() => checkSpec(spec(3), settings, dataset, LIMIT),
    /leaves no rows for validation or none for training/)
})

test('duplicate layer names name the second layer', () => {
  const named = spec(3)
  named.layers[0].name = 'a'
  named.layers[2].name = 'a'
  assert.throws(() => checkSpec(named, training, dataset, LIMIT), (err: any) => {
    assert.equal(err.code, 'TQ_ERR_SPEC_INVALID')
    assert.equal(err.details.path, 'spec.layers[2].name')
    return true
  })
})

test('a layer name tfjs also generates is a 400, not a crash', () => {
  const named = spec(3)
  named.layers[0].name = 'a'
  named.layers[2].name = 'a_input'
  assert.throws(() => checkSpec(named, training, dataset, LIMIT), (err: any) => {
    assert.equal(err.statusCode, 400)
    return true
  })
})

test('binary cross-entropy needs regression targets in [0, 1]', () => {
  const regression: DatasetRecord = { ...dataset, task: 'regression',
    classes: undefined, targetShape: [1], targetRange: [-3, 200000] }
  const sigmoid: ModelSpec = {
    layers: [{ type: 'dense', units: 1, activation: 'sigmoid' }],
    loss: 'binaryCrossentropy',
    optimizer: { type: 'adam' },
  }
  assert.throws(() => checkSpec(sigmoid, training, regression, LIMIT),
    /needs targets between 0 and 1; the dataset's run from -3 to 200000/)
})

test('an embedding needs whole token ids below its inputDim', () => {
  const tokens: DatasetRecord = { ...dataset, inputShape: [5],
    inputRange: [0, 20], integerInputs: true }
  const embed = (inputDim: number): ModelSpec => ({
    layers: [
      { type: 'embedding', inputDim, outputDim: 4 },
      { type: 'flatten' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
    loss: 'categoricalCrossentropy',
    optimizer: { type: 'adam' },
  })
  assert.doesNotThrow(() => checkSpec(embed(21), training, tokens, LIMIT))
  assert.throws(() => checkSpec(embed(20), training, tokens, LIMIT), (err: any) => {
    assert.equal(err.details.path, 'spec.layers[0].inputDim')
    assert.match(err.message, /token ids from 0 to 19; the dataset's values run from 0 to 20/)
    return true
  })
  assert.throws(() => checkSpec(embed(50), training,
    { ...tokens, integerInputs: false }, LIMIT), /not all whole numbers/)
})

test('a batch whose activations would not fit in memory names batchSize', () => {
  const wide: ModelSpec = {
    layers: [{ type: 'dense', units: 65536 }, { type: 'dense', units: 3 }],
    loss: 'categoricalCrossentropy',
    optimizer: { type: 'adam' },
  }
  const big = { ...dataset, rows: 20000 }
  const settings = { ...training, batchSize: 20000 }
  assert.throws(() => checkSpec(wide, settings, big, LIMIT), (err: any) => {
    assert.equal(err.code, 'TQ_ERR_SPEC_TOO_LARGE')
    assert.equal(err.details.path, 'training.batchSize')
    assert.match(err.message, /use training.batchSize of at most 409\d/)
    return true
  })
})

test('early stopping must monitor something the model logs', () => {
  const settings = { ...training, validationSplit: 0.2,
    earlyStopping: { monitor: 'val_acc', patience: 1, minDelta: 0,
      restoreBestWeights: false } }
  assert.throws(() => checkSpec(spec(3), settings, dataset, LIMIT),
    /"val_acc" is not logged by this model; it logs loss, val_loss/)
  const withAccuracy = { ...spec(3), metrics: ['accuracy' as const] }
  assert.doesNotThrow(() => checkSpec(withAccuracy, settings, dataset, LIMIT))
})
