import { Queue, type Job } from 'bullmq'
import type { Redis } from 'ioredis'
import { codeOf, errors } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { ArtifactStore } from '../store/artifact-store.ts'
import { newId } from '../store/ids.ts'
import { requestCancel } from './cancellation.ts'
import { removeCheckpoint } from './checkpoints.ts'
import { isRedisDown } from './connection.ts'
import { logRedisErrors } from './redis-errors.ts'
import { settlesWithin } from './settles-within.ts'
import {
  isJobId, loadJobRecord, recordOfBullJob, saveJobRecord, storedJobIds,
  type JobRecord,
} from './job-record.ts'
import {
  TRAINING_QUEUE, type HistoryRow, type TrainingJobData, type TrainingResult,
} from './training-job.ts'

const WEEK_S = 7 * 24 * 3600

export interface TrainingQueueOptions {
  connection: Redis
  log: Logger
  prefix: string
  store: ArtifactStore
  attempts: number
}

/** Which jobs GET /v1/jobs lists. */
export interface JobFilter {
  state?: JobRecord['state']
  model?: string
  limit: number
  offset: number
}

/** What a cancel did: the job's record, and whether it had finished. */
export interface CancelOutcome {
  record: JobRecord
  finished: boolean
}

/** The api's side of the training queue: enqueue and read jobs. */
export class TrainingQueue {
  readonly queue: Queue<TrainingJobData, TrainingResult>
  readonly #store: ArtifactStore
  readonly #attempts: number
  readonly #connection: Redis
  readonly #prefix: string

  constructor(opts: TrainingQueueOptions) {
    this.#connection = opts.connection
    this.#prefix = opts.prefix
    this.queue = new Queue(TRAINING_QUEUE, {
      connection: opts.connection,
      prefix: opts.prefix,
    })
    // An EventEmitter 'error' without a listener would end the process;
    // Redis going away is logged and answered 503 per request.
    logRedisErrors(this.queue, opts.log, 'training queue')
    this.#store = opts.store
    this.#attempts = opts.attempts
  }

  // BullMQ waits for a connection that is not ready instead of failing,
  // so a request would hang while Redis is away; it gets a 503 instead.
  async #redis<T>(operation: () => Promise<T>): Promise<T> {
    const unavailable = () => new errors.Unavailable(
      'Redis does not answer; the job queue is unavailable, try again')
    if (this.#connection.status !== 'ready') throw unavailable()
    try {
      return await operation()
    } catch (err) {
      if (isRedisDown(err)) throw unavailable()
      throw err
    }
  }

  /**
   * The queue's job counts by state; fails at once while Redis is away
   * (BullMQ itself would wait for the connection).
   */
  counts(): Promise<Record<string, number>> {
    return this.#redis(() => this.queue.getJobCounts())
  }

  /** Queues a job and returns its record (state `queued`). */
  enqueue(data: Omit<TrainingJobData, 'createdAt'>): Promise<JobRecord> {
    return this.#redis(() => this.#enqueue(data))
  }

