import { gzipSync } from 'node:zlib'
import sharp from 'sharp'
import yazl from 'yazl'

/** An IDX file of unsigned bytes with the given dimensions. */
export function idxFile(dims: number[], values: ArrayLike<number>,
  gzip = false): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length)
  header[2] = 0x08
  header[3] = dims.length
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i))
  const file = Buffer.concat([header, Buffer.from(Uint8Array.from(values))])
  return gzip ? gzipSync(file) : file
}

/** A zip of the given entries, written with yazl. */
export function zipOf(entries: Array<[string, Buffer]>): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, data] of entries) zip.addBuffer(data, name)
  zip.end()
  const chunks: Buffer[] = []
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c))
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
    zip.outputStream.on('error', reject)
  })
}

/**
 * A `size`×`size` grey PNG: a bright bar across (horizontal) or down
 * (vertical) at `offset`, on a noisy dark background.
 */
export function barPng(size: number, vertical: boolean, offset: number,
  noise: () => number): Promise<Buffer> {
  const pixels = Buffer.alloc(size * size)
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const onBar = (vertical ? c : r) === offset
      pixels[r * size + c] = onBar ? 200 + noise() * 55 : noise() * 80
    }
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 1 } })
    .toColourspace('b-w').png().toBuffer()
}

/** A multipart form with option fields and named files. */
export function form(fields: Record<string, string>,
  files: Array<[string, string, Buffer]>): FormData {
  const fd = new FormData()
  for (const [k, v] of Object.entries(fields)) fd.set(k, v)
  for (const [field, name, data] of files) fd.append(field, new Blob([data]), name)
  return fd
}
