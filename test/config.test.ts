import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../src/config.ts'

test('defaults, converted from strings, frozen', () => {
  const config = loadConfig({ PORT: '9000' })

  assert.equal(config.PORT, 9000)
  assert.equal(config.TENSORQ_STORE, 'file://./data')
  assert.equal(config.TENSORQ_BACKEND, 'auto')
  assert.ok(Object.isFrozen(config))
})

test('a bad value names the variable', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), /^ConfigError: PORT/)
  assert.throws(() => loadConfig({ TENSORQ_BACKEND: 'tpu' }),
    /TENSORQ_BACKEND/)
  assert.throws(() => loadConfig({ TENSORQ_STORE: 's3://bucket' }),
    /TENSORQ_STORE/)
})
