import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import {
  cleanUp, startTestApi, startTestWorker, testEnv,
  type TestApi, type TestWorker,
} from './helpers/harness.ts'

// GET /v1/jobs/{id}/events as a client reads it: a real HTTP stream.

const env = testEnv()
let api: TestApi
let worker: TestWorker
let dataset: string

before(async () => {
  api = await startTestApi(env, true)
  worker = await startTestWorker(env)
  const rows = Array.from({ length: 400 }, (_, i) => ({
    x: [Math.sin(i), Math.cos(i)], y: Math.sin(i) * Math.cos(i) + 0.5 }))
  dataset = (await post('/v1/datasets', { name: 'd', rows })).id
})

after(async () => {
  await worker?.stop()
  await api?.close()
  await cleanUp(env)
})

async function post(path: string, body: object) {
  const res = await fetch(api.url + path, { method: 'POST',
    headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return res.json() as Promise<any>
}

/** Every event of a stream, read until the server closes it. */
async function events(id: string): Promise<Array<{ type: string; data: any }>> {
  const res = await fetch(`${api.url}/v1/jobs/${id}/events`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type')!, /text\/event-stream/)
  const text = await res.text()
  return text.split('\n\n').filter((block) => block.startsWith('event:'))
    .map((block) => {
      const [event, data] = block.split('\n')
      return { type: event.slice('event: '.length),
        data: JSON.parse(data.slice('data: '.length)) }
    })
}

function queue(epochs: number, learningRate = 0.01) {
  return post('/v1/jobs', {
    model: 'm', dataset,
    spec: { layers: [{ type: 'dense', units: 8, activation: 'relu' },
      { type: 'dense', units: 1 }],
    loss: 'meanSquaredError', optimizer: { type: 'sgd', learningRate } },
    training: { epochs, batchSize: 16 },
  })
}

test('a client sees every epoch in order, then the end', async () => {
  const job = await queue(8)
  const seen = await events(job.id)
  const epochs = seen.filter((e) => e.type === 'epoch').map((e) => e.data.epoch)
  assert.deepEqual(epochs, [1, 2, 3, 4, 5, 6, 7, 8])
  assert.ok(seen.some((e) => e.type === 'progress'))
  const last = seen.at(-1)!
  assert.equal(last.type, 'completed')
  assert.equal(last.data.result.version >= 1, true)

  // Late: the job is over; the stream replays it and closes.
  const replay = await events(job.id)
  assert.deepEqual(replay.filter((e) => e.type === 'epoch')
    .map((e) => e.data.epoch), epochs)
  assert.equal(replay.at(-1)!.type, 'completed')
})

test('a failed job ends its stream with failed', async () => {
  const job = await queue(20, 10)
  const seen = await events(job.id)
  const last = seen.at(-1)!
  assert.equal(last.type, 'failed')
  assert.equal(last.data.error.code, 'TQ_ERR_JOB_DIVERGED')
})

test('an unknown job is a 404', async () => {
  const res = await fetch(`${api.url}/v1/jobs/00000000-0000-4000-8000-000000000000/events`)
  assert.equal(res.status, 404)
})
