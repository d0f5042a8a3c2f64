import { errors, withDetails } from '../errors.ts'
import type { ModelManifest } from './model-registry.ts'

/**
 * The names the inference protocols use for a model's one input and
 * output tensors. A model trained on a table takes its columns instead,
 * each by its own name.
 */
export const INPUT_NAME = 'input'
export const OUTPUT_NAME = 'output'
/** A classifier's second output: the argmax class name of each row. */
export const CLASS_OUTPUT_NAME = 'class'

/** The column names of a model trained on a table, else undefined. */
export function columnsOf(manifest: ModelManifest): string[] | undefined {
  const pre = manifest.preprocessing
  return pre.kind === 'table' ? pre.features.map((f) => f.name) : undefined
}

/** One tensor of a signature; -1 is a dimension of any size (rows). */
export interface TensorSignature {
  name: string
  /** Numbers, or strings (a categorical column, class names). */
  kind: 'float' | 'string'
  shape: number[]
}

/**
 * What a loaded version takes and answers, in the inference protocols'
 * terms: its one input (a table model's columns instead) and its output,
 * plus the class names of a classifier. Each protocol spells the kinds
 * its own way.
 */
export function signatureOf(manifest: ModelManifest, outputShape: number[]):
  { inputs: TensorSignature[]; outputs: TensorSignature[] } {
  const pre = manifest.preprocessing
  const inputs: TensorSignature[] = pre.kind === 'table'
    ? pre.features.map((f) => ({ name: f.name,
      kind: f.kind === 'categorical' ? 'string' : 'float', shape: [-1] }))
    : [{ name: INPUT_NAME, kind: 'float', shape: [-1, ...manifest.inputShape] }]
  const outputs: TensorSignature[] = [
    { name: OUTPUT_NAME, kind: 'float', shape: [-1, ...outputShape] },
  ]
  if (manifest.task === 'classification') {
    outputs.push({ name: CLASS_OUTPUT_NAME, kind: 'string', shape: [-1] })
  }
  return { inputs, outputs }
}

/**
 * Refuses a graph model on the protocol routes, naming `path`: its input
 * is nodes of its graph, which their bodies cannot name.
 */
export function refuseGraphModel(manifest: ModelManifest, name: string,
  path: string): void {
  if (!manifest.graph) return
  throw withDetails(new errors.RequestInvalid(`${name} is a graph model; ` +
    `use POST /v1/models/${name}/predict with nodes`), { path })
}
