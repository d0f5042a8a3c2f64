import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeJsonRows } from '../src/data/json-rows.ts'

function rejects(rows: unknown[], path: string, pattern: RegExp) {
  assert.throws(() => encodeJsonRows({ name: 't', rows: rows as any }),
    (err: any) => {
      assert.equal(err.code, 'TQ_ERR_DATASET_INVALID')
      assert.equal(err.details.path, path)
      assert.match(err.message, pattern)
      return true
    })
}

test('nested x gives the input shape; integer y are class indexes', () => {
  const data = encodeJsonRows({ name: 't', rows: [
    { x: [[1, 2], [3, 4]], y: 0 },
    { x: [[5, 6], [7, 8]], y: 2 },
  ] })

  assert.deepEqual(data.record.inputShape, [2, 2])
  assert.deepEqual(Array.from(data.x), [1, 2, 3, 4, 5, 6, 7, 8])
  assert.deepEqual(data.record.classes, ['0', '1', '2'])
  assert.deepEqual(data.record.classCounts, [1, 0, 1])
})

test('string labels become sorted class names', () => {
  const data = encodeJsonRows({ name: 't', rows: [
    { x: [1], y: 'dog' }, { x: [2], y: 'cat' }, { x: [3], y: 'dog' },
  ] })
  assert.deepEqual(data.record.classes, ['cat', 'dog'])
  assert.deepEqual(Array.from(data.y), [1, 0, 1])
})

test('one-hot labels are classes; other arrays are regression targets', () => {
  const onehot = encodeJsonRows({ name: 't', rows: [
    { x: [1], y: [0, 1] }, { x: [2], y: [1, 0] },
  ] })
  assert.equal(onehot.record.task, 'classification')
  assert.deepEqual(Array.from(onehot.y), [1, 0])

  const targets = encodeJsonRows({ name: 't', rows: [
    { x: [1], y: [0.5, 2] }, { x: [2], y: [1, 3] },
  ] })
  assert.equal(targets.record.task, 'regression')
  assert.deepEqual(targets.record.targetShape, [2])
})

test('fractional labels are regression', () => {
  const data = encodeJsonRows({ name: 't', rows: [
    { x: 1, y: 0.5 }, { x: 2, y: 1 },
  ] })
  assert.equal(data.record.task, 'regression')
  assert.deepEqual(data.record.inputShape, [1])
})

test('rows of different lengths name the row', () => {
  rejects([{ x: [1, 2, 3], y: 0 }, { x: [1, 2], y: 1 }], 'rows[1].x',
    /shape \[2\] where shape \[3\] was expected/)
})

test('ragged nesting names the entry', () => {
  rejects([{ x: [[1, 2], [3, 4]], y: 0 }, { x: [[1, 2], [3]], y: 1 }],
    'rows[1].x[1]', /length 1 where an array of 2 was expected/)
})

test('a value that is not a finite number names the entry', () => {
  rejects([{ x: [1, 2], y: 0 }, { x: [1, 'a'], y: 1 }], 'rows[1].x[1]',
    /not a finite float32 number \("a"\)/)
})

test('a missing label and mixed label kinds name the row', () => {
  rejects([{ x: [1], y: 0 }, { x: [2] }], 'rows[1].y', /label is missing/)
  rejects([{ x: [1], y: 0 }, { x: [2], y: 'a' }], 'rows[1].y',
    /label is a string but rows\[0\]\.y is a number/)
})

test('values that overflow float32 are refused, not stored as Infinity', () => {
  rejects([{ x: [1, 2], y: 0 }, { x: [1e39, 2], y: 1 }], 'rows[1].x[0]',
    /not a finite float32 number \(1e\+39\)/)
  rejects([{ x: [1], y: 0.5 }, { x: [2], y: 1e39 }], 'rows[1].y',
    /finite float32/)
  // 1e400 parses to Infinity, which JSON would print as null.
  rejects([{ x: [1], y: 0 }, { x: [Infinity], y: 1 }], 'rows[1].x[0]',
    /not a finite float32 number \(Infinity\)/)
})

test('one class present is one class, whatever the indexes say', () => {
  rejects([{ x: [1], y: 1 }, { x: [2], y: 1 }], 'rows[0].y', /only one class \(1\)/)
  rejects([{ x: [1], y: [0, 1] }, { x: [2], y: [0, 1] }], 'rows[0].y',
    /only one class/)
})

test('one-hot labels keep their width when a class is absent', () => {
  const data = encodeJsonRows({ name: 't', rows: [
    { x: [1], y: [1, 0, 0] }, { x: [2], y: [0, 1, 0] },
  ] })
  assert.deepEqual(data.record.classes, ['0', '1', '2'])
  assert.deepEqual(data.record.classCounts, [1, 1, 0])
})

test('a class index past the class limit names the row', () => {
  rejects([{ x: [1], y: 0 }, { x: [2], y: 10_000_000 }], 'rows[1].y',
    /class index 10000000 is past the limit of 10000 classes/)
})

test('nesting deeper than 8 levels is refused without recursion', () => {
  let deep: unknown = 1
  for (let i = 0; i < 200_000; i++) deep = [deep]
  rejects([{ x: deep, y: 0 }, { x: deep, y: 1 }], 'rows[0].x',
    /nested deeper than 8 levels/)
})

test('many rows with integer labels do not overflow the stack', () => {
  const rows = Array.from({ length: 300_000 }, (_, i) => ({ x: i, y: i % 2 }))
  const data = encodeJsonRows({ name: 't', rows })
  assert.equal(data.record.rows, 300_000)
})

test('an error message quotes at most a little of the bad value', () => {
  assert.throws(() => encodeJsonRows({ name: 't', rows: [
    { x: [1], y: 0 }, { x: [2], y: { big: 'v'.repeat(100_000) } },
  ] }), (err: any) => err.message.length < 300)
})

test('a class name is a name, not a document', () => {
  rejects([{ x: [1], y: 'a' }, { x: [2], y: 'b'.repeat(1000) }], 'rows[1].y',
    /at most 200 characters \(this one has 1000\)/)
})
