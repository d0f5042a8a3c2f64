import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors, withDetails } from '../../errors.ts'
import {
  DEFAULT_ALIAS, readAlias, readAliases, removeAlias, writeAlias,
} from '../../serving/aliases.ts'
import {
  deleteVersion, listModels, listVersions, readArtifactFile, readManifest,
  type ModelManifest,
} from '../../serving/model-registry.ts'
import {
  resolveVersion, versionsOf, type VersionWanted,
} from '../../serving/resolve-version.ts'
import {
  predictGraph, predictInstances, withModel, type ServeDeps,
} from '../../serving/serve-predict.ts'
import type { AppDeps } from '../app.ts'
import { acceptAnyContentType } from '../error-handler.ts'
import { ErrorRef } from '../schemas/common.ts'
import {
  AliasBody, AliasParams, AliasResponse, Aliases, ArtifactParams,
  ManifestSchema, ModelSchema, NameParams, PredictBody, PredictQuery,
  PredictResponse, VersionParams,
} from '../schemas/models.ts'

// A version's artifacts never change: its number is not reused after a
// delete (see deleteVersion).
const IMMUTABLE = 'public, max-age=31536000, immutable'

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

/** TensorFlow Serving's status of the given versions. */
export function versionStatus(versions: number[]) {
  return versions.map((v) => ({
    version: String(v),
    state: 'AVAILABLE' as const,
    status: { error_code: 'OK' as const, error_message: '' },
  }))
}

/** What the predict query asks for: a version or an alias, not both. */
function wantedOf(query: { version?: string; alias?: string }): VersionWanted {
  if (query.version !== undefined && query.alias !== undefined) {
    throw withDetails(new errors.RequestInvalid('query: give version or ' +
      'alias, not both'), { path: 'query.alias' })
  }
  return {
    version: query.version === undefined ? undefined : Number(query.version),
    alias: query.alias,
    versionPath: 'query.version',
    aliasPath: 'query.alias',
  }
}

/** The ServeDeps of an app. */
export function serveDeps(deps: AppDeps): ServeDeps {
  return { cache: deps.cache, batcher: deps.batcher, metrics: deps.metrics,
    maxValues: deps.config.MAX_PREDICT_VALUES }
}

