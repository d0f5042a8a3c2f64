import type { ModelSpec, TrainingSettings } from '../spec/schema.ts'

/** The BullMQ queue training jobs go through. */
export const TRAINING_QUEUE = 'training'

/**
 * A training job's data in BullMQ. It goes through JSON.stringify, so it
 * holds ids and the spec, never tensors or the dataset itself.
 */
export interface TrainingJobData {
  model: string
  dataset: string
  spec: ModelSpec
  training: TrainingSettings
  createdAt: string
}

/** One row of a job's history: an epoch's logs as tfjs names them. */
export interface HistoryRow {
  epoch: number
  [metric: string]: number
}

/**
 * What the worker reports through job.updateProgress. The history is not
 * in it: each epoch's row is appended to the job's log instead, so that a
 * 10,000-epoch job writes each row once rather than the whole history on
 * every epoch.
 */
export interface TrainingProgress {
  backend: string
  epoch: number
  epochs: number
  loss?: number
  metrics: Record<string, number>
}

/** What a completed training job returns. */
export interface TrainingResult {
  model: string
  version: number
}
