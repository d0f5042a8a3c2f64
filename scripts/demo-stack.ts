// What the demos share: calls to the API, and a `tensorq dev` of their
// own when nothing answers at TENSORQ_URL.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BASE = process.env.TENSORQ_URL ??
  `http://127.0.0.1:${process.env.PORT ?? 8080}`

/** Calls the API; throws with the answer's body unless it is a 2xx. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
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

/**
 * Runs `fn` against the API at TENSORQ_URL, starting `tensorq dev` first
 * when nothing answers there and stopping it after.
 */
export async function withStack(fn: () => Promise<void>): Promise<void> {
  const stack = (await answers('/health/live')) ? undefined : await startStack()
  try {
    await fn()
  } finally {
    if (stack) await stopStack(stack)
  }
}

/** A job as GET /v1/jobs/{id} answers. */
export type Job = {
  id: string
  state: string
  backend?: string
  history: Array<Record<string, number>>
  result?: { version: number }
  error?: { code: string; message: string }
}
