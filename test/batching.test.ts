import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, testEnv, useStack } from './helpers/harness.ts'

// Over real HTTP: concurrent predicts are merged into shared predict
// calls and each gets its own rows back; a bad request fails alone;
// moving the production alias while requests flow fails none of them;
// /metrics counts all of it.

// The client runs in the api's own process here, so it cannot send while
// a predict call holds the event loop, which is what fills batches under
// real load (npm run bench:serve shows that with the default of 0). A
// window makes the merging certain for the test.
const stack = useStack(testEnv({ BATCH_MAX_DELAY_MS: '20' }), { listen: true })
const { call } = stack

async function trainVersion(): Promise<number> {
  const rows = Array.from({ length: 90 }, (_, i) =>
    ({ x: [i % 3, (i * 7) % 4, i % 5], y: `c${i % 3}` }))
  const dataset = (await call('POST', '/v1/datasets', { name: 'd', rows })).body.id
  const queued = await call('POST', '/v1/jobs', { model: 'batched', dataset,
    spec: { layers: [{ type: 'dense', units: 8, activation: 'relu' },
      { type: 'dense', units: 3, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs: 2, batchSize: 16 } })
  const done = await eventually(async () => {
    const { body } = await call('GET', `/v1/jobs/${queued.body.id}`)
    return body.state === 'completed' ? body : undefined
  }, 60_000, 'training')
  return done.result.version
}

async function post(path: string, body: object) {
  const res = await fetch(stack.api.url + path, { method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() as any }
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${stack.api.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') ||
    l.startsWith(name + '{'))
  return line ? Number(line.split(' ').at(-1)) : 0
}

test('concurrent requests share predict calls and keep their rows', async (t) => {
  const version = await trainVersion()
  const rows = Array.from({ length: 64 }, (_, i) => [i % 3, i % 4, (i * 3) % 5])
  // One at a time first: what each row must get back.
  const alone: number[][] = []
  for (const row of rows) {
    alone.push((await post('/v1/models/batched/predict',
      { instances: [row] })).body.predictions[0])
  }
  const callsBefore = await metric('tensorq_predict_batch_requests_count')

  const answers = await Promise.all(rows.map((row, i) =>
    post(`/v1/models/batched/predict?version=${version}`,
      { instances: i === 17 ? [[1, 2]] : [row] })))
  answers.forEach((answer, i) => {
    if (i === 17) {
      assert.equal(answer.status, 400)
      assert.equal(answer.body.code, 'TQ_ERR_PREDICT_INVALID_INSTANCE')
      return
    }
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
    answer.body.predictions[0].forEach((v: number, k: number) =>
      assert.ok(Math.abs(v - alone[i][k]) < 1e-6, `request ${i}`))
  })

  const calls = await metric('tensorq_predict_batch_requests_count') -
    callsBefore
  t.diagnostic(`63 concurrent requests took ${calls} predict calls`)
  assert.ok(calls < 63, `63 requests took ${calls} predict calls`)
})

test('moving production while requests flow fails none of them', async () => {
  const second = await trainVersion()
  const seen = new Set<number>()
  for (let wave = 0; wave < 10; wave++) {
    const move = call('PUT', '/v1/models/batched/aliases/production',
      { version: wave % 2 === 0 ? second : second - 1 })
    const answers = await Promise.all(Array.from({ length: 20 }, () =>
      post('/v1/models/batched/predict', { instances: [[1, 2, 3]] })))
    assert.equal((await move).status, 200)
    for (const a of answers) {
      assert.equal(a.status, 200, JSON.stringify(a.body))
      seen.add(a.body.version)
    }
  }
  assert.deepEqual([...seen].sort(), [second - 1, second])
})

test('/metrics counts requests, rows, batches, the cache and the queue', async () => {
  const text = await (await fetch(`${stack.api.url}/metrics`)).text()
  const route = 'method="POST",route="/v1/models/:name/predict"'
  assert.ok(text.includes(`tensorq_http_requests_total{${route},status="200"}`))
  assert.ok(text.includes('tensorq_http_request_duration_seconds_bucket' +
    `{le="0.005",${route},status="400"}`))
  assert.ok(await metric('tensorq_predict_rows_total') >= 63 + 200)
  assert.ok(await metric('tensorq_model_cache_misses_total') >= 2)
  assert.ok(await metric('tensorq_model_cache_hits_total') > 200)
  assert.match(text, /tensorq_queue_jobs\{state="completed"\} 2/)
})
