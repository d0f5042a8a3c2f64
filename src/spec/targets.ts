import type { DatasetRecord } from '../data/dataset.ts'
import { errors, withDetails } from '../errors.ts'
import type { ModelSpec } from './schema.ts'

/**
 * How the stored labels are fed to the loss:
 * `oneHot` (class index → one-hot row), `index` (class index as is, for
 * sparse cross-entropy), `binary` (index 0/1 against one sigmoid unit),
 * `values` (regression targets as stored).
 */
export type TargetEncoding = 'oneHot' | 'index' | 'binary' | 'values'

type Labels = Pick<DatasetRecord,
  'task' | 'classes' | 'targetShape' | 'targetRange'>

function mismatch(message: string, last: number) {
  return withDetails(new errors.SpecShapeMismatch(message),
    { path: `spec.layers[${last}]`, layer: last })
}

/**
 * Decides how labels meet the model's output, or throws a 400 that names
 * the last layer when they cannot: a width that is not the class count, or
 * a loss that does not fit the task.
 */
export function targetEncoding(
  labels: Labels,
  spec: ModelSpec,
  outputShape: Array<number | null>,
): TargetEncoding {
  const last = spec.layers.length - 1
  if (outputShape.length !== 2) {
    throw mismatch(`the last layer's output has shape ` +
      `${JSON.stringify(outputShape)}; it must be [batch, units]`, last)
  }
  const units = outputShape[1]!

  if (labels.task === 'classification') {
    const k = labels.classes!.length
    const fit = `the last layer has ${units} units but the dataset has ${k} ` +
      `classes (${labels.classes!.slice(0, 10).join(', ')}${k > 10 ? ', …' : ''})`
    if (spec.loss === 'binaryCrossentropy' && units === 1) {
      if (k === 2) return 'binary'
      throw mismatch(`binaryCrossentropy with 1 unit needs 2 classes; ${fit}`,
        last)
    }
    if (units !== k) throw mismatch(fit, last)
    return spec.loss === 'sparseCategoricalCrossentropy' ? 'index' : 'oneHot'
  }

  const targets = labels.targetShape![0]
  if (spec.loss === 'categoricalCrossentropy' ||
    spec.loss === 'sparseCategoricalCrossentropy') {
    throw withDetails(new errors.SpecShapeMismatch(`loss ${spec.loss} needs ` +
      'class labels, but the dataset is a regression dataset'),
    { path: 'spec.loss' })
  }
  const [low, high] = labels.targetRange ?? [0, 1]
  if (spec.loss === 'binaryCrossentropy' && (low < 0 || high > 1)) {
    throw withDetails(new errors.SpecShapeMismatch('loss binaryCrossentropy ' +
      `needs targets between 0 and 1; the dataset's run from ${low} to ` +
      `${high}`), { path: 'spec.loss' })
  }
  if (units !== targets) {
    throw mismatch(`the last layer has ${units} units but each row has ` +
      `${targets} regression targets`, last)
  }
  return 'values'
}
