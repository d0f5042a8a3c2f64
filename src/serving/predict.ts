import { sizeOf } from '../data/dataset.ts'
import { encodeTableRow } from '../data/table-encoding.ts'
import { showShape, writeRow } from '../data/tensor-rows.ts'
import { errors, withDetails } from '../errors.ts'
import { tf } from '../tf/backend.ts'
import type { LoadedModel } from './model-cache.ts'
import type { ModelManifest } from './model-registry.ts'

const PREDICT_CHUNK = 1024

/**
 * How errors name the rows of a request: `instances[3]` for tensorq's
 * and TensorFlow Serving's rows, something else for other shapes of
 * request (an Open Inference tensor's row).
 */
export interface RowNames {
  row(index: number): string
  /** The rows together, as in "400000 instances". */
  all: string
}

export const INSTANCES: RowNames = {
  row: (i) => `instances[${i}]`,
  all: 'instances',
}

function invalid(message: string, index: number, names = INSTANCES,
  column?: string) {
  const path = names.row(index)
  return withDetails(new errors.PredictInvalidInstance(`${path}: ${message}`),
    column === undefined ? { path, instance: index }
      : { path, instance: index, column })
}

function tableRow(
  manifest: ModelManifest,
  instance: unknown,
  index: number,
  names: RowNames,
): unknown[] {
  if (manifest.preprocessing.kind !== 'table') throw new Error('not a table')
  const { features } = manifest.preprocessing
  const columns = features.map((f) => f.name)

  if (Array.isArray(instance)) {
    if (instance.length !== columns.length) {
      throw invalid(`${instance.length} values where the model takes ` +
        `${columns.length} (${columns.join(', ')})`, index, names)
    }
    return instance
  }
  if (typeof instance !== 'object' || instance === null) {
    throw invalid(`expected an object keyed by column (${columns.join(', ')}) ` +
      'or an array of values in that order', index, names)
  }

  // A column the upload filled in (missing=mean) may be left out here too.
  const row = instance as Record<string, unknown>
  const missing = features.filter((f) => !Object.hasOwn(row, f.name) &&
    f.fill === undefined).map((f) => f.name)
  if (missing.length > 0) {
    const noun = missing.length === 1 ? 'column' : 'columns'
    throw invalid(`missing ${noun} ${missing.join(', ')}`, index, names,
      missing[0])
  }
  return columns.map((n) => row[n])
}

/**
 * A model whose first layer is an embedding looks its input up by index:
 * an id outside [0, inputDim) fails inside tfjs, and a fraction is
 * silently truncated. Both are the instance's fault, so say so.
 */
function checkTokenIds(manifest: ModelManifest, input: Float32Array,
  names: RowNames): void {
  const first = manifest.spec.layers[0]
  if (first.type !== 'embedding') return

  const size = sizeOf(manifest.inputShape)
  const bad = input.findIndex((v) =>
    !Number.isInteger(v) || v < 0 || v >= first.inputDim)
  if (bad < 0) return
  throw invalid(`${input[bad]} is not a token id: the model's embedding ` +
    `takes whole numbers from 0 to ${first.inputDim - 1}`,
  Math.floor(bad / size), names)
}

/**
 * Turns raw instances into the model's input, applying the preprocessing
 * stored with the version: for tables, standardization and one-hot
 * categories; for tensors, a shape check. Errors name the instance.
 */
export function encodeInstances(
  manifest: ModelManifest,
  instances: unknown[],
  names = INSTANCES,
): Float32Array {
  const size = sizeOf(manifest.inputShape)
  const out = new Float32Array(instances.length * size)
  const pre = manifest.preprocessing

  instances.forEach((instance, i) => {
    if (pre.kind === 'table') {
      const row = tableRow(manifest, instance, i, names)
      const problem = encodeTableRow(pre.features, row, out, i * size)
      if (problem) throw invalid(problem.message, i, names, problem.column)
      return
    }

    const value = manifest.inputShape.length === 1 &&
      manifest.inputShape[0] === 1 && typeof instance === 'number'
      ? [instance] : instance
    const problem = writeRow(value, manifest.inputShape, out, i * size,
      names.row(i))
    if (problem) {
      // Say the model's shape unless the message already does.
      const shape = showShape(manifest.inputShape)
      const suffix = problem.message.includes(shape) ? ''
        : `; the model's input shape is ${shape}`
      throw withDetails(new errors.PredictInvalidInstance(
        `${problem.path}: ${problem.message}${suffix}`),
      { path: problem.path, instance: i, expected: manifest.inputShape })
    }
  })
  checkTokenIds(manifest, out, names)
  return out
}

