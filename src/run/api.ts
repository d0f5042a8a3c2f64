import type { Config } from '../config.ts'
import { buildApp, type App } from '../http/app.ts'
import type { Logger } from '../log.ts'
import { connectRedis, redisConnected } from '../queue/connection.ts'
import { JobEvents } from '../queue/job-events.ts'
import { logRedisErrors } from '../queue/redis-errors.ts'
import { TrainingQueue } from '../queue/training-queue.ts'
import { ApiMetrics } from '../metrics/api-metrics.ts'
import { PredictBatcher } from '../serving/batcher.ts'
import { ModelCache } from '../serving/model-cache.ts'
import { VersionResolver } from '../serving/resolve-version.ts'
import { openStore } from '../store/open-store.ts'
import { initBackend } from '../tf/backend.ts'

/** A built api with what it holds open; close() is idempotent. */
export interface ApiProcess {
  app: App
  queue: TrainingQueue
  /** Resolves once Redis is connected (true), or false after `ms`. */
  connected(ms: number): Promise<boolean>
  close(): Promise<void>
}

/**
 * Makes the api's dependencies from config and builds the app around
 * them, without listening. Tests and `npm run openapi` use this directly.
 */
export async function createApi(config: Config, log: Logger):
  Promise<ApiProcess> {
  const backend = await initBackend(config.TENSORQ_BACKEND, log)
  const store = openStore(config.TENSORQ_STORE)
  const redis = connectRedis(config.REDIS_URL, false)
  logRedisErrors(redis, log, 'api')
  const queue = new TrainingQueue({
    connection: redis,
    log,
    prefix: config.TENSORQ_QUEUE_PREFIX,
    store,
    attempts: config.JOB_ATTEMPTS,
  })
  const metrics = new ApiMetrics(() => queue.counts())
  const cache = new ModelCache({ store, maxBytes: config.MODEL_CACHE_BYTES,
    log, counts: metrics.cacheCounts() })
  const batcher = new PredictBatcher({ maxRows: config.BATCH_MAX_SIZE,
    maxDelayMs: config.BATCH_MAX_DELAY_MS, onBatch: metrics.onBatch })
  const events = new JobEvents({ url: config.REDIS_URL,
    prefix: config.TENSORQ_QUEUE_PREFIX, log, readJob: (id) => queue.get(id) })

  const app = await buildApp({ config, log, store, redis, queue, events,
    cache, batcher, metrics, backend,
    resolver: new VersionResolver(store, config.MODEL_REFRESH_MS) })

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      // Each resource closes on its own, so one failure does not keep
      // the others open.
      for (const step of [() => app.close(), () => events.close(),
        () => queue.close()]) {
        try {
          await step()
        } catch (err) {
          log.error({ err }, 'closing the api failed')
        }
      }
      cache.close()
      redis.disconnect()
    })()
    return closing
  }
  return { app, queue, close, connected: (ms) => redisConnected(redis, ms) }
}

/** How long the api waits for Redis before it listens without it. */
const REDIS_WAIT_MS = 5000

/** Builds the api and listens on HOST:PORT. */
export async function startApi(config: Config, log: Logger):
  Promise<ApiProcess & { url: string }> {
  const api = await createApi(config, log)
  if (!await api.connected(REDIS_WAIT_MS)) {
    log.warn({ waitedMs: REDIS_WAIT_MS }, 'Redis is not answering yet; ' +
      'listening anyway, not ready until it does')
  }
  let url: string
  try {
    url = await api.app.listen({ port: config.PORT, host: config.HOST })
  } catch (err) {
    // A port already taken, say: what the api opened (Redis, timers)
    // would otherwise keep the process up, serving nothing.
    await api.close()
    throw err
  }
  log.info({ url, store: config.TENSORQ_STORE }, 'api listening')
  return { ...api, url }
}
