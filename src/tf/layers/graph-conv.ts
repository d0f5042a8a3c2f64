import { tf } from '../backend.ts'
import { initializerOf, regularizerOf, type Penalty } from './weight-options.ts'

/**
 * A graph's edges with a self-loop on every node and the weight
 * 1 / sqrt(deg(source) · deg(target)) on each, degrees counting the
 * self-loop: the normalized adjacency D^-1/2 (A + I) D^-1/2 of Kipf and
 * Welling, kept as an edge list so that a layer costs O(edges).
 */
export interface NormalizedEdges {
  source: Int32Array
  target: Int32Array
  weight: Float32Array
}

/**
 * Normalizes `edges`, pairs [s0, d0, s1, d1, …] of distinct nodes, each
 * undirected edge listed in both directions once.
 */
export function normalizeEdges(numNodes: number, edges: Int32Array):
  NormalizedEdges {
  const pairs = edges.length / 2
  const count = pairs + numNodes
  const source = new Int32Array(count)
  const target = new Int32Array(count)
  const degree = new Float64Array(numNodes).fill(1)

  for (let e = 0; e < pairs; e++) {
    source[e] = edges[2 * e]
    target[e] = edges[2 * e + 1]
    degree[target[e]]++
  }
  for (let n = 0; n < numNodes; n++) {
    source[pairs + n] = n
    target[pairs + n] = n
  }

  const weight = new Float32Array(count)
  for (let e = 0; e < count; e++) {
    weight[e] = 1 / Math.sqrt(degree[source[e]] * degree[target[e]])
  }
  return { source, target, weight }
}

interface GraphConvArgs {
  name?: string
  units: number
  numNodes: number
  /** Edges with the self-loops, the length of NormalizedEdges' arrays. */
  numEdges: number
  activation?: string
  useBias?: boolean
  kernelInitializer?: string
  biasInitializer?: string
  kernelRegularizer?: Penalty
  biasRegularizer?: Penalty
}

/**
 * Graph convolution (Kipf and Welling): out = act(Â · X · W + b), with Â
 * the normalized adjacency. Computed by message passing: each edge
 * gathers its source's row of X·W, scales it by the edge weight, and a
 * segment sum adds the messages up at their targets. The edges are
 * weights that training leaves alone, so a saved model holds its graph.
 */
export class GraphConv extends tf.layers.Layer {
  static className = 'TqGraphConv'

  private readonly args: GraphConvArgs
  private readonly activation: tf.layers.Layer
  private kernel: tf.LayerVariable | undefined
  private bias: tf.LayerVariable | undefined
  private source: tf.LayerVariable | undefined
  private target: tf.LayerVariable | undefined
  private weight: tf.LayerVariable | undefined

  constructor(args: GraphConvArgs) {
    super({ name: args.name })
    this.args = { activation: 'linear', useBias: true,
      kernelInitializer: 'glorotUniform', biasInitializer: 'zeros', ...args }
    this.activation = tf.layers.activation({
      activation: this.args.activation as never,
    })
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape
    if (shape.length !== 2) {
      throw new Error('graphConv takes one feature vector per node, ' +
        `[nodes, features]; its input has rank ${shape.length}`)
    }
    const a = this.args
    const features = shape[1]!
    this.kernel = this.addWeight('kernel', [features, a.units], 'float32',
      initializerOf(a.kernelInitializer!), regularizerOf(a.kernelRegularizer))
    if (a.useBias) {
      this.bias = this.addWeight('bias', [a.units], 'float32',
        initializerOf(a.biasInitializer!), regularizerOf(a.biasRegularizer))
    }
    const zeros = tf.initializers.zeros()
    this.source = this.addWeight('source', [a.numEdges], 'int32', zeros,
      undefined, false)
    this.target = this.addWeight('target', [a.numEdges], 'int32', zeros,
      undefined, false)
    this.weight = this.addWeight('edge_weight', [a.numEdges], 'float32',
      zeros, undefined, false)
    this.built = true
  }

  /** Puts the graph in: the layer is built with room for it, all zeros. */
  setEdges(edges: NormalizedEdges): void {
    if (edges.source.length !== this.args.numEdges) {
      throw new Error(`graphConv was built for ${this.args.numEdges} ` +
        `edges, not ${edges.source.length}`)
    }
    // The variables keep the data; tidy frees the tensors that carried it.
    tf.tidy(() => {
      this.source!.write(tf.tensor1d(edges.source, 'int32'))
      this.target!.write(tf.tensor1d(edges.target, 'int32'))
      this.weight!.write(tf.tensor1d(edges.weight))
    })
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = inputShape as tf.Shape
    return [shape[0], this.args.units]
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs
    return tf.tidy(() => {
      const xw = tf.matMul(x as tf.Tensor2D, this.kernel!.read() as tf.Tensor2D)
      const messages = tf.mul(tf.gather(xw, this.source!.read()),
        tf.reshape(this.weight!.read(), [-1, 1]))
      let out = tf.unsortedSegmentSum(messages,
        this.target!.read() as tf.Tensor1D,
        this.args.numNodes)
      if (this.bias) out = tf.add(out, this.bias.read())
      return this.activation.apply(out) as tf.Tensor
    })
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { name: _name, ...args } = this.args
    return { ...super.getConfig(), ...args } as unknown as
      tf.serialization.ConfigDict
  }
}

tf.serialization.registerClass(GraphConv)
