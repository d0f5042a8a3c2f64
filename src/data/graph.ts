import { errors, withDetails } from '../errors.ts'
import {
  checkDatasetSize, sizeOf, type EncodedDataset, type Task,
} from './dataset.ts'
import { encodeLabels, labelFields } from './labels.ts'
import { describeValues, MAX_RANK, shapeOf, writeRow } from './tensor-rows.ts'

/** What a node is used for; stored as one byte per node. */
export const SPLITS = ['train', 'val', 'test'] as const
export type Split = (typeof SPLITS)[number]

/** The byte stored for a node without a label, which no split uses. */
export const UNLABELLED = 0

/** The byte stored for a split: its index in SPLITS plus one. */
export function splitCode(split: Split): number {
  return SPLITS.indexOf(split) + 1
}

/** The graph upload: node features, labels and splits, and edge pairs. */
export interface GraphUpload {
  name: string
  format: 'graph'
  task?: Task
  nodes: Array<{ features: unknown; label?: unknown; split?: Split }>
  edges: number[][]
}

/**
 * Node ids travel through models as float32, exact up to 2^24; a million
 * nodes also keeps one graph's features and edges within what a worker
 * holds for a single full-graph step.
 */
export const MAX_GRAPH_NODES = 1_000_000
export const MAX_GRAPH_EDGES = 5_000_000

function invalid(message: string, path: string, details: object = {}) {
  return withDetails(new errors.DatasetInvalid(`${path}: ${message}`),
    { path, ...details })
}

function encodeFeatures(nodes: GraphUpload['nodes']) {
  const shape = shapeOf(nodes[0].features)
  if (shape.length > MAX_RANK) {
    throw invalid(`nested deeper than ${MAX_RANK} levels`, 'nodes[0].features')
  }
  const inputShape = shape.length === 0 ? [1] : shape
  const size = sizeOf(inputShape)
  if (size === 0) {
    throw invalid('an empty array has no features', 'nodes[0].features')
  }

  checkDatasetSize(nodes.length, size)
  const x = new Float32Array(nodes.length * size)
  nodes.forEach((node, i) => {
    const value = shape.length === 0 && typeof node.features === 'number'
      ? [node.features] : node.features
    const problem = writeRow(value, inputShape, x, i * size,
      `nodes[${i}].features`)
    if (problem) throw invalid(problem.message, problem.path, { row: i })
  })
  return { x, inputShape }
}

/**
 * Each undirected edge once per direction, sorted, without duplicates or
 * self-loops (graph convolution adds its own): pairs [s, d, s, d, …].
 */
function encodeEdges(edges: GraphUpload['edges'], nodes: number): Int32Array {
  if (edges.length > MAX_GRAPH_EDGES) {
    throw invalid(`${edges.length} edges is more than the ` +
      `${MAX_GRAPH_EDGES} a graph may have`, 'edges')
  }

  // s · nodes + d is exact in a double for a million nodes.
  const keys = new Float64Array(edges.length * 2)
  let n = 0
  edges.forEach(([s, d], i) => {
    for (const [end, id] of [[0, s], [1, d]]) {
      if (id >= nodes) {
        throw invalid(`node ${id} does not exist; the graph has ${nodes} ` +
          `nodes, numbered 0 to ${nodes - 1}`, `edges[${i}][${end}]`)
      }
    }
    if (s === d) return
    keys[n++] = s * nodes + d
    keys[n++] = d * nodes + s
  })

  const sorted = keys.subarray(0, n).sort()
  const pairs: number[] = []
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i] === sorted[i - 1]) continue
    pairs.push(Math.floor(sorted[i] / nodes), sorted[i] % nodes)
  }
  return Int32Array.from(pairs)
}

function encodeSplits(nodes: GraphUpload['nodes']): Uint8Array {
  const split = new Uint8Array(nodes.length)
  nodes.forEach((node, i) => {
    const labelled = node.label !== undefined && node.label !== null
    if (!labelled) {
      if (node.split) {
        throw invalid(`a ${node.split} node needs a label`, `nodes[${i}].label`,
          { row: i })
      }
      return
    }
    // A labelled node without a split trains.
    split[i] = splitCode(node.split ?? 'train')
  })

  if (!split.includes(splitCode('train'))) {
    throw invalid('no node is for training; give some nodes a label, and ' +
      'split "train" or no split', 'nodes')
  }
  return split
}

function countSplits(split: Uint8Array) {
  const counts = [0, 0, 0, 0]
  for (const s of split) counts[s]++
  return { train: counts[1], val: counts[2], test: counts[3],
    unlabelled: counts[UNLABELLED] }
}

/**
 * Turns a graph upload into a dataset for node classification or
 * regression. Rows are nodes; the edges are kept beside them, undirected.
 * Labels are encoded over the labelled nodes only; an unlabelled node's
 * stored label is 0 and its split byte says it has none.
 */
export function encodeGraph(upload: GraphUpload): EncodedDataset {
  const { nodes } = upload
  if (nodes.length > MAX_GRAPH_NODES) {
    throw invalid(`${nodes.length} nodes is more than the ` +
      `${MAX_GRAPH_NODES} a graph may have`, 'nodes')
  }

  const { x, inputShape } = encodeFeatures(nodes)
  const split = encodeSplits(nodes)
  const edges = encodeEdges(upload.edges, nodes.length)

  const labelled = nodes.flatMap((_, i) => (split[i] === UNLABELLED ? [] : [i]))
  const labels = encodeLabels(labelled.map((i) => nodes[i].label), {
    task: upload.task,
    integers: 'index',
    where: (k) => `nodes[${labelled[k]}].label`,
  })

  const width = labels.task === 'classification'
    ? 1 : sizeOf(labels.targetShape!)
  const y = new Float32Array(nodes.length * width)
  labelled.forEach((node, k) =>
    y.set(labels.y.subarray(k * width, (k + 1) * width), node * width))

  const { range, integers } = describeValues(x)
  return {
    record: {
      name: upload.name,
      format: 'graph',
      rows: nodes.length,
      inputShape,
      ...labelFields(labels),
      inputRange: range,
      integerInputs: integers,
      preprocessing: { kind: 'graph' },
      graph: { nodes: nodes.length, edges: edges.length / 4,
        ...countSplits(split) },
    },
    x,
    y,
    graph: { edges, split },
  }
}
