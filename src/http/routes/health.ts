import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AppDeps } from '../app.ts'

const Ready = Type.Object({
  status: Type.String(),
  backend: Type.String(),
  redis: Type.String(),
  store: Type.String(),
})

async function check(probe: () => Promise<unknown>): Promise<'ok' | 'down'> {
  try {
    await probe()
    return 'ok'
  } catch {
    return 'down'
  }
}

/** Whether Redis and the store answer, each 'ok' or 'down'. */
export async function readiness(deps: AppDeps) {
  const [redis, store] = await Promise.all([
    // ping() would wait for a reconnect; a connection that is not
    // ready is down for readiness.
    check(() => deps.redis.status === 'ready'
      ? deps.redis.ping() : Promise.reject(new Error('not ready'))),
    check(() => deps.store.ping()),
  ])
  return { redis, store, ok: redis === 'ok' && store === 'ok' }
}

export const healthRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> =
  async (app, { deps }) => {
    app.get('/health/live', {
      schema: {
        tags: ['health'],
        summary: 'The process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    }, async () => ({ status: 'ok' as const }))

    app.get('/health/ready', {
      schema: {
        tags: ['health'],
        summary: 'Redis and the store answer, and a tfjs backend is loaded',
        response: { 200: Ready, 503: Ready },
      },
    }, async (_request, reply) => {
      const { redis, store, ok } = await readiness(deps)
      return reply.status(ok ? 200 : 503).send({
        status: ok ? 'ok' : 'unavailable',
        backend: deps.backend,
        redis,
        store,
      })
    })
  }
