import { tf } from '../backend.ts'
import {
  regularizerOf, type Penalty, type Regularizer,
} from './weight-options.ts'

type ActivityRegularizationArgs = Penalty &
  ConstructorParameters<typeof tf.layers.Layer>[0]

/**
 * Passes its input through and adds an L1/L2 penalty on it to the
 * training loss, averaged over the batch. This is how a spec's
 * `activityRegularizer` is done: tfjs 4 refuses to apply any layer that
 * has an activity regularizer of its own.
 *
 * The penalty is taken from the last training call. tfjs computes layer
 * losses right after the forward pass of the same step, inside the same
 * gradient tape, so the kept tensor is alive and gradients reach it.
 */
export class ActivityRegularization extends tf.layers.Layer {
  static className = 'TqActivityRegularization'

  private readonly l1: number
  private readonly l2: number
  private readonly penalty: Regularizer
  private lastOutput: tf.Tensor | undefined

  constructor(args: ActivityRegularizationArgs) {
    // The rest (name, inputShape, and batchInputShape when a saved model
    // is loaded) is the base layer's.
    const { l1, l2, ...base } = args
    super(base)
    this.l1 = l1 ?? 0
    this.l2 = l2 ?? 0
    this.penalty = regularizerOf({ l1: this.l1, l2: this.l2 })!
    this.addLoss(() => this.loss())
  }

  private loss(): tf.Scalar {
    const x = this.lastOutput
    this.lastOutput = undefined
    if (!x || x.isDisposed) return tf.scalar(0)
    return tf.div(this.penalty.apply(x), x.shape[0] ?? 1) as tf.Scalar
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }):
    tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs
    if (kwargs.training) this.lastOutput = x
    return x
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), l1: this.l1, l2: this.l2 }
  }
}

tf.serialization.registerClass(ActivityRegularization)
