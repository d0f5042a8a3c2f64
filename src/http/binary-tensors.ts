import { errors, withDetails } from '../errors.ts'
import { parseJson } from './json-body.ts'

// The Open Inference Protocol's binary tensor data extension: a body of
// `application/octet-stream` is a JSON header of
// `Inference-Header-Content-Length` bytes, then the raw data of each
// tensor whose parameters give `binary_data_size`, in order,
// little-endian and row-major. BYTES tensors are not read this way here.

export const HEADER_LENGTH = 'inference-header-content-length'

const READERS: Record<string, [number, (v: DataView, at: number) => number]> = {
  BOOL: [1, (v, at) => v.getUint8(at)],
  UINT8: [1, (v, at) => v.getUint8(at)],
  UINT16: [2, (v, at) => v.getUint16(at, true)],
  UINT32: [4, (v, at) => v.getUint32(at, true)],
  UINT64: [8, (v, at) => Number(v.getBigUint64(at, true))],
  INT8: [1, (v, at) => v.getInt8(at)],
  INT16: [2, (v, at) => v.getInt16(at, true)],
  INT32: [4, (v, at) => v.getInt32(at, true)],
  INT64: [8, (v, at) => Number(v.getBigInt64(at, true))],
  FP32: [4, (v, at) => v.getFloat32(at, true)],
  FP64: [8, (v, at) => v.getFloat64(at, true)],
}

function bad(message: string, path: string) {
  return withDetails(new errors.RequestInvalid(message), { path })
}

interface BinaryTensor {
  datatype?: unknown
  data?: unknown
  parameters?: { binary_data_size?: unknown }
}

/**
 * Reads a binary-extension body into the JSON request it stands for:
 * each input given as binary gets its values as `data`.
 */
export function readBinaryRequest(body: Buffer, headerLength: unknown):
  unknown {
  // Digits only: Number() would also take '0x6f', '1e2' or ' 111 '.
  const length = /^[0-9]{1,10}$/.test(String(headerLength))
    ? Number(headerLength) : NaN
  if (!Number.isInteger(length) || length > body.length) {
    throw bad(`${HEADER_LENGTH} must be the byte length of the JSON ` +
      `header, at most the body's ${body.length} bytes`, 'headers')
  }
  // As a JSON body is parsed: prototype poisoning refused.
  const request = parseJson(body.subarray(0, length).toString('utf8'),
    'the JSON header') as { inputs?: BinaryTensor[] }
  if (typeof request !== 'object' || request === null ||
    !Array.isArray(request.inputs)) return request

  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  let at = length
  request.inputs.forEach((input, i) => {
    const size = input?.parameters?.binary_data_size
    if (size === undefined) return
    const path = `inputs[${i}].parameters.binary_data_size`
    if (input.data !== undefined) {
      throw bad(`inputs[${i}]: give its values as data or as binary data ` +
        '(binary_data_size), not both', path)
    }
    const reader = READERS[String(input.datatype)]
    if (!reader) {
      throw bad(`inputs[${i}]: binary data of datatype ` +
        `${String(input.datatype)} is not read; use one of ` +
        Object.keys(READERS).join(', '), `inputs[${i}].datatype`)
    }
    const [width, read] = reader
    if (!Number.isInteger(size) || (size as number) < 0) {
      throw bad(`inputs[${i}]: binary_data_size must be a whole number of ` +
        `bytes; got ${JSON.stringify(size)}`, path)
    }
    if ((size as number) % width !== 0 || at + (size as number) > body.length) {
      throw bad(`inputs[${i}]: binary_data_size ${String(size)} does not ` +
        `fit: ${body.length - at} bytes are left, in ${width}-byte values`,
      path)
    }
    const data = new Array<number>((size as number) / width)
    for (let k = 0; k < data.length; k++) data[k] = read(view, at + k * width)
    at += size as number
    input.data = data
  })
  if (at !== body.length) {
    throw bad(`${body.length - at} bytes follow the last binary tensor`,
      'body')
  }
  return request
}

/**
 * Writes an answer in the binary extension: the JSON header without the
 * FP32 outputs' data, which follow it as little-endian bytes.
 */
export function writeBinaryAnswer(answer: { outputs: Array<{
  datatype: string; data: unknown[]; parameters?: object }> }):
  { body: Buffer; headerLength: number } {
  const chunks: Buffer[] = []
  const outputs = answer.outputs.map((output) => {
    if (output.datatype !== 'FP32') return output
    const values = Float32Array.from(output.data as number[])
    const bytes = Buffer.from(values.buffer, values.byteOffset,
      values.byteLength)
    chunks.push(bytes)
    const { data: _data, ...rest } = output
    return { ...rest, parameters: { ...output.parameters,
      binary_data_size: bytes.length } }
  })
  const header = Buffer.from(JSON.stringify({ ...answer, outputs }))
  return { body: Buffer.concat([header, ...chunks]),
    headerLength: header.length }
}
