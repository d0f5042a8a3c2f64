import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { pino } from 'pino'
import { nativeAddon } from '../src/tf/native-kernels/addon.ts'
import { withSeed } from '../src/tf/seeded-random.ts'
import { initBackend, tf } from '../src/tf/backend.ts'
import { FusedAdam } from '../src/tf/fused-adam.ts'
import { CONV2D_RELU } from '../src/tf/native-kernels/conv-relu.ts'
import { close, random } from './helpers/kernel-values.ts'

// Each kernel the native addon registers (on the WASM backend) is checked
// against the pure-JS CPU backend, which runs beside it in one process.
//
// The addon is optional: it builds at npm install where g++ and
// libopenblas-dev are present. Without it these tests are skipped, saying
// why, unless TENSORQ_REQUIRE_NATIVE is set (.ci/run sets it, having
// installed OpenBLAS, so a broken build fails CI instead of hiding).

let missing: string | false = false
try {
  nativeAddon()
} catch (err) {
  missing = (err as Error).message
  if (process.env.TENSORQ_REQUIRE_NATIVE) throw err
}
const skip = missing ? `native kernels unavailable: ${missing}` : false

// Every call into the addon is counted, so that a test knows the native
// kernel ran rather than the WASM kernel it hands some inputs to.
let calls = 0
const callsOf: Record<string, number> = {}

before(async () => {
  if (missing) return
  await initBackend('native', pino({ level: 'silent' }))
  const addon = nativeAddon() as unknown as Record<string, unknown>
  for (const [name, fn] of Object.entries(addon)) {
    if (typeof fn !== 'function' || name.includes('hread')) continue
    addon[name] = (...args: unknown[]) => {
      calls++
      callsOf[name] = (callsOf[name] ?? 0) + 1
      return (fn as (...a: unknown[]) => unknown)(...args)
    }
  }
})

async function on<T>(backend: string, fn: () => T): Promise<T> {
  await tf.setBackend(backend)
  try {
    return fn()
  } finally {
    await tf.setBackend('wasm')
  }
}

/**
 * Runs `fn` on the native backend and on pure JS and compares the shapes
 * and values. Also checks that the native run leaves no tensor behind,
 * that tfjs ran `kernel` (its profile), and that the addon was called, or
 * with `addonCalls` false that it was not (the input was handed over).
 */
async function matches(fn: () => tf.Tensor | tf.Tensor[], kernel: string,
  tol = 1e-4, addonCalls = true): Promise<void> {
  const shapes = () => tf.tidy(() => [fn()].flat().map((t) => t.shape))
  const values = () => tf.tidy(() => [fn()].flat()
    .flatMap((t) => Array.from(t.dataSync())))

  const start = tf.memory().numTensors
  const before = calls
  const profile = await tf.profile(() => { values() })
  assert.equal(tf.memory().numTensors, start, 'no tensors left behind')
  const ran = profile.kernelNames
  assert.ok(ran.includes(kernel), `${kernel} ran (ran ${ran.join(', ')})`)
  assert.equal(calls > before, addonCalls,
    addonCalls ? 'the addon ran' : 'the addon did not run')

  assert.deepEqual(shapes(), await on('cpu', shapes))
  close(values(), await on('cpu', values), tol)
}

// Every case has at least 8 rows in all: products of fewer go to WASM's
// own kernel (tested below), which is faster for them.
const MATMULS: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
  { a: [8, 6], b: [6, 4], ta: false, tb: false },
  { a: [5, 9], b: [5, 3], ta: true, tb: false },
  { a: [9, 7], b: [3, 7], ta: false, tb: true },
  { a: [7, 9], b: [3, 7], ta: true, tb: true },
  { a: [2, 6, 4], b: [2, 6, 3], ta: true, tb: false },
  // One matrix against a batch, each way round: the broadcast strides.
  { a: [3, 4, 6], b: [1, 5, 6], ta: false, tb: true },
  { a: [1, 4, 6], b: [3, 6, 5], ta: false, tb: false },
  { a: [2, 3, 4, 6], b: [6, 2], ta: false, tb: false },
]

