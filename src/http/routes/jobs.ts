import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Value } from '@sinclair/typebox/value'
import { loadDatasetRecord } from '../../data/dataset-store.ts'
import { errors, withDetails } from '../../errors.ts'
import {
  listVersions, readManifest, type ModelManifest,
} from '../../serving/model-registry.ts'
import { checkSpec } from '../../spec/check-spec.ts'
import { TrainingSettings } from '../../spec/schema.ts'
import type { AppDeps } from '../app.ts'
import { ErrorRef, IdParams } from '../schemas/common.ts'
import {
  CreateJobBody, JobList, JobListQuery, JobRecordSchema,
} from '../schemas/jobs.ts'

// Without a spec, a job trains the model's latest spec again (on the same
// or a new dataset) with its training settings, each overridable, so a
// client can refresh a model by naming it and a dataset.
async function latestManifest(deps: AppDeps, model: string):
  Promise<ModelManifest> {
  const latest = (await listVersions(deps.store, model)).at(-1)
  const manifest = latest && await readManifest(deps.store, model, latest)
  if (manifest) return manifest

  throw withDetails(new errors.RequestInvalid(`spec is required: model ` +
    `${model} has no version to take a spec from`), { path: 'spec' })
}

export const jobRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> =
  async (app, { deps }) => {
    app.post('/v1/jobs', {
      schema: {
        tags: ['jobs'],
        summary: 'Queue a training job',
        description: 'The spec is checked against the dataset (schema, ' +
          'then building the model on its shapes) before anything is queued.',
        body: CreateJobBody,
        response: { 202: JobRecordSchema, 400: ErrorRef, 404: ErrorRef },
      },
    }, async (request, reply) => {
      const body = request.body
      const dataset = await loadDatasetRecord(deps.store, body.dataset)
      if (!dataset) {
        throw withDetails(new errors.DatasetNotFound(
          `dataset: no dataset ${body.dataset}`), { path: 'dataset' })
      }

      const previous = body.spec ? undefined
        : await latestManifest(deps, body.model)
      // A reused spec takes its input shape from the new dataset, and the
      // settings given here override the reused ones field by field.
      const spec = body.spec ?? { ...previous!.spec, input: undefined }
      const training = Value.Default(TrainingSettings, structuredClone({
        ...previous?.training, ...body.training,
      })) as TrainingSettings
      const checked = checkSpec(spec, training, dataset, {
        maxParameters: deps.config.MAX_MODEL_PARAMETERS,
        maxLayers: deps.config.MAX_MODEL_LAYERS,
      })

      const job = await deps.queue.enqueue({
        model: body.model,
        dataset: dataset.id,
        spec: checked,
        training,
      })
      // A delete of the dataset may have begun while the spec was checked.
      if (await deps.queue.datasetDeleting(dataset.id)) {
        await deps.queue.withdraw(job.id)
        throw withDetails(new errors.DatasetNotFound(`dataset: dataset ` +
          `${dataset.id} is being deleted`), { path: 'dataset' })
      }
      request.log.info({ jobId: job.id, model: job.model }, 'job queued')
      return reply.status(202).header('location', `/v1/jobs/${job.id}`)
        .send(job)
    })

    app.post('/v1/jobs/:id/cancel', {
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job',
        description: 'A queued job is removed and answered `cancelled`. An ' +
          'active job is answered `active`: its worker, wherever it runs, ' +
          'stops at the next batch and the job ends `cancelled` (with no ' +
          'version stored) within about a second. A finished job is a 409.',
        params: IdParams,
        response: { 202: JobRecordSchema, 404: ErrorRef, 409: ErrorRef },
      },
    }, async (request, reply) => {
      const { id } = request.params
      const outcome = await deps.queue.cancel(id)
      if (!outcome) {
        throw withDetails(new errors.JobNotFound(`no job ${id}`),
          { path: 'params.id' })
      }
      const { record, finished } = outcome
      if (finished) {
        throw withDetails(new errors.JobFinished(`job ${id} has already ` +
          `finished (${record.state})`),
        { path: 'params.id', state: record.state })
      }
      request.log.info({ jobId: id, state: record.state }, 'job cancel asked')
      return reply.status(202).send(record)
    })

    app.get('/v1/jobs', {
      schema: {
        tags: ['jobs'],
        summary: 'List jobs, newest first, by state and model, in pages',
        querystring: JobListQuery,
        response: { 200: JobList, 400: ErrorRef },
      },
    }, async (request) => {
      const { state, model } = request.query
      const limit = Number(request.query.limit ?? 20)
      const offset = Number(request.query.offset ?? 0)
      const { jobs, total } = await deps.queue.list({ state, model, limit,
        offset })
      if (offset + jobs.length >= total) return { jobs, total }

      const next = new URLSearchParams({
        ...(state ? { state } : {}), ...(model ? { model } : {}),
        limit: String(limit), offset: String(offset + limit),
      })
      return { jobs, total, next: `?${next}` }
    })

    app.get('/v1/jobs/:id/events', {
      schema: {
        tags: ['jobs'],
        summary: 'Follow a job as Server-Sent Events',
        description: 'text/event-stream: `epoch` (a history row) for ' +
          'every epoch once the worker has checkpointed it (epochs ' +
          'shorter than its CHECKPOINT_INTERVAL_MS come in groups) and ' +
          '`progress`, then one of `completed`, `failed` ' +
          'or `cancelled` (the job record, without history), and the ' +
          'stream closes. A client that connects late first gets what ' +
          'already happened; each epoch comes once, in order.',
        params: IdParams,
        response: {
          200: Type.String({ description: 'The event stream.' }),
          404: ErrorRef,
        },
      },
    }, async (request, reply) => {
      const { id } = request.params
      if (!(await deps.queue.get(id))) {
        throw withDetails(new errors.JobNotFound(`no job ${id}`),
          { path: 'params.id' })
      }

      reply.hijack()
      const raw = reply.raw
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      })
      const closed = new AbortController()
      raw.on('close', () => closed.abort())
      // A comment now and then keeps proxies from closing a quiet stream.
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), 15_000)
      try {
        await deps.events.follow(id, ({ type, data }) => {
          raw.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`)
        }, closed.signal)
      } catch (err) {
        request.log.warn({ jobId: id, reason: (err as Error).message },
          'job event stream failed')
      } finally {
        clearInterval(heartbeat)
        raw.end()
      }
    })

    app.get('/v1/jobs/:id', {
      schema: {
        tags: ['jobs'],
        summary: 'A job: state, progress, per-epoch history, result or error',
        params: IdParams,
        response: { 200: JobRecordSchema, 404: ErrorRef },
      },
    }, async (request) => {
      const job = await deps.queue.get(request.params.id)
      if (job) return job
      throw withDetails(new errors.JobNotFound(
        `no job ${request.params.id}`), { path: 'params.id' })
    })
  }
