import { QueueEvents } from 'bullmq'
import type { Redis } from 'ioredis'
import type { Logger } from '../log.ts'
import { connectRedis } from './connection.ts'
import type { JobRecord } from './job-record.ts'
import { logRedisErrors } from './redis-errors.ts'
import { settlesWithin } from './settles-within.ts'
import { TRAINING_QUEUE } from './training-job.ts'

/** One server-sent event of a job. */
export interface JobEvent {
  type: 'progress' | 'epoch' | 'completed' | 'failed' | 'cancelled'
  data: unknown
}

/** How a follower reads a job: TrainingQueue.get. */
export type ReadJob = (id: string) => Promise<JobRecord | undefined>

const FINAL = new Set(['completed', 'failed', 'cancelled'])

/** Re-read even without an event: events are a nudge, not the truth. */
const POLL_MS = 2000

/** How long close() waits for BullMQ's subscription to close. */
const CLOSE_WAIT_MS = 2000

/**
 * Follows jobs for the api's event streams. BullMQ's queue events (one
 * subscription per api process) only wake a follower; what it sends comes
 * from the job's record, so a late or woken follower sends each epoch
 * once, in order, and the end as the stored record tells it.
 */
export class JobEvents {
  readonly #url: string
  readonly #prefix: string
  readonly #log: Logger
  readonly #readJob: ReadJob
  readonly #wake = new Map<string, Set<() => void>>()
  #events: QueueEvents | undefined
  #connection: Redis | undefined
  #closing = false

  constructor(opts: { url: string; prefix: string; log: Logger;
    readJob: ReadJob }) {
    this.#url = opts.url
    this.#prefix = opts.prefix
    this.#log = opts.log
    this.#readJob = opts.readJob
  }

  // Not awaited by followers: with Redis away the subscription would never
  // be ready, and a follower reads the job's record every POLL_MS anyway
  // (a finished one from the store), so it still sends and ends. BullMQ's
  // subscription is made once our connection is up: made before, its close
  // would wait for a handshake that may never come.
  #start(): void {
    if (this.#connection) return
    // Ours to disconnect: BullMQ leaves a connection it was given open.
    const connection = connectRedis(this.#url, true)
    this.#connection = connection
    logRedisErrors(connection, this.#log, 'job events')
    connection.once('ready', () => {
      if (this.#closing) return
      const events = new QueueEvents(TRAINING_QUEUE, {
        connection,
        prefix: this.#prefix,
      })
      logRedisErrors(events, this.#log, 'job events')
      for (const name of ['progress', 'completed', 'failed', 'removed']) {
        events.on(name as 'progress', ({ jobId }: { jobId: string }) => {
          for (const wake of this.#wake.get(jobId) ?? []) wake()
        })
      }
      this.#events = events
    })
  }

  /**
   * Sends job `id`'s events to `send` until the job ends (resolves) or
   * `signal` aborts: first what already happened, then what happens.
   */
  async follow(id: string, send: (event: JobEvent) => void,
    signal: AbortSignal): Promise<void> {
    this.#start()
    let sentEpochs = 0
    let sentProgress = -1
    let done = false
    let finish!: () => void
    const finished = new Promise<void>((resolve) => {
      finish = resolve
    })
    signal.addEventListener('abort', () => finish(), { once: true })

    const check = async () => {
      if (done || signal.aborted) return
      const job = await this.#readJob(id)
      if (!job) return
      for (const row of job.history.slice(sentEpochs)) {
        send({ type: 'epoch', data: row })
      }
      sentEpochs = Math.max(sentEpochs, job.history.length)
      if (job.progress && job.progress.epoch !== sentProgress) {
        sentProgress = job.progress.epoch
        send({ type: 'progress', data: job.progress })
      }
      if (!FINAL.has(job.state)) return
      const { history: _history, ...record } = job
      send({ type: job.state as JobEvent['type'], data: record })
      done = true
      finish()
    }

    // One check at a time; a wake during one queues the next.
    let running: Promise<void> = Promise.resolve()
    const wake = () => {
      running = running.then(check).catch((err) =>
        this.#log.warn({ jobId: id, reason: (err as Error).message },
          'job events: reading the job failed'))
    }

    const wakers = this.#wake.get(id) ?? new Set()
    wakers.add(wake)
    this.#wake.set(id, wakers)
    const timer = setInterval(wake, POLL_MS)
    try {
      wake()
      await finished
      await running
    } finally {
      clearInterval(timer)
      wakers.delete(wake)
      if (wakers.size === 0) this.#wake.delete(id)
    }
  }

  async close(): Promise<void> {
    this.#closing = true
    if (this.#events) {
      // Redis may have gone away since: BullMQ's close then waits for it.
      const closed = await settlesWithin(this.#events.close(), CLOSE_WAIT_MS)
      if (!closed) this.#log.warn('job events: closed without Redis')
    }
    this.#connection?.disconnect()
  }
}
