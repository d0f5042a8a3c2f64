import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  eventually, startTestWorker, testEnv, useStack,
} from './helpers/harness.ts'

// GET /v1/jobs, and training.priority deciding which queued job trains
// first.

const env = testEnv()
// The worker starts once the jobs are queued; after() stops it.
const stack = useStack(env, { worker: false })
const { call } = stack

test('jobs are listed, filtered and paged; priority orders the queue', async () => {
  const rows = Array.from({ length: 40 }, (_, i) => ({ x: [i % 7, i % 3], y: i % 2 }))
  const dataset = (await call('POST', '/v1/datasets', { name: 'd', rows })).body.id
  const ids: Record<string, string> = {}
  for (const priority of [9, 1, 5]) {
    const res = await call('POST', '/v1/jobs', {
      model: `p${priority}`, dataset,
      spec: { layers: [{ type: 'dense', units: 2, activation: 'softmax' }],
        loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
      training: { epochs: 1, priority },
    })
    assert.equal(res.status, 202, JSON.stringify(res.body))
    ids[`p${priority}`] = res.body.id
  }

  const page = await call('GET', '/v1/jobs?state=queued&limit=2')
  assert.equal(page.status, 200)
  assert.equal(page.body.total, 3)
  assert.deepEqual(page.body.jobs.map((j: any) => j.model), ['p5', 'p1'])
  assert.equal(page.body.next, '?state=queued&limit=2&offset=2')
  const rest = await call('GET', `/v1/jobs${page.body.next}`)
  assert.deepEqual(rest.body.jobs.map((j: any) => j.model), ['p9'])
  assert.equal(rest.body.next, undefined)

  // Queued first, started now: the worker takes them by priority.
  stack.worker = await startTestWorker(env)
  const started = await eventually(async () => {
    const { body } = await call('GET', '/v1/jobs?state=completed')
    return body.total === 3 ? body.jobs : undefined
  }, 60_000, 'the three jobs')
  const order = [...started].sort((a: any, b: any) =>
    a.startedAt.localeCompare(b.startedAt)).map((j: any) => j.model)
  assert.deepEqual(order, ['p1', 'p5', 'p9'])

  const one = await call('GET', '/v1/jobs?model=p1')
  assert.deepEqual(one.body.jobs.map((j: any) => j.id), [ids.p1])
  assert.deepEqual(one.body.jobs[0].history, [])
  const bad = await call('GET', '/v1/jobs?state=done')
  assert.equal(bad.status, 400)
  assert.match(bad.body.message, /query.state must be one of queued/)
  // A pattern is said in words, not shown as a regular expression.
  const zero = await call('GET', '/v1/jobs?limit=0')
  assert.equal(zero.status, 400)
  assert.match(zero.body.message,
    /query.limit must be an integer from 1 to 100/)
})
