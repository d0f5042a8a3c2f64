import { readJson, writeJson, type ArtifactStore } from '../store/artifact-store.ts'
import { isModelName } from './model-registry.ts'

/** The alias predict uses when a request names no version. */
export const DEFAULT_ALIAS = 'production'

/** Alias names: lower case, digits and dashes, as in `production`. */
export const ALIAS_PATTERN = '^[a-z][a-z0-9-]{0,62}$'
const ALIAS = new RegExp(ALIAS_PATTERN)

export function isAliasName(alias: string): boolean {
  return ALIAS.test(alias)
}

function aliasesKey(name: string): string {
  return `models/${name}/aliases`
}

// One file per alias: moving one is a single atomic write, and two
// operators moving different aliases at once cannot undo each other.
function aliasKey(name: string, alias: string): string {
  return `${aliasesKey(name)}/${alias}.json`
}

/** A model's aliases and the versions they point at. */
export async function readAliases(store: ArtifactStore, name: string):
  Promise<Record<string, number>> {
  if (!isModelName(name)) return {}
  const files = (await store.list(aliasesKey(name)))
    .filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5))
    .filter(isAliasName)
  const entries = await Promise.all(files.map(async (alias) => {
    const saved = await readJson<{ version: number }>(store,
      aliasKey(name, alias))
    return [alias, saved?.version] as const
  }))
  return Object.fromEntries(entries.filter(
    (e): e is readonly [string, number] => e[1] !== undefined))
}

/** The version one alias points at, or undefined. */
export async function readAlias(store: ArtifactStore, name: string,
  alias: string): Promise<number | undefined> {
  if (!isModelName(name) || !isAliasName(alias)) return undefined
  const saved = await readJson<{ version: number }>(store, aliasKey(name, alias))
  return saved?.version
}

/** Points `alias` at `version`; the caller has checked both exist. */
export function writeAlias(store: ArtifactStore, name: string, alias: string,
  version: number): Promise<void> {
  return writeJson(store, aliasKey(name, alias),
    { version, updatedAt: new Date().toISOString() })
}

/** Removes an alias; nothing happens when it is not set. */
export function removeAlias(store: ArtifactStore, name: string,
  alias: string): Promise<void> {
  return store.remove(aliasKey(name, alias))
}
