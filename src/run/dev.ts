import { spawn, type ChildProcess } from 'node:child_process'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'
import { redisAnswers } from '../queue/connection.ts'
import { startApi } from './api.ts'
import { redisServerOnPath, startLocalRedis } from './local-redis.ts'
import { stopChild } from './stop-child.ts'

/** Raised when no Redis can be had; its message is the one line to print. */
export class NoRedisError extends Error {}

function startWorkerProcess(log: Logger, closing: () => boolean):
  ChildProcess {
  // The same entry point as this process (bin/tensorq.js or src/cli.ts,
  // with tsx's loader flags in execArgv), asked for a worker. Training
  // then runs in its own process, never on the api's event loop.
  const child = spawn(process.execPath,
    [...process.execArgv, process.argv[1], 'worker'],
    // The IPC channel is how the worker learns that dev is gone, even
    // when dev dies without a word (out of memory, kill -9).
    { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: process.env })
  child.on('exit', (code, signal) => {
    if (closing()) {
      log.info({ childPid: child.pid, code, signal }, 'worker process exited')
      return
    }
    // Without its worker, dev would queue jobs that never run. Going down
    // through the one signal handler closes everything else in order.
    log.error({ childPid: child.pid, code, signal },
      'worker process died; stopping tensorq dev')
    process.exitCode = 1
    process.kill(process.pid, 'SIGTERM')
  })
  return child
}

/**
 * Runs the api here and `tensorq worker` (one worker process, or a pool
 * of them: WORKER_PROCESSES) in a child process. When nothing answers
 * at REDIS_URL it starts a local redis-server if one is on the PATH.
 * Returns a close function that stops all it started.
 */
export async function startDev(config: Config, log: Logger):
  Promise<{ url: string; close(): Promise<void> }> {
  let redis: ChildProcess | undefined
  if (!(await redisAnswers(config.REDIS_URL))) {
    if (!redisServerOnPath()) {
      throw new NoRedisError(`tensorq dev: no Redis answers at ` +
        `${config.REDIS_URL} and redis-server is not on the PATH; install ` +
        'it (apt-get install redis-server), run `docker compose up -d ' +
        'redis`, or set REDIS_URL')
    }
    redis = await startLocalRedis(config.REDIS_URL)
    log.info({ url: config.REDIS_URL, childPid: redis.pid },
      'started local redis')
  }

  let closing: Promise<void> | undefined
  const worker = startWorkerProcess(log, () => closing !== undefined)
  let api: Awaited<ReturnType<typeof startApi>>
  try {
    api = await startApi(config, log)
  } catch (err) {
    closing = Promise.resolve()
    await stopChild(worker, 15000)
    if (redis) await stopChild(redis, 5000)
    throw err
  }

  const close = () => {
    closing ??= (async () => {
      await api.close()
      await stopChild(worker, 15000)
      if (redis) await stopChild(redis, 5000)
    })()
    return closing
  }
  return { url: api.url, close }
}
