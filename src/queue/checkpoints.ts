import type { ArtifactStore } from '../store/artifact-store.ts'
import { tf } from '../tf/backend.ts'
import { deserializeModel, serializeModel } from '../tf/model-io.ts'
import type { HistoryRow } from './training-job.ts'

/** Where a job's training stood after its last whole epoch. */
export interface Checkpoint {
  /** Epochs done; training goes on with the next. */
  epoch: number
  history: HistoryRow[]
}

function key(jobId: string): string {
  return `checkpoints/${jobId}.bin`
}

/**
 * A checkpoint's bytes: the model's weights as they are when this is
 * called, so that training may go on while they are written, and the
 * history, in one file (a length, the JSON, then the weights) so that a
 * crash mid-write cannot leave one epoch's weights with another's
 * history: the store writes a file whole or not at all. The optimizer's
 * state (Adam's moments, say) is not kept; a resumed job starts it
 * afresh.
 */
export async function encodeCheckpoint(model: tf.LayersModel,
  checkpoint: Checkpoint): Promise<Buffer> {
  const { modelJson, weights } = await serializeModel(model)
  const head = Buffer.from(JSON.stringify({ ...checkpoint, modelJson }))
  const length = Buffer.alloc(4)
  length.writeUInt32BE(head.length)
  return Buffer.concat([length, head, weights])
}

/** Stores bytes from encodeCheckpoint as the job's checkpoint. */
export function writeCheckpoint(store: ArtifactStore, jobId: string,
  bytes: Buffer): Promise<void> {
  return store.write(key(jobId), bytes)
}

/**
 * Puts a job's checkpoint into `model` (built from the same spec) and
 * returns where it stood, or undefined when the job has none.
 */
export async function restoreCheckpoint(store: ArtifactStore, jobId: string,
  model: tf.LayersModel): Promise<Checkpoint | undefined> {
  const bytes = await store.read(key(jobId))
  if (!bytes) return undefined

  const length = bytes.readUInt32BE(0)
  const head = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8'))
  const saved = await deserializeModel({ modelJson: head.modelJson,
    weights: bytes.subarray(4 + length) })
  try {
    model.setWeights(saved.getWeights())
  } finally {
    saved.dispose()
  }
  return { epoch: head.epoch, history: head.history }
}

/** Removes a job's checkpoint; nothing happens when it has none. */
export function removeCheckpoint(store: ArtifactStore, jobId: string):
  Promise<void> {
  return store.remove(key(jobId))
}
