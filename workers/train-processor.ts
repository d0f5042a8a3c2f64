import { UnrecoverableError, WaitingError, type Job } from 'bullmq'
import type { DatasetRecord } from '../src/data/dataset.ts'
import { loadDataset, type LoadedDataset } from '../src/data/dataset-store.ts'
import { codeOf, errors, isTqError } from '../src/errors.ts'
import type { Logger } from '../src/log.ts'
import type { Outcome, WorkerMetrics } from '../src/metrics/worker-metrics.ts'
import type { CancelListener, CancelWatch } from '../src/queue/cancellation.ts'
import { recordOfBullJob, saveJobRecord } from '../src/queue/job-record.ts'
import type {
  HistoryRow, TrainingJobData, TrainingResult,
} from '../src/queue/training-job.ts'
import { publishVersion } from '../src/serving/model-registry.ts'
import { buildModel, compileModel } from '../src/spec/build-model.ts'
import { graphSizeOf, putGraph } from '../src/spec/graph-model.ts'
import { targetEncoding, type TargetEncoding } from '../src/spec/targets.ts'
import type { ArtifactStore } from '../src/store/artifact-store.ts'
import { tf } from '../src/tf/backend.ts'
import { normalizeEdges } from '../src/tf/layers/register.ts'
import { serializeModel } from '../src/tf/model-io.ts'
import { withSeed } from '../src/tf/seeded-random.ts'
import { restoreBestWeights, type BestWeights } from './best-weights.ts'
import {
  removeCheckpoint, restoreCheckpoint, type Checkpoint,
} from '../src/queue/checkpoints.ts'
import { EpochReports } from './epoch-reports.ts'
import { graphTensors } from './graph-tensors.ts'
import {
  disposeTensors, trainingTensors, type TrainingTensors,
} from './training-tensors.ts'

export interface ProcessorDeps {
  store: ArtifactStore
  log: Logger
  backend: string
  cancels: CancelListener
  /** The longest one job may train (MAX_JOB_SECONDS). */
  maxJobSeconds: number
  /** The shortest time between two checkpoints (CHECKPOINT_INTERVAL_MS). */
  checkpointIntervalMs: number
  /** The rows a job's log holds: the epochs it has shown. */
  jobLog(jobId: string): Promise<HistoryRow[]>
  /**
   * Set when the worker shuts down: running jobs stop at their next
   * batch, keep a checkpoint and go back to the queue for another worker.
   */
  draining: { requested: boolean }
  metrics?: WorkerMetrics
}

/** Thrown by train() when it stopped because the worker is draining. */
class HandedBack extends Error {}

type TrainingJob = Job<TrainingJobData, TrainingResult>

/**
 * Why training stopped early, checked after each batch: the epoch where
 * the loss stopped being finite, or the time limit passing.
 */
interface Divergence {
  epoch?: number
  /** The loss that was not finite. */
  loss?: number
  /**
   * Set when training stopped after a batch: tfjs still ends the epoch
   * (onEpochEnd) though only part of it ran, and that part is no epoch.
   */
  midEpoch?: boolean
  /** Date.now() past which training stops. */
  deadline: number
  timedOut?: boolean
  /** Stopped because the worker is shutting down. */
  drained?: boolean
}

// How often training gives the event loop a turn, between batches: that
// is what renews the job's lock through an epoch longer than the lock,
// hears a cancel, and moves an epoch's report along (its file and Redis
// writes take a turn each). tfjs's own 125 ms held each of those writes
// back that long; a turn costs microseconds.
const YIELD_EVERY_MS = 25

