import type { ModelSpec } from '../src/spec/schema.ts'

/**
 * The MLP that bench:train sends through the service and fits raw: one
 * spec, so that both train the same layers with the same optimizer.
 */
export const SERVICE_MLP: ModelSpec = {
  layers: [
    { type: 'dense', units: 128, activation: 'relu' },
    { type: 'dense', units: 64, activation: 'relu' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
  loss: 'categoricalCrossentropy',
  optimizer: { type: 'adam' },
} as ModelSpec

/** The batch size both train with. */
export const SERVICE_BATCH = 256
