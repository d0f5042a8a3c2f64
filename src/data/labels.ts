import { errors, withDetails } from '../errors.ts'
import type { Task } from './dataset.ts'

export interface EncodedLabels {
  task: Task
  y: Float32Array
  classes?: string[]
  classCounts?: number[]
  targetShape?: number[]
}

/** Options that decide how label values are read. */
export interface LabelOptions {
  /** Forces the task; otherwise it follows from the values. */
  task?: Task
  /**
   * `index`: whole numbers are class indexes 0..max (JSON rows).
   * `value`: whole numbers are class names like strings are (CSV).
   */
  integers: 'index' | 'value'
  /** Names row i for messages, e.g. `rows[3].y` or `line 5, column species`. */
  where: (row: number) => string
}

function invalid(message: string, row: number, where: string) {
  return withDetails(new errors.DatasetInvalid(`${where}: ${message}`),
    { row, path: where })
}

function isOneHot(v: number[]): boolean {
  let ones = 0
  for (const x of v) {
    if (x === 1) ones++
    else if (x !== 0) return false
  }
  return ones === 1
}

function countClasses(y: Float32Array, k: number): number[] {
  const counts = new Array<number>(k).fill(0)
  for (const c of y) counts[c]++
  return counts
}

function fromNames(names: string[]): EncodedLabels {
  const classes = [...new Set(names)].sort((a, b) =>
    a.localeCompare(b, 'en', { numeric: true }))
  const index = new Map(classes.map((c, i) => [c, i]))
  const y = Float32Array.from(names, (n) => index.get(n)!)
  return {
    task: 'classification', y, classes,
    classCounts: countClasses(y, classes.length),
  }
}

function fromIndexes(values: number[], opts: LabelOptions): EncodedLabels {
  values.forEach((v, i) => {
    if (v < 0) throw invalid('a class index must be 0 or more', i, opts.where(i))
  })
  const k = Math.max(...values) + 1
  const y = Float32Array.from(values)
  const classes = Array.from({ length: k }, (_, i) => String(i))
  return { task: 'classification', y, classes, classCounts: countClasses(y, k) }
}

function fromVectors(values: number[][], opts: LabelOptions): EncodedLabels {
  const width = values[0].length
  values.forEach((v, i) => {
    if (v.length !== width) {
      throw invalid(`${v.length} values where row 0 has ${width}`, i,
        opts.where(i))
    }
  })

  if (opts.task !== 'regression' && values.every(isOneHot)) {
    return fromIndexes(values.map((v) => v.indexOf(1)), opts)
  }
  if (opts.task === 'classification') {
    const bad = values.findIndex((v) => !isOneHot(v))
    throw invalid('a classification label array must be one-hot', bad,
      opts.where(bad))
  }
  return { task: 'regression', y: Float32Array.from(values.flat()),
    targetShape: [width] }
}

type Kind = 'string' | 'number' | 'vector'

function kindOf(v: unknown): Kind | undefined {
  if (typeof v === 'string') return 'string'
  if (typeof v === 'number') return Number.isFinite(v) ? 'number' : undefined
  if (Array.isArray(v) && v.length > 0 &&
    v.every((x) => typeof x === 'number' && Number.isFinite(x))) return 'vector'
  return undefined
}

/**
 * Encodes one label per row: class names (strings), class indexes or
 * numbers, or number arrays (one-hot, or regression targets). All rows
 * must agree on the kind. Classification needs two classes or more.
 */
export function encodeLabels(
  values: unknown[],
  opts: LabelOptions,
): EncodedLabels {
  const first = kindOf(values[0])
  values.forEach((v, i) => {
    const kind = kindOf(v)
    if (kind === undefined) {
      throw invalid('a label must be a string, a finite number or a ' +
        `non-empty array of finite numbers (got ${JSON.stringify(v)})`, i,
      opts.where(i))
    }
    if (kind !== first) {
      throw invalid(`label is a ${kind} but the first row's is a ${first}`,
        i, opts.where(i))
    }
  })

  const labels = encode(values, first!, opts)
  if (labels.task === 'classification' && labels.classes!.length < 2) {
    throw withDetails(new errors.DatasetInvalid(
      `only one class (${labels.classes![0]}) in the labels; ` +
      'classification needs two or more'), { classes: labels.classes })
  }
  return labels
}

function encode(values: unknown[], kind: Kind, opts: LabelOptions) {
  if (kind === 'vector') return fromVectors(values as number[][], opts)

  if (kind === 'string') {
    if (opts.task === 'regression') {
      throw invalid('regression needs numeric labels', 0, opts.where(0))
    }
    return fromNames(values as string[])
  }

  const numbers = values as number[]
  const whole = numbers.every(Number.isInteger)
  const task = opts.task ?? (whole ? 'classification' : 'regression')
  if (task === 'regression') {
    return { task, y: Float32Array.from(numbers), targetShape: [1] }
  }
  if (!whole) {
    const bad = numbers.findIndex((n) => !Number.isInteger(n))
    throw invalid('a class label must be a whole number', bad, opts.where(bad))
  }
  if (opts.integers === 'index') return fromIndexes(numbers, opts)
  return fromNames(numbers.map(String))
}
