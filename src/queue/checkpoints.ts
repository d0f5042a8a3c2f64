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

/** The optimizer's state as bytes, with what each tensor is. */
interface OptimizerState {
  specs: tf.io.WeightsManifestEntry[]
  data: ArrayBuffer
}

/**
 * The optimizer's state (Adam's moments and step count, say), read now;
 * undefined for an optimizer tfjs cannot read the state of (Adamax).
 */
async function optimizerState(model: tf.LayersModel):
  Promise<OptimizerState | undefined> {
  const optimizer = model.optimizer as tf.Optimizer | undefined
  if (!optimizer) return undefined
  let weights: Awaited<ReturnType<tf.Optimizer['getWeights']>>
  try {
    weights = await optimizer.getWeights()
  } catch {
    return undefined
  }
  try {
    return await tf.io.encodeWeights(weights)
  } finally {
    // The step count comes as a new scalar; the rest are the optimizer's.
    for (const { tensor } of weights) {
      if (!(tensor instanceof tf.Variable)) tensor.dispose()
    }
  }
}

/**
 * A checkpoint's bytes: the model's weights and the optimizer's state as
 * they are when this is called, so that training may go on while they
 * are written, and the history, in one file (a length, the JSON, the
 * weights, then the optimizer's state) so that a crash mid-write cannot
 * leave one epoch's weights with another's history: the store writes a
 * file whole or not at all.
 */
export async function encodeCheckpoint(model: tf.LayersModel,
  checkpoint: Checkpoint): Promise<Buffer> {
  const { modelJson, weights } = await serializeModel(model)
  const optimizer = await optimizerState(model)
  const head = Buffer.from(JSON.stringify({ ...checkpoint, modelJson,
    weightBytes: weights.byteLength, optimizer: optimizer?.specs }))
  const length = Buffer.alloc(4)
  length.writeUInt32BE(head.length)
  return Buffer.concat([length, head, weights,
    ...(optimizer ? [Buffer.from(optimizer.data)] : [])])
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
  const start = 4 + length
  const end = start + (head.weightBytes ?? bytes.length - start)
  const saved = await deserializeModel({ modelJson: head.modelJson,
    weights: bytes.subarray(start, end) })
  try {
    model.setWeights(saved.getWeights())
  } finally {
    saved.dispose()
  }
  if (head.optimizer && model.optimizer) {
    await restoreOptimizer(model.optimizer, head.optimizer,
      bytes.subarray(end))
  }
  return { epoch: head.epoch, history: head.history }
}

async function restoreOptimizer(optimizer: tf.Optimizer,
  specs: tf.io.WeightsManifestEntry[], bytes: Buffer): Promise<void> {
  const data = bytes.buffer.slice(bytes.byteOffset,
    bytes.byteOffset + bytes.byteLength) as ArrayBuffer
  const tensors = tf.io.decodeWeights(data, specs)
  try {
    await optimizer.setWeights(specs.map((s) =>
      ({ name: s.name, tensor: tensors[s.name] })))
  } finally {
    // The optimizer's variables hold their own references.
    tf.dispose(Object.values(tensors))
  }
}

/** Removes a job's checkpoint; nothing happens when it has none. */
export function removeCheckpoint(store: ArtifactStore, jobId: string):
  Promise<void> {
  return store.remove(key(jobId))
}
