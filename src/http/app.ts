import cors from '@fastify/cors'
import multipart from '@fastify/multipart'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, {
  type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression,
  type RawRequestDefaultExpression, type RawServerDefault,
} from 'fastify'
import type { Redis } from 'ioredis'
import type { Config } from '../config.ts'
import { branchesAsOneOf, withDocumentedBody } from './document-branches.ts'
import { MAX_FIELD_BYTES } from './file-uploads.ts'
import { jsonBodyParser } from './json-body.ts'
import type { Logger } from '../log.ts'
import type { JobEvents } from '../queue/job-events.ts'
import type { TrainingQueue } from '../queue/training-queue.ts'
import type { ApiMetrics } from '../metrics/api-metrics.ts'
import type { PredictBatcher } from '../serving/batcher.ts'
import type { VersionResolver } from '../serving/resolve-version.ts'
import type { ModelCache } from '../serving/model-cache.ts'
import type { ArtifactStore } from '../store/artifact-store.ts'
import {
  clientErrorHandler, errorHandler, notFoundHandler,
} from './error-handler.ts'
import { datasetRoutes } from './routes/datasets.ts'
import { healthRoutes } from './routes/health.ts'
import { jobRoutes } from './routes/jobs.ts'
import { metricsRoutes, observeRequest } from './routes/metrics.ts'
import { modelRoutes } from './routes/models.ts'
import { inferenceV2Routes } from './routes/inference-v2.ts'
import { tfServingRoutes } from './routes/tf-serving.ts'
import { ErrorBody } from './schemas/common.ts'

/** What the routes need; made once per process by the caller. */
export interface AppDeps {
  config: Config
  log: Logger
  store: ArtifactStore
  redis: Redis
  queue: TrainingQueue
  events: JobEvents
  cache: ModelCache
  batcher: PredictBatcher
  resolver: VersionResolver
  metrics: ApiMetrics
  /** The tfjs engine in use (gpu, node, wasm, cpu). */
  backend: string
}

export type App = FastifyInstance<RawServerDefault,
  RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger,
  TypeBoxTypeProvider>

/** The version tensorq reports (OpenAPI, Open Inference Protocol). */
export const VERSION = '0.1.0'

/**
 * Builds the HTTP app: routes, schemas, the error handler and the OpenAPI
 * document. It does not listen; the caller does (or uses inject()).
 */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.config.MAX_UPLOAD_BYTES,
    // Model names may be 128 characters; the default limit is 100.
    routerOptions: { maxParamLength: 256 },
    // Errors Fastify raises before routing (a malformed URL) go through
    // the same handler, so they carry TQ_ERR_ codes too.
    frameworkErrors: errorHandler,
    clientErrorHandler,
    ajv: {
      customOptions: {
        // Unknown fields are an error, not silently dropped: a typo such
        // as `unit` for `units` must not train a different model.
        removeAdditional: false,
        // No silent conversions ("8" for 8, null for false): the query
        // string declares its numbers as patterns and parses them.
        coerceTypes: false,
        // Defaults are filled by the route after it merges what the client
        // sent with what it reuses (a retrain's earlier settings), so that
        // a default cannot override a reused value.
        useDefaults: false,
        discriminator: true,
        allErrors: false,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler(notFoundHandler)
  // JSON and CSV only: Fastify's default text/plain parser would hand a
  // string to routes that expect an object, instead of answering 415.
  app.removeContentTypeParser('text/plain')
  // JSON that says why it refused a body (json-body.ts).
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' },
    jsonBodyParser)
  app.addContentTypeParser('text/csv', { parseAs: 'string' },
    (_req, body, done) => done(null, body))
  app.addContentTypeParser(
    ['application/x-ndjson', 'application/ndjson', 'application/jsonl'],
    { parseAs: 'string' }, (_req, body, done) => done(null, body))
  app.addContentTypeParser('application/zip', { parseAs: 'buffer' },
    (_req, body, done) => done(null, body))
  // Files past the limit fail while they stream in, with a 413; nothing
  // is kept of them.
  await app.register(multipart, {
    throwFileSizeLimit: true,
    limits: { fileSize: deps.config.MAX_UPLOAD_BYTES, files: 2, fields: 16,
      parts: 18, fieldSize: MAX_FIELD_BYTES },
  })
  app.addSchema(ErrorBody)
  if (deps.config.CORS_ORIGINS !== '') {
    const origins = deps.config.CORS_ORIGINS
    await app.register(cors, { origin: origins === '*' ? '*'
      : origins.split(','), methods: ['GET', 'POST', 'PUT', 'DELETE'] })
  }

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'tensorq',
        version: VERSION,
        description: 'Train neural networks on uploaded datasets and serve ' +
          'predictions from versioned models.',
      },
      tags: [
        { name: 'datasets', description: 'Upload and inspect datasets' },
        { name: 'jobs', description: 'Training jobs' },
        { name: 'models', description: 'Model versions and predictions' },
        { name: 'health', description: 'Liveness and readiness' },
        { name: 'tensorflow-serving', description: 'TensorFlow Serving\'s ' +
          'REST predict API; its errors are { "error": "…" }' },
        { name: 'open-inference-v2', description: 'The Open Inference ' +
          'Protocol v2 (KServe, Triton); its errors are { "error": "…" }' },
      ],
    },
    refResolver: { buildLocalReference: (json) => String(json.$id) },
    transform: ({ schema, url }) => ({ schema: withDocumentedBody(schema), url }),
    transformObject: (document) => branchesAsOneOf(
      'openapiObject' in document ? document.openapiObject
        : document.swaggerObject) as object,
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  app.addHook('onResponse', async (request, reply) => {
    observeRequest(deps, request.method, request.routeOptions.url,
      reply.statusCode, reply.elapsedTime / 1000)
  })

  await app.register(healthRoutes, { deps })
  await app.register(metricsRoutes, { deps })
  await app.register(datasetRoutes, { deps })
  await app.register(jobRoutes, { deps })
  await app.register(modelRoutes, { deps })
  await app.register(tfServingRoutes, { deps })
  await app.register(inferenceV2Routes, { deps, prefix: '/v2' })
  return app
}
