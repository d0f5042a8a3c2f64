import { errors, withDetails } from '../errors.ts'
import type { Task } from './dataset.ts'
import { isFloat32, quote } from './finite.ts'

export interface EncodedLabels {
  task: Task
  y: Float32Array
  classes?: string[]
  classCounts?: number[]
  targetShape?: number[]
  targetRange?: [number, number]
}

/** What a dataset's record says of its labels. */
export function labelFields(labels: EncodedLabels) {
  return {
    task: labels.task,
    classes: labels.classes,
    classCounts: labels.classCounts,
    targetShape: labels.targetShape,
    targetRange: labels.targetRange,
  }
}

function rangeOf(y: Float32Array): [number, number] {
  let min = Infinity
  let max = -Infinity
  for (const v of y) {
    if (v < min) min = v
    if (v > max) max = v
  }
  return [min, max]
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

/** Class names longer than this are data, not names. */
export const MAX_CLASS_NAME = 200

function fromNames(names: string[], opts: LabelOptions): EncodedLabels {
  const long = names.findIndex((n) => n.length > MAX_CLASS_NAME)
  if (long >= 0) {
    throw invalid(`a class name may have at most ${MAX_CLASS_NAME} ` +
      `characters (this one has ${names[long].length})`, long, opts.where(long))
  }
  const classes = [...new Set(names)].sort((a, b) =>
    a.localeCompare(b, 'en', { numeric: true }))
  if (classes.length > MAX_CLASSES) {
    throw invalid(`${classes.length} distinct labels, past the limit of ` +
      `${MAX_CLASSES} classes; for numeric targets pass task=regression`, 0,
    opts.where(0))
  }
  const index = new Map(classes.map((c, i) => [c, i]))
  const y = Float32Array.from(names, (n) => index.get(n)!)
  return {
    task: 'classification', y, classes,
    classCounts: countClasses(y, classes.length),
  }
}

/** More classes than this is a mistake (an id column), not a task. */
export const MAX_CLASSES = 10_000

function fromIndexes(
  values: number[],
  opts: LabelOptions,
  width?: number,
): EncodedLabels {
  let max = 0
  values.forEach((v, i) => {
    if (v < 0) throw invalid('a class index must be 0 or more', i, opts.where(i))
    if (v >= MAX_CLASSES) {
      throw invalid(`class index ${v} is past the limit of ${MAX_CLASSES} ` +
        'classes; for numeric targets pass task=regression', i, opts.where(i))
    }
    if (v > max) max = v
  })
  // One-hot labels say how many classes there are, present or not.
  const k = width ?? max + 1
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
    return fromIndexes(values.map((v) => v.indexOf(1)), opts, width)
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
  if (typeof v === 'number') return isFloat32(v) ? 'number' : undefined
  if (Array.isArray(v) && v.length > 0 && v.every(isFloat32)) return 'vector'
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
      throw invalid('a label must be a string, a finite float32 number or ' +
        `a non-empty array of them (got ${quote(v)})`, i, opts.where(i))
    }
    if (kind !== first) {
      throw invalid(`label is a ${kind} but ${opts.where(0)} is a ${first}`,
        i, opts.where(i))
    }
  })

  const labels = encode(values, first!, opts)
  const present = labels.classes?.filter((_, i) => labels.classCounts![i] > 0)
  if (present && present.length < 2) {
    throw withDetails(new errors.DatasetInvalid(
      `only one class (${present[0]}) in the labels; classification ` +
      'needs two or more'), { path: opts.where(0), classes: present })
  }
  if (labels.task === 'regression') labels.targetRange = rangeOf(labels.y)
  return labels
}

function encode(values: unknown[], kind: Kind, opts: LabelOptions) {
  if (kind === 'vector') return fromVectors(values as number[][], opts)

  if (kind === 'string') {
    if (opts.task === 'regression') {
      throw invalid('regression needs numeric labels', 0, opts.where(0))
    }
    return fromNames(values as string[], opts)
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
  return fromNames(numbers.map(String), opts)
}
