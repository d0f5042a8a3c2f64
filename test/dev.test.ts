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
