import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { after, test } from 'node:test'
import { redisAnswers } from '../src/queue/connection.ts'
import { CLI, cleanUp, eventually, testEnv } from './helpers/harness.ts'

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

const envs: Array<Record<string, string>> = []
after(async () => {
  for (const env of envs) await cleanUp({ ...env, REDIS_URL: 'redis://127.0.0.1:6379' })
})

test('dev without Redis or redis-server says how to get one, in one line', async () => {
  const env = testEnv({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` })
  const child = spawn(process.execPath, [CLI, 'dev'], {
    env: { ...env, PATH: '/nonexistent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const code = await new Promise((r) => child.once('exit', r))

  assert.equal(code, 1)
  const lines = stderr.trim().split('\n')
  assert.equal(lines.length, 1, stderr)
  assert.match(lines[0], /no Redis answers at redis:\/\/127\.0\.0\.1:\d+ .*redis-server/)
})

test('dev on a port already taken exits with the reason', async () => {
  const taken = createServer()
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r))
  const { port } = taken.address() as { port: number }
  const env = testEnv({ PORT: String(port) })
  envs.push(env)
  try {
    const child = spawn(process.execPath, [CLI, 'dev'], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => { stderr += d })
    const code = await new Promise((r) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
      child.once('exit', (c) => {
        clearTimeout(timer)
        r(c)
      })
    })
    assert.equal(code, 1, stderr)
    assert.match(stderr, /EADDRINUSE/)
  } finally {
    taken.close()
  }
})

test('dev starts its own redis-server when none answers, and stops it', async () => {
  const redisUrl = `redis://127.0.0.1:${await freePort()}`
  const port = await freePort()
  const env = testEnv({ REDIS_URL: redisUrl, PORT: String(port) })
  envs.push(env)

  const child = spawn(process.execPath, [CLI, 'dev'], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  })
  const ready = await eventually(async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`)
      return res.ok ? await res.json() as { redis: string; backend: string } : undefined
    } catch {
      return undefined
    }
  }, 30_000, 'dev to be ready')

  assert.equal(ready.redis, 'ok')
  assert.equal(ready.backend, 'wasm')
  assert.equal(await redisAnswers(redisUrl), true)

  child.kill('SIGTERM')
  const code = await new Promise((r) => child.once('exit', r))
  assert.equal(code, 0)
  assert.equal(await redisAnswers(redisUrl, 300), false)
})

test('when dev dies without a word, its worker stops too', async () => {
  const port = await freePort()
  const env = testEnv({ PORT: String(port) })
  envs.push(env)
  const child = spawn(process.execPath, [CLI, 'dev'], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  })
  await eventually(async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok || undefined
    } catch {
      return undefined
    }
  }, 30_000, 'dev to be ready')

  const ps = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)])
  const workers = ps.toString().trim().split(/\s+/).map(Number)
  assert.equal(workers.length, 1, `children of dev: ${ps}`)
  child.kill('SIGKILL')

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  await eventually(async () => (alive(workers[0]) ? undefined : true),
    20_000, 'the orphaned worker to exit')
})

test('Ctrl-C on npm start (dev with a pool) hands the running job back',
  async () => {
  const port = await freePort()
  const env = testEnv({ PORT: String(port), WORKER_PROCESSES: '2',
    LOG_LEVEL: 'info' })
  envs.push(env)
  // Its own process group, as a shell gives a command: Ctrl-C signals
  // every process in it, and dev and the pool forward it once more.
  const child = spawn(process.execPath, [CLI, 'dev'], {
    env: { ...process.env, ...env }, detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  let out = ''
  child.stdout!.on('data', (d) => { out += d })
  const api = `http://127.0.0.1:${port}`
  const post = async (path: string, body: object) => (await fetch(api + path,
    { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body) })).json() as Promise<{ id: string }>
  await eventually(async () => {
    try {
      return (await fetch(`${api}/health/ready`)).ok || undefined
    } catch {
      return undefined
    }
  }, 30_000, 'dev to be ready')

  const rows = Array.from({ length: 3000 }, (_, i) => ({
    x: Array.from({ length: 16 }, (_, j) => Math.sin(i * (j + 1))), y: i % 2 }))
  const dataset = (await post('/v1/datasets', { name: 'd', rows })).id
  const { id } = await post('/v1/jobs', { model: 'm', dataset,
    spec: { layers: [{ type: 'dense', units: 64, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs: 500, batchSize: 16 } })
  await eventually(async () => ((await (await fetch(`${api}/v1/jobs/${id}`))
    .json()) as { history: unknown[] }).history.length >= 2 || undefined,
  60_000, 'two epochs')

  process.kill(-child.pid!, 'SIGINT')
  // And to dev once more, as npm start does: it forwards the signal too.
  process.kill(child.pid!, 'SIGINT')
  const code = await new Promise((r) => child.once('exit', r))
  assert.equal(code, 0)
  assert.match(out, /"msg":"job handed back"/)
  assert.doesNotMatch(out, /second signal/)
})
