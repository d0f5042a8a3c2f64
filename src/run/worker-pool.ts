import { spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import type { Config } from '../config.ts'
import type { Logger } from '../log.ts'
import { stopChild } from './stop-child.ts'

// tfjs trains on one JavaScript thread, and WASM cannot use threads in
// Node, so one process trains on one core whatever the machine has. More
// cores are used by more processes, each training its own jobs from the
// same queue; Redis is what they share, nothing else.

/** How long a process that died waits before it is started again. */
const RESTART_DELAY_MS = [1000, 2000, 5000, 10_000, 30_000]

/** A process that ran this long before dying had not crashed at start. */
const HEALTHY_MS = 60_000

/** The worker processes `tensorq worker` runs: WORKER_PROCESSES or one per core. */
export function workerProcessCount(config: Config): number {
  return config.WORKER_PROCESSES || availableParallelism()
}

/** Worker processes under one parent; close() is idempotent. */
export interface WorkerPool {
  pids(): number[]
  close(): Promise<void>
}

/**
 * Starts `count` worker processes (this entry point, asked for one worker
 * each) and starts again any that dies, later each time it keeps dying.
 * Each gets its own metrics port, counted up from WORKER_METRICS_PORT,
 * and one BLAS thread per core it has (OPENBLAS_NUM_THREADS, unless set):
 * BLAS threads beyond the cores fight over them.
 */
export function startWorkerPool(config: Config, log: Logger, count: number):
  WorkerPool {
  const cores = availableParallelism()
  const blasThreads = String(Math.max(1, Math.floor(cores / count)))
  const children: Array<ChildProcess | undefined> = []
  const timers = new Set<NodeJS.Timeout>()
  let closing: Promise<void> | undefined

  const launch = (index: number, failures: number) => {
    const port = config.WORKER_METRICS_PORT === 0 ? 0
      : config.WORKER_METRICS_PORT + index
    const env = {
      ...process.env,
      WORKER_PROCESSES: '1',
      WORKER_METRICS_PORT: String(port),
      OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? blasThreads,
    }
    // The IPC channel is how a worker learns that its parent is gone,
    // even when the parent dies without a word (kill -9).
    const child = spawn(process.execPath,
      [...process.execArgv, process.argv[1], 'worker'],
      { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env })
    const startedAt = Date.now()
    let ready = false
    children[index] = child
    log.info({ worker: index, childPid: child.pid }, 'worker process started')
    child.on('message', (m: { ready?: boolean }) => {
      if (m?.ready) ready = true
    })

    child.on('exit', (code, signal) => {
      children[index] = undefined
      if (closing) return
      if (!ready && code !== null) {
        // It could not start (a backend that does not load, a bad
        // store): another would fail the same way. The pool stops, with
        // the worker's own error above this line.
        log.error({ worker: index, childPid: child.pid, code },
          'worker process failed to start; stopping the pool')
        process.exitCode = 1
        process.kill(process.pid, 'SIGTERM')
        return
      }
      const crashes = Date.now() - startedAt > HEALTHY_MS ? 0 : failures + 1
      const delay = RESTART_DELAY_MS[Math.min(crashes,
        RESTART_DELAY_MS.length - 1)]
      // Its jobs are not lost: their locks lapse and another worker takes
      // them from their last checkpoint. A clean exit (someone sent it
      // SIGTERM; it handed its jobs back) is no failure of ours.
      const clean = code === 0
      log[clean ? 'info' : 'error']({ worker: index, childPid: child.pid,
        code, signal, restartInMs: delay }, clean
        ? 'worker process exited; starting another'
        : 'worker process died; starting another')
      const timer = setTimeout(() => {
        timers.delete(timer)
        if (!closing) launch(index, crashes)
      }, delay)
      timers.add(timer)
    })
  }

  for (let i = 0; i < count; i++) launch(i, 0)
  log.info({ processes: count, blasThreads }, 'worker pool started')

  return {
    pids: () => children.flatMap((c) => (c?.pid ? [c.pid] : [])),
    close: () => {
      closing ??= (async () => {
        for (const timer of timers) clearTimeout(timer)
        // Each hands its running jobs back to the queue before it exits.
        await Promise.all(children.map((c) => c && stopChild(c, 15_000)))
      })()
      return closing
    },
  }
}
