import { errors, withDetails } from '../errors.ts'
import type { ModelSpec } from './schema.ts'

/**
 * The parameters a spec will allocate, counted from the spec alone, so a
 * model too large for the machine is refused before tfjs allocates it
 * (building a 65536-unit dense stack would take gigabytes at once).
 */
export function countParameters(spec: ModelSpec, inputShape: number[]): number {
  let width = inputShape.at(-1)!
  // A dense layer applies to the last axis; the others multiply nothing.
  let total = 0
  for (const layer of spec.layers) {
    if (layer.type !== 'dense') continue
    const bias = layer.useBias === false ? 0 : layer.units
    total += width * layer.units + bias
    width = layer.units
  }
  return total
}

/** Throws a 400 naming the limit when the spec has too many parameters. */
export function checkParameterLimit(
  spec: ModelSpec,
  inputShape: number[],
  maxParameters: number,
): void {
  const count = countParameters(spec, inputShape)
  if (count <= maxParameters) return

  throw withDetails(new errors.SpecTooLarge(`the model would have ` +
    `${count.toLocaleString('en')} parameters; the limit is ` +
    `${maxParameters.toLocaleString('en')} (MAX_MODEL_PARAMETERS)`),
  { path: 'spec.layers', parameters: count, limit: maxParameters })
}