function callbacks(
  job: TrainingJob,
  log: Logger,
  deps: ProcessorDeps,
  history: HistoryRow[],
  model: tf.LayersModel,
  divergence: Divergence,
  cancel: CancelWatch,
  reports: EpochReports,
): tf.CustomCallback {
  let epochNow = 0
  let epochStarted = 0
  // A CustomCallback instance, not a plain object: tfjs wraps the whole
  // list in CustomCallbacks unless its first entry is a callback object,
  // and a wrapped EarlyStopping loses its `this`. That also makes this
  // callback's yieldEvery the one fit() uses.
  return new tf.CustomCallback({
    onEpochBegin: async (epoch) => {
      epochNow = epoch + 1
      epochStarted = performance.now()
    },
    // Once the loss is NaN every later weight is NaN too; stop at the
    // batch where it happens rather than train the rest for nothing. A
    // cancel stops at the batch too.
    onBatchEnd: async (_batch, logs) => {
      if (logs && !Number.isFinite(logs.loss)) {
        divergence.epoch = epochNow
        divergence.loss = logs.loss
      }
      if (deps.draining.requested) divergence.drained = true
      if (Date.now() > divergence.deadline) divergence.timedOut = true
      const stop = divergence.epoch !== undefined || cancel.requested ||
        divergence.drained || divergence.timedOut
      if (!stop) return
      divergence.midEpoch = true
      model.stopTraining = true
    },
    onEpochEnd: async (epoch, logs = {}) => {
      if (divergence.midEpoch) return
      deps.metrics?.epochs.observe((performance.now() - epochStarted) / 1000)
      history.push({ epoch: epoch + 1, ...logs })
      const { loss, ...metrics } = logs
      log.info({ epoch: epoch + 1, epochs: job.data.training.epochs, loss,
        metrics }, 'epoch finished')
      await reports.epochEnded(model, history)
    },
  }, YIELD_EVERY_MS)
}

// classWeight names classes; tfjs wants their indexes.
function classWeights(training: TrainingJobData['training'],
  classes: string[] | undefined): Record<number, number> | undefined {
  if (!training.classWeight || !classes) return undefined
  return Object.fromEntries(classes.map((name, i) =>
    [i, training.classWeight![name] ?? 1]))
}

/**
 * Fits the model, reporting each epoch into `history`. Returns the epoch
 * whose weights early stopping put back, if it did.
 */
