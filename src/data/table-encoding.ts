import type { Feature } from './dataset.ts'
import { isFloat32, quote, shorten } from './finite.ts'

/** The width a feature takes in the model input. */
export function featureWidth(f: Feature): number {
  return f.kind === 'numeric' ? 1 : f.values.length
}

// Decimal notation only: Number() would also take '0x10', '0b1' and ''.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** A raw table cell as a number, or undefined when it is not one. */
export function parseNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return isFloat32(raw) ? raw : undefined
  if (typeof raw !== 'string') return undefined
  const text = raw.trim()
  if (!DECIMAL.test(text)) return undefined
  const n = Number(text)
  return isFloat32(n) ? n : undefined
}

/** An empty cell, or a value a predict instance left out. */
export function isMissing(value: unknown): boolean {
  return value === undefined || value === null ||
    (typeof value === 'string' && value.trim() === '')
}

/**
 * Writes one table row's raw values, in feature order, into `out` at
 * `offset`: numeric values standardized, categories one-hot. Training and
 * predict both go through here, so they cannot encode differently.
 * Returns the column a value does not fit, with why, or undefined.
 */
export function encodeTableRow(
  features: readonly Feature[],
  raw: readonly unknown[],
  out: Float32Array,
  offset: number,
): { column: string; message: string } | undefined {
  let i = offset
  for (let f = 0; f < features.length; f++) {
    const feature = features[f]
    const value = isMissing(raw[f]) && feature.fill !== undefined
      ? feature.fill : raw[f]

    if (feature.kind === 'numeric') {
      const n = parseNumber(value)
      if (n === undefined) {
        return { column: feature.name, message: `column ${feature.name}: ` +
          `${quote(value ?? null)} is not a finite float32 number` }
      }
      out[i++] = feature.standardize === false ? n
        : (n - feature.mean) / feature.std
      continue
    }

    // Cells were trimmed when the vocabulary was made; so are these.
    const k = typeof value === 'string' || typeof value === 'number'
      ? feature.values.indexOf(String(value).trim()) : -1
    if (k < 0) {
      return { column: feature.name, message: `column ${feature.name}: ` +
        `${quote(value ?? null)} is not one of its categories ` +
        `(${shorten(feature.values.join(', '))})` }
    }
    out.fill(0, i, i + feature.values.length)
    out[i + k] = 1
    i += feature.values.length
  }
  return undefined
}