export const modelRoutes: FastifyPluginAsyncTypebox<{ deps: AppDeps }> =
  async (app, { deps }) => {
    const { store } = deps
    const serve = serveDeps(deps)
    // Predict bodies are JSON whatever their Content-Type says, as on the
    // protocol routes: a CSV or NDJSON type would hand the route a string.
    acceptAnyContentType(app)

    app.get('/v1/models', {
      schema: {
        tags: ['models'],
        summary: 'List models with their latest version and aliases',
        response: {
          200: Type.Object({
            models: Type.Array(Type.Object({
              name: Type.String(),
              latest: Type.Integer(),
              aliases: Aliases,
            })),
          }),
        },
      },
    }, async () => {
      const names = await listModels(store)
      const models = await Promise.all(names.map(async (name) => ({
        name,
        latest: (await listVersions(store, name)).at(-1) ?? 0,
        aliases: await readAliases(store, name),
      })))
      return { models: models.filter((m) => m.latest > 0) }
    })

    app.get('/v1/models/:name', {
      schema: {
        tags: ['models'],
        summary: 'A model, its versions and aliases',
        description: 'Also TensorFlow Serving\'s model status: ' +
          '`model_version_status` lists every version.',
        params: NameParams,
        response: { 200: ModelSchema, 404: ErrorRef },
      },
    }, async (request) => {
      const name = request.params.name
      const versions = await versionsOf(store, name)
      const manifests = (await Promise.all(versions.map((v) =>
        readManifest(store, name, v))))
        .filter((m): m is ModelManifest => m !== undefined)
      const latest = manifests.at(-1)!

      return {
        name,
        latest: latest.version,
        aliases: await readAliases(store, name),
        model_version_status: versionStatus(versions),
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
      const version = await resolveVersion(store, name,
        { version: Number(request.params.version) })
      const manifest = await readManifest(store, name, version)
      if (!manifest) {
        throw new errors.ModelVersionNotFound(
          `model ${name} version ${version} is gone`)
      }
      const aliases = Object.entries(await readAliases(store, name))
        .filter(([, v]) => v === version).map(([alias]) => alias)
      return { ...manifest, aliases,
        model_version_status: versionStatus([version]) }
    })

    app.delete('/v1/models/:name/versions/:version', {
      schema: {
        tags: ['models'],
        summary: 'Delete a version',
        description: 'Refused (409) while an alias points at it. Its ' +
          'number is not given to a later version.',
        params: VersionParams,
        response: { 204: Type.Null(), 404: ErrorRef, 409: ErrorRef },
      },
    }, async (request, reply) => {
      const { name } = request.params
      const version = await resolveVersion(store, name,
        { version: Number(request.params.version) })
      const aliased = () => withDetails(new errors.ModelVersionAliased(
        `model ${name} version ${version} is what ${pointing.join(', ')} ` +
        `${pointing.length === 1 ? 'points' : 'point'} at; move the alias ` +
        'first'), { aliases: pointing })
      const pointingAt = async () => Object.entries(await readAliases(store,
        name)).filter(([, v]) => v === version).map(([alias]) => alias)
      let pointing = await pointingAt()
      if (pointing.length > 0) throw aliased()
      const deleted = await deleteVersion(store, name, version, async () => {
        pointing = await pointingAt()
        return pointing.length === 0
      })
      if (!deleted) throw aliased()
      deps.resolver.invalidate(name)
      deps.cache.forget(name, version)
      return reply.status(204).send(null)
    })

    app.get('/v1/models/:name/versions/:version/:file', {
      schema: {
        tags: ['models'],
        summary: 'The version in TF.js layers format: model.json and the ' +
          'weight files it names',
        description: 'Load it with `tf.loadLayersModel(\'…/model.json\')`. ' +
          'Served with an ETag and as immutable.',
        params: ArtifactParams,
        response: {
          200: Type.Unknown({ description: 'model.json, or weight bytes' }),
          304: Type.Null(),
          404: ErrorRef,
        },
      },
    }, async (request, reply) => {
      const { name, file } = request.params
      const version = await resolveVersion(store, name,
        { version: Number(request.params.version) })
      const manifest = await readManifest(store, name, version)
      const bytes = manifest &&
        await readArtifactFile(store, name, version, file)
      if (!manifest || !bytes) {
        throw withDetails(new errors.RouteNotFound(`model ${name} version ` +
          `${version} has no file ${file}; model.json names its files`),
        { path: 'params.file' })
      }

      const etag = `"${name}-${version}-${Date.parse(manifest.createdAt)}"`
      // Readable from a page on any origin, so that a browser app can
      // load the model (the artifacts are served to anyone who can
      // reach the api anyway).
      reply.header('etag', etag).header('cache-control', IMMUTABLE)
        .header('access-control-allow-origin', '*')
        .header('access-control-expose-headers', 'etag')
      if (request.headers['if-none-match'] === etag) {
        return reply.status(304).send(null)
      }
      reply.type(file.endsWith('.json') ? 'application/json'
        : 'application/octet-stream')
      return reply.send(bytes)
    })

    app.put('/v1/models/:name/aliases/:alias', {
      schema: {
        tags: ['models'],
        summary: 'Point an alias (such as production) at a version',
        params: AliasParams,
        body: AliasBody,
        response: { 200: AliasResponse, 404: ErrorRef },
      },
    }, async (request) => {
      const { name, alias } = request.params
      const version = await resolveVersion(store, name,
        { version: request.body.version, versionPath: 'body.version' })
      await writeAlias(store, name, alias, version)
      deps.resolver.invalidate(name)
      // A delete of the version may have raced this write, each checking
      // before the other wrote: then the alias is taken back.
      if (!(await listVersions(store, name)).includes(version)) {
        await removeAlias(store, name, alias)
        throw withDetails(new errors.ModelVersionNotFound(`model ${name} ` +
          `version ${version} was deleted meanwhile`), { path: 'body.version' })
      }
      request.log.info({ model: name, alias, version }, 'alias moved')
      return { name, alias, version }
    })

    app.delete('/v1/models/:name/aliases/:alias', {
      schema: {
        tags: ['models'],
        summary: 'Remove an alias',
        description: `Without \`${DEFAULT_ALIAS}\`, predict uses the ` +
          'latest version.',
        params: AliasParams,
        response: { 204: Type.Null(), 404: ErrorRef },
      },
    }, async (request, reply) => {
      const { name, alias } = request.params
      await versionsOf(store, name)
      if ((await readAlias(store, name, alias)) === undefined) {
        throw withDetails(new errors.ModelAliasNotFound(`model ${name} has ` +
          `no alias ${alias}`), { path: 'params.alias' })
      }
      await removeAlias(store, name, alias)
      deps.resolver.invalidate(name)
      return reply.status(204).send(null)
    })

    app.post('/v1/models/:name/predict', {
      schema: {
        tags: ['models'],
        summary: 'Predict with a version, an alias, or by default ' +
          'production, else the latest version',
        description: 'Rows as `instances`; for a graph model, node ' +
          'numbers as `nodes` (all nodes when absent). Concurrent ' +
          'requests for one version are run as one batch.',
        params: NameParams,
        querystring: PredictQuery,
        body: PredictBody,
        response: {
          200: PredictResponse, 400: ErrorRef, 404: ErrorRef, 413: ErrorRef,
        },
      },
    }, async (request) => {
      const { name } = request.params
      const version = await deps.resolver.resolve(name,
        wantedOf(request.query))
      const { instances, nodes } = request.body

      return withModel(serve, name, version, async (loaded) => {
        if (loaded.manifest.graph) {
          if (instances) throw graphWanted(name)
          return { model: name, version, ...predictGraph(serve, loaded, nodes) }
        }
        if (!instances || nodes !== undefined) {
          throw instancesWanted(name, nodes !== undefined)
        }
        return { model: name, version,
          ...(await predictInstances(serve, loaded, instances)) }
      })
    })
  }
