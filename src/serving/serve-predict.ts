import { errors } from '../errors.ts'
import type { ApiMetrics } from '../metrics/api-metrics.ts'
import type { PredictBatcher } from './batcher.ts'
import { decodeImageInstances } from './image-instances.ts'
import type { LoadedModel, ModelCache } from './model-cache.ts'
import {
  INSTANCES, encodeRequest, namePredictions, predictNodes, type Prediction,
} from './predict.ts'

/** What serving a prediction needs; the api makes one of each. */
export interface ServeDeps {
  cache: ModelCache
  batcher: PredictBatcher
  metrics?: ApiMetrics
  /** MAX_PREDICT_VALUES */
  maxValues: number
}

/**
 * Runs `fn` with a loaded version; a 404 when the store no longer has it
 * (deleted between the lookup and the load).
 */
export async function withModel<T>(deps: ServeDeps, name: string,
  version: number, fn: (loaded: LoadedModel) => Promise<T>): Promise<T> {
  const answer = await deps.cache.use(name, version, fn)
  if (answer !== undefined) return answer
  throw new errors.ModelVersionNotFound(
    `model ${name} version ${version} is gone`)
}

/**
 * Predicts raw instances with a loaded version: image files decoded,
 * rows encoded and checked, run in a batch with concurrent requests,
 * classes named. Errors name the instance.
 */
export async function predictInstances(deps: ServeDeps, loaded: LoadedModel,
  instances: unknown[], names = INSTANCES): Promise<Prediction> {
  const decoded = await decodeImageInstances(loaded.manifest, instances, names)
  const request = encodeRequest(loaded, decoded, deps.maxValues, names)
  const predictions = await deps.batcher.run(loaded, request)
  deps.metrics?.predictRows.inc({ model: loaded.manifest.model },
    request.rows)
  return namePredictions(loaded.manifest, predictions, names)
}

/** Predicts for nodes of a graph model's graph (all when undefined). */
export function predictGraph(deps: ServeDeps, loaded: LoadedModel,
  nodes: number[] | undefined) {
  const answer = predictNodes(loaded, nodes, deps.maxValues)
  deps.metrics?.predictRows.inc({ model: loaded.manifest.model },
    answer.nodes.length)
  return answer
}
