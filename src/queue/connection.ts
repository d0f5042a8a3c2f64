import { Redis } from 'ioredis'

/**
 * A Redis connection for BullMQ.
 *
 * `waitForRedis` (workers): commands wait while Redis reconnects, which
 * BullMQ's blocking commands need (`maxRetriesPerRequest: null`).
 * Otherwise (the api): a command in flight when Redis goes away fails
 * after one retry; callers check `status` first so that a request gets a
 * 503 at once instead of queueing behind a reconnect.
 */
export function connectRedis(url: string, waitForRedis: boolean): Redis {
  return new Redis(url, { maxRetriesPerRequest: waitForRedis ? null : 1 })
}

const DOWN = new RegExp('Connection is closed|Stream isn\'t writeable|' +
  'ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN')

/** True for the errors ioredis raises while Redis cannot be reached. */
export function isRedisDown(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  return err.name === 'MaxRetriesPerRequestError' || DOWN.test(err.message)
}

/** True when something answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1000):
  Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    return (await client.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

/**
 * Resolves true once `redis` is connected, or false after `timeoutMs`
 * without: the api listens either way (its readiness then says Redis is
 * down), but a reachable Redis gets its moment first, so that a probe
 * right after "api listening" does not see a connection still opening.
 */
export function redisConnected(redis: Redis, timeoutMs: number):
  Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (connected: boolean) => {
      clearTimeout(timer)
      redis.off('ready', onReady)
      resolve(connected)
    }
    const onReady = () => done(true)
    const timer = setTimeout(() => done(false), timeoutMs)
    redis.on('ready', onReady)
  })
}
