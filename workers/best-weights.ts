import { tf } from '../src/tf/backend.ts'

/** Keras's restore_best_weights, which tfjs's EarlyStopping lacks. */
export interface BestWeights {
  callback: tf.CustomCallback
  /** The epoch whose weights were put back, once training has ended. */
  readonly restoredEpoch: number | undefined
}

/**
 * Keeps a copy of the weights from the epoch where `monitor` was lowest
 * (highest for accuracies) and puts them back when training ends, if
 * `ended()` says it really ended: a job stopped to be handed back or for
 * its time limit keeps its current weights, which its checkpoint stores
 * as the epoch it got to.
 */
export function restoreBestWeights(
  model: tf.LayersModel,
  monitor: string,
  ended: () => boolean,
): BestWeights {
  const higherIsBetter = /acc|precision|recall/.test(monitor)
  let best: number | undefined
  let bestEpoch: number | undefined
  let restoredEpoch: number | undefined
  let saved: tf.Tensor[] = []

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
    onTrainEnd: async () => {
      if (saved.length > 0 && ended()) {
        model.setWeights(saved)
        restoredEpoch = bestEpoch
      }
      tf.dispose(saved)
      saved = []
    },
  })
  return {
    callback,
    get restoredEpoch() {
      return restoredEpoch
    },
  }
}
