import type { BestEpoch } from '../src/queue/checkpoints.ts'
import { tf } from '../src/tf/backend.ts'

/** Keras's restore_best_weights, which tfjs's EarlyStopping lacks. */
export interface BestWeights {
  callback: tf.CustomCallback
  /** The best epoch so far, while training: what a checkpoint keeps. */
  current(): BestEpoch | undefined
  /** The epoch whose weights were put back, once training has ended. */
  readonly restoredEpoch: number | undefined
  /** Frees the copy of the best weights, if one is still kept. */
  dispose(): void
}

/**
 * Keeps a copy of the weights from the epoch where `monitor` was lowest
 * (highest for accuracies) and puts them back when training ends, if
 * `ended()` says it really ended: a job stopped to be handed back or for
 * its time limit keeps its current weights, which its checkpoint stores
 * as the epoch it got to. A resumed job goes on from the best epoch of
 * the attempts before (`from`, whose weights this then owns).
 */
export function restoreBestWeights(
  model: tf.LayersModel,
  monitor: string,
  ended: () => boolean,
  from?: BestEpoch,
): BestWeights {
  const higherIsBetter = /acc|precision|recall/.test(monitor)
  let best = from?.value
  let bestEpoch = from?.epoch
  let restoredEpoch: number | undefined
  let saved: tf.Tensor[] = from?.weights ?? []

  const keep = () => {
    tf.dispose(saved)
    saved = model.getWeights().map((w) => w.clone())
  }

  const callback = new tf.CustomCallback({
    onEpochEnd: async (epoch, logs) => {
      const value = logs?.[monitor]
      if (value === undefined || !Number.isFinite(value)) return
      const better = best === undefined ||
        (higherIsBetter ? value > best : value < best)
      if (!better) return
      best = value
      bestEpoch = epoch + 1
      keep()
    },
    // Stopped for the next attempt to go on, the copy stays for the
    // checkpoint (current()) until dispose().
    onTrainEnd: async () => {
      if (saved.length === 0 || !ended()) return
      model.setWeights(saved)
      restoredEpoch = bestEpoch
      tf.dispose(saved)
      saved = []
    },
  })
  return {
    callback,
    current: () => saved.length > 0 && best !== undefined &&
      bestEpoch !== undefined
      ? { epoch: bestEpoch, value: best, weights: saved } : undefined,
    get restoredEpoch() {
      return restoredEpoch
    },
    dispose: () => {
      tf.dispose(saved)
      saved = []
    },
  }
}
