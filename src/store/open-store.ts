import type { ArtifactStore } from './artifact-store.ts'
import { FileStore } from './file-store.ts'

/**
 * Opens the store a URL names. Only `file://` exists so far; the config
 * schema rejects other schemes before this is reached.
 */
export function openStore(url: string): ArtifactStore {
  if (url.startsWith('file://')) return new FileStore(url)
  throw new Error(`unsupported store URL ${url}`)
}
