import type { DatasetRecord } from '../data/dataset.ts'
import { quote } from '../data/finite.ts'
import { sameShape, showShape } from '../data/tensor-rows.ts'
import { errors, isTqError, withDetails } from '../errors.ts'
import { tf } from '../tf/backend.ts'
import { withoutLayerIds } from './add-layer.ts'
import { buildModel, compileModel } from './build-model.ts'
import { GRAPH_LAYER_NAMES, graphSizeOf } from './graph-model.ts'
import { checkBatchLimit, checkParameterLimit } from './limits.ts'
import type { ModelSpec, TrainingSettings } from './schema.ts'
import { targetEncoding } from './targets.ts'

function checkEmbeddingInputs(spec: ModelSpec, dataset: DatasetRecord): void {
  // Its input must be the dataset's token ids, not another layer's output.
  const later = spec.layers.findIndex((l, i) => i > 0 && l.type === 'embedding')
  if (later > 0) {
    throw withDetails(new errors.SpecShapeMismatch(`layers[${later}] ` +
      '(embedding) looks up token ids, so it must be the first layer'),
    { path: `spec.layers[${later}]`, layer: later })
  }

  const first = spec.layers[0]
  if (first.type !== 'embedding') return

  const [low, high] = dataset.inputRange ?? [0, 0]
  const fits = dataset.integerInputs === true && low >= 0 &&
    high < first.inputDim
  if (fits) return
  throw withDetails(new errors.SpecShapeMismatch(`layers[0] (embedding) ` +
    `takes whole token ids from 0 to ${first.inputDim - 1}; the dataset's ` +
    `values run from ${low} to ${high}` +
    (dataset.integerInputs ? '' : ' and are not all whole numbers')),
  { path: 'spec.layers[0].inputDim', layer: 0 })
}

// What tfjs calls the logs a metric writes ('accuracy' is logged as acc).
function metricKey(metric: string): string {
  return metric === 'accuracy' ? 'acc' : metric
}

function checkMonitor(spec: ModelSpec, training: TrainingSettings): void {
  const monitor = training.earlyStopping?.monitor
  if (monitor === undefined) return
  const logged = ['loss', ...(spec.metrics ?? []).map(metricKey)]
  const known = [...logged, ...logged.map((k) => `val_${k}`)]
  if (known.includes(monitor)) return

  const path = 'training.earlyStopping.monitor'
  throw withDetails(new errors.SpecInvalid(`${path}: ${quote(monitor)} is ` +
    `not logged by this model; it logs ${known.join(', ')}`), { path })
}

// Names given to layers the spec does not list: tfjs names a sequential
// model's input after its first layer, an activity regularizer is a layer
// of its own named after the layer it follows, and a graph model has its
// own first and last layers.
function impliedNames(spec: ModelSpec, graph: boolean): Map<string, string> {
  const implied = new Map<string, string>()
  const first = spec.layers[0].name
  if (graph) {
    for (const name of GRAPH_LAYER_NAMES) implied.set(name, 'a graph layer')
  } else if (first) {
    implied.set(`${first}_input`, `the input of layers[0] (${first})`)
  }
  spec.layers.forEach((layer, i) => {
    const activity = 'activityRegularizer' in layer && layer.activityRegularizer
    if (layer.name && activity) {
      implied.set(`${layer.name}_activity`,
        `the activity regularizer of layers[${i}]`)
    }
  })
  return implied
}

function checkLayerNames(spec: ModelSpec, graph: boolean): void {
  const seen = new Map<string, number>()
  const implied = impliedNames(spec, graph)
  spec.layers.forEach((layer, i) => {
    if (!layer.name) return
    const path = `spec.layers[${i}].name`
    const first = seen.get(layer.name)
    if (first !== undefined) {
      throw withDetails(new errors.SpecInvalid(`${path}: ` +
        `${layer.name} is already the name of layers[${first}]`), { path })
    }
    const taken = implied.get(layer.name)
    if (taken) {
      throw withDetails(new errors.SpecInvalid(`${path}: ${layer.name} is ` +
        `the name tensorq gives ${taken}; choose another`), { path })
    }
    seen.set(layer.name, i)
  })
}

function checkClassWeight(training: TrainingSettings, dataset: DatasetRecord):
  void {
  if (!training.classWeight) return
  const path = 'training.classWeight'
  if (dataset.task !== 'classification') {
    throw withDetails(new errors.SpecInvalid(`${path} needs a classification ` +
      'dataset'), { path })
  }
  for (const name of Object.keys(training.classWeight)) {
    if (!dataset.classes!.includes(name)) {
      throw withDetails(new errors.SpecInvalid(`${path}: ${name} is not a ` +
        `class of the dataset (${dataset.classes!.slice(0, 20).join(', ')})`),
      { path: `${path}.${name}` })
    }
  }
}

