import { errors, withDetails } from '../errors.ts'
import { encodeCsv } from './csv.ts'
import type { EncodedDataset, Task } from './dataset.ts'
import type { UploadedFile } from './idx.ts'
import { encodeIdx } from './idx.ts'
import { encodeImageZip } from './image-zip.ts'
import { encodeNdjson } from './ndjson.ts'

export type { UploadedFile } from './idx.ts'

/** A dataset that arrives as files (or one raw body) and its options. */
export interface FileUpload {
  format: 'csv' | 'ndjson' | 'idx' | 'images'
  files: UploadedFile[]
  /** Option values as the query string or form fields gave them. */
  options: {
    name?: string
    task?: Task
    label?: string
    features?: string
    categorical?: string
    delimiter?: string
    missing?: 'error' | 'drop' | 'mean'
    normalize?: 'true' | 'false'
    size?: string
    channels?: '1' | '3'
  }
  /** Where an option came from, for messages: `query.label`, say. */
  optionPath: (option: string) => string
}

/** What the server allows an upload to unpack to. */
export interface UploadLimits {
  maxUnzippedBytes: number
}

function required<T>(value: T | undefined, name: string, upload: FileUpload,
  what: string): T {
  if (value !== undefined) return value
  const path = upload.optionPath(name)
  throw withDetails(new errors.RequestInvalid(
    `${path} is required for ${what}`), { path })
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '')
}

// How messages name each format's upload.
const UPLOAD_NAMES: Record<FileUpload['format'], string> = {
  csv: 'a CSV', ndjson: 'an NDJSON', idx: 'an IDX', images: 'an image zip',
}

function oneFile(upload: FileUpload): UploadedFile {
  if (upload.files.length === 1) return upload.files[0]
  throw withDetails(new errors.RequestInvalid(`${UPLOAD_NAMES[upload.format]}` +
    ` upload is one file; got ${upload.files.length}`), { path: 'files' })
}

function text(file: UploadedFile): string {
  return file.data.toString('utf8')
}

function size(value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined
  const [w, h = w] = value.split('x').map(Number)
  return [w, h]
}

// The options each format reads; any other is refused, not ignored.
const APPLIES: Record<FileUpload['format'], string[]> = {
  csv: ['name', 'format', 'task', 'label', 'features', 'categorical',
    'delimiter', 'missing', 'normalize'],
  ndjson: ['name', 'format', 'task'],
  idx: ['name', 'format'],
  images: ['name', 'format', 'size', 'channels'],
}

function checkApplies(upload: FileUpload): void {
  const extra = Object.keys(upload.options).find((k) =>
    (upload.options as Record<string, unknown>)[k] !== undefined &&
    !APPLIES[upload.format].includes(k))
  if (extra === undefined) return
  const path = upload.optionPath(extra)
  throw withDetails(new errors.RequestInvalid(`${path} does not apply to ` +
    `${UPLOAD_NAMES[upload.format]} upload (it takes ` +
    `${APPLIES[upload.format].join(', ')})`), { path })
}

/**
 * Parses a file upload into a dataset, by its format. Nothing is stored
 * here; an error (a 400 naming the line, entry or file) leaves nothing
 * behind.
 */
export async function encodeFileUpload(upload: FileUpload,
  limits: UploadLimits): Promise<EncodedDataset> {
  const o = upload.options
  checkApplies(upload)
  const name = required(o.name, 'name', upload, 'an upload')

  switch (upload.format) {
    case 'csv':
      return encodeCsv(text(oneFile(upload)), {
        name,
        label: required(o.label, 'label', upload, 'a CSV upload'),
        features: list(o.features),
        categorical: list(o.categorical),
        task: o.task,
        delimiter: o.delimiter,
        missing: o.missing,
        normalize: o.normalize !== 'false',
        optionPath: upload.optionPath,
      })
    case 'ndjson':
      return encodeNdjson(text(oneFile(upload)), { name, task: o.task })
    case 'idx':
      return encodeIdx(name, upload.files, limits.maxUnzippedBytes)
    case 'images':
      return encodeImageZip(oneFile(upload).data, {
        name,
        size: size(o.size),
        channels: o.channels === undefined ? undefined
          : Number(o.channels) as 1 | 3,
        maxUnzippedBytes: limits.maxUnzippedBytes,
      })
  }
}

/**
 * The format of multipart files when the upload does not say: two files
 * are an IDX pair; one is known by its extension.
 */
export function guessFormat(files: UploadedFile[]):
  FileUpload['format'] | undefined {
  if (files.length === 2) return 'idx'
  if (files.length !== 1) return undefined
  const name = files[0].filename.toLowerCase()
  if (name.endsWith('.zip')) return 'images'
  if (/\.(csv|tsv)$/.test(name)) return 'csv'
  if (/\.(ndjson|jsonl)$/.test(name)) return 'ndjson'
  return undefined
}
