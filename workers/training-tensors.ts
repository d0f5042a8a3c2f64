import { sizeOf, type DatasetRecord } from '../src/data/dataset.ts'
import type { TargetEncoding } from '../src/spec/targets.ts'
import { tf } from '../src/tf/backend.ts'

/** A random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = order[i]
    order[i] = order[j]
    order[j] = t
  }
  return order
}

/** The tensor of `n` rows' stored labels, as the loss takes them. */
export function targets(
  record: DatasetRecord,
  y: Float32Array,
  encoding: TargetEncoding,
  n = record.rows,
): tf.Tensor {
  switch (encoding) {
    case 'oneHot':
      return tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'),
        record.classes!.length).toFloat())
    case 'index':
    case 'binary':
      return tf.tensor2d(y, [n, 1])
    case 'values':
      return tf.tensor(y, [n, ...record.targetShape!])
  }
}

/** Inputs and targets: to train on, to validate on, to score at the end. */
export interface TrainingTensors {
  xs: tf.Tensor
  ys: tf.Tensor
  validation?: [tf.Tensor, tf.Tensor]
  test?: [tf.Tensor, tf.Tensor]
}

/** Frees every tensor of a TrainingTensors. */
export function disposeTensors(t: TrainingTensors | undefined): void {
  if (!t) return
  for (const x of [t.xs, t.ys, ...(t.validation ?? []), ...(t.test ?? [])]) {
    x.dispose()
  }
}

/**
 * The dataset as input and target tensors. With `shuffle`, rows are put
 * in random order first: tfjs takes the validation split from the end of
 * the data as given, so without this a file sorted by class would
 * validate on one class only.
 */
export function trainingTensors(
  record: DatasetRecord,
  x: Float32Array,
  y: Float32Array,
  encoding: TargetEncoding,
  shuffle: boolean,
): TrainingTensors {
  const n = record.rows
  const width = sizeOf(record.inputShape)
  const ty = record.task === 'classification' ? 1 : sizeOf(record.targetShape!)
  if (x.length !== n * width || y.length !== n * ty) {
    throw new Error(`dataset ${record.id} tensors do not match its record`)
  }

  if (shuffle) {
    const order = permutation(n)
    const px = new Float32Array(x.length)
    const py = new Float32Array(y.length)
    for (let i = 0; i < n; i++) {
      const from = order[i]
      px.set(x.subarray(from * width, (from + 1) * width), i * width)
      py.set(y.subarray(from * ty, (from + 1) * ty), i * ty)
    }
    x = px
    y = py
  }

  const xs = tf.tensor(x, [n, ...record.inputShape])
  const ys = targets(record, y, encoding)
  return { xs, ys }
}