for (const c of MATMULS) {
  test(`native BatchMatMul ${JSON.stringify(c)} matches pure JS`, { skip },
    () => matches(() => tf.matMul(tf.tensor(random(c.a, 4), c.a),
      tf.tensor(random(c.b, 5), c.b), c.ta, c.tb), 'BatchMatMul', 1e-5))
}

test('native BatchMatMul hands batches that broadcast both ways to WASM',
  { skip }, () => matches(() => tf.matMul(
    tf.tensor(random([2, 1, 3, 4], 1), [2, 1, 3, 4]),
    tf.tensor(random([1, 3, 4, 2], 2), [1, 3, 4, 2])), 'BatchMatMul', 1e-5,
  false))

test('native BatchMatMul refuses inner sizes that differ, as WASM does',
  { skip }, () => {
    assert.throws(() => tf.matMul(tf.ones([9, 3]), tf.ones([4, 2])),
      /inner shapes|must match/)
  })

test('native convolutions of empty inputs give zeros of the right shape',
  { skip }, async () => {
    // No channels, and an empty batch: nothing to sum, and nothing to
    // divide a scratch buffer by.
    await matches(() => tf.conv2d(tf.zeros([1, 4, 4, 0]) as tf.Tensor4D,
      tf.zeros([3, 3, 0, 2]) as tf.Tensor4D, 1, 'same'), 'Conv2D', 0)
    await matches(() => tf.grad((k: tf.Tensor) => tf.conv2d(
      tf.zeros([0, 4, 4, 2]) as tf.Tensor4D, k as tf.Tensor4D, 1, 'same')
      .sum())(tf.ones([3, 3, 2, 2])), 'Conv2DBackpropFilter', 0)
  })

test('native BatchMatMul hands products of a few rows to WASM', { skip },
  () => matches(() => tf.matMul(tf.tensor2d(random([2, 6], 1), [2, 6]),
    tf.tensor2d(random([6, 4], 2), [6, 4])), 'BatchMatMul', 1e-5, false))

for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid',
  'leakyrelu', 'prelu'] as const) {
  test(`native _FusedMatMul with bias and ${activation} matches pure JS`,
    { skip }, () => matches(() => tf.fused.matMul({
      a: tf.tensor2d(random([6, 9], 6), [6, 9]),
      b: tf.tensor2d(random([3, 6], 7), [3, 6]),
      transposeA: true, transposeB: true,
      bias: tf.tensor1d(random([3], 8)), activation,
      preluActivationWeights: activation === 'prelu'
        ? tf.tensor1d([0.1, 0.2, 0.3]) : undefined,
      leakyreluAlpha: 0.3,
    }), '_FusedMatMul', 1e-5))
}

test('native _FusedMatMul with a bias that broadcasts by rows', { skip },
  () => matches(() => tf.fused.matMul({
    a: tf.tensor2d(random([8, 5], 1), [8, 5]),
    b: tf.tensor2d(random([5, 3], 2), [5, 3]),
    bias: tf.tensor2d(random([8, 1], 3), [8, 1]), activation: 'relu',
  }), '_FusedMatMul', 1e-5))

test('dense gradients on native match pure JS (the transposed products)',
  { skip }, () => matches(() => {
    const x = tf.tensor2d(random([16, 10], 9), [16, 10])
    const w = tf.tensor2d(random([10, 4], 10), [10, 4])
    return tf.grads((xs: tf.Tensor, ws: tf.Tensor) => tf.matMul(
      xs as tf.Tensor2D, ws as tf.Tensor2D).relu().square().sum())([x, w])
  }, 'BatchMatMul'))

type Shape4 = [number, number, number, number]

