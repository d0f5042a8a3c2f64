// Predict throughput over HTTP with batching off and on, against the
// HTTP ceiling (a no-op route through the same stack) and in-process
// model.predict, at 1, 16 and 64 concurrent connections, one row per
// request (autocannon).
//
//   npm run bench:serve        (BENCH_SECONDS per run, 3 by default;
//                               BENCH_ROUNDS rounds, 5 by default;
//                               BENCH_BACKEND, auto by default, is the
//                               engine of the apis and the in-process runs)
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { pino } from 'pino'
import { mnistSplit } from '../scripts/mnist-split.ts'
import { ModelCache } from '../src/serving/model-cache.ts'
import { openStore } from '../src/store/open-store.ts'
import type { BackendName } from '../src/config.ts'
import { initBackend, tf } from '../src/tf/backend.ts'
import {
  cleanUp, eventually, startTestApi, startTestWorker, testEnv,
} from '../test/helpers/harness.ts'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const CONCURRENCY = [1, 16, 64]
const CEILING = 'no-op route (ceiling)'
const env = testEnv({ TENSORQ_BACKEND: process.env.BENCH_BACKEND ?? 'auto' })
const engine = await initBackend(env.TENSORQ_BACKEND as BackendName,
  pino({ level: 'silent' }))

