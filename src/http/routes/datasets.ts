import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static } from '@sinclair/typebox'
import { encodeFileUpload } from '../../data/file-upload.ts'
import {
  deleteDataset, loadDatasetRecord, listDatasets, saveDataset,
} from '../../data/dataset-store.ts'
import { encodeGraph } from '../../data/graph.ts'
import { encodeJsonRows } from '../../data/json-rows.ts'
import { errors, withDetails } from '../../errors.ts'
import type { AppDeps } from '../app.ts'
import {
  multipartUpload, RAW_FORMATS, rawUpload,
} from '../file-uploads.ts'
import { DOCUMENTED_BODY, ErrorRef, IdParams } from '../schemas/common.ts'
import {
  DatasetRecordSchema, JsonDatasetUpload, MultipartUpload, UploadOptions,
} from '../schemas/datasets.ts'

function encodeJson(body: Static<typeof JsonDatasetUpload>) {
  if (body.format === 'graph') return encodeGraph(body)
  return encodeJsonRows(body)
}

export const datasetRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> =
  async (app, { deps }) => {
    app.post('/v1/datasets', {
      schema: {
        tags: ['datasets'],
        summary: 'Upload a dataset',
        description: 'JSON rows; a graph for node classification (JSON ' +
          'with `format: graph`); a CSV table (`text/csv`), NDJSON rows ' +
          '(`application/x-ndjson`) or an image zip (`application/zip`) ' +
          'as the raw body, with options in the query string; or files ' +
          'as multipart/form-data (an IDX pair, a CSV, NDJSON or zip ' +
          'file), with options as form fields or in the query.',
        querystring: UploadOptions,
        body: {
          content: {
            'application/json': { schema: JsonDatasetUpload },
            'text/csv': { schema: Type.String() },
            'application/x-ndjson': { schema: Type.String() },
          },
        },
        // A zip is bytes and a form is read part by part: neither is a
        // body to validate.
        [DOCUMENTED_BODY]: {
          'application/zip': { schema: Type.String({ format: 'binary' }) },
          'multipart/form-data': { schema: MultipartUpload },
        },
        response: {
          201: DatasetRecordSchema,
          400: ErrorRef,
          413: ErrorRef,
          415: ErrorRef,
        },
      },
    }, async (request, reply) => {
      let encoded
      const max = deps.config.MAX_UPLOAD_BYTES
      const limits = { maxUnzippedBytes: deps.config.MAX_UNZIPPED_BYTES }
      const type = (request.headers['content-type'] ?? '').toLowerCase()
        .split(';')[0].trim()
      if (request.isMultipart()) {
        encoded = await encodeFileUpload(
          await multipartUpload(request, request.query, max), limits)
      } else if (request.body === undefined || request.body === null ||
        request.body === '') {
        throw new errors.RequestInvalid('the body is empty; send JSON, a ' +
          'CSV table, NDJSON rows, a zip, or files as multipart/form-data')
      } else if (type in RAW_FORMATS) {
        encoded = await encodeFileUpload(rawUpload(type,
          request.body as string | Buffer, request.query), limits)
      } else {
        encoded = encodeJson(request.body as Static<typeof JsonDatasetUpload>)
      }

      const record = await saveDataset(deps.store, encoded)
      request.log.info({ dataset: record.id, rows: record.rows,
        inputShape: record.inputShape }, 'dataset stored')
      return reply.status(201)
        .header('location', `/v1/datasets/${record.id}`)
        .send(record)
    })

    app.get('/v1/datasets', {
      schema: {
        tags: ['datasets'],
        summary: 'List datasets, newest first',
        response: {
          200: Type.Object({ datasets: Type.Array(DatasetRecordSchema) }),
        },
      },
    }, async () => ({ datasets: await listDatasets(deps.store) }))

    app.delete('/v1/datasets/:id', {
      schema: {
        tags: ['datasets'],
        summary: 'Delete a dataset',
        description: 'Refused with 409 while a queued or active job trains ' +
          'on it. Model versions trained on it stay; they hold what they ' +
          'need to predict.',
        params: IdParams,
        response: { 204: Type.Null(), 404: ErrorRef, 409: ErrorRef },
      },
    }, async (request, reply) => {
      const { id } = request.params
      const record = await loadDatasetRecord(deps.store, id)
      if (!record) {
        throw withDetails(new errors.DatasetNotFound(`no dataset ${id}`),
          { path: 'params.id' })
      }
      await deps.queue.markDeleting(id)
      const jobs = await deps.queue.jobsUsing(id)
      if (jobs.length > 0) {
        await deps.queue.unmarkDeleting(id)
        const one = jobs.length === 1
        throw withDetails(new errors.DatasetInUse(`dataset ${id} is in use ` +
          `by ${one ? 'job' : 'jobs'} ${jobs.join(', ')}; delete the ` +
          `dataset once ${one ? 'it finishes' : 'they finish'}, or cancel ` +
          `${one ? 'it' : 'them'}`), { path: 'params.id', jobs })
      }
      await deleteDataset(deps.store, id)
      request.log.info({ dataset: id }, 'dataset deleted')
      return reply.status(204).send(null)
    })

    app.get('/v1/datasets/:id', {
      schema: {
        tags: ['datasets'],
        summary: 'Describe a dataset',
        params: IdParams,
        response: { 200: DatasetRecordSchema, 404: ErrorRef },
      },
    }, async (request) => {
      const record = await loadDatasetRecord(deps.store, request.params.id)
      if (record) return record
      throw withDetails(new errors.DatasetNotFound(
        `no dataset ${request.params.id}`), { path: 'params.id' })
    })
  }
