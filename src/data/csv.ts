import { parse } from 'csv-parse/sync'
import { errors, withDetails } from '../errors.ts'
import {
  checkDatasetSize, type EncodedDataset, type Feature, type Task,
} from './dataset.ts'
import { quote, shorten } from './finite.ts'
import { encodeLabels, labelFields } from './labels.ts'
import { encodeTableRow, featureWidth, parseNumber } from './table-encoding.ts'
import { describeValues } from './tensor-rows.ts'

/** Options of a CSV upload, from the query string. */
export interface CsvOptions {
  name: string
  label: string
  /** Feature columns to keep, in this order; all but the label if absent. */
  features?: string[]
  /** Columns to treat as categories even when their values look numeric. */
  categorical?: string[]
  task?: Task
  /** The field separator; guessed from the header line when absent. */
  delimiter?: string
  /**
   * What a missing (empty) cell does: `error` (a 400 naming it), `drop`
   * (its row is left out), `mean` (the column's mean, or for categories
   * its most frequent value; predict fills the same way).
   */
  missing?: 'error' | 'drop' | 'mean'
  /** False leaves numeric columns as they are instead of standardizing. */
  normalize?: boolean
  /** Where an option came from, for messages: `query.label` by default. */
  optionPath?: (option: string) => string
}

const inQuery = (option: string) => `query.${option}`

interface Line {
  record: string[]
  info: { lines: number }
}

function invalid(message: string, details: Record<string, unknown>) {
  return withDetails(new errors.DatasetInvalid(message), details)
}

const DELIMITERS = [',', ';', '\t', '|']

/**
 * The separator the header line uses most, outside quotes: exports from
 * spreadsheets in many locales use ';', and TSV uses tabs.
 */
export function guessDelimiter(text: string): string {
  const line = text.slice(0, text.indexOf('\n') >>> 0).replace(/"[^"]*"/g, '')
  let best = ','
  let most = 0
  for (const d of DELIMITERS) {
    const n = line.split(d).length - 1
    if (n > most) {
      best = d
      most = n
    }
  }
  return best
}

