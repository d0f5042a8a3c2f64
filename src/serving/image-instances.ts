import { decodeImage } from '../data/image-zip.ts'
import { errors, withDetails } from '../errors.ts'
import type { ModelManifest } from './model-registry.ts'
import { INSTANCES, type RowNames } from './predict.ts'

function isEncoded(instance: unknown): instance is { b64: unknown } {
  return typeof instance === 'object' && instance !== null &&
    !Array.isArray(instance) && 'b64' in instance
}

/**
 * For a model trained on an image zip, turns instances sent as image
 * files, `{ "b64": "<base64 PNG or JPEG>" }` as TensorFlow Serving writes
 * them, into pixel arrays prepared as the upload's images were (same
 * size, channels and scale). Other instances pass through unchanged.
 */
export async function decodeImageInstances(
  manifest: ModelManifest,
  instances: unknown[],
  names: RowNames = INSTANCES,
): Promise<unknown[]> {
  const pre = manifest.preprocessing
  if (pre.kind !== 'image' || !instances.some(isEncoded)) return instances

  return Promise.all(instances.map(async (instance, i) => {
    if (!isEncoded(instance)) return instance
    const path = `${names.row(i)}.b64`
    const bad = (why: string) => withDetails(new errors
      .PredictInvalidInstance(`${path}: ${why}`), { path, instance: i })
    if (typeof instance.b64 !== 'string') throw bad('must be a base64 string')
    const extra = Object.keys(instance).find((k) => k !== 'b64')
    if (extra !== undefined) {
      const at = `${names.row(i)}.${extra}`
      throw withDetails(new errors.PredictInvalidInstance(`${at}: an image ` +
        'instance holds b64 alone'), { path: at, instance: i })
    }
    // A data URL (data:image/png;base64,…) is the same bytes.
    const base64 = instance.b64.replace(/^data:[^,]*;base64,/, '')
      .replace(/\s/g, '')
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(base64)) throw bad('is not base64')

    let pixels: Buffer
    try {
      pixels = await decodeImage(Buffer.from(base64, 'base64'),
        pre.width, pre.height, pre.channels)
    } catch (err) {
      throw bad(`not a readable PNG or JPEG (${(err as Error).message})`)
    }
    return Array.from({ length: pre.height }, (_, r) =>
      Array.from({ length: pre.width }, (_, c) =>
        Array.from({ length: pre.channels }, (_, k) =>
          pixels[(r * pre.width + c) * pre.channels + k] / 255)))
  }))
}
