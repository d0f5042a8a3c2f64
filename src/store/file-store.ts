import { randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ArtifactStore } from './artifact-store.ts'

const TMP = '.tmp'

/** The folder a `file://` URL names; `file://./data` is relative to cwd. */
export function folderOf(url: string): string {
  const rest = url.slice('file://'.length)
  if (rest.startsWith('/')) return fileURLToPath(url)
  return resolve(rest)
}

function checkKey(key: string): void {
  const parts = key.split('/')
  const bad = key === '' || key.startsWith('/') ||
    parts.some((p) => p === '' || p === '.' || p === '..' || p === TMP)
  if (bad) throw new Error(`invalid store key ${JSON.stringify(key)}`)
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT'
}

/**
 * The artifact store on a local folder. Atomicity comes from rename(2):
 * files and whole folders are written under `.tmp/` and renamed into
 * place, so a crash leaves at most litter in `.tmp/`, never a half-written
 * artifact.
 */
export class FileStore implements ArtifactStore {
  readonly url: string
  readonly #root: string

  constructor(url: string) {
    this.url = url
    this.#root = folderOf(url)
  }

  async read(key: string): Promise<Buffer | undefined> {
    checkKey(key)
    try {
      return await readFile(join(this.#root, key))
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
  }

  async write(key: string, data: Buffer | string): Promise<void> {
    checkKey(key)
    const tmp = await this.#tmpPath()
    await writeFile(tmp, data)

    const target = join(this.#root, key)
    await mkdir(dirname(target), { recursive: true })
    await rename(tmp, target)
  }

  async publish(
    prefix: string,
    files: Record<string, Buffer | string>,
  ): Promise<boolean> {
    checkKey(prefix)
    const tmp = await this.#tmpPath()
    try {
      for (const [name, data] of Object.entries(files)) {
        checkKey(name)
        const path = join(tmp, name)
        await mkdir(dirname(path), { recursive: true })
        await writeFile(path, data)
      }

      const target = join(this.#root, prefix)
      await mkdir(dirname(target), { recursive: true })
      return await renameUnlessTaken(tmp, target)
    } finally {
      await rm(tmp, { recursive: true, force: true })
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkKey(prefix)
    try {
      const names = await readdir(join(this.#root, prefix))
      return names.filter((n) => n !== TMP).sort()
    } catch (err) {
      if (isMissing(err)) return []
      throw err
    }
  }

  async remove(key: string): Promise<void> {
    checkKey(key)
    await rm(join(this.#root, key), { recursive: true, force: true })
  }

  async ping(): Promise<void> {
    const tmp = await this.#tmpPath()
    await writeFile(tmp, '')
    await rm(tmp, { force: true })
  }

  async #tmpPath(): Promise<string> {
    const dir = join(this.#root, TMP)
    await mkdir(dir, { recursive: true })
    return join(dir, randomUUID())
  }
}

// rename(2) onto an existing non-empty folder fails with ENOTEMPTY or
// EEXIST; onto an empty one it succeeds, which is fine: nothing was there.
async function renameUnlessTaken(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to)
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false
    throw err
  }
}
