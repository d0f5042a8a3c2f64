import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { eventually, storeDir, testEnv, useStack } from './helpers/harness.ts'

// Epochs shorter than CHECKPOINT_INTERVAL_MS are checkpointed and shown
// together: the first at once, the next ones only after the interval, and
// never one that no stored checkpoint holds.

const env = testEnv({ CHECKPOINT_INTERVAL_MS: '60000' })
const stack = useStack(env)

/** The epoch the job's stored checkpoint holds. */
async function checkpointEpoch(id: string): Promise<number> {
  const bytes = await readFile(join(storeDir(env), 'checkpoints', `${id}.bin`))
  const head = bytes.subarray(4, 4 + bytes.readUInt32BE(0))
  return JSON.parse(head.toString('utf8')).epoch
}

test('fast epochs are shown only once a checkpoint holds them', async () => {
  const rows = Array.from({ length: 200 }, (_, i) => ({
    x: Array.from({ length: 8 }, (_, j) => Math.sin(i * (j + 1))), y: i % 2 }))
  const dataset = (await stack.call('POST', '/v1/datasets',
    { name: 'small', rows })).body.id
  const id = (await stack.call('POST', '/v1/jobs', { model: 'fast', dataset,
    spec: { layers: [{ type: 'dense', units: 4, activation: 'relu' },
      { type: 'dense', units: 2, activation: 'softmax' }],
    loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } },
    training: { epochs: 10_000, batchSize: 50 } })).body.id

  const job = async () => (await stack.call('GET', `/v1/jobs/${id}`)).body
  const trained = () => stack.worker!.logs.filter((l) =>
    l.jobId === id && l.msg === 'epoch finished').length
  // The first epoch's report lands while the next epochs train.
  await eventually(async () => (await job()).history.length || undefined,
    60_000, 'the first epoch')
  const then = trained()
  await eventually(async () => trained() >= then + 5 || undefined, 60_000,
    'five more epochs')
  const seen = await job()
  assert.equal(seen.state, 'active')
  assert.deepEqual(seen.history.map((r: any) => r.epoch), [1])
  assert.equal(seen.progress.epoch, 1)
  assert.equal(await checkpointEpoch(id), 1)

  await stack.call('POST', `/v1/jobs/${id}/cancel`)
  const ended = await eventually(async () => {
    const job = (await stack.call('GET', `/v1/jobs/${id}`)).body
    return job.state === 'active' ? undefined : job
  }, 10_000, 'the cancel')
  assert.equal(ended.state, 'cancelled')
  // The record holds every whole epoch trained, each once, in order.
  const epochs = ended.history.map((r: any) => r.epoch)
  assert.ok(epochs.length >= 5, `${epochs.length} epochs`)
  assert.deepEqual(epochs, epochs.map((_: number, i: number) => i + 1))
})
