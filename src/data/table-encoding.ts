import type { Feature } from './dataset.ts'

/** The width a feature takes in the model input. */
export function featureWidth(f: Feature): number {
  return f.kind === 'numeric' ? 1 : f.values.length
}

/** A raw table cell as a number, or undefined when it is not one. */
export function parseNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined
  if (typeof raw !== 'string' || raw.trim() === '') return undefined
  const n = Number(raw)
  return Number.isFinite(n) ? n : undefined
}

/**
 * Writes one table row's raw values, in feature order, into `out` at
 * `offset`: numeric values standardized, categories one-hot. Training and
 * predict both go through here, so they cannot encode differently.
 * Returns an error message naming the column, or undefined.
 */
export function encodeTableRow(
  features: readonly Feature[],
  raw: readonly unknown[],
  out: Float32Array,
  offset: number,
): string | undefined {
  let i = offset
  for (let f = 0; f < features.length; f++) {
    const feature = features[f]
    const value = raw[f]

    if (feature.kind === 'numeric') {
      const n = parseNumber(value)
      if (n === undefined) {
        return `column ${feature.name}: ${JSON.stringify(value ?? null)} ` +
          'is not a finite number'
      }
      out[i++] = (n - feature.mean) / feature.std
      continue
    }

    const k = feature.values.indexOf(String(value))
    if (value === undefined || value === null || k < 0) {
      return `column ${feature.name}: ${JSON.stringify(value ?? null)} is ` +
        `not one of its categories (${feature.values.join(', ')})`
    }
    out.fill(0, i, i + feature.values.length)
    out[i + k] = 1
    i += feature.values.length
  }
  return undefined
}