const CONVS: Array<{ x: Shape4; k: Shape4; strides: [number, number];
  pad: 'same' | 'valid'; dilations?: [number, number] }> = [
  { x: [2, 7, 7, 3], k: [3, 3, 3, 4], strides: [1, 1], pad: 'valid' },
  { x: [2, 8, 8, 2], k: [3, 3, 2, 5], strides: [1, 1], pad: 'same' },
  { x: [3, 9, 9, 1], k: [5, 5, 1, 2], strides: [2, 2], pad: 'same' },
  { x: [1, 10, 6, 2], k: [2, 3, 2, 3], strides: [2, 1], pad: 'valid' },
  // Strides that leave the last input row and column unused.
  { x: [2, 8, 8, 1], k: [3, 3, 1, 2], strides: [2, 2], pad: 'valid' },
  { x: [1, 7, 9, 3], k: [4, 2, 3, 2], strides: [3, 2], pad: 'same' },
  // The pointwise case skips im2col.
  { x: [2, 5, 5, 4], k: [1, 1, 4, 3], strides: [1, 1], pad: 'valid' },
  { x: [1, 9, 9, 2], k: [3, 3, 2, 2], strides: [1, 1], pad: 'same',
    dilations: [2, 2] },
  // Narrow patches over channels in groups of 16 and 8, borders of padding
  // and a batch of rows that is not a multiple of four.
  { x: [4, 12, 11, 1], k: [3, 3, 1, 16], strides: [1, 1], pad: 'same' },
  { x: [2, 7, 7, 3], k: [3, 3, 3, 24], strides: [1, 1], pad: 'valid' },
  // A patch too wide for the narrow loops (72 values) goes to BLAS.
  { x: [1, 8, 8, 8], k: [3, 3, 8, 8], strides: [1, 1], pad: 'same' },
  // More patch rows than one scratch chunk holds (2^21 floats / 27).
  { x: [2, 240, 200, 3], k: [3, 3, 3, 2], strides: [1, 1], pad: 'same' },
]

for (const c of CONVS) {
  const name = JSON.stringify(c)
  const x = () => tf.tensor4d(random(c.x, 1), c.x)
  const k = () => tf.tensor4d(random(c.k, 2), c.k)
  const conv = (input: tf.Tensor, kernel: tf.Tensor) => tf.conv2d(
    input as tf.Tensor4D, kernel as tf.Tensor4D, c.strides, c.pad, 'NHWC',
    c.dilations ?? 1)

  test(`native Conv2D ${name} matches pure JS`, { skip },
    () => matches(() => conv(x(), k()), 'Conv2D'))

  // Dilated gradients are tfjs's own concern: it refuses them.
  if (c.dilations) continue

  test(`native Conv2DBackpropFilter ${name} matches pure JS`, { skip },
    () => matches(() => tf.grad((kernel: tf.Tensor) =>
      conv(x(), kernel).square().sum())(k()), 'Conv2DBackpropFilter', 2e-4))

  test(`native Conv2DBackpropInput ${name} matches pure JS`, { skip },
    () => matches(() => tf.grad((input: tf.Tensor) =>
      conv(input, k()).square().sum())(x()), 'Conv2DBackpropInput'))
}

test('native FusedConv2D with bias and relu matches pure JS', { skip },
  () => matches(() => tf.fused.conv2d({
    x: tf.tensor4d(random([2, 6, 6, 3], 1), [2, 6, 6, 3]),
    filter: tf.tensor4d(random([3, 3, 3, 4], 2), [3, 3, 3, 4]),
    strides: 1, pad: 'same', bias: tf.tensor1d(random([4], 3)),
    activation: 'relu',
  }), 'FusedConv2D'))

// A convolution with its bias and relu: the kernel Conv2D layers with a
// relu run as on native, else (pure JS) the ops tfjs would run.
function convRelu(x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor | null,
  strides: [number, number], pad: 'same' | 'valid'): tf.Tensor {
  if (tf.getKernel(CONV2D_RELU, tf.getBackend())) {
    const inputs: tf.NamedTensorMap = bias ? { x, filter, bias }
      : { x, filter }
    return tf.engine().runKernel(CONV2D_RELU, inputs, { strides, pad,
      dataFormat: 'NHWC', dilations: [1, 1] } as never) as tf.Tensor
  }
  const y = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, strides, pad)
  return tf.relu(bias ? tf.add(y, bias) : y)
}

const CONV_RELUS: Array<{ x: Shape4; k: Shape4; strides: [number, number];
  pad: 'same' | 'valid'; bias: boolean }> = [
  { x: [2, 9, 9, 1], k: [3, 3, 1, 16], strides: [1, 1], pad: 'valid',
    bias: true },
  { x: [2, 8, 7, 3], k: [3, 3, 3, 5], strides: [2, 1], pad: 'same',
    bias: true },
  { x: [1, 6, 6, 4], k: [2, 2, 4, 8], strides: [1, 1], pad: 'same',
    bias: false },
]