function className(manifest: ModelManifest, row: number[]): string {
  const classes = manifest.classes!
  if (manifest.targetEncoding === 'binary') {
    return classes[row[0] >= 0.5 ? 1 : 0]
  }
  let best = 0
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i
  return classes[best]
}

export interface Prediction {
  predictions: number[][]
  classes?: string[]
}

function checkAnswerSize(count: number, width: number, maxValues: number,
  path: string): void {
  if (count * width <= maxValues) return
  throw withDetails(new errors.PredictTooLarge(`${count} ` +
    `${path} × ${width} outputs is more than ${maxValues} values; send ` +
    `at most ${Math.max(1, Math.floor(maxValues / width))} per request`),
  { path })
}

function named(manifest: ModelManifest, predictions: number[][],
  names = INSTANCES): Prediction {
  const bad = predictions.findIndex((row) => !row.every(Number.isFinite))
  if (bad >= 0) {
    throw invalid('the model output is not finite for this instance; its ' +
      'values are far outside what the model was trained on', bad, names)
  }

  if (manifest.task !== 'classification') return { predictions }
  return {
    predictions,
    classes: predictions.map((row) => className(manifest, row)),
  }
}

/**
 * Runs a graph model for nodes of its graph, given by number; all nodes
 * when `nodes` is undefined. One pass: every pass computes the whole
 * graph, so splitting the ids into chunks would only repeat it.
 */
export function predictNodes(
  loaded: LoadedModel,
  nodes: number[] | undefined,
  maxValues: number,
): Prediction & { nodes: number[] } {
  const { manifest, model } = loaded
  const count = manifest.graph!.nodes
  const ids = nodes ?? Array.from({ length: count }, (_, i) => i)
  const width = sizeOf(model.outputs[0].shape.slice(1) as number[])
  checkAnswerSize(ids.length, width, maxValues, 'nodes')

  const outside = ids.findIndex((id) => id >= count)
  if (outside >= 0) {
    const path = `nodes[${outside}]`
    throw withDetails(new errors.PredictInvalidInstance(`${path}: node ` +
      `${ids[outside]} does not exist; the graph has ${count} nodes, ` +
      `numbered 0 to ${count - 1}`), { path, instance: outside })
  }

  const predictions = tf.tidy(() => {
    const x = tf.tensor2d(Float32Array.from(ids), [ids.length, 1])
    const y = model.predict(x, { batchSize: Math.max(1, ids.length) })
    return (y as tf.Tensor).arraySync() as number[][]
  })
  return { nodes: ids, ...named(manifest, predictions) }
}

/**
 * Runs the model on `rows` encoded rows, in chunks that are each their own
 * tensor: model.predict's batching slices one big input tensor, and on
 * WASM each slice copied all of it, which made 100,000 wide rows take 25
 * minutes instead of seconds.
 */
export function predictRows(loaded: LoadedModel, input: Float32Array,
  rows: number): number[][] {
  const { manifest, model } = loaded
  const size = sizeOf(manifest.inputShape)
  const predictions: number[][] = []
  for (let start = 0; start < rows; start += PREDICT_CHUNK) {
    const count = Math.min(PREDICT_CHUNK, rows - start)
    const chunk = input.subarray(start * size, (start + count) * size)
    predictions.push(...tf.tidy(() => {
      const x = tf.tensor(chunk, [count, ...manifest.inputShape])
      const y = model.predict(x, { batchSize: count }) as tf.Tensor
      return y.arraySync() as number[][]
    }))
  }
  return predictions
}

/** Rows encoded for a model, checked and sized, ready to run. */
export interface EncodedRequest {
  input: Float32Array
  rows: number
}

/**
 * Checks and encodes raw instances for the model. Refuses, before
 * anything runs, an answer of more than `maxValues` numbers: it could not
 * even be serialized (a string of over 512 MB).
 */
export function encodeRequest(loaded: LoadedModel, instances: unknown[],
  maxValues: number, names = INSTANCES): EncodedRequest {
  const width = sizeOf(loaded.model.outputs[0].shape.slice(1) as number[])
  checkAnswerSize(instances.length, width, maxValues, names.all)
  return { input: encodeInstances(loaded.manifest, instances, names),
    rows: instances.length }
}

/** Names the classes of a classifier's outputs; refuses non-finite ones. */
export function namePredictions(manifest: ModelManifest,
  predictions: number[][], names = INSTANCES): Prediction {
  return named(manifest, predictions, names)
}

/** Runs the model on raw instances and names the classes of classifiers. */
export function predict(
  loaded: LoadedModel,
  instances: unknown[],
  maxValues: number,
): Prediction {
  const { input, rows } = encodeRequest(loaded, instances, maxValues)
  return named(loaded.manifest, predictRows(loaded, input, rows))
}
