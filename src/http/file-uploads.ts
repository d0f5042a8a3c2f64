import type { MultipartFile } from '@fastify/multipart'
import type { Static } from '@sinclair/typebox'
import { Ajv } from 'ajv'
import type { FastifyRequest } from 'fastify'
import {
  guessFormat, type FileUpload, type UploadedFile,
} from '../data/file-upload.ts'
import { errors, isTqError, withDetails } from '../errors.ts'
import { UploadOptions } from './schemas/datasets.ts'
import { describeValidationError } from './validation-path.ts'

type Options = Static<typeof UploadOptions>

/** The longest form field; busboy's limit, which app.ts sets. */
export const MAX_FIELD_BYTES = 65536

const checkOptions = new Ajv({ allErrors: false, strict: false })
  .compile(UploadOptions)

/** Raw bodies that are a file, by Content-Type, and the format each is. */
export const RAW_FORMATS: Record<string, FileUpload['format']> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
  'application/jsonl': 'ndjson',
  'application/zip': 'images',
}

function formatMismatch(said: string, is: string) {
  return withDetails(new errors.RequestInvalid(`query.format is ${said} ` +
    `but the body is ${is}`), { path: 'query.format' })
}

/** A raw body (CSV or NDJSON text, a zip) as a file upload. */
export function rawUpload(mediaType: string, body: string | Buffer,
  query: Options): FileUpload {
  const format = RAW_FORMATS[mediaType]
  if (query.format && query.format !== format) {
    throw formatMismatch(query.format, mediaType)
  }
  const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  return { format, options: query, optionPath: (o) => `query.${o}`,
    files: [{ field: 'body', filename: 'body', data }] }
}

// Form fields are checked like the query string: the same schema, the
// same messages, under `fields.`.
function checkFields(fields: Record<string, string>): Options {
  if (checkOptions(fields)) return fields as Options
  const problem = describeValidationError(checkOptions.errors![0] as never,
    'fields')
  throw withDetails(new errors.RequestInvalid(
    `${problem.path} ${problem.message}`), { path: problem.path })
}

async function readFile(part: MultipartFile): Promise<UploadedFile> {
  // toBuffer() stops at the fileSize limit and throws a 413.
  const data = await part.toBuffer()
  return { field: part.fieldname, filename: part.filename, data }
}

// busboy's own errors (a body that ends early, a boundary that is not
// there) carry no code; they are the client's malformed form.
function malformed(err: unknown): unknown {
  if (isTqError(err) || (err as { code?: string }).code) return err
  return withDetails(new errors.RequestInvalid('the form is not valid ' +
    `multipart/form-data: ${(err as Error).message}`), { path: 'body' })
}

interface Parts {
  fields: Record<string, string>
  files: UploadedFile[]
}

async function readParts(request: FastifyRequest, maxBytes: number):
  Promise<Parts> {
  const parts: Parts = { fields: {}, files: [] }
  let total = 0
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      const file = await readFile(part)
      total += file.data.length
      if (total > maxBytes) {
        throw new errors.RequestTooLarge(`the files are larger than the ` +
          `upload limit of ${maxBytes} bytes`)
      }
      parts.files.push(file)
      continue
    }

    const name = part.fieldname
    const path = `fields.${name}`
    if (name in parts.fields) {
      throw withDetails(new errors.RequestInvalid(`${path} is given twice`),
        { path })
    }
    // busboy cuts a field at fieldSize and says so only in this flag.
    if (part.valueTruncated) {
      throw withDetails(new errors.RequestTooLarge(`${path} is longer than ` +
        `${MAX_FIELD_BYTES} bytes; put long lists in the query string`),
      { path })
    }
    parts.fields[name] = String(part.value)
  }
  return parts
}

/**
 * A multipart/form-data upload: its files, and options from form fields
 * and the query string (a field may not repeat or contradict the query).
 * Files are read up to `maxBytes` all together; past it, a 413.
 */
export async function multipartUpload(request: FastifyRequest,
  query: Options, maxBytes: number): Promise<FileUpload> {
  const { fields, files } = await readParts(request, maxBytes)
    .catch((err) => {
      throw malformed(err)
    })

  const options = { ...query, ...checkFields(fields) }
  for (const key of Object.keys(fields) as Array<keyof Options>) {
    if (query[key] !== undefined && query[key] !== fields[key]) {
      throw withDetails(new errors.RequestInvalid(`fields.${key} and ` +
        `query.${key} disagree`), { path: `fields.${key}` })
    }
  }
  if (files.length === 0) {
    throw withDetails(new errors.RequestInvalid('the form has no files; ' +
      'attach the dataset file (two for IDX: images and labels)'),
    { path: 'files' })
  }

  const format = options.format ?? guessFormat(files)
  if (!format) {
    // Two zero bytes and 0x08 start an IDX file; 1f 8b a gzipped one.
    const [a, b, c] = files[0].data
    const idx = files.length === 1 &&
      ((a === 0 && b === 0 && c === 8) || (a === 0x1f && b === 0x8b))
    const hint = idx ? 'it looks like IDX, which is two files: the images ' +
      'and the labels' : 'give format (csv, ndjson, idx or images) as a ' +
      'field or in the query'
    throw withDetails(new errors.RequestInvalid(`cannot tell the format of ` +
      `${files.map((f) => f.filename).join(', ')}; ${hint}`),
    { path: 'format' })
  }
  // An option is named where it was given; one not given, as a field.
  const optionPath = (o: string) =>
    ((query as Record<string, unknown>)[o] !== undefined ? `query.${o}`
      : `fields.${o}`)
  return { format, files, options, optionPath }
}
