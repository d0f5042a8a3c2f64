import { tf } from '../src/tf/backend.ts'

/**
 * Keeps a copy of the weights from the epoch where `monitor` was lowest
 * (highest for accuracies) and puts them back when training ends: Keras's
 * restore_best_weights, which tfjs's EarlyStopping does not implement.
 */
export function restoreBestWeights(
  model: tf.LayersModel,
  monitor: string,
): tf.CustomCallback {
  const higherIsBetter = /acc|precision|recall/.test(monitor)
  let best: number | undefined
  let saved: tf.Tensor[] = []

  const keep = () => {
    tf.dispose(saved)
    saved = model.getWeights().map((w) => w.clone())
  }

  return new tf.CustomCallback({
    onEpochEnd: async (_epoch, logs) => {
      const value = logs?.[monitor]
      if (value === undefined || !Number.isFinite(value)) return
      const better = best === undefined ||
        (higherIsBetter ? value > best : value < best)
      if (!better) return
      best = value
      keep()
    },
    onTrainEnd: async () => {
      if (saved.length > 0) model.setWeights(saved)
      tf.dispose(saved)
      saved = []
    },
  })
}
