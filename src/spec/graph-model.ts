import { sizeOf, type DatasetRecord } from '../data/dataset.ts'
import { tf } from '../tf/backend.ts'
import {
  GatherNodes, GraphConv, NodeFeatures, type NormalizedEdges,
} from '../tf/layers/register.ts'
import { addLayer } from './add-layer.ts'
import { activityOf, makeLayer, type GraphSize } from './make-layer.ts'
import type { ModelSpec } from './schema.ts'

const IDS = 'node_ids'
const FEATURES = 'node_features'
const GATHER = 'gather_nodes'

/** The names of the layers a graph model has beside the spec's. */
export const GRAPH_LAYER_NAMES = [IDS, FEATURES, GATHER]

/** The size a graph dataset's model is built for; undefined for others. */
export function graphSizeOf(record: DatasetRecord): GraphSize | undefined {
  if (!record.graph) return undefined
  const { nodes, edges } = record.graph
  // Each undirected edge both ways, and a self-loop per node.
  return { numNodes: nodes, numEdges: 2 * edges + nodes }
}

/**
 * A model for node classification or regression on one graph. Its input
 * is node ids ([batch, 1]); its first layer holds every node's features
 * and its graphConv layers the edges, so the spec's layers run over all
 * nodes at once and a last layer picks the rows of the ids asked for.
 * Training on the train nodes' ids then works with fit() as it is:
 * batches, validation, metrics and class weights are per node.
 *
 * The model is built with zeros for the graph; putGraph fills it in.
 */
export function buildGraphModel(
  spec: ModelSpec,
  featureShape: number[],
  graph: GraphSize,
): tf.LayersModel {
  const ids = tf.input({ shape: [1], name: IDS })
  const created: tf.layers.Layer[] = []
  const track = <L extends tf.layers.Layer>(layer: L): L => {
    created.push(layer)
    return layer
  }

  try {
    const features = track(new NodeFeatures({ name: FEATURES,
      numNodes: graph.numNodes, featureShape }))
    let h = features.apply(ids) as tf.SymbolicTensor
    spec.layers.forEach((layerSpec, i) => {
      addLayer(i, layerSpec, h.shape, () => {
        h = track(makeLayer(layerSpec, undefined, graph)).apply(h) as
          tf.SymbolicTensor
        const activity = activityOf(layerSpec)
        if (activity) h = track(activity).apply(h) as tf.SymbolicTensor
        return h.shape
      })
    })
    const out = track(new GatherNodes({ name: GATHER }))
      .apply([h, ids]) as tf.SymbolicTensor
    return tf.model({ inputs: ids, outputs: out })
  } catch (err) {
    // No model owns the layers yet; their weights are freed one by one.
    // tfjs refuses to dispose a layer that never got built: nothing to free.
    for (const layer of created) {
      try {
        layer.dispose()
      } catch {}
    }
    throw err
  }
}

/** Puts a graph's node features and edges into a model buildGraphModel made. */
export function putGraph(
  model: tf.LayersModel,
  features: Float32Array,
  edges: NormalizedEdges,
): void {
  const nodes = model.getLayer(FEATURES) as NodeFeatures
  const width = sizeOf(nodes.featureShape)
  if (features.length !== nodes.numNodes * width) {
    throw new Error(`the graph has ${features.length / width} nodes; the ` +
      `model was built for ${nodes.numNodes}`)
  }

  tf.tidy(() => {
    const shape = [nodes.numNodes, ...nodes.featureShape]
    nodes.setWeights([tf.tensor(features, shape)])
  })
  for (const layer of model.layers) {
    if (layer instanceof GraphConv) layer.setEdges(edges)
  }
}
