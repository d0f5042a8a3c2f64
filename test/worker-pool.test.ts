import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { after, before, test } from 'node:test'
import { CLI, eventually, testEnv, useStack } from './helpers/harness.ts'

// `tensorq worker` with WORKER_PROCESSES=2 trains two jobs at once in two
// processes (one core each on a two-core machine), and starts a process
// again when one dies.

const env = testEnv({ TENSORQ_BACKEND: 'auto' })
const stack = useStack(env, { worker: false })
const { call } = stack

let pool: ChildProcess
const logs: Array<Record<string, any>> = []

before(() => {
  pool = spawn(process.execPath, [CLI, 'worker'], {
    env: { ...process.env, ...env, WORKER_PROCESSES: '2', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let buffered = ''
  pool.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8')
    const lines = buffered.split('\n')
    buffered = lines.pop()!
    for (const line of lines) logs.push(JSON.parse(line))
  })
})

after(async () => {
  if (pool.exitCode === null) {
    pool.kill('SIGKILL')
  }
})

const ready = () => logs.filter((l) => l.msg === 'worker ready')

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('two worker processes start, each with its own metrics port', async () => {
  await eventually(async () => (ready().length >= 2 ? true : undefined),
    60_000, 'two workers ready')
  const [a, b] = ready()
  assert.notEqual(a.pid, b.pid)
  assert.notEqual(a.pid, pool.pid)
  assert.notEqual(a.metricsUrl, b.metricsUrl)
  const started = logs.find((l) => l.msg === 'worker pool started')!
  assert.equal(started.processes, 2)
})

test('two jobs train at the same time, one in each process', async () => {
  const rows = Array.from({ length: 512 }, (_, i) => ({
    x: Array.from({ length: 32 }, (_, j) => ((i * 7 + j) % 13) / 13),
    y: i % 2,
  }))
  const dataset = (await call('POST', '/v1/datasets', { name: 'd', rows })).body.id
  const job = () => call('POST', '/v1/jobs', { model: 'pooled', dataset,
    spec: { layers: [{ type: 'dense', units: 256, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs: 40, batchSize: 16 } })
  const ids = [(await job()).body.id, (await job()).body.id]

  const done = await Promise.all(ids.map((id) => eventually(async () => {
    const { body } = await call('GET', `/v1/jobs/${id}`)
    return ['completed', 'failed'].includes(body.state) ? body : undefined
  }, 120_000, `job ${id}`)))
  for (const d of done) assert.equal(d.state, 'completed', JSON.stringify(d.error))

  const trainer = (id: string) => logs.find((l) =>
    l.jobId === id && l.msg === 'training started')!.pid
  assert.notEqual(trainer(ids[0]), trainer(ids[1]))

  const [first, second] = done.map((d) => ({
    start: Date.parse(d.startedAt), end: Date.parse(d.finishedAt) }))
  assert.ok(second.start < first.end && first.start < second.end,
    `the jobs overlapped: ${JSON.stringify([first, second])}`)
})

test('a worker process that dies is started again', async () => {
  const victim = ready()[0].pid as number
  process.kill(victim, 'SIGKILL')

  const died = await eventually(async () => logs.find((l) =>
    l.msg === 'worker process died; starting another' &&
    l.childPid === victim), 10_000, 'the death to be noticed')
  assert.equal(died.signal, 'SIGKILL')
  await eventually(async () => (ready().length >= 3 ? true : undefined),
    60_000, 'a new worker ready')
  assert.ok(!ready().slice(2).some((l) => l.pid === victim))
})

test('SIGTERM stops the pool and every worker process in it', async () => {
  const pids = ready().slice(-2).map((l) => l.pid as number)
  const exited = new Promise<number | null>((resolve) =>
    pool.once('exit', resolve))
  pool.kill('SIGTERM')
  assert.equal(await exited, 0)
  for (const pid of pids) {
    await eventually(async () => (alive(pid) ? undefined : true), 10_000,
      `worker ${pid} to exit`)
  }
})

test('a pool whose workers cannot start exits 1 rather than wait', async () => {
  // tfjs-node-gpu is not installed here: every worker fails at start.
  const failing = spawn(process.execPath, [CLI, 'worker'], {
    env: { ...process.env, ...env, WORKER_PROCESSES: '2',
      TENSORQ_BACKEND: 'gpu', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  failing.stdout!.on('data', (d: Buffer) => { out += d })
  const timer = setTimeout(() => failing.kill('SIGKILL'), 60_000)
  const code = await new Promise<number | null>((resolve) =>
    failing.once('exit', resolve))
  clearTimeout(timer)
  assert.equal(code, 1)
  assert.match(out, /worker process failed to start; stopping the pool/)
})
