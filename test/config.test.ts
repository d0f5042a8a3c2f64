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
    /TENSORQ_BACKEND: must be one of auto, gpu, node, native, wasm, cpu/)
  assert.throws(() => loadConfig({ TENSORQ_STORE: 's3://bucket' }),
    /TENSORQ_STORE: must be a file:\/\/ URL \(got "s3:\/\/bucket"\)/)
  assert.throws(() => loadConfig({ CORS_ORIGINS: 'https://app.example/' }),
    /CORS_ORIGINS: must be \* or origins separated by commas/)
})

test('whole numbers are read as written, not truncated', () => {
  for (const value of ['1.5', '2e7', '0x10', '8080.9']) {
    assert.throws(() => loadConfig({ MAX_MODEL_PARAMETERS: value }),
      new RegExp(`MAX_MODEL_PARAMETERS: must be a whole number.*"${value}"`))
  }
  assert.equal(loadConfig({ MAX_MODEL_LAYERS: ' 12 ' }).MAX_MODEL_LAYERS, 12)
})
