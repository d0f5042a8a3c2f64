import { sizeOf, type DatasetRecord } from '../src/data/dataset.ts'
import { splitCode, type Split } from '../src/data/graph.ts'
import type { TargetEncoding } from '../src/spec/targets.ts'
import { tf } from '../src/tf/backend.ts'
import {
  permutation, targets, type TrainingTensors,
} from './training-tensors.ts'

function nodesOf(split: Uint8Array, which: Split): number[] {
  const code = splitCode(which)
  const nodes: number[] = []
  split.forEach((s, i) => {
    if (s === code) nodes.push(i)
  })
  return nodes
}

function idsAndTargets(
  record: DatasetRecord,
  y: Float32Array,
  encoding: TargetEncoding,
  nodes: number[],
): [tf.Tensor, tf.Tensor] {
  const width = record.task === 'classification'
    ? 1 : sizeOf(record.targetShape!)
  const picked = new Float32Array(nodes.length * width)
  nodes.forEach((node, i) =>
    picked.set(y.subarray(node * width, (node + 1) * width), i * width))
  return [
    tf.tensor2d(Float32Array.from(nodes), [nodes.length, 1]),
    targets(record, picked, encoding, nodes.length),
  ]
}

/**
 * A graph dataset as a graph model trains on it: the inputs are node ids
 * (the model holds the features), the train nodes to fit, the val nodes
 * to validate on and the test nodes to score at the end, when there are
 * any. Train nodes are shuffled for the same reason rows are: tfjs's
 * validationSplit takes the last ones as given.
 */
export function graphTensors(
  record: DatasetRecord,
  y: Float32Array,
  split: Uint8Array,
  encoding: TargetEncoding,
  shuffle: boolean,
): TrainingTensors {
  let train = nodesOf(split, 'train')
  if (shuffle) {
    const order = permutation(train.length)
    train = Array.from(order, (i) => train[i])
  }
  const val = nodesOf(split, 'val')
  const test = nodesOf(split, 'test')

  const [xs, ys] = idsAndTargets(record, y, encoding, train)
  return {
    xs,
    ys,
    validation: val.length > 0
      ? idsAndTargets(record, y, encoding, val) : undefined,
    test: test.length > 0
      ? idsAndTargets(record, y, encoding, test) : undefined,
  }
}
