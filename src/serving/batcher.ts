import type { LoadedModel } from './model-cache.ts'
import { predictRows, type EncodedRequest } from './predict.ts'

export interface BatcherOptions {
  /** Rows in one merged predict call (BATCH_MAX_SIZE); 1 turns it off. */
  maxRows: number
  /**
   * How long a batch waits for more requests (BATCH_MAX_DELAY_MS). 0
   * waits only for the current turn of the event loop to end.
   */
  maxDelayMs: number
  /** Told each predict call's rows and how many requests it served. */
  onBatch?: (rows: number, requests: number) => void
}

interface Waiting extends EncodedRequest {
  resolve(predictions: number[][]): void
  reject(err: unknown): void
}

interface Batch {
  loaded: LoadedModel
  parts: Waiting[]
  rows: number
  /** Cancels the pending flush. */
  cancel?: () => void
}

/**
 * Merges concurrent predict requests for one model version into one
 * predict call and hands each request its own rows back.
 *
 * A batch waits for the current turn of the event loop to end (or
 * `maxDelayMs`), not for a fixed window that a lone client would pay on
 * every request. Under load it still fills: while one predict call runs,
 * the requests that arrive meanwhile are parsed together in the next
 * turn and join the next batch. Each request's rows were checked before
 * it joined, so a bad row fails only its own request; a batch that still
 * fails is run again request by request.
 */
export class PredictBatcher {
  readonly #opts: BatcherOptions
  readonly #open = new Map<LoadedModel, Batch>()

  constructor(opts: BatcherOptions) {
    this.#opts = opts
  }

  /** The predictions for one request's rows, in order. */
  run(loaded: LoadedModel, request: EncodedRequest): Promise<number[][]> {
    const { maxRows } = this.#opts
    if (maxRows <= 1 || request.rows >= maxRows) {
      return new Promise((resolve, reject) =>
        this.#runAlone(loaded, { ...request, resolve, reject }))
    }

    let batch = this.#open.get(loaded)
    if (batch && batch.rows + request.rows > maxRows) {
      this.#flush(batch)
      batch = undefined
    }
    if (!batch) batch = this.#start(loaded)

    return new Promise((resolve, reject) => {
      batch.parts.push({ ...request, resolve, reject })
      batch.rows += request.rows
      if (batch.rows >= maxRows) this.#flush(batch)
    })
  }

  #start(loaded: LoadedModel): Batch {
    const batch: Batch = { loaded, parts: [], rows: 0 }
    const flush = () => this.#flush(batch)
    // Each cancelled with its own clear: clearImmediate on a timeout
    // would corrupt Node's count of pending immediates.
    if (this.#opts.maxDelayMs > 0) {
      const timer = setTimeout(flush, this.#opts.maxDelayMs)
      batch.cancel = () => clearTimeout(timer)
    } else {
      const immediate = setImmediate(flush)
      batch.cancel = () => clearImmediate(immediate)
    }
    this.#open.set(loaded, batch)
    return batch
  }

  #flush(batch: Batch): void {
    if (this.#open.get(batch.loaded) === batch) this.#open.delete(batch.loaded)
    batch.cancel?.()
    batch.cancel = undefined
    const { parts, loaded } = batch
    if (parts.length === 0) return
    if (parts.length === 1) return this.#runAlone(loaded, parts[0])

    const size = parts[0].input.length / parts[0].rows
    const input = new Float32Array(batch.rows * size)
    let offset = 0
    for (const part of parts) {
      input.set(part.input, offset)
      offset += part.input.length
    }

    let predictions: number[][]
    try {
      predictions = predictRows(loaded, input, batch.rows)
    } catch {
      for (const part of parts) this.#runAlone(loaded, part)
      return
    }
    this.#opts.onBatch?.(batch.rows, parts.length)
    let start = 0
    for (const part of parts) {
      part.resolve(predictions.slice(start, start + part.rows))
      start += part.rows
    }
  }

  #runAlone(loaded: LoadedModel, part: Waiting): void {
    try {
      part.resolve(predictRows(loaded, part.input, part.rows))
      this.#opts.onBatch?.(part.rows, 1)
    } catch (err) {
      part.reject(err)
    }
  }
}
