import { readJson, type ArtifactStore } from '../store/artifact-store.ts'
import { isId, newId } from '../store/ids.ts'
import type { DatasetRecord, EncodedDataset, GraphData } from './dataset.ts'

const PREFIX = 'datasets'

function key(id: string, file: string): string {
  return `${PREFIX}/${id}/${file}`
}

// Typed arrays are stored as their raw bytes, little-endian as on every
// platform Node supports, so loading is one read and no parsing.
function bytesOf(a: Float32Array | Int32Array | Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
}

// A copy: a Buffer may sit at an offset of a shared pool that is not
// aligned for 4-byte elements.
function copyOf(b: Buffer): ArrayBuffer {
  const copy = new Uint8Array(b.byteLength)
  copy.set(b)
  return copy.buffer
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

  const graph: Record<string, Buffer> = data.graph
    ? { 'edges.i32': bytesOf(data.graph.edges),
      'split.u8': bytesOf(data.graph.split) }
    : {}
  await store.publish(`${PREFIX}/${record.id}`, {
    'dataset.json': JSON.stringify(record, null, 2),
    'x.f32': bytesOf(data.x),
    'y.f32': bytesOf(data.y),
    ...graph,
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

/** A dataset as training reads it. */
export interface LoadedDataset {
  record: DatasetRecord
  x: Float32Array
  y: Float32Array
  graph?: GraphData
}

async function readArray(store: ArtifactStore, id: string, file: string):
  Promise<ArrayBuffer> {
  const bytes = await store.read(key(id, file))
  if (!bytes) throw new Error(`dataset ${id} is missing its ${file}`)
  return copyOf(bytes)
}

/** A stored dataset with its tensors' data, or undefined. */
export async function loadDataset(
  store: ArtifactStore,
  id: string,
): Promise<LoadedDataset | undefined> {
  const record = await loadDatasetRecord(store, id)
  if (!record) return undefined

  const [x, y] = await Promise.all([
    readArray(store, id, 'x.f32'),
    readArray(store, id, 'y.f32'),
  ])
  const loaded: LoadedDataset = {
    record, x: new Float32Array(x), y: new Float32Array(y),
  }
  if (record.format !== 'graph') return loaded

  const [edges, split] = await Promise.all([
    readArray(store, id, 'edges.i32'),
    readArray(store, id, 'split.u8'),
  ])
  return { ...loaded,
    graph: { edges: new Int32Array(edges), split: new Uint8Array(split) } }
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

/** Removes a stored dataset, all its files at once. */
export async function deleteDataset(store: ArtifactStore, id: string):
  Promise<void> {
  if (!isDatasetId(id)) return
  await store.remove(`${PREFIX}/${id}`)
}