for (const c of CONV_RELUS) {
  test(`native ${CONV2D_RELU} ${JSON.stringify(c)} and its gradients ` +
    'match pure JS', { skip }, () => matches(() => {
    const x = tf.tensor4d(random(c.x, 41), c.x)
    const k = tf.tensor4d(random(c.k, 42), c.k)
    const b = tf.tensor1d(random([c.k[3]], 43))
    const f = (...args: tf.Tensor[]) => convRelu(args[0], args[1],
      c.bias ? args[2] : null, c.strides, c.pad)
    // Weights on the outputs, so that dy is not 0 where the relu gave 0
    // (as a squared loss's would be): the relu's gradient must stop it.
    const loss = (...args: tf.Tensor[]) => {
      const y = f(...args)
      return y.mul(tf.tensor(random(y.shape, 46), y.shape)).sum()
    }
    const inputs = c.bias ? [x, k, b] : [x, k]
    return [f(...inputs), ...tf.grads(loss)(inputs)]
  }, CONV2D_RELU))
}

test('Conv2D layers with a relu train through one kernel on native, as ' +
  'on pure JS', { skip }, async () => {
  const run = () => withSeed(9, async () => {
    const model = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 8, kernelSize: 3,
        activation: 'relu' }),
      tf.layers.conv2d({ filters: 4, kernelSize: 2, activation: 'relu',
        useBias: false, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 1 }),
    ] })
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError' })
    const x = tf.tensor4d(random([8, 6, 6, 2], 44), [8, 6, 6, 2])
    const y = tf.tensor2d(random([8, 1], 45), [8, 1])
    await model.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false,
      verbose: 0 })
    const weights = model.getWeights().flatMap((w) => Array.from(w.dataSync()))
    model.dispose()
    tf.dispose([x, y])
    return weights
  })

  const before = callsOf.reluBackprop ?? 0
  const native = await run()
  // 2 layers × 2 batches × 2 epochs.
  assert.equal((callsOf.reluBackprop ?? 0) - before, 8)
  await tf.setBackend('cpu')
  try {
    close(native, await run(), 1e-4)
  } finally {
    await tf.setBackend('wasm')
  }
})

const POOLS: Array<{ x: Shape4; size: [number, number];
  strides: [number, number]; pad: 'same' | 'valid' }> = [
  { x: [2, 8, 8, 3], size: [2, 2], strides: [2, 2], pad: 'valid' },
  { x: [1, 7, 7, 2], size: [3, 3], strides: [2, 2], pad: 'same' },
  { x: [2, 5, 6, 4], size: [2, 3], strides: [1, 2], pad: 'valid' },
  // Overlapping windows: one input pixel gets gradient from several.
  { x: [1, 6, 6, 1], size: [3, 3], strides: [1, 1], pad: 'same' },
  // Tiling windows that leave a row and a column over, on 16 channels.
  { x: [2, 7, 9, 16], size: [2, 2], strides: [2, 2], pad: 'valid' },
  { x: [1, 6, 6, 5], size: [3, 2], strides: [3, 2], pad: 'valid' },
  // 'same' windows of the tile's stride on odd sizes: the padding is all
  // at the bottom and right, and the last window runs past the input.
  { x: [2, 7, 9, 3], size: [2, 2], strides: [2, 2], pad: 'same' },
  { x: [2, 8, 8, 3], size: [3, 3], strides: [3, 3], pad: 'same' },
  { x: [1, 3, 3, 1], size: [4, 4], strides: [4, 4], pad: 'same' },
]

for (const c of POOLS) {
  const name = JSON.stringify(c)
  const x = () => tf.tensor4d(random(c.x, 11), c.x)

  test(`native MaxPool ${name} matches pure JS`, { skip }, () => matches(
    () => tf.maxPool(x(), c.size, c.strides, c.pad), 'MaxPool', 0))

  test(`native MaxPoolGrad ${name} matches pure JS`, { skip }, () => matches(
    () => tf.grad((input: tf.Tensor) => tf.maxPool(input as tf.Tensor4D,
      c.size, c.strides, c.pad).square().sum())(x()), 'MaxPoolGrad', 1e-6))

  test(`native AvgPoolGrad ${name} matches pure JS`, { skip }, () => matches(
    () => tf.grad((input: tf.Tensor) => tf.avgPool(input as tf.Tensor4D,
      c.size, c.strides, c.pad).square().sum())(x()), 'AvgPoolGrad', 1e-5))
}

