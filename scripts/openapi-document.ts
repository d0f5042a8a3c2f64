import { loadConfig } from '../src/config.ts'
import { createLogger } from '../src/log.ts'
import { createApi } from '../src/run/api.ts'

/**
 * The OpenAPI document as the routes' schemas make it. Building the app
 * needs no live Redis: nothing is sent until a route is called.
 */
export async function openapiDocument(): Promise<unknown> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' })
  const api = await createApi(config, createLogger(config, 'openapi'))
  try {
    await api.app.ready()
    return api.app.swagger()
  } finally {
    await api.close()
  }
}

/** The document as committed: stable key order, two-space indent. */
export function formatDocument(doc: unknown): string {
  return JSON.stringify(doc, null, 2) + '\n'
}
