import assert from 'node:assert/strict'
import { connect, createServer, type AddressInfo } from 'node:net'
import { after, test } from 'node:test'
import { loadConfig } from '../src/config.ts'
import { createLogger } from '../src/log.ts'
import { startApi } from '../src/run/api.ts'
import { cleanUp, testEnv } from './helpers/harness.ts'

const REDIS = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')

/**
 * A TCP relay to the real Redis that holds each connection `delayMs`
 * before it passes anything on: a Redis slow to answer at start.
 */
async function slowRelay(delayMs: number) {
  const server = createServer((client) => {
    client.pause()
    setTimeout(() => {
      const upstream = connect(Number(REDIS.port || 6379), REDIS.hostname)
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
      client.pipe(upstream).pipe(client)
      client.resume()
    }, delayMs)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `redis://127.0.0.1:${port}`, server }
}

const env = testEnv()
after(() => cleanUp(env))

test('the api is ready as soon as it listens', async () => {
  // Probed at once, as an orchestrator may: the api used to listen while
  // its Redis connection was still opening, and answer those probes 503.
  const relay = await slowRelay(500)
  const config = loadConfig({ ...env, REDIS_URL: relay.url })
  const api = await startApi(config, createLogger(config, 'api'))
  try {
    const res = await fetch(`${api.url}/health/ready`)
    assert.equal(res.status, 200, await res.text())
  } finally {
    await api.close()
    relay.server.close()
  }
})
