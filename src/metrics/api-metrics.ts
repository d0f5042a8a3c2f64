import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Reads the training queue's job counts by BullMQ state. */
export type QueueCounts = () => Promise<Record<string, number>>

/**
 * The api's Prometheus metrics, on a registry of its own (so that two
 * apps in one process, as in tests, do not share counters).
 */
export class ApiMetrics {
  readonly registry = new Registry()

  readonly requests = new Counter({
    name: 'tensorq_http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  })

  readonly latency = new Histogram({
    name: 'tensorq_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
      0.5, 1, 2.5, 10],
    registers: [this.registry],
  })

  readonly predictRows = new Counter({
    name: 'tensorq_predict_rows_total',
    help: 'Rows predicted, by model',
    labelNames: ['model'] as const,
    registers: [this.registry],
  })

  readonly batchRows = new Histogram({
    name: 'tensorq_predict_batch_rows',
    help: 'Rows in each model predict call (merged requests)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  })

  readonly batchRequests = new Histogram({
    name: 'tensorq_predict_batch_requests',
    help: 'Requests merged into each model predict call',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  })

  readonly cacheHits = new Counter({
    name: 'tensorq_model_cache_hits_total',
    help: 'Model lookups answered from the cache',
    registers: [this.registry],
  })

  readonly cacheMisses = new Counter({
    name: 'tensorq_model_cache_misses_total',
    help: 'Model lookups that loaded the version from the store',
    registers: [this.registry],
  })

  readonly cacheEvictions = new Counter({
    name: 'tensorq_model_cache_evictions_total',
    help: 'Model versions evicted from the cache',
    registers: [this.registry],
  })

  readonly cacheBytes = new Gauge({
    name: 'tensorq_model_cache_bytes',
    help: 'Weight bytes of the model versions in the cache',
    registers: [this.registry],
  })

  constructor(queueCounts: QueueCounts) {
    // Read at scrape time: the queue is shared by every api and worker,
    // and Redis holds its counts.
    new Gauge({
      name: 'tensorq_queue_jobs',
      help: 'Training jobs in the queue, by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await queueCounts().catch(() => undefined)
        if (!counts) return
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n)
      },
    })
  }

  /** The cache's hooks, counted here. */
  cacheCounts() {
    return {
      hit: () => this.cacheHits.inc(),
      miss: () => this.cacheMisses.inc(),
      evict: () => this.cacheEvictions.inc(),
      bytes: (n: number) => this.cacheBytes.set(n),
    }
  }

  /** The batcher's hook: one predict call of `rows` for `requests`. */
  onBatch = (rows: number, requests: number): void => {
    this.batchRows.observe(rows)
    this.batchRequests.observe(requests)
  }
}
