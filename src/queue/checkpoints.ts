import type { ArtifactStore } from '../store/artifact-store.ts'
import { tf } from '../tf/backend.ts'
import { deserializeModel, serializeModel } from '../tf/model-io.ts'
import type { HistoryRow } from './training-job.ts'

/** The epoch where early stopping's monitor was best so far. */
export interface BestEpoch {
  epoch: number
  value: number
  /** The model's weights after that epoch, in getWeights() order. */
  weights: tf.Tensor[]
}

/** Where a job's training stood after its last whole epoch. */
export interface Checkpoint {
  /** Epochs done; training goes on with the next. */
  epoch: number
  history: HistoryRow[]
  /** For restoreBestWeights: the best epoch so far, while training. */
  best?: BestEpoch
  /** Set once training has ended: what is left is to store the version. */
  ended?: {
    /** The epoch whose weights early stopping put back, if it did. */
    restoredEpoch?: number
  }
}

function key(jobId: string): string {
  return `checkpoints/${jobId}.bin`
}

/** Tensors as bytes, with what each tensor is. */
interface Encoded {
  specs: tf.io.WeightsManifestEntry[]
  data: ArrayBuffer
}

/**
 * The optimizer's state (Adam's moments and step count, say), read now;
 * undefined for an optimizer tfjs cannot read the state of (Adamax).
 */
async function optimizerState(model: tf.LayersModel):
  Promise<Encoded | undefined> {
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

function bestWeights(best: BestEpoch | undefined):
  Promise<Encoded> | undefined {
  return best && tf.io.encodeWeights(best.weights.map((tensor, i) =>
    ({ name: `best/${i}`, tensor })))
}

/**
 * A checkpoint's bytes: the model's weights, the best epoch's and the
 * optimizer's state as they are when this is called, so that training
 * may go on while they are written, and the history, in one file (a
 * length, the JSON, the weights, the best epoch's, the optimizer's
 * state) so that a crash mid-write cannot leave one epoch's weights
 * with another's history: the store writes a file whole or not at all.
 */
export async function encodeCheckpoint(model: tf.LayersModel,
  checkpoint: Checkpoint): Promise<Buffer> {
  const { best, ...rest } = checkpoint
  const { modelJson, weights } = await serializeModel(model)
  const bestBytes = await bestWeights(best)
  const optimizer = await optimizerState(model)
  const head = Buffer.from(JSON.stringify({ ...rest, modelJson,
    weightBytes: weights.byteLength,
    best: best && { epoch: best.epoch, value: best.value,
      specs: bestBytes!.specs, bytes: bestBytes!.data.byteLength },
    optimizer: optimizer?.specs }))
  const length = Buffer.alloc(4)
  length.writeUInt32BE(head.length)
  return Buffer.concat([length, head, weights,
    ...[bestBytes?.data, optimizer?.data].filter((d) => d !== undefined)
      .map((d) => Buffer.from(d))])
}

/** Stores bytes from encodeCheckpoint as the job's checkpoint. */
export function writeCheckpoint(store: ArtifactStore, jobId: string,
  bytes: Buffer): Promise<void> {
  return store.write(key(jobId), bytes)
}

function arrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset,
    bytes.byteOffset + bytes.byteLength) as ArrayBuffer
}

/**
 * Puts a job's checkpoint into `model` (built from the same spec) and
 * returns where it stood, or undefined when the job has none. The best
 * epoch's weights, if any, are the caller's to dispose.
 */
export async function restoreCheckpoint(store: ArtifactStore, jobId: string,
  model: tf.LayersModel): Promise<Checkpoint | undefined> {
  const bytes = await store.read(key(jobId))
  if (!bytes) return undefined

  const length = bytes.readUInt32BE(0)
  const head = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8'))
  let at = 4 + length
  const next = (size: number) => bytes.subarray(at, at += size)
  const saved = await deserializeModel({ modelJson: head.modelJson,
    weights: next(head.weightBytes ?? bytes.length - at) })
  try {
    model.setWeights(saved.getWeights())
  } finally {
    saved.dispose()
  }

  let best: BestEpoch | undefined
  if (head.best) {
    const specs = head.best.specs as tf.io.WeightsManifestEntry[]
    const tensors = tf.io.decodeWeights(arrayBuffer(next(head.best.bytes)),
      specs)
    best = { epoch: head.best.epoch, value: head.best.value,
      weights: specs.map((s) => tensors[s.name]) }
  }
  if (head.optimizer && model.optimizer) {
    await restoreOptimizer(model.optimizer, head.optimizer,
      bytes.subarray(at))
  }
  return { epoch: head.epoch, history: head.history, best,
    ended: head.ended }
}

async function restoreOptimizer(optimizer: tf.Optimizer,
  specs: tf.io.WeightsManifestEntry[], bytes: Buffer): Promise<void> {
  const tensors = tf.io.decodeWeights(arrayBuffer(bytes), specs)
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
