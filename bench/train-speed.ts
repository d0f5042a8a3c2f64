// Training samples/s on WASM, at batch 64 and 256, on real MNIST digits:
// an MLP 784-128-64-10, a CNN conv16-pool-conv32-pool-dense64, and an
// LSTM(32) over the 28 rows of each digit, all with Adam. "wasm" has the
// kernels tensorq registers; "wasm as shipped" puts back WASM's own
// kernels for the ones tensorq replaces, in the same process, to show
// what they change. Then the MLP as a job through the service against
// raw model.fit. PyTorch, the peer, is not run yet; the bench says
// whether /usr/bin/python3 could import it, and installs nothing.
//
//   npm run bench:train   (BENCH_SAMPLES digits per run, 8192 by default)
import { spawnSync } from 'node:child_process'
import {
  getKernel, registerKernel, unregisterKernel, type KernelConfig,
} from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { pino } from 'pino'
import { mnistSplit } from '../scripts/mnist-split.ts'
import { initBackend, tf } from '../src/tf/backend.ts'
import {
  cleanUp, eventually, startTestApi, startTestWorker, testEnv,
} from '../test/helpers/harness.ts'

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 8192)
// The kernels tensorq replaces; the ones it adds (WASM has no
// Conv2DBackpropFilter) are in both columns.
const REPLACED = ['BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput']

// WASM's own kernels, taken before initBackend replaces them.
const shipped = new Map(REPLACED.map((n) => [n, getKernel(n, 'wasm')!]))
await initBackend('wasm', pino({ level: 'silent' }))
const ours = new Map(REPLACED.map((n) => [n, getKernel(n, 'wasm')!]))

function useKernels(kernels: Map<string, KernelConfig>): void {
  for (const [name, kernel] of kernels) {
    unregisterKernel(name, 'wasm')
    registerKernel(kernel)
  }
}

type Model = 'mlp' | 'cnn' | 'lstm'

function build(kind: Model): tf.LayersModel {
  const layers = kind === 'mlp' ? [
    tf.layers.dense({ inputShape: [784], units: 128, activation: 'relu' }),
    tf.layers.dense({ units: 64, activation: 'relu' }),
  ] : kind === 'cnn' ? [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3,
      activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 64, activation: 'relu' }),
  ] : [tf.layers.lstm({ inputShape: [28, 28], units: 32 })]
  const model = tf.sequential({ layers: [...layers,
    tf.layers.dense({ units: 10, activation: 'softmax' })] })
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' })
  return model
}

const shapes: Record<Model, number[]> = {
  mlp: [784], cnn: [28, 28, 1], lstm: [28, 28],
}

const { train } = mnistSplit(SAMPLES)
const pixels = Float32Array.from(train.flatMap((d) => d.pixels))
const labels = tf.oneHot(tf.tensor1d(train.map((d) => d.label), 'int32'), 10)

/** Samples/s of one epoch, after one warm-up batch. */
async function measure(kind: Model, batch: number, samples: number):
  Promise<number> {
  const model = build(kind)
  const x = tf.tensor(pixels.subarray(0, samples * 784),
    [samples, ...shapes[kind]])
  const y = labels.slice(0, samples)
  await model.fit(x.slice(0, batch), y.slice(0, batch),
    { batchSize: batch, epochs: 1, verbose: 0 })
  const started = performance.now()
  await model.fit(x, y, { batchSize: batch, epochs: 1, verbose: 0,
    shuffle: false })
  const rate = samples / ((performance.now() - started) / 1000)
  model.optimizer.dispose()
  model.dispose()
  tf.dispose([x, y])
  return rate
}

/** What can be said of the peer here. */
function pytorch(): string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'],
    { encoding: 'utf8' })
  return probe.status === 0
    ? 'PyTorch is installed, but this benchmark does not run it yet.'
    : 'PyTorch: /usr/bin/python3 cannot import torch here (Debian\'s ' +
      'python3-torch is not installed); not measured.'
}

const rows: string[] = []
for (const kind of ['mlp', 'lstm', 'cnn'] as Model[]) {
  for (const batch of [64, 256]) {
    const cells: string[] = []
    // Fewer digits for the slower two, to keep the run short.
    const samples = kind === 'mlp' ? SAMPLES : Math.min(SAMPLES, 1024)
    for (const kernels of [ours, shipped]) {
      useKernels(kernels)
      cells.push((await measure(kind, batch, samples)).toFixed(0))
    }
    useKernels(ours)
    const ratio = Number(cells[0]) / Number(cells[1])
    rows.push(`| ${kind} | ${batch} | ${cells[0]} | ${cells[1]} | ` +
      `${ratio.toFixed(2)}× |`)
  }
}

console.log(`\n${SAMPLES} MNIST digits (1,024 for the LSTM and CNN), one ` +
  'epoch after a warm-up batch, samples/s\n')
console.log('| model | batch | wasm (tensorq kernels) | wasm as shipped | ratio |')
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const line of rows) console.log(line)
console.log(`\n${pytorch()}`)

/**
 * The MLP at batch 256 as a job through the api and a worker process, on
 * the same engine, against raw model.fit here: the service's overhead
 * (checkpoints, progress, cancel checks, yielding to the event loop).
 * Samples/s of the job's last epochs, from the worker's log times.
 */
async function throughService(epochs: number): Promise<number> {
  const env = testEnv()
  const api = await startTestApi(env)
  const worker = await startTestWorker(env)
  const post = async (url: string, payload: object) => {
    const res = await api.app.inject({ method: 'POST', url, payload })
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.body}`)
    return res.json()
  }
  try {
    const dataset = (await post('/v1/datasets', { name: 'mnist',
      rows: train.map((d) => ({ x: d.pixels, y: d.label })) })).id
    const job = await post('/v1/jobs', { model: 'mlp', dataset,
      spec: { layers: [{ type: 'dense', units: 128, activation: 'relu' },
        { type: 'dense', units: 64, activation: 'relu' },
        { type: 'dense', units: 10, activation: 'softmax' }],
      loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
      training: { epochs, batchSize: 256, shuffle: false } })
    await eventually(async () => {
      const res = await api.app.inject(`/v1/jobs/${job.id}`)
      return res.json().state === 'completed' ? true : undefined
    }, 600_000, 'the job')
    const times = worker.logs.filter((l) => l.msg === 'epoch finished')
      .map((l) => l.time as number)
    return SAMPLES * (epochs - 1) / ((times.at(-1)! - times[0]) / 1000)
  } finally {
    await worker.stop()
    await api.close()
    await cleanUp(env)
  }
}

const raw = await measure('mlp', 256, SAMPLES)
const job = await throughService(4)
console.log(`\nMLP, batch 256, ${SAMPLES} digits, wasm: raw model.fit ` +
  `${raw.toFixed(0)} samples/s; as a job through the service ` +
  `${job.toFixed(0)} samples/s (${(job / raw).toFixed(2)}×)`)
