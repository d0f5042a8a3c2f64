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
  /** Told of each lookup and eviction (the metrics count them). */
  counts?: { hit(): void; miss(): void; evict(): void; bytes(n: number): void }
}

interface Entry extends LoadedModel {
  /** Requests using the model now; an evicted model waits for them. */
  users: number
  evicted: boolean
}

/**
 * Loaded model versions, least recently used evicted first once their
 * weights pass `maxBytes`; evicted models are disposed. Concurrent first
 * requests for one version share one load. The version just loaded is
 * kept even when it alone is over the bound, or nothing could be served.
 */
export class ModelCache {
  readonly #opts: ModelCacheOptions
  readonly #entries = new Map<string, Entry>()
  readonly #loading = new Map<string, Promise<Entry | undefined>>()
  #bytes = 0

  constructor(opts: ModelCacheOptions) {
    this.#opts = opts
  }

  /**
   * Runs `fn` with the loaded version, which stays undisposed until `fn`
   * settles even if it is evicted meanwhile. Undefined, without calling
   * `fn`, when the store has no such version.
   */
  async use<T>(name: string, version: number,
    fn: (loaded: LoadedModel) => Promise<T> | T): Promise<T | undefined> {
    const entry = await this.#get(name, version)
    if (!entry) return undefined
    entry.users++
    try {
      return await fn(entry)
    } finally {
      entry.users--
      if (entry.evicted && entry.users === 0) entry.model.dispose()
    }
  }

  async #get(name: string, version: number): Promise<Entry | undefined> {
    const key = `${name}@${version}`
    const hit = this.#entries.get(key)
    if (hit) {
      this.#opts.counts?.hit()
      // Map keeps insertion order: re-inserting marks it most recent.
      this.#entries.delete(key)
      this.#entries.set(key, hit)
      return hit
    }

    let loading = this.#loading.get(key)
    if (!loading) {
      this.#opts.counts?.miss()
      loading = this.#load(key, name, version)
        .finally(() => this.#loading.delete(key))
      this.#loading.set(key, loading)
    }
    return loading
  }

  /** Drops a version (deleted from the store) if it is loaded. */
  forget(name: string, version: number): void {
    const key = `${name}@${version}`
    const entry = this.#entries.get(key)
    if (entry) this.#drop(key, entry)
  }

  async #load(key: string, name: string, version: number):
    Promise<Entry | undefined> {
    const { store, log } = this.#opts
    const [manifest, artifacts] = await Promise.all([
      readManifest(store, name, version),
      readArtifacts(store, name, version),
    ])
    if (!manifest || !artifacts) return undefined

    const model = await deserializeModel(artifacts)
    const loaded: Entry = { manifest, model,
      bytes: artifacts.weights.byteLength, users: 0, evicted: false }
    this.#entries.set(key, loaded)
    this.#bytes += loaded.bytes
    this.#opts.counts?.bytes(this.#bytes)
    log.info({ model: name, version, bytes: loaded.bytes }, 'model loaded')

    this.#evict(key)
    return loaded
  }

  #evict(keep: string): void {
    for (const [key, entry] of this.#entries) {
      if (this.#bytes <= this.#opts.maxBytes) return
      if (key === keep) continue
      this.#drop(key, entry)
      this.#opts.counts?.evict()
      this.#opts.log.info({ key, bytes: entry.bytes }, 'model evicted')
    }
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key)
    this.#bytes -= entry.bytes
    this.#opts.counts?.bytes(this.#bytes)
    entry.evicted = true
    if (entry.users === 0) entry.model.dispose()
  }

  /** Disposes every loaded model. */
  close(): void {
    for (const entry of this.#entries.values()) entry.model.dispose()
    this.#entries.clear()
    this.#bytes = 0
  }
}