async function fit(
  job: TrainingJob,
  model: tf.LayersModel,
  { xs, ys, validation }: TrainingTensors,
  classes: string[] | undefined,
  history: HistoryRow[],
  deps: ProcessorDeps,
  log: Logger,
  cancel: CancelWatch,
  resumed: Checkpoint | undefined,
): Promise<number | undefined> {
  const { training } = job.data
  // An attempt goes on from the checkpoint, if any (history then holds
  // its epochs), and the log says each epoch once. The log holds the
  // epochs shown so far, which the checkpoint holds too (an epoch is
  // shown only once stored): only what it lacks is added, so that a
  // client following the job through a hand-over never sees its history
  // shrink.
  const initialEpoch = history.length
  let logged = (await deps.jobLog(job.id!)).length
  if (logged > history.length) {
    await job.clearLogs()
    logged = 0
  }
  await Promise.all(history.slice(logged).map((row) =>
    job.log(JSON.stringify(row))))
  await job.updateProgress({ backend: deps.backend, epoch: initialEpoch,
    epochs: training.epochs, metrics: {} })
  // An attempt before this one ended training (early stopping included)
  // and then failed to store the version: only that is left to do.
  if (resumed?.ended) return resumed.ended.restoredEpoch

  const stop = training.earlyStopping
  const seconds = Math.min(training.maxRuntimeSeconds ?? Infinity,
    deps.maxJobSeconds)
  const divergence: Divergence = { deadline: Date.now() + seconds * 1000 }
  const extra: Array<tf.CustomCallback | tf.EarlyStopping> = []
  let best: BestWeights | undefined
  if (stop) {
    const { restoreBestWeights: restore, ...early } = stop
    extra.push(tf.callbacks.earlyStopping(early))
    // Not when stopped in mid epoch: a job handed back or past its time
    // limit keeps the weights it got to.
    best = restore ? restoreBestWeights(model, stop.monitor,
      () => !divergence.midEpoch, resumed?.best) : undefined
    if (best) extra.push(best.callback)
  }
  const reports = new EpochReports(job, deps.store, deps.backend,
    deps.checkpointIntervalMs, history, () => best?.current())

  try {
    await model.fit(xs, ys, {
      epochs: training.epochs,
      initialEpoch,
      batchSize: training.batchSize,
      validationSplit: training.validationSplit || undefined,
      validationData: validation,
      shuffle: training.shuffle,
      classWeight: classWeights(training, classes),
      verbose: 0,
      callbacks: [
        callbacks(job, log, deps, history, model, divergence, cancel, reports),
        ...extra,
      ],
    })
    await reports.settled()

    if (cancel.requested) {
      throw new errors.JobCancelled(`cancelled in epoch ${history.length + 1}` +
        `; no version was stored`)
    }
    if (divergence.drained && history.length < training.epochs) {
      // The weights after this batch, with the epochs done so far: the
      // next worker trains this epoch again, from where this one got to.
      await reports.flush(model, history)
      throw new HandedBack()
    }
    if (divergence.timedOut) {
      throw new errors.JobTimeout(`training ran past its limit of ${seconds} ` +
        `s in epoch ${history.length + 1}; no version was stored`)
    }
    if (divergence.epoch !== undefined) {
      throw new errors.JobDiverged(`training diverged: the loss became ` +
        `${divergence.loss ?? 'NaN'} in epoch ${divergence.epoch}; ` +
        'lower the learning rate or check the data')
    }
    // Ended after a whole epoch: the last, or one early stopping chose.
    const restoredEpoch = best?.restoredEpoch
    await reports.flush(model, history, { restoredEpoch })
    return restoredEpoch
  } finally {
    // Its copy of the best weights: kept past fit for the hand-back's
    // checkpoint, or left there when fit threw.
    best?.dispose()
  }
}

/**
 * The trained model's loss and metrics on the test rows (a graph's test
 * nodes), named test_loss, test_acc, …; empty without test rows.
 */
async function score(model: tf.LayersModel, tensors: TrainingTensors):
  Promise<Record<string, number>> {
  if (!tensors.test) return {}
  const [xs, ys] = tensors.test
  const out = model.evaluate(xs, ys, { batchSize: xs.shape[0] })
  const scalars = Array.isArray(out) ? out : [out]
  const values = await Promise.all(scalars.map((t) => t.data()))
  for (const t of scalars) t.dispose()
  return Object.fromEntries(model.metricsNames.map((name, i) =>
    [`test_${name}`, values[i][0]]))
}

/** Stores the trained model as the next version of its name. */
async function publish(
  job: TrainingJob,
  model: tf.LayersModel,
  record: DatasetRecord,
  encoding: TargetEncoding,
  history: HistoryRow[],
  weightsEpoch: number | undefined,
  tested: Record<string, number>,
  deps: ProcessorDeps,
): Promise<number> {
  // The metrics of the epoch whose weights are stored.
  const row = (weightsEpoch && history[weightsEpoch - 1]) || history.at(-1)
  const { epoch: _epoch, ...last } = row ?? { epoch: 0 }
  const metrics = { ...last, ...tested }
  const artifacts = await serializeModel(model)
  const manifest = await publishVersion(deps.store, {
    model: job.data.model,
    job: job.id!,
    dataset: record.id,
    backend: deps.backend,
    spec: job.data.spec,
    training: job.data.training,
    targetEncoding: encoding,
    metrics,
    epochs: history.length,
    inputShape: record.inputShape,
    task: record.task,
    classes: record.classes,
    targetShape: record.targetShape,
    preprocessing: record.preprocessing,
    featureNames: record.featureNames,
    graph: record.graph && { nodes: record.graph.nodes },
    sizes: {
      parameters: model.countParams(),
      weightBytes: artifacts.weights.byteLength,
    },
  }, artifacts)
  return manifest.version
}

