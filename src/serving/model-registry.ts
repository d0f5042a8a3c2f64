import type { DatasetRecord } from '../data/dataset.ts'
import {
  MODEL_NAME_PATTERN, type ModelSpec, type TrainingSettings,
} from '../spec/schema.ts'
import type { TargetEncoding } from '../spec/targets.ts'
import { readJson, type ArtifactStore } from '../store/artifact-store.ts'
import { WEIGHTS_FILE, type SerializedModel } from '../tf/model-io.ts'

/** Everything known about one trained version, stored beside it. */
export interface ModelManifest {
  model: string
  version: number
  createdAt: string
  job: string
  dataset: string
  backend: string
  spec: ModelSpec
  training: TrainingSettings
  targetEncoding: TargetEncoding
  /** The last epoch's logs, named as tfjs names them (loss, acc, val_loss). */
  metrics: Record<string, number>
  epochs: number
  inputShape: number[]
  task: DatasetRecord['task']
  classes?: string[]
  targetShape?: number[]
  preprocessing: DatasetRecord['preprocessing']
  featureNames?: string[]
  /** For a graph model: its graph's node count (ids run 0 to nodes − 1). */
  graph?: { nodes: number }
  sizes: { parameters: number; weightBytes: number }
}

const PUBLISH_TRIES = 50

function versionsKey(name: string): string {
  return `models/${name}/versions`
}

function versionKey(name: string, version: number): string {
  return `${versionsKey(name)}/${version}`
}

const NAME = new RegExp(MODEL_NAME_PATTERN)

/** True for a name a model can have (see ModelName in the spec schema). */
export function isModelName(name: string): boolean {
  return NAME.test(name)
}

/** The names of all models with at least one version. */
export async function listModels(store: ArtifactStore): Promise<string[]> {
  return (await store.list('models')).filter(isModelName)
}

function deletedKey(name: string): string {
  return `models/${name}/deleted`
}

function numbers(names: string[]): number[] {
  return names.filter((n) => /^[1-9][0-9]*$/.test(n)).map(Number)
}

/** A model's versions, oldest first; empty when the model is unknown. */
export async function listVersions(
  store: ArtifactStore,
  name: string,
): Promise<number[]> {
  if (!isModelName(name)) return []
  const [stored, deleted] = await Promise.all([
    store.list(versionsKey(name)), store.list(deletedKey(name))])
  const gone = new Set(numbers(deleted))
  return numbers(stored).filter((v) => !gone.has(v)).sort((a, b) => a - b)
}

/**
 * Deletes a version. Its number is never given again: its folder stays,
 * holding a marker, so the next publish cannot claim it, and whatever a
 * client cached under that number (the artifacts are served as
 * immutable) stays true. The tombstone is written first, so a crash
 * midway leaves the version hidden, never half there. False, deleting
 * nothing, when `stillFree` says an alias took the version meanwhile.
 */
export async function deleteVersion(store: ArtifactStore, name: string,
  version: number, stillFree: () => Promise<boolean>): Promise<boolean> {
  const tombstone = `${deletedKey(name)}/${version}`
  await store.write(tombstone, '')
  // Asked again once the version is hidden: an alias written meanwhile
  // (whose own check ran before the tombstone) keeps the version.
  if (!(await stillFree())) {
    await store.remove(tombstone)
    return false
  }
  const prefix = versionKey(name, version)
  await store.write(`${prefix}/deleted`, new Date().toISOString())
  for (const file of ['model.json', WEIGHTS_FILE, 'manifest.json']) {
    await store.remove(`${prefix}/${file}`)
  }
  return true
}

/** One stored file of a version (model.json, its weights), or undefined. */
export async function readArtifactFile(store: ArtifactStore, name: string,
  version: number, file: string): Promise<Buffer | undefined> {
  if (!isModelName(name) || (file !== 'model.json' && file !== WEIGHTS_FILE)) {
    return undefined
  }
  return store.read(`${versionKey(name, version)}/${file}`)
}

/** One version's manifest, or undefined. */
export function readManifest(
  store: ArtifactStore,
  name: string,
  version: number,
): Promise<ModelManifest | undefined> {
  if (!isModelName(name)) return Promise.resolve(undefined)
  return readJson<ModelManifest>(store,
    `${versionKey(name, version)}/manifest.json`)
}

/** One version's model.json and weights, or undefined. */
export async function readArtifacts(
  store: ArtifactStore,
  name: string,
  version: number,
): Promise<SerializedModel | undefined> {
  if (!isModelName(name)) return undefined
  const prefix = versionKey(name, version)
  const [json, weights] = await Promise.all([
    store.read(`${prefix}/model.json`),
    store.read(`${prefix}/${WEIGHTS_FILE}`),
  ])
  if (!json || !weights) return undefined
  return { modelJson: JSON.parse(json.toString('utf8')), weights }
}

/**
 * Stores a trained model as the next version of its name and returns the
 * version. Version numbers come from the store, not from a counter in
 * Redis: the store is what survives, and a publish that finds its number
 * taken (another worker won the race) simply tries the next one.
 */
export async function publishVersion(
  store: ArtifactStore,
  manifest: Omit<ModelManifest, 'version' | 'createdAt'>,
  artifacts: SerializedModel,
): Promise<ModelManifest> {
  for (let attempt = 0; attempt < PUBLISH_TRIES; attempt++) {
    // Deleted versions' folders stay, so their numbers are not reused.
    const taken = numbers(await store.list(versionsKey(manifest.model)))
    const version = Math.max(0, ...taken) + 1
    const full: ModelManifest = {
      ...manifest,
      version,
      createdAt: new Date().toISOString(),
    }

    const published = await store.publish(versionKey(manifest.model, version), {
      'manifest.json': JSON.stringify(full, null, 2),
      'model.json': JSON.stringify(artifacts.modelJson),
      [WEIGHTS_FILE]: artifacts.weights,
    })
    if (published) return full
  }
  throw new Error(`could not claim a version of ${manifest.model}`)
}
