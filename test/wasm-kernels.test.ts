import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { pino } from 'pino'
import { initBackend, tf } from '../src/tf/backend.ts'
import { FusedAdam } from '../src/tf/fused-adam.ts'
import { ADAM_UPDATE } from '../src/tf/wasm-kernels/adam-update.ts'
import { withSeed } from '../src/tf/seeded-random.ts'
import { close, random } from './helpers/kernel-values.ts'

// Each kernel tensorq adds to WASM is checked against the pure-JS CPU
// backend, which tfjs itself tests against TensorFlow.

before(async () => {
  await initBackend('wasm', pino({ level: 'silent' }))
})

async function on<T>(backend: string, fn: () => T): Promise<T> {
  await tf.setBackend(backend)
  try {
    return fn()
  } finally {
    await tf.setBackend('wasm')
  }
}

type Shape4 = [number, number, number, number]

const CASES: Array<{ x: Shape4; k: Shape4; strides: [number, number];
  pad: 'same' | 'valid' }> = [
  { x: [2, 7, 7, 3], k: [3, 3, 3, 4], strides: [1, 1], pad: 'valid' },
  { x: [2, 8, 8, 2], k: [3, 3, 2, 5], strides: [1, 1], pad: 'same' },
  { x: [3, 9, 9, 1], k: [5, 5, 1, 2], strides: [2, 2], pad: 'same' },
  { x: [1, 10, 6, 2], k: [2, 3, 2, 3], strides: [2, 1], pad: 'valid' },
  // Strides that leave the last input row and column unused.
  { x: [2, 8, 8, 1], k: [3, 3, 1, 2], strides: [2, 2], pad: 'valid' },
  { x: [1, 7, 9, 3], k: [4, 2, 3, 2], strides: [3, 2], pad: 'same' },
]

for (const c of CASES) {
  test(`Conv2DBackpropFilter ${JSON.stringify(c)} matches the CPU backend`,
    async () => {
      const grad = () => tf.tidy(() => {
        const x = tf.tensor4d(random(c.x, 1), c.x)
        const k = tf.tensor4d(random(c.k, 2), c.k)
        const g = tf.grad((kernel: tf.Tensor) =>
          tf.conv2d(x, kernel as tf.Tensor4D, c.strides, c.pad).square().sum())
        return Array.from(g(k).dataSync())
      })

      const start = tf.memory().numTensors
      const wasm = grad()
      assert.equal(tf.memory().numTensors, start, 'no tensors left behind')
      close(wasm, await on('cpu', grad))
    })
}

for (const c of CASES) {
  test(`Conv2DBackpropInput ${JSON.stringify(c)} matches the CPU backend`,
    async () => {
      const grad = () => tf.tidy(() => {
        const x = tf.tensor4d(random(c.x, 3), c.x)
        const k = tf.tensor4d(random(c.k, 4), c.k)
        const g = tf.grad((input: tf.Tensor) =>
          tf.conv2d(input as tf.Tensor4D, k, c.strides, c.pad).square().sum())
        return Array.from(g(x).dataSync())
      })

      const start = tf.memory().numTensors
      const wasm = grad()
      assert.equal(tf.memory().numTensors, start, 'no tensors left behind')
      close(wasm, await on('cpu', grad))
    })
}

test('UnsortedSegmentSum matches the CPU backend, repeated ids summed', async () => {
  const run = () => tf.tidy(() => {
    const data = tf.tensor2d(random([6, 4], 3), [6, 4])
    const ids = tf.tensor1d([0, 2, 0, 3, 2, 0], 'int32')
    return Array.from(tf.unsortedSegmentSum(data, ids, 5).dataSync())
  })
  close(run(), await on('cpu', run), 1e-6)
})

