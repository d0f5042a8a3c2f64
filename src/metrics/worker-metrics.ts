import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  Counter, Gauge, Histogram, Registry, collectDefaultMetrics,
} from 'prom-client'
import type { Logger } from '../log.ts'

/** How a training attempt ended. */
export type Outcome = 'completed' | 'failed' | 'retried' | 'cancelled' |
  'timed_out' | 'handed_back'

/**
 * A worker's Prometheus metrics: training attempts by outcome, epoch
 * durations, live tensors, and Node's own (memory, event loop lag),
 * served on WORKER_METRICS_PORT.
 */
export class WorkerMetrics {
  readonly registry = new Registry()

  readonly jobs = new Counter({
    name: 'tensorq_training_jobs_total',
    help: 'Training attempts this worker ended, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  })

  readonly epochs = new Histogram({
    name: 'tensorq_training_epoch_duration_seconds',
    help: 'Time to train one epoch',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  })

  #server: Server | undefined

  constructor(tensors: () => number) {
    new Gauge({
      name: 'tensorq_worker_tensors',
      help: 'Tensors alive in this worker (tfjs)',
      registers: [this.registry],
      collect() {
        this.set(tensors())
      },
    })
    collectDefaultMetrics({ register: this.registry })
  }

  /**
   * Serves GET /metrics on `port` (0: any free one); resolves to its URL,
   * or undefined when the port is taken (another worker on this machine
   * has it): the worker trains on without metrics rather than not at all.
   */
  async listen(port: number, host: string, log: Logger):
    Promise<string | undefined> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end()
        return
      }
      this.registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': this.registry.contentType })
        res.end(text)
      }, () => res.writeHead(500).end())
    })
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, host, () => resolve())
      })
    } catch (err) {
      log.warn({ port, reason: (err as Error).message },
        'worker metrics not served')
      return undefined
    }
    this.#server = server
    const { port: bound } = server.address() as AddressInfo
    return `http://${host}:${bound}/metrics`
  }

  async close(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (server) await new Promise((resolve) => server.close(resolve))
  }
}
