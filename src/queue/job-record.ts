import type { Job } from 'bullmq'
import { codeOf, errors } from '../errors.ts'
import { isId } from '../store/ids.ts'
import { readJson, writeJson, type ArtifactStore } from '../store/artifact-store.ts'
import type {
  HistoryRow, TrainingJobData, TrainingProgress, TrainingResult,
} from './training-job.ts'

export type JobState = 'queued' | 'active' | 'completed' | 'failed' | 'cancelled'

/** A job as GET /v1/jobs/{id} answers it. */
export interface JobRecord {
  id: string
  state: JobState
  model: string
  dataset: string
  attempts: number
  backend?: string
  progress?: Omit<TrainingProgress, 'backend'>
  history: HistoryRow[]
  result?: TrainingResult
  error?: { code: string; message: string }
  /** Why the last attempt failed, while the job waits to be retried. */
  lastError?: string
  createdAt: string
  startedAt?: string
  finishedAt?: string
}

const BULL_STATES: Record<string, JobState> = {
  waiting: 'queued',
  wait: 'queued',
  delayed: 'queued',
  prioritized: 'queued',
  'waiting-children': 'queued',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
}

function iso(ms: number | undefined): string | undefined {
  return ms ? new Date(ms).toISOString() : undefined
}

function isProgress(p: unknown): p is TrainingProgress {
  return typeof p === 'object' && p !== null && 'epochs' in p
}

/**
 * Builds the record of a job still held by BullMQ, with its history (the
 * rows the worker logged, see TrainingProgress).
 */
export async function recordOfBullJob(
  job: Job<TrainingJobData, TrainingResult>,
  history: HistoryRow[],
): Promise<JobRecord> {
  const state = BULL_STATES[await job.getState()] ?? 'queued'
  const p = isProgress(job.progress) ? job.progress : undefined

  const record: JobRecord = {
    id: job.id!,
    state,
    model: job.data.model,
    dataset: job.data.dataset,
    attempts: Math.max(job.attemptsStarted ?? 0, job.attemptsMade),
    backend: p?.backend,
    history,
    createdAt: job.data.createdAt,
    startedAt: iso(job.processedOn),
  }
  if (p) {
    const { backend: _backend, ...progress } = p
    record.progress = progress
  }
  if (state === 'queued' && job.attemptsMade > 0 && job.failedReason) {
    record.lastError = job.failedReason
  }
  if (state === 'completed') {
    record.result = job.returnvalue
    record.finishedAt = iso(job.finishedOn)
  }
  if (state === 'failed') {
    // The worker's stored record has the precise code; this is the
    // fallback when that write did not happen.
    record.error = { code: codeOf(errors.JobTrainingFailed),
      message: job.failedReason }
    record.finishedAt = iso(job.finishedOn)
  }
  return record
}

function recordKey(id: string): string {
  return `jobs/${id}.json`
}

/** Job ids are UUIDs; anything else cannot name a job. */
export const isJobId = isId

/**
 * Writes a finished job's record to the store, where it outlives BullMQ's
 * retention of the job.
 */
export function saveJobRecord(
  store: ArtifactStore,
  record: JobRecord,
): Promise<void> {
  return writeJson(store, recordKey(record.id), record)
}

/** A finished job's stored record, or undefined. */
export function loadJobRecord(
  store: ArtifactStore,
  id: string,
): Promise<JobRecord | undefined> {
  if (!isJobId(id)) return Promise.resolve(undefined)
  return readJson<JobRecord>(store, recordKey(id))
}

/** The ids of the jobs whose finished records the store holds. */
export async function storedJobIds(store: ArtifactStore): Promise<string[]> {
  const names = await store.list('jobs')
  return names.filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -'.json'.length)).filter(isJobId)
}
