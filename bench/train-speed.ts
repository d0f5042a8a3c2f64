// Training samples/s at batch 64 and 256 on real MNIST digits: an MLP
// 784-128-64-10, a CNN conv16-pool-conv32-pool-dense64 and an LSTM(32)
// over the 28 rows of each digit, all with Adam, on every engine that
// loads here, in one process:
//
//   native           WASM with tensorq's products and pooling over OpenBLAS
//   wasm             WASM with tensorq's WASM kernels
//   wasm as shipped  WASM with its own kernels for those tensorq replaces,
//                    and tfjs's own Adam (the others use tensorq's)
//   pure JS          tfjs's CPU backend (fewer digits: it is slow)
//
// then the same models and digits in PyTorch on the CPU (through
// /usr/bin/python3; the bench installs nothing and says so when it cannot
// import torch), with OPENBLAS_NUM_THREADS=1 and with OpenBLAS's default
// threads; where the time of a native training step goes; a job through
// the service against raw model.fit on the same engine, alternated over
// rounds, in one process and across fresh processes; and two jobs in a
// pool of two worker processes against one job alone.
//
//   npm run bench:train   (BENCH_SAMPLES digits per run, 8192 by default;
//                          BENCH_SERVICE_ROUNDS job/raw pairs, 9)
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import {
  getKernel, registerKernel, unregisterKernel, type KernelConfig,
} from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { pino } from 'pino'
import { mnistSplit } from '../scripts/mnist-split.ts'
import { loadConfig } from '../src/config.ts'
import {
  buildModel, compileModel, makeOptimizer,
} from '../src/spec/build-model.ts'
import { initBackend, tf } from '../src/tf/backend.ts'
import { nativeAddon } from '../src/tf/native-kernels/addon.ts'
import {
  ADDED_KERNELS, registerNativeKernels,
} from '../src/tf/native-kernels/register.ts'
import {
  cleanUp, eventually, startTestApi, startTestWorker, testEnv,
  type TestWorker,
} from '../test/helpers/harness.ts'
import { startWorker } from '../workers/worker.ts'
import { SERVICE_BATCH, SERVICE_MLP } from './service-mlp.ts'

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 8192)
// The LSTM and CNN are slower: fewer digits keep the run short.
const SLOW_SAMPLES = Math.min(SAMPLES, 2048)
const PURE_JS_SAMPLES = 512
const REPEATS = 3

type Model = 'mlp' | 'cnn' | 'lstm'
type Engine = 'native' | 'wasm' | 'wasm as shipped' | 'pure JS'

// WASM's own kernels for those tensorq's WASM kernels replace, taken
// before initBackend replaces them, and tensorq's, taken after.
const REPLACED = ['BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput',
  'GatherV2']
const SHIPPED = REPLACED.map((n) => getKernel(n, 'wasm')!)

let nativeMissing: string | undefined
try {
  nativeAddon()
} catch (err) {
  nativeMissing = (err as Error).message
}
const log = pino({ level: 'silent' })
await initBackend(nativeMissing ? 'wasm' : 'native', log)
const tensorqWasm = REPLACED.map((n) => getKernel(n, 'wasm')!)
// The kernels native replaces, as they were on WASM, and native's own.
const wasmKernels = nativeMissing ? [] : registerNativeKernels()
const nativeKernels = wasmKernels.map((k) => getKernel(k.kernelName, 'wasm')!)
// Kernels native adds that WASM has no counterpart of (LSTM and Conv2D
// layers use them):
// present only while native runs.
const nativeOnly = nativeMissing ? []
  : ADDED_KERNELS.map((n) => getKernel(n, 'wasm')!)

function useKernels(kernels: KernelConfig[]): void {
  for (const kernel of kernels) {
    unregisterKernel(kernel.kernelName, 'wasm')
    registerKernel(kernel)
  }
}

let engineNow: Engine = 'native'

async function useEngine(engine: Engine): Promise<void> {
  engineNow = engine
  await tf.setBackend(engine === 'pure JS' ? 'cpu' : 'wasm')
  useKernels(tensorqWasm)
  useKernels(engine === 'native' ? nativeKernels : wasmKernels)
  if (engine === 'wasm as shipped') useKernels(SHIPPED)
  for (const kernel of nativeOnly) {
    const present = getKernel(kernel.kernelName, 'wasm') !== undefined
    if (engine === 'native' && !present) registerKernel(kernel)
    if (engine !== 'native' && present) {
      unregisterKernel(kernel.kernelName, 'wasm')
    }
  }
}

