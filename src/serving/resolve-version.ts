import { errors, withDetails } from '../errors.ts'
import type { ArtifactStore } from '../store/artifact-store.ts'
import { DEFAULT_ALIAS, readAlias } from './aliases.ts'
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