function buildFor(spec: TrainingJobData['spec'], data: LoadedDataset):
  tf.LayersModel {
  const { record } = data
  const graph = graphSizeOf(record)
  const model = buildModel(spec, record.inputShape, graph)
  if (!graph) return model
  try {
    putGraph(model, data.x, normalizeEdges(graph.numNodes, data.graph!.edges))
    return model
  } catch (err) {
    model.dispose()
    throw err
  }
}

function tensorsFor(data: LoadedDataset, encoding: TargetEncoding,
  shuffle: boolean): TrainingTensors {
  const { record, x, y, graph } = data
  if (graph) return graphTensors(record, y, graph.split, encoding, shuffle)
  return trainingTensors(record, x, y, encoding, shuffle)
}

async function train(
  job: TrainingJob,
  history: HistoryRow[],
  deps: ProcessorDeps,
  log: Logger,
  cancel: CancelWatch,
): Promise<TrainingResult> {
  const { model: name, spec, training } = job.data
  const data = await loadDataset(deps.store, job.data.dataset)
  if (!data) {
    throw new errors.DatasetNotFound(`dataset ${job.data.dataset} is gone`)
  }

  const { record } = data
  const model = buildFor(spec, data)
  let tensors: TrainingTensors | undefined
  let resumed: Checkpoint | undefined
  try {
    const encoding = targetEncoding(record, spec, model.outputs[0].shape)
    compileModel(model, spec)
    tensors = tensorsFor(data, encoding, training.shuffle)
    resumed = await restoreCheckpoint(deps.store, job.id!, model)
    if (resumed) {
      history.push(...resumed.history)
      log.info({ epoch: resumed.epoch, attempt: attemptOf(job) },
        'resumed from checkpoint')
    }

    const weightsEpoch = await fit(job, model, tensors, record.classes,
      history, deps, log, cancel, resumed)
    const tested = await score(model, tensors)
    const version = await publish(job, model, record, encoding, history,
      weightsEpoch, tested, deps)
    log.info({ model: name, version, ...tested }, 'model version stored')
    await removeCheckpoint(deps.store, job.id!)
    return { model: name, version }
  } finally {
    // The optimizer is not the model's own (compileModel made it), so
    // model.dispose() leaves its tensors behind.
    model.optimizer?.dispose()
    model.dispose()
    disposeTensors(tensors)
    // Early stopping's best weights from the checkpoint, unless training
    // took them over (and has disposed of them).
    tf.dispose(resumed?.best?.weights ?? [])
  }
}

async function finish(job: TrainingJob, history: HistoryRow[],
  deps: ProcessorDeps, patch: {
    result?: TrainingResult
    error?: { code: string; message: string }
  }): Promise<void> {
  const record = await recordOfBullJob(job, history)
  const cancelled = patch.error?.code === codeOf(errors.JobCancelled)
  // Epochs trained since the last report are in the history; the
  // progress the record ends with is theirs too.
  const lastRow = history.at(-1)
  if (lastRow) {
    const { epoch, loss, ...metrics } = lastRow
    record.progress = { epoch, epochs: job.data.training.epochs, loss,
      metrics }
  }
  await saveJobRecord(deps.store, {
    ...record,
    ...patch,
    state: cancelled ? 'cancelled' : patch.error ? 'failed' : 'completed',
    attempts: attemptOf(job),
    finishedAt: new Date().toISOString(),
  })
}

/**
 * Ends a job BullMQ failed without running it again: its workers kept
 * dying under it (more stalls than JOB_ATTEMPTS). Stores its record, with
 * the epochs its log holds, and removes its checkpoint, as the processor
 * does for a failed last attempt.
 */
