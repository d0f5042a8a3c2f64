import { pino, type Logger } from 'pino'
import type { Config } from './config.ts'

export type { Logger }

/**
 * The root logger of a process. `role` (api, worker, dev) is bound so that
 * the lines of several processes can be told apart in one stream.
 */
export function createLogger(config: Config, role: string): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: 'tensorq', role, pid: process.pid },
  })
}