test('max pooling sends a tied window\'s gradient to its first maximum',
  { skip }, () => matches(() => tf.grad((input: tf.Tensor) =>
    tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid').sum())(
    tf.tensor4d([1, 1, 1, 1, 2, 0, 2, 2], [1, 2, 4, 1])), 'MaxPoolGrad', 0))

test('the addon refuses arrays shorter than their shapes', { skip }, () => {
  const addon = nativeAddon()
  const out = new Float32Array(4)
  assert.throws(() => addon.matmul(new Float32Array(3), new Float32Array(4),
    out, 1, 2, 2, 2, false, false, 4, 4), /a holds 3 values, the shape needs 4/)
  assert.throws(() => addon.conv2d(new Float32Array(4), new Float32Array(4),
    out, new Int32Array(3)), /shape must be an Int32Array of 15/)
  assert.throws(() => addon.matmul(new Float64Array(4) as never,
    new Float32Array(4), out, 1, 2, 2, 2, false, false, 4, 4),
  /a must be a Float32Array/)
})

test('a small CNN trains on native and its loss falls', { skip }, async () => {
  // Seeded: from some random starts a relu network this small dies (every
  // unit negative) and the loss stays at ln 2.
  const loss = await withSeed(7, async () => {
    const model = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3,
        activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ] })
    model.compile({ optimizer: tf.train.adam(0.02),
      loss: 'categoricalCrossentropy' })

    // Bright top half against bright bottom half.
    const images = Array.from({ length: 32 }, (_, i) => Array.from(
      { length: 64 }, (_, p) => ((p < 32) === (i % 2 === 0) ? 1 : 0)))
    const x = tf.tensor4d(images.flat(), [32, 8, 8, 1])
    const y = tf.oneHot(tf.tensor1d(images.map((_, i) => i % 2), 'int32'), 2)
    const history = await model.fit(x, y, { epochs: 15, verbose: 0 })
    tf.dispose([x, y])
    model.dispose()
    return history.history.loss as number[]
  })
  assert.ok(loss[loss.length - 1] < loss[0] / 2, `loss ${loss.join(', ')}`)
})

test('FusedAdam\'s native step trains as tfjs\'s Adam does on pure JS',
  { skip }, async () => {
    const run = (optimizer: () => tf.Optimizer) => withSeed(5, async () => {
      const model = tf.sequential({ layers: [
        tf.layers.dense({ inputShape: [6], units: 9, activation: 'relu' }),
        tf.layers.dense({ units: 1 }),
      ] })
      model.compile({ optimizer: optimizer(), loss: 'meanSquaredError' })
      const x = tf.tensor2d(random([32, 6], 21), [32, 6])
      const y = tf.tensor2d(random([32, 1], 22), [32, 1])
      await model.fit(x, y, { epochs: 3, batchSize: 16, shuffle: false,
        verbose: 0 })
      const weights = model.getWeights().flatMap((w) =>
        Array.from(w.dataSync()))
      model.optimizer.dispose()
      model.dispose()
      tf.dispose([x, y])
      return weights
    })

    const before = callsOf.adamUpdate ?? 0
    const fused = await run(() => new FusedAdam(0.01, 0.9, 0.999))
    // 2 batches × 3 epochs × 4 variables.
    assert.equal((callsOf.adamUpdate ?? 0) - before, 24)
    await tf.setBackend('cpu')
    try {
      close(fused, await run(() => tf.train.adam(0.01, 0.9, 0.999)), 1e-4)
    } finally {
      await tf.setBackend('wasm')
    }
  })

test('native max pooling\'s gradient skips NaNs and -inf, as tfjs\'s does',
  { skip }, () => matches(() => tf.grad((input: tf.Tensor) =>
    tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid').mul(
      tf.tensor4d([1, 2, 3, 4], [1, 1, 4, 1])).sum())(tf.tensor4d([
    NaN, NaN, -Infinity, -Infinity, NaN, 3, 0, -0,
    NaN, NaN, -Infinity, -Infinity, 3, 1, -0, 0], [1, 2, 8, 1])),
  'MaxPoolGrad', 0))

