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
