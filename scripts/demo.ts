// npm run demo: trains an MLP on 8,000 real MNIST digits through the HTTP
// API and predicts the 2,000 it never saw. It talks to the API only; when
// nothing answers at TENSORQ_URL it starts `tensorq dev` and stops it after.
// DEMO_MODEL=cnn or lstm trains a convolutional or recurrent network
// instead; DEMO_EPOCHS overrides the number of epochs.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { DEMO_MODELS } from './demo-models.ts'
import { mnistSplit, type Digit } from './mnist-split.ts'

const BASE = process.env.TENSORQ_URL ??
  `http://127.0.0.1:${process.env.PORT ?? 8080}`
const TRAIN = 8000
const PREDICT_CHUNK = 500
const MODEL = DEMO_MODELS[process.env.DEMO_MODEL ?? 'mlp']
const EPOCHS = Number(process.env.DEMO_EPOCHS ?? MODEL?.epochs)

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(BASE + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return JSON.parse(text) as T
}

async function answers(path: string): Promise<boolean> {
  try {
    return (await fetch(BASE + path)).ok
  } catch {
    return false
  }
}

async function startStack(): Promise<ChildProcess> {
  const port = new URL(BASE).port || '80'
  const cli = fileURLToPath(new URL('../bin/tensorq.js', import.meta.url))
  console.log(`nothing answers at ${BASE}; starting tensorq dev`)
  const child = spawn(process.execPath, [cli, 'dev'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PORT: port, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  })

  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error('tensorq dev exited')
    if (await answers('/health/ready')) return child
    await new Promise((r) => setTimeout(r, 250))
  }
  child.kill()
  throw new Error('tensorq dev did not become ready in 60 s')
}

function stopStack(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

type Job = {
  id: string
  state: string
  backend?: string
  history: Array<Record<string, number>>
  result?: { version: number }
  error?: { code: string; message: string }
}

async function train(datasetId: string): Promise<number> {
  const job = await call<Job>('POST', '/v1/jobs', {
    model: MODEL.name,
    dataset: datasetId,
    spec: MODEL.spec,
    training: { epochs: EPOCHS, batchSize: MODEL.batchSize, shuffle: true },
  })
  console.log(`job ${job.id} queued: ${EPOCHS} epochs`)

  let shown = 0
  let backend: string | undefined
  for (;;) {
    await new Promise((r) => setTimeout(r, 500))
    const now = await call<Job>('GET', `/v1/jobs/${job.id}`)
    if (now.backend && !backend) {
      backend = now.backend
      console.log(`training on the ${backend} backend`)
    }
    for (const row of now.history.slice(shown)) {
      console.log(`epoch ${String(row.epoch).padStart(2)}/${EPOCHS}  ` +
        `loss ${row.loss.toFixed(4)}  accuracy ${row.acc.toFixed(4)}`)
    }
    shown = now.history.length
    if (now.state === 'completed') return now.result!.version
    if (now.state === 'failed' || now.state === 'cancelled') {
      throw new Error(`job ${now.state}: ${JSON.stringify(now.error)}`)
    }
  }
}

async function heldOutAccuracy(version: number, test: Digit[]): Promise<number> {
  let right = 0
  for (let i = 0; i < test.length; i += PREDICT_CHUNK) {
    const chunk = test.slice(i, i + PREDICT_CHUNK)
    const answer = await call<{ classes: string[] }>('POST',
      `/v1/models/${MODEL.name}/predict?version=${version}`,
      { instances: chunk.map(MODEL.input) })
    chunk.forEach((d, j) => {
      if (answer.classes[j] === String(d.label)) right++
    })
  }
  return right / test.length
}

async function main(): Promise<void> {
  if (!MODEL) {
    throw new Error(`DEMO_MODEL must be one of ${Object.keys(DEMO_MODELS)}`)
  }
  const stack = (await answers('/health/live')) ? undefined : await startStack()
  try {
    const { train: digits, test } = mnistSplit(TRAIN)
    const dataset = await call<{ id: string; rows: number }>('POST',
      '/v1/datasets', {
        name: 'mnist-8000',
        format: 'json',
        rows: digits.map((d) => ({ x: MODEL.input(d), y: d.label })),
      })
    console.log(`dataset ${dataset.id}: ${dataset.rows} digits uploaded`)

    const version = await train(dataset.id)
    console.log(`model ${MODEL.name} version ${version} stored; predicting`)
    const accuracy = await heldOutAccuracy(version, test)
    console.log(`held-out accuracy: ${accuracy.toFixed(4)} (${test.length} digits)`)
  } finally {
    if (stack) await stopStack(stack)
  }
}

try {
  await main()
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`)
  process.exitCode = 1
}
