import { errors, withDetails } from '../errors.ts'
import type { ArtifactStore } from '../store/artifact-store.ts'
import { DEFAULT_ALIAS, readAlias, readAliases } from './aliases.ts'
import { listVersions } from './model-registry.ts'

/** Which version a request asks for; at most one of the two is set. */
export interface VersionWanted {
  version?: number
  alias?: string
  /** Where the request named them, for error details. */
  versionPath?: string
  aliasPath?: string
}

/** A model's versions; a 404 naming `path` when it has none. */
export async function versionsOf(store: ArtifactStore, name: string,
  path = 'params.name'): Promise<number[]> {
  const versions = await listVersions(store, name)
  if (versions.length > 0) return versions
  throw withDetails(new errors.ModelNotFound(`no model ${name}`), { path })
}

/**
 * The version a request means: the one it names, the one its alias points
 * at, else the `production` alias when set, else the latest. An alias
 * left pointing at a deleted version cannot happen (the delete is
 * refused), so an alias always resolves to a version that exists.
 */
export async function resolveVersion(store: ArtifactStore, name: string,
  wanted: VersionWanted = {}): Promise<number> {
  const versions = await versionsOf(store, name)
  if (wanted.version !== undefined) {
    if (versions.includes(wanted.version)) return wanted.version
    throw withDetails(new errors.ModelVersionNotFound(`model ${name} has no ` +
      `version ${wanted.version} (it has ${versions.join(', ')})`),
    { path: wanted.versionPath ?? 'params.version' })
  }

  if (wanted.alias !== undefined) {
    const version = await readAlias(store, name, wanted.alias)
    if (version !== undefined && versions.includes(version)) return version
    throw withDetails(new errors.ModelAliasNotFound(`model ${name} has no ` +
      `alias ${wanted.alias}`), { path: wanted.aliasPath ?? 'params.alias' })
  }

  const production = await readAlias(store, name, DEFAULT_ALIAS)
  if (production !== undefined && versions.includes(production)) {
    return production
  }
  return versions.at(-1)!
}

interface Known {
  until: number
  versions: Promise<number[]>
  aliases: Promise<Record<string, number>>
}

/**
 * Version resolution for predict requests, with each model's versions and
 * aliases kept for `ttlMs` (MODEL_REFRESH_MS): reading them from the
 * store on every request cost more than a small model's predict, and
 * kept concurrent requests from reaching the batcher in the same turn.
 * A new version or an alias moved by another api process shows within
 * `ttlMs`, as TensorFlow Serving's poll of its model folder does; one
 * moved through this process shows at once (invalidate). A version or
 * alias the kept view lacks is looked up again before a 404.
 */
export class VersionResolver {
  readonly #store: ArtifactStore
  readonly #ttlMs: number
  readonly #known = new Map<string, Known>()

  constructor(store: ArtifactStore, ttlMs: number) {
    this.#store = store
    this.#ttlMs = ttlMs
  }

  async resolve(name: string, wanted: VersionWanted = {}): Promise<number> {
    if (this.#ttlMs === 0) return resolveVersion(this.#store, name, wanted)
    const known = this.#view(name)
    const [versions, aliases] = await Promise.all([known.versions,
      known.aliases])
    const version = wanted.version ?? (wanted.alias !== undefined
      ? aliases[wanted.alias] : aliases[DEFAULT_ALIAS] ?? versions.at(-1))
    if (version !== undefined && versions.includes(version)) return version

    // Not in the kept view: ask the store, which also words the 404.
    this.invalidate(name)
    return resolveVersion(this.#store, name, wanted)
  }

  /** Forgets what is kept of `name`, after a change through this api. */
  invalidate(name: string): void {
    this.#known.delete(name)
  }

  #view(name: string): Known {
    const kept = this.#known.get(name)
    if (kept && kept.until > Date.now()) return kept

    const known: Known = {
      until: Date.now() + this.#ttlMs,
      versions: listVersions(this.#store, name),
      aliases: readAliases(this.#store, name),
    }
    // A failed read is not kept: the next request tries again.
    const forget = () => {
      if (this.#known.get(name) === known) this.#known.delete(name)
    }
    known.versions.catch(forget)
    known.aliases.catch(forget)
    this.#known.set(name, known)
    return known
  }
}
