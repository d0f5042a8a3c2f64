import type { Readable } from 'node:stream'
import sharp from 'sharp'
import yauzl from 'yauzl'
import { errors, isTqError, withDetails } from '../errors.ts'
import { checkDatasetSize, type EncodedDataset } from './dataset.ts'
import { encodeLabels, labelFields } from './labels.ts'

/** Options of an image-zip upload. */
export interface ImageZipOptions {
  name: string
  /** [width, height]; the first image's when absent. */
  size?: [number, number]
  /** 1 (grey) or 3 (RGB); the first image's when absent. */
  channels?: 1 | 3
  /** Bytes the entries may declare, unpacked, all together. */
  maxUnzippedBytes: number
}

/** Entries one zip may hold: more is a bomb or a mistake, not a dataset. */
export const MAX_ZIP_ENTRIES = 100_000

const IMAGE = /\.(png|jpe?g)$/i

function invalid(message: string, entry?: string) {
  return withDetails(new errors.DatasetInvalid(
    entry === undefined ? message : `entry ${entry}: ${message}`),
  { path: 'files', entry })
}

// Left behind by archivers and file browsers; not part of anyone's data.
// A `.` folder is the archive root itself (./cat/1.png), not a hidden one.
function isClutter(parts: string[]): boolean {
  return parts[0] === '__MACOSX' ||
    parts.some((part) => part.startsWith('.') && part !== '.')
}

interface ImageEntry {
  entry: yauzl.Entry
  name: string
  label: string
}

/**
 * Reads the central directory and checks it before anything is unpacked:
 * names (nothing outside the archive root: no `..`, no absolute paths),
 * the entry count, and the unpacked sizes the entries declare.
 */
async function listImages(zip: yauzl.ZipFile, maxBytes: number):
  Promise<ImageEntry[]> {
  if (zip.entryCount > MAX_ZIP_ENTRIES) {
    throw invalid(`the zip has ${zip.entryCount} entries; at most ` +
      `${MAX_ZIP_ENTRIES} are read`)
  }

  const images: ImageEntry[] = []
  let declared = 0
  for await (const entry of zip.eachEntry()) {
    // Undecoded (decodeStrings: false), so that a bad path is ours to
    // name rather than a yauzl error.
    const name = (entry.fileName as unknown as Buffer).toString('utf8')
    const parts = name.split(/[/\\]/)
    if (/^[/\\]/.test(name) || /^[A-Za-z]:/.test(name) ||
      parts.includes('..')) {
      throw invalid('the path leads outside the archive root', name)
    }
    declared += entry.uncompressedSize
    if (declared > maxBytes) {
      throw invalid(`the entries declare more than ${maxBytes} bytes ` +
        'unpacked (MAX_UNZIPPED_BYTES)', name)
    }
    if (name.endsWith('/') || isClutter(parts)) continue
    if (!IMAGE.test(name)) throw invalid('not a PNG or JPEG file', name)

    const folders = parts.slice(0, -1).filter((p) => p !== '' && p !== '.')
    if (folders.length === 0) {
      throw invalid('images go in one folder per class (cat/1.png); this ' +
        'one is at the top', name)
    }
    images.push({ entry, name, label: folders.at(-1)! })
  }
  if (images.length === 0) throw invalid('the zip holds no PNG or JPEG files')
  return images
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

async function shapeOf(bytes: Buffer, name: string,
  opts: ImageZipOptions): Promise<{ width: number; height: number;
    channels: 1 | 3 }> {
  if (!isPngOrJpeg(bytes)) {
    throw invalid('not a readable image (the bytes are not PNG or JPEG)', name)
  }
  try {
    const meta = await sharp(bytes).metadata()
    const [width, height] = opts.size ?? [meta.width!, meta.height!]
    const grey = meta.channels !== undefined && meta.channels <= 2
    return { width, height, channels: opts.channels ?? (grey ? 1 : 3) }
  } catch (err) {
    throw invalid(`not a readable image (${(err as Error).message})`, name)
  }
}

const PNG = [0x89, 0x50, 0x4e, 0x47]
const JPEG = [0xff, 0xd8, 0xff]

function isPngOrJpeg(bytes: Buffer): boolean {
  const starts = (magic: number[]) => magic.every((b, i) => bytes[i] === b)
  return starts(PNG) || starts(JPEG)
}

/**
 * Decodes a PNG or JPEG and resizes it (stretched, not cropped) to
 * width × height in 1 or 3 channels: raw bytes, row by row. Uploads and
 * predict both go through here, so images are prepared the same way.
 */
export async function decodeImage(bytes: Buffer, width: number,
  height: number, channels: 1 | 3): Promise<Buffer> {
  // By content, not name: sharp would also render an SVG called x.png.
  if (!isPngOrJpeg(bytes)) throw new Error('the bytes are not PNG or JPEG')
  let image = sharp(bytes).resize(width, height, { fit: 'fill' })
    .removeAlpha()
  image = channels === 1 ? image.toColourspace('b-w') : image.toColourspace('srgb')
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true })
  if (info.channels !== channels) throw new Error(`${info.channels} channels`)
  return data
}

async function decode(bytes: Buffer, name: string, width: number,
  height: number, channels: 1 | 3): Promise<Buffer> {
  try {
    return await decodeImage(bytes, width, height, channels)
  } catch (err) {
    throw invalid(`not a readable image (${(err as Error).message})`, name)
  }
}

/**
 * Turns a zip of images, one folder per class, into a dataset: each PNG
 * or JPEG decoded, resized to one size, in 1 or 3 channels, values in
 * [0, 1]. The folder an image is in is its class.
 */
export async function encodeImageZip(zipped: Buffer, opts: ImageZipOptions):
  Promise<EncodedDataset> {
  let zip: yauzl.ZipFile
  try {
    zip = await yauzl.fromBufferPromise(zipped,
      { lazyEntries: true, decodeStrings: false, validateEntrySizes: true })
  } catch (err) {
    throw invalid(`not a readable zip file (${(err as Error).message})`)
  }

  try {
    const images = await listImages(zip, opts.maxUnzippedBytes).catch((err) => {
      if (isTqError(err)) throw err
      throw invalid(`not a readable zip file (${(err as Error).message})`)
    })
    let shape: { width: number; height: number; channels: 1 | 3 } | undefined
    let x = new Float32Array(0)
    let size = 0

    for (const [i, { entry, name }] of images.entries()) {
      let bytes: Buffer
      try {
        bytes = await readAll(await zip.openReadStreamPromise(entry))
      } catch (err) {
        throw invalid(`cannot be unpacked (${(err as Error).message})`, name)
      }
      if (!shape) {
        shape = await shapeOf(bytes, name, opts)
        size = shape.width * shape.height * shape.channels
        checkDatasetSize(images.length, size)
        x = new Float32Array(images.length * size)
      }
      const pixels = await decode(bytes, name, shape.width, shape.height,
        shape.channels)
      for (let p = 0; p < size; p++) x[i * size + p] = pixels[p] / 255
    }

    const labels = encodeLabels(images.map((img) => img.label), {
      integers: 'value',
      where: (i) => `entry ${images[i].name}`,
    })
    const { width, height, channels } = shape!
    return {
      record: {
        name: opts.name,
        format: 'images',
        rows: images.length,
        inputShape: [height, width, channels],
        ...labelFields(labels),
        inputRange: [0, 1],
        integerInputs: false,
        preprocessing: { kind: 'image', width, height, channels },
      },
      x,
      y: labels.y,
    }
  } finally {
    zip.close()
  }
}
