import * as tf from '@tensorflow/tfjs'

/**
 * tfjs's momentum optimizer, whose dispose() leaves behind the learning
 * rate scalar it inherits from SGD: one tensor lost per job.
 */
export class Momentum extends tf.MomentumOptimizer {
  static override get className(): string {
    return 'Momentum'
  }

  override dispose(): void {
    super.dispose()
    ;(this as unknown as { c: tf.Tensor }).c.dispose()
  }
}
