import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { saveJobRecord } from '../src/queue/job-record.ts'
import { openStore } from '../src/store/open-store.ts'
import { cleanUp, startTestApi, testEnv, type TestApi } from './helpers/harness.ts'

describe('while Redis is away the api answers 503 at once', () => {
  // Port 1 on loopback: nothing listens there.
  const env = testEnv({ REDIS_URL: 'redis://127.0.0.1:1' })
  let api: TestApi

  before(async () => {
    api = await startTestApi(env)
  })

  after(async () => {
    await api.close()
    await cleanUp({ ...env, REDIS_URL: 'redis://127.0.0.1:6379' })
  })

  test('readiness is 503 and names Redis', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/health/ready' })
    assert.equal(res.statusCode, 503)
    assert.equal(res.json().redis, 'down')
    assert.equal(res.json().store, 'ok')
  })

  test('a finished job is still answered from the store', async () => {
    // The record a worker writes when a job finishes.
    const id = randomUUID()
    await saveJobRecord(openStore(env.TENSORQ_STORE), {
      id, state: 'completed', model: 'm', dataset: 'd', attempts: 1,
      history: [{ epoch: 1, loss: 0.5 }], result: { model: 'm', version: 1 },
      createdAt: new Date().toISOString(),
    })

    const res = await api.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })
    assert.equal(res.statusCode, 200)
    assert.equal(res.json().state, 'completed')

    const other = await api.app.inject({
      method: 'GET', url: `/v1/jobs/${randomUUID()}`,
    })
    assert.equal(other.statusCode, 503)
  })

  test('metrics answer at once, without the queue counts', { timeout: 10_000 },
    async () => {
    const started = Date.now()
    const res = await api.app.inject({ method: 'GET', url: '/metrics' })
    assert.equal(res.statusCode, 200)
    assert.match(res.body, /tensorq_http_requests_total/)
    assert.doesNotMatch(res.body, /tensorq_queue_jobs\{/)
    assert.ok(Date.now() - started < 2000)
  })

  test('a finished job\'s event stream ends with its stored record',
    { timeout: 15_000 }, async () => {
    const id = randomUUID()
    await saveJobRecord(openStore(env.TENSORQ_STORE), {
      id, state: 'completed', model: 'm', dataset: 'd', attempts: 1,
      history: [{ epoch: 1, loss: 0.5 }], result: { model: 'm', version: 1 },
      createdAt: new Date().toISOString(),
    })
    // Over real HTTP: an event stream is a long answer, which inject would
    // wait out, and hang on, if the stream did not end.
    const url = await api.app.listen({ port: 0, host: '127.0.0.1' })
    const res = await fetch(`${url}/v1/jobs/${id}/events`,
      { signal: AbortSignal.timeout(10_000) })
    const text = await res.text()
    assert.match(text, /event: epoch/)
    assert.match(text, /event: completed/)
  })

  test('queueing a job is a 503 with a code, not a hang', async () => {
    const upload = await api.app.inject({
      method: 'POST', url: '/v1/datasets',
      payload: { name: 'd', rows: [{ x: [0], y: 0 }, { x: [1], y: 1 }] },
    })
    assert.equal(upload.statusCode, 201)

    const started = Date.now()
    const res = await api.app.inject({
      method: 'POST', url: '/v1/jobs',
      payload: {
        model: 'm', dataset: upload.json().id,
        spec: {
          layers: [{ type: 'dense', units: 2, activation: 'softmax' }],
          loss: 'categoricalCrossentropy', optimizer: { type: 'sgd' },
        },
      },
    })
    assert.equal(res.statusCode, 503)
    assert.equal(res.json().code, 'TQ_ERR_UNAVAILABLE')
    assert.ok(Date.now() - started < 2000)
  })
})
