import type { Redis } from 'ioredis'
import type { Logger } from '../log.ts'
import { connectRedis } from './connection.ts'

const DAY_S = 24 * 3600

function channel(prefix: string): string {
  return `${prefix}:tensorq:cancel`
}

function flagKey(prefix: string, id: string): string {
  return `${prefix}:tensorq:cancel:${id}`
}

/**
 * Asks whichever worker trains job `id`, in any process or machine, to
 * stop it. The flag is kept (for a day) as well as published, so that a
 * worker that picks the job up a moment later sees it too.
 */
export async function requestCancel(redis: Redis, prefix: string, id: string):
  Promise<void> {
  await redis.set(flagKey(prefix, id), '1', 'EX', DAY_S)
  await redis.publish(channel(prefix), id)
}

/** Whether a cancel was asked for one running job. */
export interface CancelWatch {
  readonly requested: boolean
  stop(): void
}

/**
 * A worker's ear for cancel requests: one subscription for all the jobs
 * it runs. watch() a job when it starts and stop() the watch when it ends.
 */
export class CancelListener {
  readonly #prefix: string
  readonly #redis: Redis
  readonly #subscriber: Redis
  readonly #flags = new Map<string, { requested: boolean }>()

  private constructor(url: string, prefix: string, log: Logger) {
    this.#prefix = prefix
    this.#redis = connectRedis(url, true)
    this.#subscriber = connectRedis(url, true)
    for (const client of [this.#redis, this.#subscriber]) {
      client.on('error', (err) =>
        log.warn({ reason: err.message }, 'cancel listener: Redis error'))
    }
    this.#subscriber.on('message', (_channel, id: string) => {
      const flag = this.#flags.get(id)
      if (flag) flag.requested = true
    })
  }

  /** Subscribes on a connection of its own; resolves once subscribed. */
  static async start(url: string, prefix: string, log: Logger):
    Promise<CancelListener> {
    const listener = new CancelListener(url, prefix, log)
    await listener.#subscriber.subscribe(channel(prefix))
    return listener
  }

  /** Starts watching job `id`, with any cancel already asked for. */
  async watch(id: string): Promise<CancelWatch> {
    const flag = { requested: false }
    this.#flags.set(id, flag)
    if (await this.#redis.get(flagKey(this.#prefix, id))) flag.requested = true
    return {
      get requested() {
        return flag.requested
      },
      stop: () => {
        this.#flags.delete(id)
      },
    }
  }

  async close(): Promise<void> {
    this.#subscriber.disconnect()
    this.#redis.disconnect()
  }
}
