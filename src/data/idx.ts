import { gunzipSync } from 'node:zlib'
import { errors, withDetails } from '../errors.ts'
import { checkDatasetSize, type EncodedDataset } from './dataset.ts'
import { encodeLabels, labelFields } from './labels.ts'
import { describeValues } from './tensor-rows.ts'

/** One uploaded file: its form field, its name, its bytes. */
export interface UploadedFile {
  field: string
  filename: string
  data: Buffer
}

interface IdxArray {
  file: UploadedFile
  dims: number[]
  values: Uint8Array
}

const UNSIGNED_BYTE = 0x08

function invalid(file: UploadedFile, message: string) {
  return withDetails(new errors.DatasetInvalid(`${file.filename}: ${message}`),
    { path: `files.${file.field}`, file: file.filename })
}

// gzip, as MNIST is published; unpacked at most to `maxBytes`, so that
// a small bomb cannot fill memory.
function unpack(file: UploadedFile, maxBytes: number): Buffer {
  const { data } = file
  if (data.length < 2 || data[0] !== 0x1f || data[1] !== 0x8b) return data
  try {
    return gunzipSync(data, { maxOutputLength: maxBytes })
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw invalid(file, `unpacks to more than ${maxBytes} bytes ` +
        '(MAX_UNZIPPED_BYTES)')
    }
    throw invalid(file, `not a readable gzip file (${(err as Error).message})`)
  }
}

/**
 * Reads an IDX file: the magic number (two zero bytes, the element type,
 * the number of dimensions), the dimensions as big-endian 32-bit counts,
 * then the values. Only unsigned bytes, as MNIST and its kin use.
 */
function readIdx(file: UploadedFile, maxBytes: number): IdxArray {
  const data = unpack(file, maxBytes)
  if (data.length < 4 || data[0] !== 0 || data[1] !== 0) {
    throw invalid(file, 'not an IDX file: the magic number must start with ' +
      'two zero bytes')
  }
  if (data[2] !== UNSIGNED_BYTE) {
    throw invalid(file, `element type 0x${data[2].toString(16)} is not ` +
      'supported; tensorq reads IDX files of unsigned bytes (0x08)')
  }

  const rank = data[3]
  const header = 4 + 4 * rank
  if (rank === 0 || data.length < header) {
    throw invalid(file, `the header declares ${rank} dimensions but the ` +
      'file is too short for them')
  }
  const dims = Array.from({ length: rank }, (_, i) => data.readUInt32BE(4 + 4 * i))
  if (dims.includes(0)) {
    throw invalid(file, `the header declares dimensions ${dims.join(' × ')}; ` +
      'a dimension of 0 holds no values')
  }
  const count = dims.reduce((a, b) => a * b, 1)
  if (data.length - header !== count) {
    throw invalid(file, `the header declares ${dims.join(' × ')} = ${count} ` +
      `values but the file holds ${data.length - header}`)
  }
  return { file, dims, values: data.subarray(header) }
}

function pick(arrays: IdxArray[], rank: (r: number) => boolean, what: string,
  files: UploadedFile[]): IdxArray {
  const found = arrays.filter((a) => rank(a.dims.length))
  if (found.length === 1) return found[0]
  throw withDetails(new errors.DatasetInvalid(`an IDX upload needs one ` +
    `${what} file; got ${found.length} among ` +
    `${files.map((f) => f.filename).join(', ')}`), { path: 'files' })
}

/**
 * Turns an IDX pair (images of rank 3 or 4, labels of rank 1, each raw or
 * gzipped) into a dataset: images as [rows, cols, channels] in [0, 1],
 * labels as class indexes. The two must agree on the count.
 */
export function encodeIdx(name: string, files: UploadedFile[],
  maxUnzippedBytes: number): EncodedDataset {
  if (files.length !== 2) {
    throw withDetails(new errors.DatasetInvalid('an IDX upload is two ' +
      `files, the images and the labels; got ${files.length}`),
    { path: 'files' })
  }
  const arrays = files.map((f) => readIdx(f, maxUnzippedBytes))
  const images = pick(arrays, (r) => r === 3 || r === 4, 'image (rank 3 or 4)',
    files)
  const labels = pick(arrays, (r) => r === 1, 'label (rank 1)', files)

  const [count, ...shape] = images.dims
  if (labels.dims[0] !== count) {
    throw withDetails(new errors.DatasetInvalid(`${images.file.filename} ` +
      `holds ${count} images but ${labels.file.filename} holds ` +
      `${labels.dims[0]} labels`), { path: 'files' })
  }
  const inputShape = shape.length === 2 ? [...shape, 1] : shape
  const size = inputShape.reduce((a, b) => a * b, 1)
  checkDatasetSize(count, size)

  // A loop, not Float32Array.from with a map function: that builds a
  // plain array first, which V8 cannot make past about 134M elements.
  const x = new Float32Array(images.values.length)
  for (let i = 0; i < x.length; i++) x[i] = images.values[i] / 255
  const encoded = encodeLabels(Array.from(labels.values), {
    integers: 'index',
    where: (i) => `${labels.file.filename}, label ${i}`,
  })
  return {
    record: {
      name,
      format: 'idx',
      rows: count,
      inputShape,
      ...labelFields(encoded),
      inputRange: describeValues(x).range,
      integerInputs: false,
      preprocessing: { kind: 'tensor' },
    },
    x,
    y: encoded.y,
  }
}
