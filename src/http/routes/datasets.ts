import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Static } from '@sinclair/typebox'
import { encodeCsv } from '../../data/csv.ts'
import {
  loadDatasetRecord, listDatasets, saveDataset,
} from '../../data/dataset-store.ts'
import { encodeGraph } from '../../data/graph.ts'
import { encodeJsonRows } from '../../data/json-rows.ts'
import { errors, withDetails } from '../../errors.ts'
import type { AppDeps } from '../app.ts'
import { ErrorRef, IdParams } from '../schemas/common.ts'
import {
  CsvQuery, DatasetRecordSchema, JsonDatasetUpload,
} from '../schemas/datasets.ts'

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

function required(value: string | undefined, name: string): string {
  if (value) return value
  throw withDetails(new errors.RequestInvalid(
    `query.${name} is required for a CSV upload`), { path: `query.${name}` })
}

function encodeCsvUpload(text: string, query: Static<typeof CsvQuery>) {
  return encodeCsv(text, {
    name: required(query.name, 'name'),
    label: required(query.label, 'label'),
    features: list(query.features),
    categorical: list(query.categorical),
    task: query.task,
  })
}

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
          'with `format: graph`); or a CSV table as `text/csv` with its ' +
          'options in the query string (`name`, `label`, …).',
        querystring: CsvQuery,
        body: {
          content: {
            'application/json': { schema: JsonDatasetUpload },
            'text/csv': { schema: Type.String() },
          },
        },
        response: {
          201: DatasetRecordSchema,
          400: ErrorRef,
          413: ErrorRef,
          415: ErrorRef,
        },
      },
    }, async (request, reply) => {
      if (request.body === undefined || request.body === null) {
        throw new errors.RequestInvalid('the body is empty; send JSON rows ' +
          '(application/json) or a CSV table (text/csv)')
      }
      const type = (request.headers['content-type'] ?? '').toLowerCase()
      const encoded = type.startsWith('text/csv')
        ? encodeCsvUpload(request.body as string, request.query)
        : encodeJson(request.body as Static<typeof JsonDatasetUpload>)

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
