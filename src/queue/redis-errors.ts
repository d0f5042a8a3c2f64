import type { Logger } from '../log.ts'
import { isRedisDown } from './connection.ts'

interface ErrorEmitter {
  on(event: 'error', listener: (err: Error) => void): unknown
}

const REPEAT_MS = 30_000

/**
 * Logs the 'error' events of a Redis client, queue or worker. While Redis
 * is unreachable every reconnect attempt fails, every two seconds and on
 * each connection; one warning per 30 s says so, with how many were
 * folded into it. Other errors are logged each time, with their stack.
 */
export function logRedisErrors(
  emitter: ErrorEmitter,
  log: Logger,
  source: string,
): void {
  let lastAt = 0
  let folded = 0

  emitter.on('error', (err) => {
    if (!isRedisDown(err)) {
      log.error({ err, source }, 'redis client error')
      return
    }

    const now = Date.now()
    if (now - lastAt < REPEAT_MS) {
      folded++
      return
    }
    log.warn({ source, reason: err.message, folded }, 'redis unreachable')
    lastAt = now
    folded = 0
  })
}
