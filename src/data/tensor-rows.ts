import { sizeOf } from './dataset.ts'
import { isFloat32, quote } from './finite.ts'

/** Why a row does not fit, and where in it. */
export interface RowProblem {
  path: string
  message: string
}

/** Deeper nesting than any input shape tensorq builds models for. */
export const MAX_RANK = 8

/**
 * The shape of a nested array of numbers, e.g. [28, 28, 1]; a bare number
 * has shape []. Walks only the first element of each level: `writeRow`
 * checks the rest while it copies. Stops past MAX_RANK, so that absurdly
 * deep input costs nothing.
 */
export function shapeOf(value: unknown): number[] {
  const shape: number[] = []
  let v = value
  while (Array.isArray(v) && shape.length <= MAX_RANK) {
    shape.push(v.length)
    v = v[0]
  }
  return shape
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}

/** True when two shapes have the same dimensions. */
export function sameShape(a: readonly number[], b: readonly number[]):
  boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

/** `[28, 28]` as text. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`
}

/**
 * Copies one row (a nested array of `shape`) into `out` at `offset`,
 * checking every level's length and that every value is a finite number.
 * Returns what is wrong and where (under `path`), or undefined.
 */
export function writeRow(
  value: unknown,
  shape: readonly number[],
  out: Float32Array,
  offset: number,
  path: string,
): RowProblem | undefined {
  const given = shapeOf(value)
  if (!sameShape(given, shape)) {
    const what = given.length > 0 || typeof value === 'number'
      ? `shape ${showShape(given)}` : describe(value)
    return { path, message: `${what} where shape ${showShape(shape)} was ` +
      'expected' }
  }

  // A flat row, the common case, without the walk's calls.
  if (shape.length === 1 && Array.isArray(value)) {
    for (let j = 0; j < value.length; j++) {
      const v = value[j]
      if (!isFloat32(v)) {
        return { path: `${path}[${j}]`,
          message: `not a finite float32 number (${quote(v)})` }
      }
      out[offset + j] = v
    }
    return undefined
  }

  // Where the walk is, as indexes: the path text is only built for an
  // error, since building it per value cost more than the copy itself.
  let i = offset
  const at: number[] = []
  const where = () => path + at.map((j) => `[${j}]`).join('')
  const walk = (v: unknown, depth: number): RowProblem | undefined => {
    if (depth === shape.length) {
      if (!isFloat32(v)) {
        return { path: where(), message: `not a finite float32 number (${quote(v)})` }
      }
      out[i++] = v
      return undefined
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      const len = Array.isArray(v) ? `length ${v.length}` : 'not an array'
      return { path: where(), message: `${len} where an array of ` +
        `${shape[depth]} was expected (rows must not be ragged)` }
    }
    at.push(0)
    for (let j = 0; j < v.length; j++) {
      at[depth] = j
      const problem = walk(v[j], depth + 1)
      if (problem) return problem
    }
    at.pop()
    return undefined
  }

  const problem = walk(value, 0)
  if (!problem && i - offset !== sizeOf(shape)) throw new Error('row size')
  return problem
}

/**
 * The range of the input values and whether all are whole: kept so that
 * a spec can be checked against them before training (an embedding needs
 * whole token ids below its inputDim).
 */
export function describeValues(x: Float32Array):
  { range: [number, number]; integers: boolean } {
  let min = Infinity
  let max = -Infinity
  let integers = true
  for (const v of x) {
    if (v < min) min = v
    if (v > max) max = v
    if (integers && !Number.isInteger(v)) integers = false
  }
  return { range: [min, max], integers }
}