/** Trains the models once, through the api and a worker. */
async function train(): Promise<void> {
  const api = await startTestApi(env)
  const worker = await startTestWorker(env)
  const post = async (url: string, payload: object) => {
    const res = await api.app.inject({ method: 'POST', url, payload })
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.body}`)
    return res.json()
  }
  try {
    const { train: digits } = mnistSplit(1000)
    const dataset = (await post('/v1/datasets', { name: 'mnist',
      rows: digits.map((d) => ({ x: d.pixels, y: d.label })) })).id
    const mlp = (units: number[]) => ({
      layers: [...units.map((u) => ({ type: 'dense', units: u,
        activation: 'relu' })), { type: 'dense', units: 10,
        activation: 'softmax' }],
      loss: 'categoricalCrossentropy', optimizer: { type: 'adam' },
    })
    for (const [model, units] of [['mnist-mlp', [128]],
      ['mnist-wide', [2048, 2048]]] as const) {
      const job = await post('/v1/jobs', { model, dataset,
        spec: mlp([...units]), training: { epochs: 1, batchSize: 64 } })
      await eventually(async () => {
        const res = await api.app.inject(`/v1/jobs/${job.id}`)
        return res.json().state === 'completed' ? true : undefined
      }, 300_000, `${model} to train`)
    }
  } finally {
    await worker.stop()
    await api.close()
  }
}

async function startApi(batchRows: number):
  Promise<{ url: string; child: ChildProcess }> {
  const script = fileURLToPath(new URL('./serve-api.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env, BATCH_MAX_SIZE: String(batchRows),
      LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))
    child.once('exit', (code) => reject(new Error(`api exited ${code}`)))
  })
  return { url, child }
}

interface Run { rps: number; p50: number; p99: number; errors: number }

async function load(url: string, path: string, body: string | Buffer,
  connections: number, headers: Record<string, string> =
  { 'content-type': 'application/json' }): Promise<Run> {
  const result = await autocannon({ url: url + path, method: 'POST',
    headers, body, connections, duration: SECONDS })
  return { rps: result.requests.average, p50: result.latency.p50,
    p99: result.latency.p99, errors: result.errors + result.non2xx }
}

/** Rows per second of `batch`-row model.predict calls in this process. */
async function inProcess(model: string, pixels: number[], batch: number):
  Promise<number> {
  const cache = new ModelCache({ store: openStore(env.TENSORQ_STORE),
    maxBytes: 1 << 30, log: pino({ level: 'silent' }) })
  const rate = await cache.use(model, 1, (loaded) => {
    // A Float32Array, as the api's encoded rows are: from a plain array,
    // tfjs's conversion took more time than the model.
    const rows = Float32Array.from({ length: batch * 784 },
      (_, i) => pixels[i % 784])
    const until = Date.now() + SECONDS * 1000
    let n = 0
    while (Date.now() < until) {
      tf.tidy(() => (loaded.model.predict(tf.tensor2d(rows, [batch, 784])) as
        tf.Tensor).arraySync())
      n += batch
    }
    return n / SECONDS
  })
  cache.close()
  return rate!
}

await train()
const { test: held } = mnistSplit(1000)
const body = JSON.stringify({ instances: [held[0].pixels] })

/** Every run of one configuration, over the rounds. */
const runs = new Map<string, Run[]>()
const record = (what: string, c: number, r: Run) => {
  const key = `${what}|${c}`
  runs.set(key, [...(runs.get(key) ?? []), r])
}
const inProcessRows: string[] = []

try {
  // Both apis run side by side, each idle while the other is loaded. A
  // round measures every configuration once, each off run followed at
  // once by its on run and the ceiling, so that a ratio compares figures
  // taken seconds apart; single runs on this shared machine move by a
  // fifth either way, so each ratio is reported over ROUNDS rounds.
  const off = await startApi(1)
  const on = await startApi(256)
  try {
    const models = ['mnist-mlp', 'mnist-wide']
    const path = (model: string) => `/v1/models/${model}/predict`
    for (const model of models) {
      for (const api of [off, on]) await load(api.url, path(model), body, 4)
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of CONCURRENCY) {
        for (const model of models) {
          record(`${model}, batching off`, c,
            await load(off.url, path(model), body, c))
          record(`${model}, batching on`, c,
            await load(on.url, path(model), body, c))
        }
        record(CEILING, c, await load(off.url, '/bench/noop', body, c))
      }
    }
    // The same digit through the Open Inference Protocol, as JSON and in
    // its binary tensor extension (raw float32 after a JSON header).
    const input = { name: 'input', shape: [1, 784], datatype: 'FP32' }
    const v2Json = JSON.stringify({ inputs: [{ ...input,
      data: held[0].pixels }] })
    const header = Buffer.from(JSON.stringify({ inputs: [{ ...input,
      parameters: { binary_data_size: 784 * 4 } }] }))
    const v2Binary = Buffer.concat([header,
      Buffer.from(Float32Array.from(held[0].pixels).buffer)])
    const v2Path = '/v2/models/mnist-mlp/infer'
    for (const c of CONCURRENCY) {
      record('mnist-mlp, v2 JSON, batching on', c,
        await load(on.url, v2Path, v2Json, c))
      record('mnist-mlp, v2 binary, batching on', c,
        await load(on.url, v2Path, v2Binary, c, {
          'content-type': 'application/octet-stream',
          'inference-header-content-length': String(header.length) }))
    }
  } finally {
    for (const api of [off, on]) {
      api.child.kill('SIGTERM')
      await new Promise((r) => api.child.once('exit', r))
    }
  }
  // What batching can reach at best: rows/s of the model alone, by the
  // rows per predict call.
  for (const model of ['mnist-mlp', 'mnist-wide']) {
    for (const batch of [1, 16, 64]) {
      const rate = await inProcess(model, held[0].pixels, batch)
      inProcessRows.push(`| ${model}, in-process model.predict of ${batch} ` +
        `row${batch === 1 ? '' : 's'} | – | ${rate.toFixed(0)} (rows/s) | | | |`)
    }
  }
} finally {
  await cleanUp(env)
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length / 2
  return sorted.length % 2 ? sorted[Math.floor(mid)]
    : (sorted[mid - 1] + sorted[mid]) / 2
}

console.log(`\n${engine}, ${SECONDS} s per run, ${ROUNDS} rounds, one ` +
  '784-value row per request; medians over the rounds (requests/s: ' +
  'lowest and highest in brackets)\n')
console.log('| what | connections | requests/s | p50 ms | p99 ms | errors |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: |')
for (const [key, list] of runs) {
  const [what, c] = key.split('|')
  const rps = list.map((r) => r.rps)
  const range = list.length > 1
    ? ` (${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)})` : ''
  const errors = list.reduce((sum, r) => sum + r.errors, 0)
  console.log(`| ${what} | ${c} | ${median(rps).toFixed(0)}${range} | ` +
    `${median(list.map((r) => r.p50))} | ${median(list.map((r) => r.p99))} | ` +
    `${errors} |`)
}
for (const line of inProcessRows) console.log(line)

/** A target's ratio in each round, as measured seconds apart. */
function ratio(label: string, top: string, bottom: string, c: number,
  goal?: number): void {
  const a = runs.get(`${top}|${c}`)!
  const b = runs.get(`${bottom}|${c}`)!
  const each = a.map((r, i) => r.rps / b[i].rps)
  const mid = median(each)
  console.log(`| ${label} | ${mid.toFixed(2)}× | ` +
    `${each.map((x) => x.toFixed(2)).join(', ')} | ` +
    `${goal === undefined ? '–' : mid >= goal ? 'yes' : 'no'} |`)
}

console.log('\n| target | median ratio | each round | met? |')
console.log('| --- | ---: | --- | --- |')
ratio('mnist-mlp, 64 connections: on ≥ 1.5× off', 'mnist-mlp, batching on',
  'mnist-mlp, batching off', 64, 1.5)
ratio('mnist-mlp, 64 connections: on ≥ 0.8× the ceiling',
  'mnist-mlp, batching on', CEILING, 64, 0.8)
ratio('mnist-mlp, 1 connection: on ≥ 0.9× off', 'mnist-mlp, batching on',
  'mnist-mlp, batching off', 1, 0.9)
ratio('mnist-wide, 64 connections: on ≥ 3× off', 'mnist-wide, batching on',
  'mnist-wide, batching off', 64, 3)
for (const c of CONCURRENCY) {
  ratio(`v2 binary body against v2 JSON, batching on, ${c} ` +
    `connection${c === 1 ? '' : 's'}`,
    'mnist-mlp, v2 binary, batching on', 'mnist-mlp, v2 JSON, batching on', c)
}
