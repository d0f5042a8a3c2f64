import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AppDeps } from '../app.ts'

/**
 * GET /metrics in Prometheus text, and the hook that counts and times
 * every answered request by route pattern (not by URL: a label per model
 * name or job id would grow without bound).
 */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> =
  async (app, { deps }) => {
    const { metrics } = deps

    app.get('/metrics', {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics of this api process',
        response: { 200: Type.String() },
      },
    }, async (_request, reply) => {
      reply.type(metrics.registry.contentType)
      return metrics.registry.metrics()
    })
  }

/** Counts and times one answered request; see metricsRoutes. */
export function observeRequest(deps: AppDeps, method: string,
  route: string | undefined, status: number, seconds: number): void {
  const labels = { method, route: route ?? 'unmatched', status: String(status) }
  deps.metrics.requests.inc(labels)
  deps.metrics.latency.observe(labels, seconds)
}
