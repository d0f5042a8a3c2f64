import { errors, withDetails } from '../errors.ts'
import {
  checkDatasetSize, sizeOf, type EncodedDataset, type Task,
} from './dataset.ts'
import { encodeLabels, labelFields } from './labels.ts'
import {
  describeValues, MAX_RANK, shapeOf, writeRow,
} from './tensor-rows.ts'

/** The JSON upload: rows of `{ x, y }`, x a number or nested number array. */
export interface JsonRowsUpload {
  name: string
  rows: Array<{ x: unknown; y?: unknown }>
  task?: Task
}

/** Names row i's field in messages: `rows[3].x`, or `line 4, x`. */
export type RowPath = (row: number, field: 'x' | 'y') => string

const inBody: RowPath = (i, field) => `rows[${i}].${field}`

/**
 * Turns JSON rows into a dataset. Every row's `x` must have the shape of
 * the first row's, and every row needs a `y`.
 */
export function encodeJsonRows(
  upload: JsonRowsUpload,
  format: 'json' | 'ndjson' = 'json',
  where: RowPath = inBody,
): EncodedDataset {
  const { rows } = upload
  if (rows.length === 0) {
    throw withDetails(new errors.DatasetInvalid('rows: the dataset is empty'),
      { path: 'rows' })
  }

  const first = shapeOf(rows[0].x)
  if (first.length > MAX_RANK) {
    throw withDetails(new errors.DatasetInvalid(`${where(0, 'x')}: nested ` +
      `deeper than ${MAX_RANK} levels`), { row: 0, path: where(0, 'x') })
  }
  const inputShape = first.length === 0 ? [1] : first
  const size = sizeOf(inputShape)
  if (size === 0) {
    throw withDetails(new errors.DatasetInvalid(`${where(0, 'x')}: an ` +
      'empty array has no features'), { row: 0, path: where(0, 'x') })
  }

  checkDatasetSize(rows.length, size)
  const x = new Float32Array(rows.length * size)
  rows.forEach((row, i) => {
    // A bare number is a row of one feature.
    const value = first.length === 0 && typeof row.x === 'number' ? [row.x] : row.x
    const problem = writeRow(value, inputShape, x, i * size, where(i, 'x'))
    if (problem) {
      throw withDetails(new errors.DatasetInvalid(
        `${problem.path}: ${problem.message}`), { row: i, path: problem.path })
    }
  })

  const { range, integers } = describeValues(x)

  const missing = rows.findIndex((r) => r.y === undefined || r.y === null)
  if (missing >= 0) {
    throw withDetails(new errors.DatasetInvalid(
      `${where(missing, 'y')}: the label is missing`),
    { row: missing, path: where(missing, 'y') })
  }

  const labels = encodeLabels(rows.map((r) => r.y), {
    task: upload.task,
    integers: 'index',
    where: (i) => where(i, 'y'),
  })

  return {
    record: {
      name: upload.name,
      format,
      rows: rows.length,
      inputShape,
      ...labelFields(labels),
      inputRange: range,
      integerInputs: integers,
      preprocessing: { kind: 'tensor' },
    },
    x,
    y: labels.y,
  }
}
