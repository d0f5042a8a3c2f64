import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { encodeCsv } from '../src/data/csv.ts'
import { checkDatasetSize } from '../src/data/dataset.ts'

const IRIS = readFileSync(new URL('./fixtures/iris.csv', import.meta.url),
  'utf8')

function rejects(text: string, pattern: RegExp, details?: object) {
  assert.throws(() => encodeCsv(text, { name: 't', label: 'y' }), (err: any) => {
    assert.equal(err.code, 'TQ_ERR_DATASET_INVALID')
    assert.equal(err.statusCode, 400)
    assert.match(err.message, pattern)
    if (details) assert.deepEqual({ ...err.details }, details)
    return true
  })
}

test('iris: 150 rows, 3 classes, standardized features', () => {
  const data = encodeCsv(IRIS, { name: 'iris', label: 'species' })
  const { record } = data

  assert.equal(record.rows, 150)
  assert.deepEqual(record.inputShape, [4])
  assert.equal(record.task, 'classification')
  assert.deepEqual(record.classes, ['setosa', 'versicolor', 'virginica'])
  assert.deepEqual(record.classCounts, [50, 50, 50])
  assert.deepEqual(record.featureNames,
    ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'])

  // Each standardized column has mean 0 and std 1.
  for (let c = 0; c < 4; c++) {
    const col = Array.from({ length: 150 }, (_, r) => data.x[r * 4 + c])
    const mean = col.reduce((a, b) => a + b, 0) / 150
    const std = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / 150)
    assert.ok(Math.abs(mean) < 1e-5, `column ${c} mean ${mean}`)
    assert.ok(Math.abs(std - 1) < 1e-4, `column ${c} std ${std}`)
  }
  assert.equal(data.y[0], 0)
  assert.equal(data.y[149], 2)
})

test('string columns are one-hot encoded with their vocabulary kept', () => {
  const text = 'color,size,y\nred,1,a\nblue,2,b\nred,3,a\n'
  const data = encodeCsv(text, { name: 't', label: 'y' })

  assert.deepEqual(data.record.inputShape, [3])
  const pre = data.record.preprocessing
  assert.equal(pre.kind, 'table')
  assert.deepEqual(pre.kind === 'table' && pre.features[0],
    { name: 'color', kind: 'categorical', values: ['blue', 'red'],
      counts: [1, 2], missing: 0 })
  assert.deepEqual(Array.from(data.x.slice(0, 2)), [0, 1])
})

test('a ragged row names its line', () => {
  rejects('a,b,y\n1,2,x\n3,4\n', /line 3: 2 fields where the header has 3/,
    { line: 3 })
})

test('a non-number in a numeric column names line and column', () => {
  rejects('a,y\n1,x\n2,z\nabc,x\n', /line 4, column a: "abc" is not a finite/,
    { line: 4, column: 'a' })
})

test('NaN and Infinity are not numbers', () => {
  rejects('a,y\n1,x\nNaN,z\n', /line 3, column a: "NaN"/)
  rejects('a,y\n1,x\nInfinity,z\n', /line 3, column a: "Infinity"/)
})

test('a missing value names line and column', () => {
  rejects('a,b,y\n1,2,x\n3,,z\n', /line 3, column b: the value is missing/)
})

test('a missing label column lists the header', () => {
  rejects('a,b\n1,2\n', /column y is not in the header \(a, b\)/)
})

test('duplicate header names are refused', () => {
  rejects('a,a,y\n1,2,x\n', /column name a appears twice/)
})

test('a column named __proto__ is refused', () => {
  rejects('__proto__,y\n1,x\n2,z\n', /__proto__ cannot name a column/)
})

test('a header with no rows, and an empty file', () => {
  rejects('a,y\n', /a header but no rows/)
  rejects('', /the CSV is empty/)
})

test('one class only is refused', () => {
  rejects('a,y\n1,x\n2,x\n', /only one class \(x\)/)
})

test('numeric labels are regression when asked', () => {
  const data = encodeCsv('a,y\n1,0.5\n2,1.5\n', {
    name: 't', label: 'y', task: 'regression',
  })
  assert.equal(data.record.task, 'regression')
  assert.deepEqual(Array.from(data.y), [0.5, 1.5])
})

test('hexadecimal and other non-decimal cells are not numbers', () => {
  rejects('a,y\n1,x\n0x10,z\n', /line 3, column a: "0x10"/)
})

test('feature and categorical lists must name real, distinct non-label columns', () => {
  const csv = 'a,b,y\n1,2,x\n3,4,z\n'
  const opts = { name: 't', label: 'y' }
  assert.throws(() => encodeCsv(csv, { ...opts, features: ['a', 'y'] }),
    /query.features: y is the label column/)
  assert.throws(() => encodeCsv(csv, { ...opts, features: ['a', 'a'] }),
    /query.features: column a is listed twice/)
  assert.throws(() => encodeCsv(csv, { ...opts, categorical: ['zzz'] }),
    /query.categorical: column zzz is not in the header/)
})

test('an id-like string column is refused, not one-hot encoded', () => {
  const rows = Array.from({ length: 1500 }, (_, i) => `id${i},${i % 2}`)
  rejects(`id,y\n${rows.join('\n')}\n`,
    /column id has 1500 distinct values, more than the 1000/)
})

test('a wide CSV parses in linear time', () => {
  const width = 20_000
  const header = Array.from({ length: width }, (_, i) => `c${i}`).join(',')
  const row = (k: number) => Array.from({ length: width }, () => k).join(',')
  const started = Date.now()
  const data = encodeCsv(`${header},y\n${row(1)},a\n${row(2)},b\n`,
    { name: 't', label: 'y' })
  assert.deepEqual(data.record.inputShape, [width])
  assert.ok(Date.now() - started < 5000)
})

test('regression with a text label names its line', () => {
  assert.throws(() => encodeCsv('a,y\n1,1.5\n2,2.5\n3,abc\n', {
    name: 't', label: 'y', task: 'regression',
  }), /line 4, column y: "abc" is not a number; regression needs numeric/)
})

test('rows × width is bounded, whatever the upload size', () => {
  assert.throws(() => checkDatasetSize(400_000, 1000),
    /400000 rows × 1000 input values is more than the 268435456/)
  assert.doesNotThrow(() => checkDatasetSize(8000, 784))
})
