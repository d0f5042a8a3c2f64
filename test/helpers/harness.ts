import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { loadConfig, type Config } from '../../src/config.ts'
import { createLogger } from '../../src/log.ts'
import { TRAINING_QUEUE } from '../../src/queue/training-job.ts'
import { createApi, type ApiProcess } from '../../src/run/api.ts'

export const CLI = fileURLToPath(new URL('../../bin/tensorq.js', import.meta.url))

/** Environment for one test: its own queue prefix and store folder. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  const id = randomUUID().slice(0, 8)
  return {
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    TENSORQ_STORE: `file://${join(tmpdir(), `tensorq-test-${id}`)}`,
    TENSORQ_QUEUE_PREFIX: `tq-test-${id}`,
    TENSORQ_BACKEND: 'wasm',
    LOG_LEVEL: 'silent',
    PORT: '0',
    WORKER_METRICS_PORT: '0',
    // One process, so that a test's worker pid is the one training.
    WORKER_PROCESSES: '1',
    ...extra,
  }
}

/** The store folder of a test environment. */
export function storeDir(env: Record<string, string>): string {
  return fileURLToPath(env.TENSORQ_STORE)
}

/** Removes what a test left in Redis (its prefix) and on disk. */
export async function cleanUp(env: Record<string, string>): Promise<void> {
  const connection = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null })
  const queue = new Queue(TRAINING_QUEUE, {
    connection,
    prefix: env.TENSORQ_QUEUE_PREFIX,
  })
  await queue.obliterate({ force: true })
  await queue.close()
  connection.disconnect()
  await rm(storeDir(env), { recursive: true, force: true })
}

export interface TestApi extends ApiProcess {
  config: Config
  /** The base URL when started with listen; empty for inject() use. */
  url: string
}

/** The real api app on the test's Redis and store, optionally listening. */
export async function startTestApi(
  env: Record<string, string>,
  listen = false,
): Promise<TestApi> {
  const config = loadConfig(env)
  const api = await createApi(config, createLogger(config, 'api'))
  if (!listen) {
    await api.app.ready()
    return { ...api, config, url: '' }
  }
  const url = await api.app.listen({ port: 0, host: '127.0.0.1' })
  return { ...api, config, url }
}

export interface TestWorker {
  child: ChildProcess
  /** Every JSON log line the worker wrote so far. */
  logs: Array<Record<string, unknown>>
  stop(): Promise<void>
}

/**
 * Starts `tensorq worker` as its own process, as production runs it, and
 * resolves once it logged that it is ready.
 */
export function startTestWorker(env: Record<string, string>): Promise<TestWorker> {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const logs: Array<Record<string, unknown>> = []
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })

  return new Promise((resolve, reject) => {
    let buffered = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>
        logs.push(entry)
        if (entry.msg === 'worker ready') resolve({ child, logs, stop })
      }
    })
    child.once('exit', (code) => reject(new Error(`worker exited ${code}`)))
  })
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const value = await check()
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/**
 * Predicts with a stored version from a new node process, which has
 * loaded nothing before: what a restarted server would answer.
 */
export async function predictInFreshProcess(
  env: Record<string, string>,
  model: string,
  version: number,
  body: object,
): Promise<{ predictions: number[][]; classes?: string[] }> {
  const script = fileURLToPath(new URL('./predict-fresh.ts', import.meta.url))
  const child = spawn(process.execPath,
    ['--import', 'tsx', script, env.TENSORQ_STORE, model, String(version)],
    { stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end(JSON.stringify(body))

  let out = ''
  let err = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { err += d })
  const code = await new Promise<number | null>((resolve) =>
    child.on('exit', resolve))
  if (code !== 0) throw new Error(`predict-fresh exited ${code}: ${err}`)
  return JSON.parse(out)
}

/** What a request through inject() answered. */
export interface Answer {
  status: number
  body: any
}

/**
 * The api (and, unless `worker: false`, a worker process) for one test
 * file, started in before() and stopped in after(), with `call` to send
 * JSON requests through inject(). With `listen`, the api also listens on
 * a free port (`api.url`).
 */
export function useStack(env: Record<string, string>,
  opts: { worker?: boolean; listen?: boolean } = {}) {
  const stack = {
    api: undefined as unknown as TestApi,
    worker: undefined as TestWorker | undefined,
    async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string,
      payload?: object): Promise<Answer> {
      const res = await stack.api.app.inject({ method, url, payload })
      return { status: res.statusCode, body: res.body ? res.json() : undefined }
    },
  }
  before(async () => {
    stack.api = await startTestApi(env, opts.listen)
    if (opts.worker !== false) stack.worker = await startTestWorker(env)
  })
  after(async () => {
    await stack.worker?.stop()
    await stack.api?.close()
    await cleanUp(env)
  })
  return stack
}
