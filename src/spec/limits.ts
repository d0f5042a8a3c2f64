import { errors, withDetails } from '../errors.ts'
import type { LayerSpec, RecurrentSpec } from './layer-schemas.ts'
import { makeLayer, type GraphSize } from './make-layer.ts'
import type { ModelSpec } from './schema.ts'

type Shape = Array<number | null>

function recurrentParameters(spec: RecurrentSpec, features: number): number {
  const gates = spec.type === 'lstm' ? 4 : spec.type === 'gru' ? 3 : 1
  const bias = spec.useBias === false ? 0 : spec.units
  return gates * (spec.units * (features + spec.units) + bias)
}

function kernelSize(size: number | number[]): number {
  return Array.isArray(size) ? size[0] * size[1] : size * size
}

/** The weights one layer allocates, given its input shape. */
function layerParameters(spec: LayerSpec, input: Shape): number {
  const last = input.at(-1) ?? 1
  const bias = (units: number, useBias?: boolean) => useBias === false ? 0 : units

  switch (spec.type) {
    case 'dense':
    case 'graphConv':
      return last * spec.units + bias(spec.units, spec.useBias)
    case 'conv1d':
      return spec.kernelSize * last * spec.filters +
        bias(spec.filters, spec.useBias)
    case 'conv2d':
      return kernelSize(spec.kernelSize) * last * spec.filters +
        bias(spec.filters, spec.useBias)
    case 'simpleRNN':
    case 'lstm':
    case 'gru':
      return recurrentParameters(spec, last)
    case 'bidirectional':
      return 2 * recurrentParameters(spec.layer, last)
    case 'embedding':
      return spec.inputDim * spec.outputDim
    case 'batchNormalization':
      return 4 * last
    case 'layerNormalization':
      return 2 * last
    default:
      return 0
  }
}

/**
 * The parameters a spec will allocate, counted from the spec and the
 * shapes alone, so that a model too large for the machine is refused
 * before tfjs allocates it (a 65536-unit dense stack takes gigabytes at
 * once). Shapes come from each layer's computeOutputShape, which needs no
 * weights; a layer whose shape cannot be worked out is left to the build,
 * which names it.
 */
function measure(spec: ModelSpec, inputShape: number[], graph?: GraphSize):
  { parameters: number; activations: number; edgeValues: number } {
  let shape: Shape = [null, ...inputShape]
  let parameters = 0
  let activations = 0
  let edgeValues = 0
  for (const layerSpec of spec.layers) {
    // NaN: the layer does not fit the shape (a conv1d given an image);
    // the count stops here and the build names the layer.
    const own = layerParameters(layerSpec, shape)
    if (Number.isNaN(own)) break
    parameters += own
    // Each graphConv keeps the edge list (3 values an edge) and, for the
    // backward pass, two messages of its width an edge.
    if (graph && layerSpec.type === 'graphConv') {
      edgeValues += graph.numEdges * (2 * layerSpec.units + 3)
    }
    try {
      shape = makeLayer(layerSpec, undefined, graph)
        .computeOutputShape(shape as never) as Shape
    } catch {
      break
    }
    if (shape.some((d) => Number.isNaN(d))) break
    activations += shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1)
  }
  return { parameters, activations, edgeValues }
}

export function countParameters(spec: ModelSpec, inputShape: number[],
  graph?: GraphSize): number {
  return measure(spec, inputShape, graph).parameters
}

/**
 * The most activation values one training batch may produce (1 GiB of
 * float32). tfjs holds them all for the backward pass, and WASM's heap
 * stops at 4 GiB: a batch of 20,000 rows through 65,536 units needs 5 GiB
 * and hung the worker instead of failing.
 */
export const MAX_BATCH_ACTIVATIONS = 256 * 1024 * 1024

/**
 * Throws a 400 when batchSize × activations passes the limit. A graph
 * model runs every node in every step, whatever the batch size.
 */
export function checkBatchLimit(
  spec: ModelSpec,
  inputShape: number[],
  batchSize: number,
  rows: number,
  graph?: GraphSize,
): void {
  const batch = graph ? graph.numNodes : Math.min(batchSize, rows)
  const m = measure(spec, inputShape, graph)
  const values = batch * m.activations + m.edgeValues
  if (values <= MAX_BATCH_ACTIVATIONS) return

  if (graph) {
    throw withDetails(new errors.SpecTooLarge(`a step over the graph's ` +
      `${batch} nodes and ${graph.numEdges} edges (self-loops included) ` +
      `would hold ${values.toLocaleString('en')} values, more than ` +
      `${MAX_BATCH_ACTIVATIONS.toLocaleString('en')}; use fewer or ` +
      'narrower layers'), { path: 'spec.layers' })
  }

  const most = Math.max(1, Math.floor(batch * MAX_BATCH_ACTIVATIONS / values))
  throw withDetails(new errors.SpecTooLarge(`a batch of ${batch} rows would ` +
    `produce ${values.toLocaleString('en')} activation values, more than ` +
    `${MAX_BATCH_ACTIVATIONS.toLocaleString('en')}; use training.batchSize ` +
    `of at most ${most}`), { path: 'training.batchSize' })
}

/** Throws a 400 naming the limit when the spec has too many parameters. */
export function checkParameterLimit(
  spec: ModelSpec,
  inputShape: number[],
  maxParameters: number,
  graph?: GraphSize,
): void {
  const count = countParameters(spec, inputShape, graph)
  if (count <= maxParameters) return

  throw withDetails(new errors.SpecTooLarge(`the model would have ` +
    `${count.toLocaleString('en')} parameters; the limit is ` +
    `${maxParameters.toLocaleString('en')} (MAX_MODEL_PARAMETERS)`),
  { path: 'spec.layers', parameters: count, limit: maxParameters })
}