  async #enqueue(data: Omit<TrainingJobData, 'createdAt'>): Promise<JobRecord> {
    const id = newId()
    const job = await this.queue.add('train', {
      ...data,
      createdAt: new Date().toISOString(),
    }, {
      jobId: id,
      // Every job has one, so that BullMQ orders them all by it (it runs
      // jobs without a priority before any with one).
      priority: data.training.priority,
      attempts: this.#attempts,
      backoff: { type: 'exponential', delay: 2000 },
      // Finished jobs leave Redis after a while; their records stay in
      // the store (saveJobRecord), which is what GET /v1/jobs/{id} reads.
      removeOnComplete: { age: WEEK_S, count: 1000 },
      removeOnFail: { age: WEEK_S, count: 1000 },
    })
    // Just added: a worker may already hold it, but to the client that
    // queued it, it is queued.
    return { ...(await recordOfBullJob(job, [])), state: 'queued' }
  }

  /**
   * A job's record. For a finished job the record the worker stored wins:
   * it carries the error code, and it is there after BullMQ dropped the job.
   */
  async get(id: string): Promise<JobRecord | undefined> {
    if (!isJobId(id)) return undefined

    // A finished job is answered from the store even while Redis is away.
    const job = await this.#redis(() => this.queue.getJob(id)).catch(async (err) => {
      const stored = await loadJobRecord(this.#store, id)
      if (stored) return undefined
      throw err
    })
    if (!job) return loadJobRecord(this.#store, id)

    const record = await this.#liveRecord(job)
    if (record.state === 'completed' || record.state === 'failed') {
      return (await loadJobRecord(this.#store, id)) ?? record
    }
    return record
  }

  /** The record of a job BullMQ holds, with the epochs it logged. */
  async #liveRecord(job: Job<TrainingJobData, TrainingResult>):
    Promise<JobRecord> {
    const { logs } = await this.queue.getJobLogs(job.id!, 0, -1, true)
    return recordOfBullJob(job, logs.map((l) => JSON.parse(l) as HistoryRow))
  }

  /**
   * Cancels a job. A queued job is removed and its record stored as
   * cancelled at once; an active one's worker is asked to stop at its next
   * batch, and the record answered is still active. Undefined when there
   * is no such job; a finished job comes back with `finished` and its
   * record unchanged.
   */
  cancel(id: string): Promise<CancelOutcome | undefined> {
    return this.#redis(() => this.#cancel(id))
  }

  async #cancel(id: string): Promise<CancelOutcome | undefined> {
    if (!isJobId(id)) return undefined
    const job = await this.queue.getJob(id)
    if (!job) {
      const stored = await loadJobRecord(this.#store, id)
      return stored && { record: stored, finished: true }
    }

    // A queued job may have trained already: handed back by a worker
    // that stopped, or waiting for a retry.
    const record = await this.#liveRecord(job)
    if (record.state === 'queued') {
      // remove() refuses a job a worker has just locked: then it is active.
      const removed = await job.remove().then(() => true, () => false)
      if (removed) {
        const message = record.history.length > 0
          ? `cancelled while queued, after epoch ${record.history.length}`
          : 'cancelled before it started'
        const cancelled: JobRecord = { ...record, state: 'cancelled',
          error: { code: codeOf(errors.JobCancelled), message },
          finishedAt: new Date().toISOString() }
        await saveJobRecord(this.#store, cancelled)
        await removeCheckpoint(this.#store, id)
        return { record: cancelled, finished: false }
      }
    } else if (record.state !== 'active') {
      const stored = await loadJobRecord(this.#store, id)
      return { record: stored ?? record, finished: true }
    }

    await requestCancel(this.#connection, this.#prefix, id)
    return { record: { ...record, state: 'active' }, finished: false }
  }

  /**
   * Marks a dataset as being deleted (for ten minutes) before the deleter
   * looks for jobs that use it. A job queued meanwhile sees the mark once
   * it is queued (datasetDeleting) and takes itself back: of the two, one
   * always sees the other.
   */
  markDeleting(dataset: string): Promise<void> {
    return this.#redis(async () => {
      await this.#connection.set(this.#deletingKey(dataset), '1', 'EX', 600)
    })
  }

  /** Clears the mark when the delete is refused. */
  unmarkDeleting(dataset: string): Promise<void> {
    return this.#redis(async () => {
      await this.#connection.del(this.#deletingKey(dataset))
    })
  }

  /** Whether a delete of `dataset` has begun. */
  datasetDeleting(dataset: string): Promise<boolean> {
    return this.#redis(async () =>
      (await this.#connection.exists(this.#deletingKey(dataset))) === 1)
  }

  /** Takes a job just queued back out of the queue. */
  withdraw(id: string): Promise<void> {
    return this.#redis(async () => {
      await this.queue.remove(id)
    })
  }

  #deletingKey(dataset: string): string {
    return `${this.#prefix}:tensorq:deleting:${dataset}`
  }

  /**
   * Jobs, newest first, filtered by state and model, `limit` from
   * `offset`, without their history (GET /v1/jobs/{id} has it). Jobs
   * still in BullMQ come from there; finished ones from their stored
   * records, which outlive BullMQ's retention.
   */
  list(filter: JobFilter): Promise<{ jobs: JobRecord[]; total: number }> {
    return this.#redis(() => this.#list(filter))
  }

  async #list(filter: JobFilter): Promise<{ jobs: JobRecord[]; total: number }> {
    const byId = new Map<string, JobRecord>()
    const stored = await Promise.all((await storedJobIds(this.#store))
      .map((id) => loadJobRecord(this.#store, id)))
    for (const record of stored) {
      if (record) byId.set(record.id, { ...record, history: [] })
    }
    const live = await this.queue.getJobs(
      ['waiting', 'active', 'delayed', 'prioritized', 'paused'])
    for (const job of live) {
      if (job?.id && !byId.has(job.id)) {
        byId.set(job.id, await recordOfBullJob(job, []))
      }
    }

    const matching = [...byId.values()]
      .filter((r) => !filter.state || r.state === filter.state)
      .filter((r) => !filter.model || r.model === filter.model)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    return {
      jobs: matching.slice(filter.offset, filter.offset + filter.limit),
      total: matching.length,
    }
  }

  /** The ids of queued and active jobs that train on `dataset`. */
  jobsUsing(dataset: string): Promise<string[]> {
    return this.#redis(async () => {
      const jobs = await this.queue.getJobs(
        ['waiting', 'active', 'delayed', 'prioritized', 'paused'])
      return jobs.filter((j) => j?.data.dataset === dataset).map((j) => j.id!)
    })
  }

  async close(): Promise<void> {
    // A queue on a shared connection that closes before its first
    // handshake ends leaves that handshake's failure unhandled (BullMQ
    // suppresses it only for connections of its own), and the api's
    // disconnect right after turns it into a crash. So let it end first;
    // briefly, since Redis may be away.
    const ready = await settlesWithin(this.queue.waitUntilReady(), 2000)
    if (!ready) {
      // Still no Redis: end the connection while the queue listens, so
      // that the handshake's failure reaches its error log now rather
      // than nobody after close (a connect in flight ends a moment later).
      const ended = new Promise((resolve) => {
        this.#connection.once('end', resolve)
        setTimeout(resolve, 200).unref()
      })
      this.#connection.disconnect()
      await ended
      await new Promise((resolve) => setImmediate(resolve))
    }
    await this.queue.close()
  }
}
