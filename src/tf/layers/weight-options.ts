import { tf } from '../backend.ts'

type Initializer = ReturnType<typeof tf.initializers.zeros>

/** What tfjs's regularizers are; tfjs exports no name for the type. */
export type Regularizer = ReturnType<typeof tf.regularizers.l1l2>

/** An initializer by the name the spec uses (glorotUniform, zeros, …). */
export function initializerOf(name: string): Initializer {
  const make = (tf.initializers as unknown as
    Record<string, (config: object) => Initializer>)[name]
  if (!make) throw new Error(`unknown initializer ${name}`)
  return make({})
}

/** L1 and L2 factors, as a spec writes a regularizer. */
export interface Penalty {
  l1?: number
  l2?: number
}

/** The tfjs regularizer for a spec's `{ l1, l2 }`, or undefined. */
export function regularizerOf(p: Penalty | undefined):
  Regularizer | undefined {
  if (!p) return undefined
  return tf.regularizers.l1l2({ l1: p.l1 ?? 0, l2: p.l2 ?? 0 })
}
