import { tf } from './backend.ts'
// Custom layers register on import; loading a model that uses one needs it.
import './layers/register.ts'

/** File name of the weights next to model.json, as model.json names it. */
export const WEIGHTS_FILE = 'weights.bin'

/** A model in TF.js layers format: model.json and its one weights file. */
export interface SerializedModel {
  modelJson: Record<string, unknown>
  weights: Buffer
}

/**
 * Serializes a layers model to what `tf.loadLayersModel(url)` reads:
 * model.json with a weights manifest pointing at WEIGHTS_FILE.
 */
export async function serializeModel(
  model: tf.LayersModel,
): Promise<SerializedModel> {
  let saved: tf.io.ModelArtifacts | undefined
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
      },
    }
  }))
  if (!saved?.weightData || !saved.weightSpecs) {
    throw new Error('tfjs saved no weights')
  }

  const data = tf.io.CompositeArrayBuffer.join(saved.weightData)
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: saved.generatedBy,
      convertedBy: saved.convertedBy ?? null,
      modelTopology: saved.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: saved.weightSpecs }],
    },
    weights: Buffer.from(data),
  }
}

/** Loads a model serialized by serializeModel. */
export async function deserializeModel(
  saved: SerializedModel,
): Promise<tf.LayersModel> {
  const manifest = saved.modelJson.weightsManifest as tf.io.WeightsManifestConfig
  const weights = saved.weights
  const data = weights.buffer.slice(weights.byteOffset,
    weights.byteOffset + weights.byteLength) as ArrayBuffer

  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: saved.modelJson.modelTopology as object,
    weightSpecs: manifest.flatMap((group) => group.weights),
    weightData: data,
  }))
}
