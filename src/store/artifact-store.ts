/**
 * Where datasets, model versions and finished job records live. It is the
 * source of truth: Redis may be lost, the store may not.
 *
 * Keys are `/`-separated relative paths made by tensorq itself (ids and
 * validated names), never raw client input.
 */
export interface ArtifactStore {
  /** The store's URL as configured, for logs and health. */
  readonly url: string

  /** The bytes under `key`, or undefined when there are none. */
  read(key: string): Promise<Buffer | undefined>

  /** Writes one file; readers see the old bytes or the new, never half. */
  write(key: string, data: Buffer | string): Promise<void>

  /**
   * Writes several files under `prefix` all at once. Returns false, and
   * writes nothing, when `prefix` already exists: callers use that to
   * claim a name (a model version) without a lock.
   */
  publish(prefix: string, files: Record<string, Buffer | string>):
    Promise<boolean>

  /** The names directly under `prefix` (files and folders). */
  list(prefix: string): Promise<string[]>

  /** Removes `key` and everything under it; no error when absent. */
  remove(key: string): Promise<void>

  /** Throws when the store cannot be reached or written. */
  ping(): Promise<void>
}

/** Reads and parses a JSON file of the store. */
export async function readJson<T>(
  store: ArtifactStore,
  key: string,
): Promise<T | undefined> {
  const data = await store.read(key)
  if (!data) return undefined
  return JSON.parse(data.toString('utf8')) as T
}

/** Serializes `value` as readable JSON and writes it. */
export function writeJson(
  store: ArtifactStore,
  key: string,
  value: unknown,
): Promise<void> {
  return store.write(key, JSON.stringify(value, null, 2) + '\n')
}