/**
 * The model, compiled with Adam: tensorq's (FusedAdam, one kernel per
 * variable's step) on tensorq's engines, tfjs's own as shipped.
 */
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
  ] : [tf.layers.lstm({ inputShape: [28, 28], units: 32,
    // The default orthogonal initializer warns on a 32×128 matrix, and
    // how the weights start does not change the time of a step.
    recurrentInitializer: 'glorotUniform' })]
  const model = tf.sequential({ layers: [...layers,
    tf.layers.dense({ units: 10, activation: 'softmax' })] })
  const ours = engineNow === 'native' || engineNow === 'wasm'
  model.compile({ optimizer: ours ? makeOptimizer({ type: 'adam' })
    : tf.train.adam(), loss: 'categoricalCrossentropy' })
  return model
}

const SHAPES: Record<Model, number[]> = {
  mlp: [784], cnn: [28, 28, 1], lstm: [28, 28],
}

const { train } = mnistSplit(SAMPLES)
const pixels = Float32Array.from(train.flatMap((d) => d.pixels))
const labelIds = train.map((d) => d.label)

function samplesFor(kind: Model, engine: Engine): number {
  if (engine === 'pure JS') return PURE_JS_SAMPLES
  return kind === 'mlp' ? SAMPLES : SLOW_SAMPLES
}

/** The training data of `samples` digits, on the active backend. */
function data(kind: Model, samples: number): [tf.Tensor, tf.Tensor] {
  const x = tf.tensor(pixels.subarray(0, samples * 784),
    [samples, ...SHAPES[kind]])
  // Float, as a job's labels are: int32 ones cost a cast every batch.
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labelIds.slice(0, samples),
    'int32'), 10).toFloat())
  return [x, y]
}

/** Best samples/s of `repeats` epochs, after one warm-up batch. */
async function measure(kind: Model, batch: number, samples: number,
  repeats = REPEATS): Promise<number> {
  const model = build(kind)
  const [x, y] = data(kind, samples)
  await model.fit(x.slice(0, batch), y.slice(0, batch),
    { batchSize: batch, epochs: 1, verbose: 0 })
  let best = 0
  for (let r = 0; r < repeats; r++) {
    const started = performance.now()
    await model.fit(x, y, { batchSize: batch, epochs: 1, verbose: 0,
      shuffle: false })
    best = Math.max(best, samples / ((performance.now() - started) / 1000))
  }
  model.optimizer.dispose()
  model.dispose()
  tf.dispose([x, y])
  return best
}

const RUNS: Array<[Model, number]> = [['mlp', 64], ['mlp', 256],
  ['lstm', 64], ['lstm', 256], ['cnn', 64], ['cnn', 256]]
const engines: Engine[] = [...(nativeMissing ? [] : ['native' as const]),
  'wasm', 'wasm as shipped', 'pure JS']

const rates = new Map<string, number>()
for (const [kind, batch] of RUNS) {
  for (const engine of engines) {
    // Pure JS takes minutes per CNN epoch; it is the reference for
    // values, not an engine anyone trains a CNN on.
    if (engine === 'pure JS' && kind === 'cnn') continue
    await useEngine(engine)
    const repeats = engine === 'pure JS' ? 1 : REPEATS
    rates.set(`${kind}:${batch}:${engine}`,
      await measure(kind, batch, samplesFor(kind, engine), repeats))
  }
}
await useEngine(engines[0])

interface PeerRun {
  torch: string
  threads: number
  rates: Record<string, number>
}

/** PyTorch on the same digits, or why it could not run. */
function pytorch(blasThreads?: string): PeerRun | string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'],
    { encoding: 'utf8' })
  if (probe.status !== 0) {
    return '/usr/bin/python3 cannot import torch here (Debian\'s ' +
      'python3-torch is not installed); not measured'
  }

  const file = join(tmpdir(), `tensorq-bench-digits-${process.pid}.bin`)
  writeFileSync(file, Buffer.concat([Buffer.from(pixels.buffer),
    Buffer.from(Uint8Array.from(labelIds))]))
  const runs = RUNS.map(([kind, batch]) =>
    `${kind}:${batch}:${samplesFor(kind, 'native')}`)
  const env = { ...process.env }
  if (blasThreads) env.OPENBLAS_NUM_THREADS = blasThreads
  else delete env.OPENBLAS_NUM_THREADS
  const script = new URL('./pytorch-peer.py', import.meta.url).pathname
  const run = spawnSync('/usr/bin/python3', [script, file,
    String(labelIds.length), ...runs], { encoding: 'utf8', env })
  if (run.status !== 0) return `PyTorch failed: ${run.stderr.trim()}`
  return JSON.parse(run.stdout) as PeerRun
}