test('an embedding trains on WASM (the gather gradient)', async () => {
  const model = tf.sequential({ layers: [
    tf.layers.embedding({ inputShape: [4], inputDim: 10, outputDim: 3 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 2, activation: 'softmax' }),
  ] })
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' })
  const x = tf.tensor2d([[1, 2, 3, 4], [5, 6, 7, 8]])
  const y = tf.tensor2d([[1, 0], [0, 1]])
  const history = await model.fit(x, y, { epochs: 2, verbose: 0 })
  assert.equal(history.history.loss.length, 2)
  tf.dispose([x, y])
  model.dispose()
})

const MATMULS: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
  { a: [5, 7], b: [5, 3], ta: true, tb: false },
  { a: [5, 7], b: [3, 7], ta: false, tb: true },
  { a: [7, 5], b: [3, 7], ta: true, tb: true },
  { a: [2, 6, 4], b: [2, 6, 3], ta: true, tb: false },
  { a: [3, 4, 6], b: [1, 5, 6], ta: false, tb: true },
  { a: [4, 6], b: [6, 4], ta: false, tb: false },
]

for (const c of MATMULS) {
  test(`BatchMatMul ${JSON.stringify(c)} matches the CPU backend`, async () => {
    const run = () => tf.tidy(() => Array.from(tf.matMul(
      tf.tensor(random(c.a, 4), c.a), tf.tensor(random(c.b, 5), c.b),
      c.ta, c.tb).dataSync()))
    const start = tf.memory().numTensors
    const wasm = run()
    assert.equal(tf.memory().numTensors, start, 'no tensors left behind')
    close(wasm, await on('cpu', run), 1e-5)
  })
}

test('_FusedMatMul with transposes, bias and relu matches the CPU backend', async () => {
  const run = () => tf.tidy(() => Array.from(tf.fused.matMul({
    a: tf.tensor2d(random([6, 4], 6), [6, 4]),
    b: tf.tensor2d(random([3, 6], 7), [3, 6]),
    transposeA: true, transposeB: true,
    bias: tf.tensor1d(random([3], 8)), activation: 'relu',
  }).dataSync()))
  close(run(), await on('cpu', run), 1e-5)
})

test('dense gradients match the CPU backend (the transposed products)', async () => {
  const run = () => tf.tidy(() => {
    const x = tf.tensor2d(random([16, 10], 9), [16, 10])
    const w = tf.tensor2d(random([10, 4], 10), [10, 4])
    const [dx, dw] = tf.grads((xs: tf.Tensor, ws: tf.Tensor) =>
      tf.matMul(xs as tf.Tensor2D, ws as tf.Tensor2D).relu().square().sum())([x, w])
    return [...dx.dataSync(), ...dw.dataSync()]
  })
  close(run(), await on('cpu', run), 1e-4)
})

const GATHERS: Array<{ x: number[]; ids: number[]; idShape: number[];
  dtype: 'float32' | 'int32' }> = [
  { x: [6, 4], ids: [5, 0, 0, 3], idShape: [4], dtype: 'float32' },
  { x: [5, 2, 3], ids: [4, 1, 2, 1, 0, 3], idShape: [2, 3], dtype: 'float32' },
  { x: [4, 3], ids: [3, 3, 1], idShape: [3], dtype: 'int32' },
  { x: [7], ids: [6, 2], idShape: [2], dtype: 'float32' },
]

for (const c of GATHERS) {
  test(`GatherV2 along the first axis ${JSON.stringify(c)} matches the CPU ` +
    'backend', async () => {
    const run = () => tf.tidy(() => {
      const values = random(c.x, 12).map((v) => (c.dtype === 'int32'
        ? Math.round(v * 100) : v))
      const x = tf.tensor(values, c.x, c.dtype)
      const out = tf.gather(x, tf.tensor(c.ids, c.idShape, 'int32'), 0)
      return [...out.shape, ...out.dataSync()]
    })
    const start = tf.memory().numTensors
    const wasm = run()
    assert.equal(tf.memory().numTensors, start, 'no tensors left behind')
    assert.deepEqual(wasm, await on('cpu', run))
  })
}

