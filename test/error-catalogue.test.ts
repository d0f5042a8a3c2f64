import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { errorCatalogue } from '../src/errors.ts'

test('every error code is documented in the README with its status', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

  for (const { code, statusCode } of errorCatalogue) {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${code}\``))
    assert.ok(row, `${code} is not in the README`)
    assert.ok(row.includes(String(statusCode)), `${code}: status ${statusCode} ` +
      'is not on its README line')
  }
})

test('codes are unique and follow TQ_ERR_<AREA>_<PROBLEM>', () => {
  const codes = errorCatalogue.map((e) => e.code)
  assert.equal(new Set(codes).size, codes.length)
  for (const code of codes) assert.match(code, /^TQ_ERR_[A-Z]+(_[A-Z]+)*$/)
})
