import { Queue, Worker } from 'bullmq'
import type { Config } from '../src/config.ts'
import { codeOf, errors } from '../src/errors.ts'
import type { Logger } from '../src/log.ts'
import { WorkerMetrics } from '../src/metrics/worker-metrics.ts'
import { CancelListener } from '../src/queue/cancellation.ts'
import { connectRedis } from '../src/queue/connection.ts'
import { logRedisErrors } from '../src/queue/redis-errors.ts'
import { TRAINING_QUEUE, type HistoryRow } from '../src/queue/training-job.ts'
import { openStore } from '../src/store/open-store.ts'
import { initBackend, tf } from '../src/tf/backend.ts'
import {
  createTrainProcessor, finishAbandoned, JobEnded, type ProcessorDeps,
} from './train-processor.ts'

// Logged when the worker is ready and after each job: a leak shows as a
// tensor count or a heap that keeps growing from the first.
function footprint(): Record<string, number> {
  // Only there under node --expose-gc, which is how to see live memory
  // rather than garbage not yet collected (npm run bench:jobs does).
  ;(globalThis as { gc?: () => void }).gc?.()
  const { rss, heapUsed } = process.memoryUsage()
  const backend = tf.backend() as { wasm?: { HEAPU8: Uint8Array } }
  const wasm = backend.wasm?.HEAPU8.byteLength ?? 0
  return { tensors: tf.memory().numTensors, rss, heapUsed, wasm }
}

/** A running worker; close() is idempotent. */
export interface RunningWorker {
  backend: string
  close(): Promise<void>
}

/**
 * Starts a BullMQ worker that trains jobs from the training queue. BullMQ
 * logs nothing itself, so its events become log lines here.
 */
export async function startWorker(config: Config, log: Logger):
  Promise<RunningWorker> {
  const backend = await initBackend(config.TENSORQ_BACKEND, log)
  const store = openStore(config.TENSORQ_STORE)
  const connection = connectRedis(config.REDIS_URL, true)
  const cancels = await CancelListener.start(config.REDIS_URL,
    config.TENSORQ_QUEUE_PREFIX, log)

  const metrics = new WorkerMetrics(() => tf.memory().numTensors)
  const metricsUrl = await metrics.listen(config.WORKER_METRICS_PORT,
    config.HOST, log)
  const draining = { requested: false }
  // For reading a job's log, which a Worker cannot.
  const queue = new Queue(TRAINING_QUEUE, { connection,
    prefix: config.TENSORQ_QUEUE_PREFIX })
  const jobLog = async (id: string) =>
    (await queue.getJobLogs(id, 0, -1, true)).logs
      .map((row) => JSON.parse(row) as HistoryRow)
  const deps: ProcessorDeps = { store, log, backend, cancels, draining,
    metrics, jobLog, maxJobSeconds: config.MAX_JOB_SECONDS,
    checkpointIntervalMs: config.CHECKPOINT_INTERVAL_MS }
  const worker = new Worker(TRAINING_QUEUE, createTrainProcessor(deps), {
    connection,
    prefix: config.TENSORQ_QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    // tfjs runs a whole batch without yielding, so the lock can only be
    // renewed between batches; a short lock would take a long batch for
    // a dead worker and hand the job to another.
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    // How soon the job of a dead worker goes to another, which resumes
    // it from its checkpoint; a job may change hands that many times.
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: config.JOB_ATTEMPTS,
  })

  worker.on('completed', (job) =>
    log.info({ jobId: job.id, result: job.returnvalue, ...footprint() },
      'job completed'))
  worker.on('failed', (job, err) => {
    const cancelled = err instanceof JobEnded &&
      err.code === codeOf(errors.JobCancelled)
    if (cancelled) {
      log.info({ jobId: job?.id, reason: err.message, ...footprint() },
        'job cancelled')
    } else {
      log.warn({ jobId: job?.id, reason: err.message, ...footprint() },
        'job failed')
    }
    // Failed by BullMQ itself, without the processor: it stalled too often.
    if (!job?.deferredFailure) return
    finishAbandoned(job, deps).catch((cause) => log.error({ jobId: job.id,
      err: cause }, 'could not store the record of an abandoned job'))
  })
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'job stalled'))
  logRedisErrors(worker, log, 'worker')

  await worker.waitUntilReady()
  log.info({ queue: TRAINING_QUEUE, prefix: config.TENSORQ_QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY, store: store.url, metricsUrl,
    ...footprint() },
  'worker ready')

  let closing: Promise<void> | undefined
  return {
    backend,
    close: () => {
      closing ??= (async () => {
        // Running jobs stop at their next batch and go back to the queue;
        // close() waits for that and takes no new ones meanwhile.
        draining.requested = true
        try {
          await worker.close()
        } catch (err) {
          log.error({ err }, 'closing the worker failed')
        }
        await queue.close()
        await cancels.close()
        await metrics.close()
        connection.disconnect()
      })()
      return closing
    },
  }
}
