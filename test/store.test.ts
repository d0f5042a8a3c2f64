import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { FileStore } from '../src/store/file-store.ts'
import { listVersions, publishVersion } from '../src/serving/model-registry.ts'

const dirs: string[] = []
async function freshStore(): Promise<{ store: FileStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tensorq-store-'))
  dirs.push(dir)
  return { store: new FileStore(pathToFileURL(dir).href), dir }
}

after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

test('publish claims a prefix once and leaves nothing behind on a clash', async () => {
  const { store, dir } = await freshStore()

  assert.equal(await store.publish('a/1', { 'f.txt': 'one' }), true)
  assert.equal(await store.publish('a/1', { 'f.txt': 'two' }), false)

  assert.equal((await store.read('a/1/f.txt'))?.toString(), 'one')
  assert.deepEqual(await readdir(join(dir, '.tmp')), [])
})

test('keys cannot leave the store folder', async () => {
  const { store } = await freshStore()
  await assert.rejects(store.read('../etc/passwd'), /invalid store key/)
  await assert.rejects(store.write('/abs', 'x'), /invalid store key/)
})

test('concurrent publishes of one model get distinct versions', async () => {
  const { store } = await freshStore()
  const manifest = { model: 'm' } as Parameters<typeof publishVersion>[1]
  const artifacts = { modelJson: {}, weights: Buffer.alloc(4) }

  const published = await Promise.all(Array.from({ length: 5 }, () =>
    publishVersion(store, manifest, artifacts)))

  const versions = published.map((m) => m.version).sort()
  assert.deepEqual(versions, [1, 2, 3, 4, 5])
  assert.deepEqual(await listVersions(store, 'm'), [1, 2, 3, 4, 5])
})