const peers = [pytorch('1'), pytorch()]
const peerRate = (key: string) => peers.map((p) =>
  (typeof p === 'string' ? undefined : p.rates[key]))

const cell = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(0))
console.log(`\n${SAMPLES} MNIST digits for the MLP, ${SLOW_SAMPLES} for the ` +
  `LSTM and CNN, ${PURE_JS_SAMPLES} on pure JS; best of ${REPEATS} epochs ` +
  'after a warm-up batch; samples/s\n')
console.log(`| model | batch | ${engines.join(' | ')} | PyTorch, 1 BLAS ` +
  'thread | PyTorch, BLAS default | best tensorq ÷ PyTorch 1 thread | ' +
  'best tensorq ÷ best PyTorch |')
console.log(`| --- | ---: | ${engines.map(() => '---:').join(' | ')} | ---: ` +
  '| ---: | ---: | ---: |')
for (const [kind, batch] of RUNS) {
  const ours = engines.map((e) => rates.get(`${kind}:${batch}:${e}`))
  const best = Math.max(...ours.filter((v) => v !== undefined) as number[])
  const [one, fallback] = peerRate(`${kind}:${batch}`)
  const top = Math.max(one ?? 0, fallback ?? 0)
  const ratio = (peer: number | undefined) =>
    (peer ? `${(best / peer).toFixed(2)}×` : '–')
  console.log(`| ${kind} | ${batch} | ${ours.map(cell).join(' | ')} | ` +
    `${cell(one)} | ${cell(fallback)} | ${ratio(one)} | ` +
    `${ratio(top || undefined)} |`)
}
for (const [i, peer] of peers.entries()) {
  const setting = i === 0 ? 'OPENBLAS_NUM_THREADS=1' : 'OpenBLAS default'
  console.log(typeof peer === 'string' ? `\nPyTorch (${setting}): ${peer}`
    : `\nPyTorch ${peer.torch} (${setting}), ${peer.threads} intra-op ` +
      'thread(s)')
}
if (nativeMissing) console.log(`\nnative: not measured: ${nativeMissing}`)

/**
 * Where a training step's time goes on the first engine, at batch 256:
 * each kernel's share of an epoch's wall time, and what is left for
 * tfjs itself (the tape, scopes, dispatch) and JavaScript.
 */
async function breakdown(kind: Model): Promise<string> {
  const model = build(kind)
  const samples = Math.min(samplesFor(kind, engines[0]), 2048)
  const [x, y] = data(kind, samples)
  const fit = () => model.fit(x, y, { batchSize: 256, epochs: 1,
    verbose: 0, shuffle: false })
  await fit()
  const started = performance.now()
  const profile = await tf.profile(async () => { await fit() })
  const wall = performance.now() - started
  model.optimizer.dispose()
  model.dispose()
  tf.dispose([x, y])

  const byKernel = new Map<string, number>()
  for (const k of profile.kernels) {
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs))
  }
  const kernels = [...byKernel.values()].reduce((a, b) => a + b, 0)
  const top = [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 6)
    .map(([name, ms]) => `${name} ${(100 * ms / wall).toFixed(0)}%`)
  const steps = Math.ceil(samples / 256)
  return `| ${kind} | ${(wall / steps).toFixed(1)} | ` +
    `${(100 * (wall - kernels) / wall).toFixed(0)}% | ${top.join(', ')} |`
}

console.log(`\nWhere a training step's time goes on ${engines[0]}, batch 256 ` +
  '(tf.profile of one epoch; its own bookkeeping inflates the step)\n')
console.log('| model | ms per step | outside kernels | largest kernels, share ' +
  'of the step |')
console.log('| --- | ---: | ---: | --- |')
for (const kind of ['mlp', 'lstm', 'cnn'] as Model[]) {
  console.log(await breakdown(kind))
}

/** Rows of the digits for the api's JSON datasets. */
const rows = train.map((d) => ({ x: d.pixels, y: d.label }))

