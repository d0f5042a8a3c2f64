import { tf } from '../backend.ts'

interface NodeFeaturesArgs {
  name?: string
  numNodes: number
  featureShape: number[]
}

/**
 * The first layer of a graph model: takes node ids and outputs the
 * features of every node of the graph, held as a weight that training
 * leaves alone. Graph convolutions need all nodes at once whichever
 * nodes a batch scores; GatherNodes picks those at the end. Holding the
 * features in the model makes a saved graph model whole: it predicts for
 * node ids with nothing else to load.
 */
export class NodeFeatures extends tf.layers.Layer {
  static className = 'TqNodeFeatures'

  readonly numNodes: number
  readonly featureShape: number[]
  private features: tf.LayerVariable | undefined

  constructor(args: NodeFeaturesArgs) {
    super({ name: args.name })
    this.numNodes = args.numNodes
    this.featureShape = args.featureShape
  }

  override build(): void {
    this.features = this.addWeight('features',
      [this.numNodes, ...this.featureShape], 'float32',
      tf.initializers.zeros(), undefined, false)
    this.built = true
  }

  override computeOutputShape(): tf.Shape {
    return [this.numNodes, ...this.featureShape]
  }

  // A copy-free alias, not the variable: tfjs disposes what a layer
  // returns once the next layer has used it.
  override call(): tf.Tensor {
    return tf.clone(this.features!.read())
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numNodes: this.numNodes,
      featureShape: this.featureShape }
  }
}

/**
 * Picks the rows of the node ids (its second input, shape [batch, 1])
 * from every node's output (its first input). The last layer of a graph
 * model, so that the loss, metrics and predictions are per requested node.
 */
export class GatherNodes extends tf.layers.Layer {
  static className = 'TqGatherNodes'

  override computeOutputShape(shapes: tf.Shape | tf.Shape[]): tf.Shape {
    const [nodes, ids] = shapes as tf.Shape[]
    return [ids[0], ...nodes.slice(1)]
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [nodes, ids] = inputs as tf.Tensor[]
    return tf.tidy(() => tf.gather(nodes, tf.cast(tf.reshape(ids, [-1]),
      'int32')))
  }
}

tf.serialization.registerClass(NodeFeatures)
tf.serialization.registerClass(GatherNodes)