test('a 1×1 max pool is the identity, NaN included, as in tfjs', { skip },
  () => matches(() => tf.maxPool(tf.tensor4d([NaN, 1], [1, 1, 2, 1]), 1, 1,
    'valid'), 'MaxPool', 0, false))

// With a numeric pad, tfjs sizes the output by the row stride alone: a
// wider column stride puts windows past the input, whose maximum is -inf.
test('native max pooling fills windows past the input with -inf', { skip },
  () => matches(() => tf.maxPool(tf.tensor4d([1, 2, 3, 4, 5], [1, 1, 5, 1]),
    [1, 2], [1, 3], 0, 'ceil'), 'MaxPool', 0))

test('native max pooling skips a NaN, as tfjs does', { skip }, () => matches(
  () => tf.maxPool(tf.tensor4d([NaN, 1, 2, 3, 5, NaN, 4, 0], [1, 2, 4, 1]),
    2, 2, 'valid'), 'MaxPool', 0))

const SUMS: Array<{ shape: number[]; axis: number[]; keepDims: boolean }> = [
  { shape: [4, 5, 6, 3], axis: [0, 1, 2], keepDims: false },
  { shape: [4, 5, 6, 3], axis: [2, 0, 1], keepDims: true },
  { shape: [7, 9], axis: [0], keepDims: false },
  { shape: [7, 9], axis: [0, 1], keepDims: false },
  // Many rows: accumulated in double, as pure JS does.
  { shape: [200_000, 4], axis: [0], keepDims: false },
]

for (const c of SUMS) {
  test(`native Sum over leading axes ${JSON.stringify(c)} matches pure JS`,
    { skip }, () => matches(() => tf.sum(tf.tensor(random(c.shape, 31),
      c.shape), c.axis, c.keepDims), 'Sum', 1e-5))
}

test('native Sum over other axes goes to WASM\'s kernel', { skip }, () =>
  matches(() => tf.sum(tf.tensor(random([4, 5, 3], 32), [4, 5, 3]), [1, 2]),
    'Sum', 1e-5, false))

const LSTMS: Array<Record<string, unknown>> = [
  {},
  { returnSequences: true, recurrentActivation: 'sigmoid' },
  { useBias: false },
]

for (const options of LSTMS) {
  test(`a native LSTM layer ${JSON.stringify(options)} matches pure JS, ` +
    'gradients included', { skip }, async () => {
    const model = tf.sequential({ layers: [
      tf.layers.lstm({ inputShape: [5, 3], units: 4, ...options }),
      ...(options.returnSequences ? [tf.layers.flatten()] : []),
      tf.layers.dense({ units: 2 }),
    ] })
    const x = tf.tensor3d(random([6, 5, 3], 41).map((v) => v * 4), [6, 5, 3])
    const y = tf.tensor2d(random([6, 2], 42), [6, 2])
    const weights = model.trainableWeights.map((w) => w.read() as tf.Variable)
    const run = () => {
      const { value, grads } = tf.variableGrads(() => tf.losses
        .meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor),
      weights)
      return [value, ...weights.map((w) => grads[w.name])]
    }
    await matches(run, 'TensorqLstmGrad', 1e-4, true)
    const ran = (await tf.profile(() => { tf.tidy(run) })).kernelNames
    // tfjs's own LSTM would run its gates as Sigmoid or a clip.
    assert.ok(!ran.includes('SplitV'), `one kernel: ran ${ran.join(', ')}`)
    tf.dispose([x, y])
    model.dispose()
  })
}

test('an LSTM with dropout runs as tfjs runs it', { skip }, async () => {
  const layer = tf.layers.lstm({ inputShape: [4, 2], units: 3, dropout: 0.5 })
  const model = tf.sequential({ layers: [layer] })
  const x = tf.ones([2, 4, 2])
  const ran = (await tf.profile(() => {
    tf.tidy(() => model.predict(x))
  })).kernelNames
  assert.ok(!ran.includes('TensorqLstm'), `ran ${ran.join(', ')}`)
  x.dispose()
  model.dispose()
})
