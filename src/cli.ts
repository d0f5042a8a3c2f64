import closeWithGrace from 'close-with-grace'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { createLogger, type Logger } from './log.ts'
import { NoRedisError, startDev } from './run/dev.ts'
import { startApi } from './run/api.ts'
import { startWorkerPool, workerProcessCount } from './run/worker-pool.ts'
import { startWorker } from '../workers/worker.ts'

const USAGE = `usage: tensorq <command>

  api      the HTTP API (PORT, HOST)
  worker   training workers: WORKER_PROCESSES processes (one per core by
           default), WORKER_CONCURRENCY jobs each
  dev      api and a worker process on this machine; starts redis-server
           when nothing answers at REDIS_URL

Configuration is read from the environment; see the README.`

type Closer = { close(): Promise<void> }

/** One worker in this process, or a pool of worker processes under it. */
async function startWorkers(config: Config, log: Logger): Promise<Closer> {
  const count = workerProcessCount(config)
  if (count === 1) return startWorker(config, log)
  return startWorkerPool(config, log, count)
}

const COMMANDS: Record<string, (c: Config, l: Logger) => Promise<Closer>> = {
  api: startApi,
  worker: startWorkers,
  dev: startDev,
}

async function main(argv: string[]): Promise<void> {
  const [command] = argv
  const start = command ? COMMANDS[command] : undefined
  if (!start) {
    console.error(USAGE)
    process.exitCode = command ? 2 : 0
    return
  }

  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(`tensorq: invalid configuration: ${err.message}`)
    process.exitCode = 2
    return
  }

  const log = createLogger(config, command)
  // A worker started by dev has an IPC channel to it; when that closes,
  // dev is gone and the worker shuts down as on SIGTERM (before it is
  // ready, SIGTERM's default: there is nothing to hand back yet).
  if (process.send) {
    const orphaned = () => {
      log.warn('the dev process that started this one is gone')
      process.kill(process.pid, 'SIGTERM')
    }
    // It may have gone while this process was still loading.
    if (!process.connected) orphaned()
    process.on('disconnect', orphaned)
  }

  let running: Closer
  try {
    running = await start(config, log)
  } catch (err) {
    // One line for the person at the terminal, the stack in the log.
    if (!(err instanceof NoRedisError)) log.error({ err }, 'start failed')
    console.error(err instanceof NoRedisError ? err.message
      : `tensorq ${command}: ${(err as Error).message}`)
    process.exitCode = 1
    // A process started by dev or a worker pool would stay up on its IPC
    // channel; closing the channel lets it exit, and its parent see it.
    if (process.connected) {
      process.removeAllListeners('disconnect')
      process.disconnect()
    }
    return
  }

  // Tells a parent (dev, a worker pool) that this process did start.
  process.send?.({ ready: true })

  // One shutdown for stop signals and fatal errors; the delay passing
  // exits at once. A signal sent to the whole process group (systemd,
  // Ctrl-C) reaches a child of dev or of a worker pool twice: once
  // itself, once forwarded by its parent. A second signal within a second
  // is that echo; a later one means "stop now". These two are handled
  // here: close-with-grace exits at any second signal, echo or not, which
  // killed a worker before it could hand its job back.
  let stoppingSince: number | undefined
  const grace = closeWithGrace({ delay: 20000, logger: log,
    skip: [...STOP_SIGNALS, ...FAULT_SIGNALS] }, async ({ err }) => {
    stoppingSince ??= Date.now()
    if (err) log.error({ err }, 'fatal error, shutting down')
    await running.close()
    // close-with-grace exits 0 after a signal; a process that decided to
    // fail first (dev, when its worker died) keeps its code.
    if (process.exitCode) process.exit(process.exitCode)
  })
  for (const name of STOP_SIGNALS) {
    process.on(name, (signal) => {
      if (stoppingSince === undefined) {
        stoppingSince = Date.now()
        log.info({ signal }, 'shutting down')
        void grace.close()
        return
      }
      if (Date.now() - stoppingSince < 1000) return
      log.error({ signal }, 'second signal, exiting now')
      process.exit(1)
    })
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const

// A fault (a bad memory access in WASM or the native addon) keeps its
// default action, a crash that a worker pool or supervisor sees and
// restarts. Handled in JavaScript, it hung the process for good: the
// handler returned to the faulting instruction, which faulted again, and
// V8's own WASM trap handler never ran.
const FAULT_SIGNALS = ['SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE',
  'SIGSEGV'] as const

await main(process.argv.slice(2))
