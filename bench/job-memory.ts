// A thousand small training jobs through one worker process: its resident
// size, JS heap, WASM heap and tensor count after each job, read from the
// worker's own log lines. Memory that grows with the number of jobs is a
// leak. Run twice: as deployed, and under --expose-gc, where the worker
// collects garbage before it measures (live memory only).
//
//   npm run bench:jobs            (BENCH_JOBS=1000 by default)
import {
  cleanUp, eventually, startTestApi, startTestWorker, testEnv,
} from '../test/helpers/harness.ts'

const JOBS = Number(process.env.BENCH_JOBS ?? 1000)
const MB = 1024 * 1024

type Line = Record<string, unknown>

async function run(gc: boolean): Promise<void> {
  const env = testEnv()
  const api = await startTestApi(env)
  const worker = await startTestWorker({ ...env,
    NODE_OPTIONS: gc ? '--expose-gc' : '' })
  const call = async (url: string, payload: object) => {
    const res = await api.app.inject({ method: 'POST', url, payload })
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.body}`)
    return res.json()
  }

  try {
    const rows = Array.from({ length: 128 }, (_, i) =>
      ({ x: [i % 5, i % 3, i % 7, i % 2], y: i % 3 }))
    const dataset = (await call('/v1/datasets', { name: 'd', rows })).id
    const started = Date.now()
    for (let i = 0; i < JOBS; i++) {
      await call('/v1/jobs', {
        model: `m${i % 10}`, dataset,
        spec: { layers: [{ type: 'dense', units: 16, activation: 'relu' },
          { type: 'dropout', rate: 0.2 },
          { type: 'dense', units: 3, activation: 'softmax' }],
        loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
        training: { epochs: 2, batchSize: 32, validationSplit: 0.25 },
      })
    }

    const done = () => worker.logs.filter((l) =>
      l.msg === 'job completed' || l.msg === 'job failed')
    await eventually(async () => (done().length >= JOBS ? true : undefined),
      JOBS * 2000, `${JOBS} jobs`)
    report(gc, worker.logs.find((l) => l.msg === 'worker ready')!, done(),
      (Date.now() - started) / 1000)
  } finally {
    await worker.stop()
    await api.close()
    await cleanUp(env)
  }
}

function report(gc: boolean, ready: Line, after: Line[], seconds: number) {
  const failed = after.filter((l) => l.msg === 'job failed').length
  console.log(`\n${gc ? 'under --expose-gc, collected before each measure'
    : 'as deployed'}: ${JOBS} jobs in ${seconds.toFixed(0)} s, ` +
    `${failed} failed\n`)
  console.log('| after job | RSS (MB) | JS heap (MB) | WASM heap (MB) | tensors |')
  console.log('| ---: | ---: | ---: | ---: | ---: |')
  const mb = (bytes: unknown) => ((bytes as number) / MB).toFixed(0)
  const row = (what: string | number, l: Line) =>
    console.log(`| ${what} | ${mb(l.rss)} | ${mb(l.heapUsed)} | ` +
      `${mb(l.wasm)} | ${l.tensors} |`)
  row('ready', ready)
  for (const n of [1, 10, 100, 250, 500, 750, JOBS]) {
    if (n <= JOBS) row(n, after[n - 1])
  }
  const peak = Math.max(...after.map((l) => l.rss as number))
  console.log(`\npeak RSS ${mb(peak)} MB`)
}

await run(false)
await run(true)
