import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventually, testEnv, useStack } from './helpers/harness.ts'

// Fifty small jobs in one worker, most completing and some failing (a
// loss that becomes infinite): afterwards the worker holds as many
// tensors as when it started.

const stack = useStack(testEnv())
const { call } = stack

test('50 jobs leave the tensor count where it started', async (t) => {
  const rows = Array.from({ length: 64 }, (_, i) => ({ x: [i % 5, i % 3], y: i % 2 }))
  const dataset = (await call('POST', '/v1/datasets', { name: 'd', rows })).body.id
  // Targets near float32's limit: the squared error is infinite at once.
  const huge = (await call('POST', '/v1/datasets', { name: 'h',
    task: 'regression', rows: rows.map((r) => ({ x: r.x, y: 3e38 })) })).body.id
  // Momentum's dispose() in tfjs leaves a scalar behind; tensorq's does not.
  const spec = (diverge: boolean, momentum: boolean) => ({
    layers: [{ type: 'dense', units: 8, activation: 'relu' },
      { type: 'dropout', rate: 0.2 },
      { type: 'dense', units: diverge ? 1 : 2,
        activation: diverge ? 'linear' : 'softmax' }],
    loss: diverge ? 'meanSquaredError' : 'categoricalCrossentropy',
    optimizer: { type: momentum ? 'momentum' : 'sgd', learningRate: 0.1 },
  })

  const ids: string[] = []
  for (let i = 0; i < 50; i++) {
    const diverge = i % 10 === 3
    const res = await call('POST', '/v1/jobs', {
      model: `m${i % 5}`, dataset: diverge ? huge : dataset,
      spec: spec(diverge, i % 2 === 1),
      training: { epochs: 2, batchSize: 16, validationSplit: 0.25 },
    })
    assert.equal(res.status, 202, JSON.stringify(res.body))
    ids.push(res.body.id)
  }
  const finished = () => stack.worker!.logs.filter((l) =>
    l.msg === 'job completed' || l.msg === 'job failed')
  await eventually(async () => (finished().length >= 50 ? true : undefined),
    180_000, '50 jobs')

  const ready = stack.worker!.logs.find((l) => l.msg === 'worker ready')!
  const counts = finished().map((l) => l.tensors as number)
  const failed = finished().filter((l) => l.msg === 'job failed').length
  t.diagnostic(`tensors at start ${ready.tensors}, after each job ` +
    `${[...new Set(counts)].join('/')}; ${failed} of 50 failed`)
  assert.equal(failed, 5, 'the five diverging jobs should have failed')
  assert.equal(counts.at(-1), ready.tensors)
  assert.ok(counts.every((c) => c === ready.tensors), counts.join(','))
})