function checkTraining(training: TrainingSettings, dataset: DatasetRecord):
  void {
  // A graph trains on its train nodes and validates on its val nodes.
  const rows = dataset.graph?.train ?? dataset.rows
  const valNodes = dataset.graph?.val ?? 0
  if (valNodes > 0 && training.validationSplit > 0) {
    throw withDetails(new errors.SpecInvalid('training.validationSplit: ' +
      `the graph has ${valNodes} val node${valNodes === 1 ? '' : 's'}, ` +
      'which validation uses; leave ' +
      'validationSplit at 0'), { path: 'training.validationSplit' })
  }

  const monitor = training.earlyStopping?.monitor
  if (monitor?.startsWith('val_') && training.validationSplit === 0 &&
    valNodes === 0) {
    throw withDetails(new errors.SpecInvalid(
      `training.earlyStopping.monitor is ${monitor}, which needs ` +
      'training.validationSplit above 0' +
      (dataset.graph ? ', or val nodes in the graph' : '')),
    { path: 'training.earlyStopping.monitor' })
  }

  // tfjs trains on the first floor(rows × (1 − split)) rows.
  const trained = Math.floor(rows * (1 - training.validationSplit))
  if (training.validationSplit > 0 && (trained < 1 || trained >= rows)) {
    throw withDetails(new errors.SpecInvalid(
      `training.validationSplit ${training.validationSplit} of ${rows} rows ` +
      'leaves no rows for validation or none for training'),
    { path: 'training.validationSplit' })
  }
}

function checkLayerCount(spec: ModelSpec, maxLayers: number): void {
  if (spec.layers.length <= maxLayers) return
  throw withDetails(new errors.SpecTooLarge(`spec.layers: ` +
    `${spec.layers.length} layers; the limit is ${maxLayers} ` +
    '(MAX_MODEL_LAYERS)'), { path: 'spec.layers', limit: maxLayers })
}

/**
 * What tfjs itself refuses (a layer name clashing with one it generates,
 * an option it builds but cannot run) is still the spec's fault.
 */
function specError(err: unknown, what: string): Error {
  if (isTqError(err)) return err
  return withDetails(new errors.SpecInvalid(
    `the model ${what}: ${withoutLayerIds((err as Error).message)}`),
  { path: 'spec' })
}

/**
 * Runs the model once on a row of zeros (node 0 of a graph stand-in):
 * some layer options pass every shape check and fail only when run,
 * which would otherwise fail the job after it was queued.
 */
function runOnce(model: tf.LayersModel, inputShape: number[]): void {
  tf.tidy(() => {
    const out = model.predict(tf.zeros([1, ...inputShape])) as tf.Tensor
    out.dataSync()
  })
}

/** What a server allows one model to be. */
export interface ModelLimits {
  maxParameters: number
  maxLayers: number
}

/**
 * Checks a spec against the dataset it will train on, before anything is
 * queued: the input shape, every layer's fit (by building the model), the
 * output against the labels, and the training settings. Returns the spec
 * with its input shape filled in. The model built here is disposed.
 */
export function checkSpec(
  spec: ModelSpec,
  training: TrainingSettings,
  dataset: DatasetRecord,
  limits: ModelLimits,
): ModelSpec {
  const shape = spec.input?.shape ?? dataset.inputShape
  if (!sameShape(shape, dataset.inputShape)) {
    throw withDetails(new errors.SpecShapeMismatch(
      `spec.input.shape ${showShape(shape)} differs from the dataset's ` +
      `input shape ${showShape(dataset.inputShape)}`),
    { path: 'spec.input.shape' })
  }
  const graph = graphSizeOf(dataset)
  checkLayerCount(spec, limits.maxLayers)
  checkTraining(training, dataset)
  checkClassWeight(training, dataset)
  checkLayerNames(spec, graph !== undefined)
  checkEmbeddingInputs(spec, dataset)
  checkParameterLimit(spec, shape, limits.maxParameters, graph)
  checkBatchLimit(spec, shape, training.batchSize, dataset.rows, graph)
  checkMonitor(spec, training)

  // Layer shapes do not depend on the node count: a one-node stand-in
  // checks them without allocating the graph (the limits above used the
  // real sizes).
  const standIn = graph && { numNodes: 1, numEdges: 1 }
  let model: tf.LayersModel
  try {
    model = buildModel(spec, shape, standIn)
  } catch (err) {
    throw specError(err, 'does not build')
  }

  try {
    targetEncoding(dataset, spec, model.outputs[0].shape)
    compileModel(model, spec)
    runOnce(model, standIn ? [1] : shape)
  } catch (err) {
    throw specError(err, 'does not compile or run')
  } finally {
    // The optimizer holds tensors (SGD its learning rate) and is not
    // disposed with the model, which did not create it.
    model.optimizer?.dispose()
    model.dispose()
  }

  return { ...spec, input: { shape } }
}
