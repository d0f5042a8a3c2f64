import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import {
  cleanUp, startTestApi, testEnv, type TestApi,
} from './helpers/harness.ts'

// CORS_ORIGINS lets pages on those origins call the api (tfjs in a
// browser loading model.json, say); without it no CORS header is sent.

const ORIGIN = 'http://localhost:5173'
const env = testEnv({ CORS_ORIGINS: `${ORIGIN},https://app.example.com` })
const closed = testEnv()
let api: TestApi
let plain: TestApi

before(async () => {
  api = await startTestApi(env)
  plain = await startTestApi(closed)
})

after(async () => {
  await api?.close()
  await plain?.close()
  await cleanUp(env)
  await cleanUp(closed)
})

test('a listed origin gets its preflight and its answer', async () => {
  const preflight = await api.app.inject({ method: 'OPTIONS',
    url: '/v1/models/m/predict', headers: { origin: ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type' } })
  assert.equal(preflight.statusCode, 204)
  assert.equal(preflight.headers['access-control-allow-origin'], ORIGIN)
  assert.match(String(preflight.headers['access-control-allow-methods']),
    /POST/)

  const answer = await api.app.inject({ url: '/v1/models',
    headers: { origin: ORIGIN } })
  assert.equal(answer.statusCode, 200)
  assert.equal(answer.headers['access-control-allow-origin'], ORIGIN)
})

test('an origin not listed, or no CORS_ORIGINS, gets no CORS header',
  async () => {
    const other = await api.app.inject({ url: '/v1/models',
      headers: { origin: 'https://evil.example' } })
    assert.equal(other.headers['access-control-allow-origin'], undefined)
    const off = await plain.app.inject({ url: '/v1/models',
      headers: { origin: ORIGIN } })
    assert.equal(off.statusCode, 200)
    assert.equal(off.headers['access-control-allow-origin'], undefined)
  })
