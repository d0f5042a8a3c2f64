import { errors, isTqError, withDetails } from '../errors.ts'
import type { EncodedDataset, Task } from './dataset.ts'
import { shorten } from './finite.ts'
import { encodeJsonRows } from './json-rows.ts'

/** Options of an NDJSON upload, from the query string or form fields. */
export interface NdjsonOptions {
  name: string
  task?: Task
}

function invalid(message: string, line: number) {
  return withDetails(new errors.DatasetInvalid(`line ${line}: ${message}`),
    { line, path: `line ${line}` })
}

/**
 * Turns NDJSON, one `{ "x": …, "y": … }` object a line, into a dataset
 * by the rules of JSON rows. Blank lines are skipped; messages name the
 * line (counting from 1) and the field.
 */
export function encodeNdjson(text: string, opts: NdjsonOptions):
  EncodedDataset {
  const rows: Array<{ x: unknown; y?: unknown }> = []
  const lines: number[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (line === '') return

    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (err) {
      throw invalid(`not valid JSON (${(err as Error).message}): ` +
        shorten(line, 80), i + 1)
    }
    const row = value as Record<string, unknown>
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw invalid('each line must be an object { "x": …, "y": … }', i + 1)
    }
    const extra = Object.keys(row).find((k) => k !== 'x' && k !== 'y')
    if (extra !== undefined) {
      throw invalid(`${shorten(extra, 40)} is not a known field (x, y)`, i + 1)
    }
    if (!('x' in row)) throw invalid('x is required', i + 1)
    rows.push({ x: row.x, y: row.y })
    lines.push(i + 1)
  })

  if (rows.length === 0) {
    throw withDetails(new errors.DatasetInvalid('the NDJSON body has no ' +
      'rows'), { path: 'body' })
  }
  try {
    return encodeJsonRows({ name: opts.name, rows, task: opts.task },
      'ndjson', (i, field) => `line ${lines[i]}, ${field}`)
  } catch (err) {
    // Its rows are the body's lines: details name the line, as the
    // message does, not the row's index.
    if (isTqError(err) && typeof err.details?.row === 'number') {
      const { row, ...rest } = err.details
      err.details = { ...rest, line: lines[row as number] }
    }
    throw err
  }
}
