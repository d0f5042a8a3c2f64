import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors, withDetails } from '../../errors.ts'
import {
  listModels, listVersions, readManifest, type ModelManifest,
} from '../../serving/model-registry.ts'
import { decodeImageInstances } from '../../serving/image-instances.ts'
import { predict, predictNodes } from '../../serving/predict.ts'
import type { AppDeps } from '../app.ts'
import { ErrorRef } from '../schemas/common.ts'
import {
  ManifestSchema, ModelSchema, NameParams, PredictBody, PredictQuery,
  PredictResponse, VersionParams,
} from '../schemas/models.ts'

async function versionsOf(deps: AppDeps, name: string): Promise<number[]> {
  const versions = await listVersions(deps.store, name)
  if (versions.length > 0) return versions
  throw withDetails(new errors.ModelNotFound(`no model ${name}`),
    { path: 'params.name' })
}

/** The version a request asks for: `?version=`, else the latest. */
async function resolveVersion(
  deps: AppDeps,
  name: string,
  wanted: number | undefined,
): Promise<number> {
  const versions = await versionsOf(deps, name)
  if (wanted === undefined) return versions.at(-1)!
  if (versions.includes(wanted)) return wanted

  throw withDetails(new errors.ModelVersionNotFound(`model ${name} has no ` +
    `version ${wanted} (it has ${versions.join(', ')})`),
  { path: 'query.version' })
}

function graphWanted(name: string) {
  return withDetails(new errors.RequestInvalid(`instances: ${name} is ` +
    'a graph model; send { "nodes": [node numbers] }, or {} for all nodes'),
  { path: 'instances' })
}

function instancesWanted(name: string, sentNodes: boolean) {
  const path = sentNodes ? 'nodes' : 'instances'
  const why = sentNodes ? `${name} is not a graph model; ` : ''
  return withDetails(new errors.RequestInvalid(`${path}: ${why}send ` +
    '{ "instances": [rows] }'), { path })
}

function summary(m: ModelManifest) {
  return {
    version: m.version, createdAt: m.createdAt, job: m.job,
    dataset: m.dataset, backend: m.backend, epochs: m.epochs,
    metrics: m.metrics,
  }
}

export const modelRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> =
  async (app, { deps }) => {
    app.get('/v1/models', {
      schema: {
        tags: ['models'],
        summary: 'List models with their latest version',
        response: {
          200: Type.Object({
            models: Type.Array(Type.Object({
              name: Type.String(),
              latest: Type.Integer(),
            })),
          }),
        },
      },
    }, async () => {
      const names = await listModels(deps.store)
      const models = await Promise.all(names.map(async (name) => ({
        name,
        latest: (await listVersions(deps.store, name)).at(-1) ?? 0,
      })))
      return { models: models.filter((m) => m.latest > 0) }
    })

    app.get('/v1/models/:name', {
      schema: {
        tags: ['models'],
        summary: 'A model and its versions',
        params: NameParams,
        response: { 200: ModelSchema, 404: ErrorRef },
      },
    }, async (request) => {
      const name = request.params.name
      const versions = await versionsOf(deps, name)
      const manifests = (await Promise.all(versions.map((v) =>
        readManifest(deps.store, name, v))))
        .filter((m): m is ModelManifest => m !== undefined)
      const latest = manifests.at(-1)!

      return {
        name,
        latest: latest.version,
        inputShape: latest.inputShape,
        task: latest.task,
        classes: latest.classes,
        graph: latest.graph,
        versions: manifests.map(summary),
      }
    })

    app.get('/v1/models/:name/versions/:version', {
      schema: {
        tags: ['models'],
        summary: 'One version: its spec, settings, dataset, job and metrics',
        params: VersionParams,
        response: { 200: ManifestSchema, 404: ErrorRef },
      },
    }, async (request) => {
      const { name } = request.params
      const version = await resolveVersion(deps, name,
        Number(request.params.version))
      const manifest = await readManifest(deps.store, name, version)
      if (manifest) return manifest
      throw new errors.ModelVersionNotFound(
        `model ${name} version ${version} is gone`)
    })

    app.post('/v1/models/:name/predict', {
      schema: {
        tags: ['models'],
        summary: 'Predict with the latest version, or ?version=',
        description: 'Rows as `instances`; for a graph model, node ' +
          'numbers as `nodes` (all nodes when absent).',
        params: NameParams,
        querystring: PredictQuery,
        body: PredictBody,
        response: {
          200: PredictResponse, 400: ErrorRef, 404: ErrorRef, 413: ErrorRef,
        },
      },
    }, async (request) => {
      const { name } = request.params
      const wanted = request.query.version
      const version = await resolveVersion(deps, name,
        wanted === undefined ? undefined : Number(wanted))
      const loaded = await deps.cache.get(name, version)
      if (!loaded) {
        throw new errors.ModelVersionNotFound(
          `model ${name} version ${version} is gone`)
      }

      const { instances, nodes } = request.body
      const max = deps.config.MAX_PREDICT_VALUES
      if (loaded.manifest.graph) {
        if (instances) throw graphWanted(name)
        return { model: name, version, ...predictNodes(loaded, nodes, max) }
      }
      if (!instances) throw instancesWanted(name, nodes !== undefined)
      const decoded = await decodeImageInstances(loaded.manifest, instances)
      return { model: name, version, ...predict(loaded, decoded, max) }
    })
  }