export async function finishAbandoned(job: TrainingJob, deps: ProcessorDeps):
  Promise<void> {
  const history = await deps.jobLog(job.id!)
  const code = codeOf(errors.JobTrainingFailed)
  await finish(job, history, deps, { error: { code, message: 'the ' +
    'workers training it stopped answering more often than its attempts ' +
    'allow (killed, or out of memory?); no version was stored' } })
  deps.metrics?.jobs.inc({ outcome: 'failed' })
  await removeCheckpoint(deps.store, job.id!)
}

/**
 * Which attempt this is, counting starts: a job taken from a dead worker
 * starts again without failing first, so attemptsMade (failures) alone
 * would call a resumed run attempt 1 again.
 */
function attemptOf(job: TrainingJob): number {
  return Math.max(job.attemptsStarted ?? 0, job.attemptsMade + 1)
}

/**
 * How a job that ended for good fails in BullMQ: unrecoverable, with the
 * code of the error catalogue, so that the worker can tell a cancel from
 * a failure.
 */
export class JobEnded extends UnrecoverableError {
  constructor(message: string, readonly code: string) {
    super(message)
  }
}

function outcomeOf(code: string, last: boolean): Outcome {
  if (code === codeOf(errors.JobCancelled)) return 'cancelled'
  if (code === codeOf(errors.JobTimeout)) return 'timed_out'
  return last ? 'failed' : 'retried'
}

/**
 * The BullMQ processor for training jobs. A bad spec or dataset fails the
 * job at once (UnrecoverableError: retrying cannot help); anything else is
 * retried by BullMQ up to the job's attempts. The finished job's record,
 * with its error code, is written to the store either way.
 */
export function createTrainProcessor(deps: ProcessorDeps) {
  return async (job: TrainingJob, token?: string): Promise<TrainingResult> => {
    const log = deps.log.child({ jobId: job.id, queue: job.queueName })
    log.info({ model: job.data.model, attempt: attemptOf(job) },
      'training started')

    const history: HistoryRow[] = []
    const seed = job.data.training.seed
    const cancel = await deps.cancels.watch(job.id!)
    try {
      const run = () => train(job, history, deps, log, cancel)
      const result = await (seed === undefined ? run() : withSeed(seed, run))
      await finish(job, history, deps, { result })
      deps.metrics?.jobs.inc({ outcome: 'completed' })
      return result
    } catch (thrown) {
      let err = thrown
      // Back to the queue without counting as a failed attempt, unless a
      // cancel came while its checkpoint was written: then it ends here,
      // rather than wait in the queue for a worker to cancel it.
      if (err instanceof HandedBack && !cancel.requested) {
        await job.moveToWait(token)
        log.info({ epoch: history.length }, 'job handed back')
        deps.metrics?.jobs.inc({ outcome: 'handed_back' })
        throw new WaitingError()
      }
      if (err instanceof HandedBack) {
        err = new errors.JobCancelled(`cancelled in epoch ` +
          `${history.length + 1}; no version was stored`)
      }
      const bad = isTqError(err)
      const last = bad || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)
      const message = err instanceof Error ? err.message : String(err)
      const code = isTqError(err) ? err.code : codeOf(errors.JobTrainingFailed)
      // A cancel is what the client asked for; a bad spec or dataset is
      // the client's doing, not ours: warn.
      const cancelled = code === codeOf(errors.JobCancelled)
      if (cancelled) log.info({ reason: message }, 'training cancelled')
      else if (bad) log.warn({ code, reason: message }, 'training refused')
      else log.error({ err, code, final: last }, 'training failed')

      if (last) await finish(job, history, deps, { error: { code, message } })
      deps.metrics?.jobs.inc({ outcome: outcomeOf(code, last) })
      // A job that will be retried resumes from its checkpoint; one that
      // ended for good has no use for it.
      if (last) {
        await removeCheckpoint(deps.store, job.id!).catch((removing) =>
          log.warn({ reason: (removing as Error).message },
            'could not remove the checkpoint'))
      }
      if (bad) throw new JobEnded(message, code)
      throw err
    } finally {
      cancel.stop()
    }
  }
}