// A job's worker process starts cold: its first epochs ran 1.5× longer
// than its last (JIT, heap growth). A job and raw model.fit are both
// timed over the second half of SERVICE_EPOCHS, as a whole: a job
// checkpoints once a second, not every epoch, and a median epoch would
// leave the one that paid for it out. Single epochs on this shared
// machine vary by a third, both ways; the rounds' median ratio is quoted.
const SERVICE_EPOCHS = 16

/** Samples/s over the second half of the epochs that ended at `ends`. */
function steadyRate(ends: number[]): number {
  const half = Math.floor(ends.length / 2)
  const ms = ends.at(-1)! - ends[half - 1]
  return SAMPLES * (ends.length - half) / (ms / 1000)
}

/**
 * The MLP at batch 256 as `jobs` jobs through the api and a worker pool
 * of `processes` processes on the first engine. Each job's samples/s is
 * its steadyRate, from the workers' log times; returned summed over the
 * jobs, which run side by side.
 */
async function throughService(epochs: number, processes: number,
  jobs: number): Promise<number> {
  const engine = engines[0] === 'native' ? 'native' : 'wasm'
  const env = testEnv({ TENSORQ_BACKEND: engine,
    WORKER_PROCESSES: String(processes) })
  const api = await startTestApi(env)
  let worker: TestWorker | undefined
  const post = async (url: string, payload: object) => {
    const res = await api.app.inject({ method: 'POST', url, payload })
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.body}`)
    return res.json()
  }
  try {
    worker = await startTestWorker(env)
    const logs = worker.logs
    await eventually(async () => (logs.filter((l) =>
      l.msg === 'worker ready').length >= processes ? true : undefined),
    60_000, 'the workers')

    const dataset = (await post('/v1/datasets', { name: 'mnist', rows })).id
    const ids: string[] = []
    for (let i = 0; i < jobs; i++) {
      ids.push((await post('/v1/jobs', { model: `mlp-${i}`, dataset,
        spec: SERVICE_MLP,
        training: { epochs, batchSize: SERVICE_BATCH, shuffle: false } })).id)
    }
    // Read from the workers' logs, not polled through the api, as in
    // serviceInProcess.
    const ended = (id: string) => logs.some((l) => l.jobId === id &&
      (l.msg === 'job completed' || l.msg === 'job failed'))
    await eventually(async () => ids.every(ended) || undefined, 600_000,
      'the jobs')
    for (const id of ids) {
      const res = await api.app.inject(`/v1/jobs/${id}`)
      if (res.json().state !== 'completed') throw new Error(`job ${id} failed`)
    }

    let total = 0
    for (const id of ids) {
      const times = logs.filter((l) => l.jobId === id &&
        l.msg === 'epoch finished').map((l) => l.time as number)
      total += steadyRate(times)
    }
    return total
  } finally {
    await worker?.stop()
    await api.close()
    await cleanUp(env)
  }
}

/**
 * Raw model.fit of the same MLP in a fresh process (bench/raw-fit.ts),
 * timed as the job is (steadyRate), with the BLAS threads a pool of one
 * worker process gives its worker.
 */
function rawFit(epochs: number): number {
  const engine = engines[0] === 'native' ? 'native' : 'wasm'
  const script = fileURLToPath(new URL('./raw-fit.ts', import.meta.url))
  const run = spawnSync(process.execPath, ['--import', 'tsx', script, engine,
    String(SAMPLES), String(epochs)], { encoding: 'utf8', env: {
    ...process.env, OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ??
      String(availableParallelism()) } })
  if (run.status !== 0) throw new Error(`raw fit failed: ${run.stderr}`)
  return steadyRate(JSON.parse(run.stdout) as number[])
}

/** Samples/s of raw model.fit of the service's MLP in this process. */
async function rawFitHere(x: tf.Tensor, y: tf.Tensor): Promise<number> {
  const model = buildModel(SERVICE_MLP, [784])
  compileModel(model, SERVICE_MLP)
  const ends: number[] = []
  await model.fit(x, y, { batchSize: SERVICE_BATCH, epochs: SERVICE_EPOCHS,
    verbose: 0, shuffle: false, callbacks: { onEpochEnd: async () => {
      ends.push(Date.now())
    } } })
  model.optimizer.dispose()
  model.dispose()
  return steadyRate(ends)
}

/**
 * Pairs of [raw, job] samples/s: raw model.fit in this process, then the
 * same model as a job through the api and a BullMQ worker (startWorker,
 * real Redis) also running in this process, `rounds` times over. Same
 * process, warmed alike, each pair a minute apart at most: what is left
 * between them is what the service does around model.fit (callbacks,
 * checkpoints, progress and log writes, Redis), not a process's start.
 */
async function serviceInProcess(rounds: number):
  Promise<Array<[number, number]>> {
  const engine = engines[0] === 'native' ? 'native' : 'wasm'
  const env = testEnv({ TENSORQ_BACKEND: engine })
  const logs: Array<Record<string, unknown>> = []
  const sink = new Writable({ write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n')) {
      if (line) logs.push(JSON.parse(line) as Record<string, unknown>)
    }
    done()
  } })
  const api = await startTestApi(env)
  const worker = await startWorker(loadConfig(env),
    pino({ level: 'info' }, sink))
  const [x, y] = data('mlp', SAMPLES)
  try {
    const created = await api.app.inject({ method: 'POST',
      url: '/v1/datasets', payload: { name: 'mnist', rows } })
    const dataset = created.json().id
    const pairs: Array<[number, number]> = []
    for (let round = 0; round < rounds; round++) {
      const raw = await rawFitHere(x, y)
      const queued = await api.app.inject({ method: 'POST', url: '/v1/jobs',
        payload: { model: 'mlp', dataset, spec: SERVICE_MLP, training: {
          epochs: SERVICE_EPOCHS, batchSize: SERVICE_BATCH,
          shuffle: false } } })
      const id = queued.json().id
      // Read from the worker's log, not polled through the api: polling
      // would put load on the machine that raw fit does not have.
      const mine = () => logs.filter((l) => l.jobId === id)
      await eventually(async () => mine().some((l) =>
        l.msg === 'job completed' || l.msg === 'job failed') || undefined,
      600_000, 'the job')
      const times = mine().filter((l) => l.msg === 'epoch finished')
        .map((l) => l.time as number)
      if (times.length !== SERVICE_EPOCHS) throw new Error(`job ${id} failed`)
      pairs.push([raw, steadyRate(times)])
    }
    return pairs
  } finally {
    tf.dispose([x, y])
    await worker.close()
    await api.close()
    await cleanUp(env)
  }
}

function printPairs(title: string, pairs: Array<[number, number]>): number {
  console.log(title)
  for (const [raw, job] of pairs) {
    console.log(`  raw ${raw.toFixed(0)}, job ${job.toFixed(0)}: ` +
      `${(job / raw).toFixed(2)}×`)
  }
  const ratios = pairs.map(([raw, job]) => job / raw).sort((a, b) => a - b)
  const median = ratios[Math.floor(ratios.length / 2)]
  console.log(`  median ratio ${median.toFixed(2)}×`)
  return median
}

await useEngine(engines[0])
const SERVICE_ROUNDS = Number(process.env.BENCH_SERVICE_ROUNDS ?? 9)
const what = `MLP, batch ${SERVICE_BATCH}, ${SAMPLES} digits, ${engines[0]}`
printPairs(`\n${what}, ${SERVICE_ROUNDS} rounds in this process: raw ` +
  'model.fit, then one job through the api and a worker (samples/s):',
await serviceInProcess(SERVICE_ROUNDS))

// The same across processes: a fresh worker process for the job, and a
// fresh one for raw fit. Both start cold, and each pair is measured
// minutes apart, so this one moves more between runs.
const crossRounds = Math.max(1, Math.ceil(SERVICE_ROUNDS / 2))
const pairs: Array<[number, number]> = []
for (let round = 0; round < crossRounds; round++) {
  pairs.push([rawFit(SERVICE_EPOCHS),
    await throughService(SERVICE_EPOCHS, 1, 1)])
}
printPairs(`${what}, ${crossRounds} rounds across processes: raw ` +
  'model.fit in a fresh process, then one job in a fresh worker process ' +
  '(samples/s):', pairs)
const job = pairs.map(([, j]) => j).sort((a, b) => a - b)[
  Math.floor(crossRounds / 2)]

const pooled = await throughService(SERVICE_EPOCHS, 2, 2)
console.log(`Two such jobs in a pool of two worker processes (one BLAS ` +
  `thread each): ${pooled.toFixed(0)} samples/s together, ` +
  `${(pooled / job).toFixed(2)}× the one job in one process`)
