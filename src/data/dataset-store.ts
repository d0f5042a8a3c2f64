import { readJson, type ArtifactStore } from '../store/artifact-store.ts'
import { isId, newId } from '../store/ids.ts'
import type { DatasetRecord, EncodedDataset } from './dataset.ts'

const PREFIX = 'datasets'

function key(id: string, file: string): string {
  return `${PREFIX}/${id}/${file}`
}

// Float32 arrays are stored as their raw bytes, little-endian as on every
// platform Node supports, so loading is one read and no parsing.
function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
}

function floatsOf(b: Buffer): Float32Array {
  const copy = new Uint8Array(b.byteLength)
  copy.set(b)
  return new Float32Array(copy.buffer)
}

/** Dataset ids are UUIDs; anything else cannot name a stored dataset. */
export const isDatasetId = isId

/** Stores a parsed dataset under a new id, all files at once. */
export async function saveDataset(
  store: ArtifactStore,
  data: EncodedDataset,
): Promise<DatasetRecord> {
  const record: DatasetRecord = {
    id: newId(),
    ...data.record,
    createdAt: new Date().toISOString(),
  }

  await store.publish(`${PREFIX}/${record.id}`, {
    'dataset.json': JSON.stringify(record, null, 2),
    'x.f32': bytesOf(data.x),
    'y.f32': bytesOf(data.y),
  })
  return record
}

/** The record of a stored dataset, or undefined. */
export async function loadDatasetRecord(
  store: ArtifactStore,
  id: string,
): Promise<DatasetRecord | undefined> {
  if (!isDatasetId(id)) return undefined
  return readJson<DatasetRecord>(store, key(id, 'dataset.json'))
}

/** A stored dataset with its tensors' data, or undefined. */
export async function loadDataset(
  store: ArtifactStore,
  id: string,
): Promise<{ record: DatasetRecord; x: Float32Array; y: Float32Array } |
  undefined> {
  const record = await loadDatasetRecord(store, id)
  if (!record) return undefined

  const [x, y] = await Promise.all([
    store.read(key(id, 'x.f32')),
    store.read(key(id, 'y.f32')),
  ])
  if (!x || !y) throw new Error(`dataset ${id} is missing its tensors`)
  return { record, x: floatsOf(x), y: floatsOf(y) }
}

/** Every stored dataset's record, newest first. */
export async function listDatasets(
  store: ArtifactStore,
): Promise<DatasetRecord[]> {
  const ids = (await store.list(PREFIX)).filter(isDatasetId)
  const records = await Promise.all(ids.map((id) =>
    readJson<DatasetRecord>(store, key(id, 'dataset.json'))))
  return records
    .filter((r): r is DatasetRecord => r !== undefined)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
}
