import type { Job } from 'bullmq'
import {
  encodeCheckpoint, writeCheckpoint, type BestEpoch, type Checkpoint,
} from '../src/queue/checkpoints.ts'
import type {
  HistoryRow, TrainingJobData, TrainingProgress, TrainingResult,
} from '../src/queue/training-job.ts'
import type { ArtifactStore } from '../src/store/artifact-store.ts'
import type { tf } from '../src/tf/backend.ts'

/**
 * What a client sees of a job's finished epochs: their log rows and the
 * job's progress. Each is shown only once a checkpoint holding its epoch
 * is stored, so an epoch a client has seen is one a dying worker does
 * not lose.
 *
 * Reports go out after the first epoch, then at most once per interval,
 * with every epoch since the last: a checkpoint after each of a small
 * model's 80 ms epochs cost it 3–8% of its training time, in the
 * weights' copy, the garbage it leaves and the writes that wait for the
 * event loop's turns between batches. The writes go on while the next
 * epochs train; each report waits for the one before, so they land in
 * order, and a failed write fails the job at the next report or settle().
 */
export class EpochReports {
  readonly #job: Job<TrainingJobData, TrainingResult>
  readonly #store: ArtifactStore
  readonly #backend: string
  readonly #intervalMs: number
  readonly #best: () => BestEpoch | undefined
  #pending: Promise<void> = Promise.resolve()
  /** Rows of the history already in the job's log. */
  #shown: number
  #lastAt = -Infinity

  /** `best`: early stopping's best epoch so far, which checkpoints keep. */
  constructor(job: Job<TrainingJobData, TrainingResult>, store: ArtifactStore,
    backend: string, intervalMs: number, history: HistoryRow[],
    best: () => BestEpoch | undefined = () => undefined) {
    this.#job = job
    this.#store = store
    this.#backend = backend
    this.#intervalMs = intervalMs
    this.#shown = history.length
    this.#best = best
  }

  /**
   * Called after each whole epoch, with `history` holding it: reports
   * the epochs not yet shown once the interval since the last report has
   * passed. The weights are copied before this returns.
   */
  async epochEnded(model: tf.LayersModel, history: HistoryRow[]):
    Promise<void> {
    if (performance.now() - this.#lastAt < this.#intervalMs) return
    await this.#report(model, history)
  }

  /**
   * Once training has stopped: checkpoints the weights as they are, with
   * the epochs not yet shown, and waits for every write. Stopped in mid
   * epoch (the worker shutting down), the next attempt trains that epoch
   * again from these weights. `ended`: training is over (not stopped
   * for the next attempt to go on), so a resume only stores the version.
   */
  async flush(model: tf.LayersModel, history: HistoryRow[],
    ended?: Checkpoint['ended']): Promise<void> {
    await this.#report(model, history, ended)
    await this.settled()
  }

  /** Waits for the writes under way; rejects if one failed. */
  settled(): Promise<void> {
    return this.#pending
  }

  async #report(model: tf.LayersModel, history: HistoryRow[],
    ended?: Checkpoint['ended']): Promise<void> {
    this.#lastAt = performance.now()
    const bytes = await encodeCheckpoint(model, { epoch: history.length,
      history: [...history], best: this.#best(), ended })
    await this.#pending

    const rows = history.slice(this.#shown)
    this.#shown = history.length
    const { epoch, loss, ...metrics } = history.at(-1) ??
      ({ epoch: 0 } as HistoryRow)
    const progress: TrainingProgress = { backend: this.#backend, epoch,
      epochs: this.#job.data.training.epochs, loss, metrics }
    const job = this.#job
    this.#pending = (async () => {
      await writeCheckpoint(this.#store, job.id!, bytes)
      // Sent together, they land in this order (one connection) in one
      // round trip: one by one, each waited for a turn of the event loop,
      // and a second's rows trickled in behind the progress.
      await Promise.all([...rows.map((row) => job.log(JSON.stringify(row))),
        job.updateProgress(progress)])
    })()
    // Awaited later; until then its failure is not unhandled.
    this.#pending.catch(() => undefined)
  }
}
