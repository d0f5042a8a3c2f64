import * as tf from '@tensorflow/tfjs'
import {
  ADAM_UPDATE, type AdamUpdateAttrs,
} from './wasm-kernels/adam-update.ts'

// What AdamOptimizer keeps, under the names it keeps it by: FusedAdam
// keeps the same state the same way, so that getWeights, setWeights and
// dispose work unchanged.
interface AdamState {
  learningRate: number
  beta1: number
  beta2: number
  epsilon: number
  accBeta1: tf.Variable
  accBeta2: tf.Variable
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }>
}

type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0]

/**
 * tfjs's Adam with each variable's step as one kernel (see
 * wasm-kernels/adam-update.ts) where the active backend has it, and
 * tfjs's own step elsewhere. Same state, same values to float32 rounding.
 */
export class FusedAdam extends tf.AdamOptimizer {
  static override get className(): string {
    return 'Adam'
  }

  override applyGradients(gradients: Gradients): void {
    const fused = tf.getKernel(ADAM_UPDATE, tf.getBackend())
    const list = Array.isArray(gradients) ? gradients
      : Object.entries(gradients).map(([name, tensor]) => ({ name, tensor }))
    if (!fused || list.some((g) => g.tensor && g.tensor.dtype !== 'float32')) {
      super.applyGradients(gradients)
      return
    }

    const self = this as unknown as AdamState
    const variables = tf.engine().registeredVariables
    const [acc1] = self.accBeta1.dataSync()
    const [acc2] = self.accBeta2.dataSync()
    const attrs: AdamUpdateAttrs = {
      learningRate: self.learningRate, beta1: self.beta1, beta2: self.beta2,
      epsilon: self.epsilon, correction1: 1 - acc1, correction2: 1 - acc2,
    }

    tf.tidy(() => {
      list.forEach(({ name, tensor: g }, i) => {
        const x = variables[name]
        // A variable the loss does not reach has no gradient; like tfjs's
        // Adam, its moments are made but it is not stepped.
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(x).variable(false)) }
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(x).variable(false)) }
        if (!g) return
        const m = self.accumulatedFirstMoment[i].variable
        const v = self.accumulatedSecondMoment[i].variable

        const [x2, m2, v2] = tf.engine().runKernel(ADAM_UPDATE,
          { x, g, m, v }, attrs as never) as tf.Tensor[]
        m.assign(m2)
        v.assign(v2)
        x.assign(x2)
      })
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1))
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2))
    })
    this.incrementIterations()
  }
}