test('GatherV2 along another axis goes to the WASM kernel', async () => {
  const run = () => tf.tidy(() => Array.from(tf.gather(
    tf.tensor2d(random([3, 5], 13), [3, 5]), tf.tensor1d([4, 0], 'int32'),
    1).dataSync()))
  assert.deepEqual(run(), await on('cpu', run))
})

async function adamRun(optimizer: () => tf.Optimizer): Promise<{
  weights: number[]; state: Array<[string, number[]]> }> {
  return withSeed(3, async () => {
    const model = tf.sequential({ layers: [
      tf.layers.dense({ inputShape: [5], units: 7, activation: 'relu' }),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ] })
    const adam = optimizer()
    model.compile({ optimizer: adam, loss: 'categoricalCrossentropy' })
    const x = tf.tensor2d(random([24, 5], 14), [24, 5])
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: 24 },
      (_, i) => i % 2), 'int32'), 2))
    await model.fit(x, y, { epochs: 4, batchSize: 8, shuffle: false,
      verbose: 0 })
    const weights = model.getWeights().flatMap((w) => Array.from(w.dataSync()))
    const saved = await adam.getWeights()
    const state = saved.map(({ name, tensor }) =>
      [name.replace(/\d+/g, ''), Array.from(tensor.dataSync())] as
        [string, number[]])
    // The iteration count is a new tensor; the rest are the optimizer's.
    saved[0].tensor.dispose()
    tf.dispose([x, y])
    adam.dispose()
    model.dispose()
    return { weights, state }
  })
}

test('FusedAdam trains as tfjs\'s Adam does, state included', async () => {
  const start = tf.memory().numTensors
  let fused: Awaited<ReturnType<typeof adamRun>> | undefined
  const profile = await tf.profile(async () => {
    fused = await adamRun(() => new FusedAdam(0.01, 0.9, 0.999))
  })
  assert.equal(tf.memory().numTensors, start, 'no tensors left behind')
  // Its step is the one kernel; tfjs's would run Sqrt among its ops.
  assert.ok(profile.kernelNames.includes(ADAM_UPDATE))
  assert.ok(!profile.kernelNames.includes('Sqrt'))
  const stock = await adamRun(() => tf.train.adam(0.01, 0.9, 0.999))

  close(fused!.weights, stock.weights, 1e-5)
  assert.deepEqual(fused!.state.map(([n]) => n), stock.state.map(([n]) => n))
  for (const [i, [, values]] of fused!.state.entries()) {
    close(values, stock.state[i][1], 1e-5)
  }
})

test('FusedAdam runs tfjs\'s own step where the kernel is missing', async () => {
  await tf.setBackend('cpu')
  try {
    const fused = await adamRun(() => new FusedAdam(0.01, 0.9, 0.999))
    const stock = await adamRun(() => tf.train.adam(0.01, 0.9, 0.999))
    assert.deepEqual(fused.weights, stock.weights)
  } finally {
    await tf.setBackend('wasm')
  }
})

test('FusedAdam leaves a variable without a gradient as it was', async () => {
  const a = tf.variable(tf.tensor1d([1, 2, 3]))
  const b = tf.variable(tf.tensor1d([4, 5]))
  const adam = new FusedAdam(0.1, 0.9, 0.999)
  tf.tidy(() => adam.applyGradients([{ name: a.name, tensor: tf.ones([3]) },
    { name: b.name, tensor: null as unknown as tf.Tensor }]))
  assert.deepEqual(Array.from(b.dataSync()), [4, 5])
  assert.ok(a.dataSync()[0] < 1, 'the variable with a gradient moved')
  adam.dispose()
  tf.dispose([a, b])
})

test('a clone shares its tensor\'s memory and outlives it', async () => {
  const buffers = () => (tf.memory() as { numDataBuffers: number })
    .numDataBuffers
  const start = tf.memory().numTensors
  const before = buffers()
  const a = tf.tensor1d([1, 2, 3])
  const b = tf.clone(a)
  assert.equal(buffers(), before + 1, 'one copy of the values')
  a.dispose()
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3])
  b.dispose()
  assert.equal(tf.memory().numTensors, start)
})