function readLines(text: string, delimiter: string): Line[] {
  try {
    return parse(text, {
      delimiter,
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as Line[]
  } catch (err) {
    const e = err as Error & { lines?: number }
    throw invalid(`line ${e.lines ?? '?'}: ${e.message}`, { line: e.lines })
  }
}

/** One-hot columns wider than this are ids or free text, not categories. */
export const MAX_CATEGORIES = 1000

function checkColumnList(
  names: string[] | undefined,
  seen: Set<string>,
  option: string,
  opts: CsvOptions,
): void {
  const label = opts.label
  const listed = new Set<string>()
  for (const name of names ?? []) {
    const path = (opts.optionPath ?? inQuery)(option)
    if (!seen.has(name)) {
      throw invalid(`${path}: column ${name} is not in the header`,
        { path, column: name })
    }
    if (name === label) {
      throw invalid(`${path}: ${name} is the label column; a feature must ` +
        'not be the label', { path, column: name })
    }
    if (listed.has(name)) {
      throw invalid(`${path}: column ${name} is listed twice`,
        { path, column: name })
    }
    listed.add(name)
  }
}

function checkHeader(header: string[], opts: CsvOptions): void {
  const seen = new Set<string>()
  header.forEach((name, i) => {
    if (name === '') {
      throw invalid(`line 1: column ${i + 1} has no name`, { line: 1 })
    }
    if (seen.has(name)) {
      throw invalid(`line 1: column name ${name} appears twice`,
        { line: 1, column: name })
    }
    // A predict body naming it would be refused as a JSON body is, so
    // the column could never be sent by name.
    if (name === '__proto__') {
      throw invalid('line 1: __proto__ cannot name a column; rename it',
        { line: 1, column: name })
    }
    seen.add(name)
  })

  if (!seen.has(opts.label)) {
    const path = (opts.optionPath ?? inQuery)('label')
    throw invalid(`${path}: column ${opts.label} is not in the header ` +
      `(${shorten(header.join(', '))})`, { path, column: opts.label })
  }
  checkColumnList(opts.features, seen, 'features', opts)
  checkColumnList(opts.categorical, seen, 'categorical', opts)
}

function describeCategories(name: string, cells: string[], missing: number,
  fillIn: boolean): Feature {
  const counts = new Map<string, number>()
  for (const c of cells) if (c !== '') counts.set(c, (counts.get(c) ?? 0) + 1)
  const values = [...counts.keys()].sort()
  if (values.length > MAX_CATEGORIES) {
    throw invalid(`column ${name} has ${values.length} distinct values, ` +
      `more than the ${MAX_CATEGORIES} a one-hot column may have; leave ` +
      'it out with `features`', { column: name })
  }
  const feature: Feature = { name, kind: 'categorical', values,
    counts: values.map((v) => counts.get(v)!), missing }
  if (!fillIn) return feature
  const common = values.reduce((a, b) => (counts.get(b)! > counts.get(a)! ? b : a))
  return { ...feature, fill: common }
}

function describeFeature(
  name: string,
  cells: string[],
  lines: number[],
  categorical: boolean,
  opts: CsvOptions,
): Feature {
  const empty = cells.findIndex((c) => c === '')
  const missing = cells.filter((c) => c === '').length
  if (empty >= 0 && (opts.missing ?? 'error') === 'error') {
    throw invalid(`line ${lines[empty]}, column ${name}: the value is ` +
      'missing (pass missing=drop to leave such rows out, or missing=mean ' +
      'to fill them in)', { line: lines[empty], column: name })
  }
  const present = cells.filter((c) => c !== '')
  if (present.length === 0) {
    throw invalid(`column ${name}: every value is missing`, { column: name })
  }
  const fillIn = missing > 0 && opts.missing === 'mean'

  const numbers = cells.map((c) => (c === '' ? null : parseNumber(c)))
  const numeric = numbers.filter((n) => n !== undefined && n !== null).length
  if (categorical || numeric === 0) {
    return describeCategories(name, cells, missing, fillIn)
  }

  const bad = numbers.findIndex((n) => n === undefined)
  if (bad >= 0) {
    throw invalid(`line ${lines[bad]}, column ${name}: ` +
      `${quote(cells[bad])} is not a finite number (the column's ` +
      'other values are numeric; list it in `categorical` to treat it as ' +
      'categories)', { line: lines[bad], column: name })
  }

  const values = numbers.filter((v): v is number => v !== null)
  const n = values.length
  const mean = values.reduce((a, b) => a + b, 0) / n
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / n
  // A constant column carries no information; a std of 1 keeps it finite.
  const std = Math.sqrt(variance) || 1
  return {
    name, kind: 'numeric', mean, std,
    min: values.reduce((a, b) => Math.min(a, b)),
    max: values.reduce((a, b) => Math.max(a, b)),
    standardize: opts.normalize !== false,
    missing,
    ...(fillIn ? { fill: mean } : {}),
  }
}

/** Rows with a missing cell in a used column, left out for missing=drop. */
function dropIncomplete(body: Line[], used: number[], opts: CsvOptions):
  Line[] {
  if (opts.missing !== 'drop') return body
  const kept = body.filter((l) => used.every((c) => l.record[c] !== ''))
  if (kept.length === 0) {
    throw invalid('every row has a missing value, so missing=drop leaves ' +
      'none', {})
  }
  return kept
}

/**
 * Parses a CSV table with a header row. The label column gives the
 * targets; the other columns (or `features`) become standardized numbers
 * or one-hot categories, with what it takes to do so again at predict.
 */
export function encodeCsv(text: string, opts: CsvOptions): EncodedDataset {
  const all = readLines(text, opts.delimiter ?? guessDelimiter(text))
  if (all.length === 0) throw invalid('the CSV is empty', {})
  const [head, ...rawBody] = all
  const header = head.record
  checkHeader(header, opts)
  if (rawBody.length === 0) {
    throw invalid('the CSV has a header but no rows', { line: 1 })
  }

  for (const { record, info } of rawBody) {
    if (record.length !== header.length) {
      throw invalid(`line ${info.lines}: ${record.length} fields where the ` +
        `header has ${header.length}`, { line: info.lines })
    }
  }

  const names = opts.features ?? header.filter((h) => h !== opts.label)
  if (names.length === 0) throw invalid('no feature columns besides the label', {})
  const position = new Map(header.map((h, i) => [h, i]))
  const columns = names.map((n) => position.get(n)!)
  const labelColumn = position.get(opts.label)!
  const body = dropIncomplete(rawBody, [...columns, labelColumn], opts)
  const lines = body.map((l) => l.info.lines)
  const categorical = new Set(opts.categorical ?? [])
  const features = names.map((name, j) => describeFeature(name,
    body.map((l) => l.record[columns[j]]), lines, categorical.has(name), opts))

  const width = features.reduce((a, f) => a + featureWidth(f), 0)
  checkDatasetSize(body.length, width)
  const x = new Float32Array(body.length * width)
  body.forEach((l, i) => {
    const raw = columns.map((c) => l.record[c])
    const problem = encodeTableRow(features, raw, x, i * width)
    if (problem) {
      throw invalid(`line ${l.info.lines}, ${problem.message}`,
        { line: l.info.lines, column: problem.column })
    }
  })

  const labelCells = body.map((l) => l.record[labelColumn])
  const emptyLabel = labelCells.findIndex((c) => c === '')
  if (emptyLabel >= 0) {
    throw invalid(`line ${lines[emptyLabel]}, column ${opts.label}: the ` +
      'label is missing (missing=drop leaves such rows out; a label ' +
      'cannot be filled in)', { line: lines[emptyLabel], column: opts.label })
  }
  const firstText = labelCells.findIndex((c) => parseNumber(c) === undefined)
  const numericLabels = firstText < 0
  if (opts.task === 'regression' && !numericLabels) {
    throw invalid(`line ${lines[firstText]}, column ${opts.label}: ` +
      `${quote(labelCells[firstText])} is not a number; regression needs ` +
      'numeric labels', { line: lines[firstText], column: opts.label })
  }
  const labels = encodeLabels(
    numericLabels ? labelCells.map(Number) : labelCells,
    {
      task: opts.task,
      integers: 'value',
      where: (i) => `line ${lines[i]}, column ${opts.label}`,
    },
  )

  const { range, integers } = describeValues(x)
  return {
    record: {
      name: opts.name,
      format: 'csv',
      rows: body.length,
      inputShape: [width],
      ...labelFields(labels),
      inputRange: range,
      integerInputs: integers,
      featureNames: names,
      ...(opts.missing === 'drop'
        ? { droppedRows: rawBody.length - body.length } : {}),
      preprocessing: { kind: 'table', label: opts.label, features },
    },
    x,
    y: labels.y,
  }
}
