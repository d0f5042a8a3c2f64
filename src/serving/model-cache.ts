import type { Logger } from '../log.ts'
import type { ArtifactStore } from '../store/artifact-store.ts'
import { tf } from '../tf/backend.ts'
import { deserializeModel } from '../tf/model-io.ts'
import { readArtifacts, readManifest, type ModelManifest } from './model-registry.ts'

/** A model version loaded into tfjs, ready to predict. */
export interface LoadedModel {
  manifest: ModelManifest
  model: tf.LayersModel
  bytes: number
}

export interface ModelCacheOptions {
  store: ArtifactStore
  maxBytes: number
  log: Logger
}

/**
 * Loaded model versions, least recently used evicted first once their
 * weights pass `maxBytes`; evicted models are disposed. Concurrent first
 * requests for one version share one load. The version just loaded is
 * kept even when it alone is over the bound, or nothing could be served.
 */
export class ModelCache {
  readonly #opts: ModelCacheOptions
  readonly #entries = new Map<string, LoadedModel>()
  readonly #loading = new Map<string, Promise<LoadedModel | undefined>>()
  #bytes = 0

  constructor(opts: ModelCacheOptions) {
    this.#opts = opts
  }

  /** The loaded version, or undefined when the store has no such version. */
  async get(name: string, version: number): Promise<LoadedModel | undefined> {
    const key = `${name}@${version}`
    const hit = this.#entries.get(key)
    if (hit) {
      // Map keeps insertion order: re-inserting marks it most recent.
      this.#entries.delete(key)
      this.#entries.set(key, hit)
      return hit
    }

    let loading = this.#loading.get(key)
    if (!loading) {
      loading = this.#load(key, name, version)
        .finally(() => this.#loading.delete(key))
      this.#loading.set(key, loading)
    }
    return loading
  }

  async #load(key: string, name: string, version: number):
    Promise<LoadedModel | undefined> {
    const { store, log } = this.#opts
    const [manifest, artifacts] = await Promise.all([
      readManifest(store, name, version),
      readArtifacts(store, name, version),
    ])
    if (!manifest || !artifacts) return undefined

    const model = await deserializeModel(artifacts)
    const loaded = { manifest, model, bytes: artifacts.weights.byteLength }
    this.#entries.set(key, loaded)
    this.#bytes += loaded.bytes
    log.info({ model: name, version, bytes: loaded.bytes }, 'model loaded')

    this.#evict(key)
    return loaded
  }

  #evict(keep: string): void {
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.#opts.maxBytes) return
      if (key === keep) continue
      this.#entries.delete(key)
      this.#bytes -= entry.bytes
      entry.model.dispose()
      this.#opts.log.info({ key, bytes: entry.bytes }, 'model evicted')
    }
  }

  /** Disposes every loaded model. */
  close(): void {
    for (const entry of this.#entries.values()) entry.model.dispose()
    this.#entries.clear()
    this.#bytes = 0
  }
}
