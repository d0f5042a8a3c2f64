import type { DatasetRecord } from '../data/dataset.ts'
import { errors, withDetails } from '../errors.ts'
import type { ModelSpec } from './schema.ts'
import { CLASSIFICATION_LOSSES } from './vocabulary.ts'

/**
 * How the stored labels are fed to the loss:
 * `oneHot` (class index → one-hot row), `index` (class index as is, for
 * sparse cross-entropy), `binary` (index 0/1 against one output unit),
 * `values` (regression targets as stored).
 */
export type TargetEncoding = 'oneHot' | 'index' | 'binary' | 'values'

type Labels = Pick<DatasetRecord,
  'task' | 'classes' | 'targetShape' | 'targetRange'>

// Losses that score one unit against a 0/1 label.
const BINARY = new Set(['binaryCrossentropy', 'hinge', 'squaredHinge'])

function mismatch(message: string, last: number) {
  return withDetails(new errors.SpecShapeMismatch(message),
    { path: `spec.layers[${last}]`, layer: last })
}

function classification(labels: Labels, spec: ModelSpec, units: number,
  last: number): TargetEncoding {
  const k = labels.classes!.length
  const fit = `the last layer has ${units} unit${units === 1 ? '' : 's'} ` +
    `but the dataset has ${k} ` +
    `classes (${labels.classes!.slice(0, 10).join(', ')}${k > 10 ? ', …' : ''})`

  if (units === 1 && BINARY.has(spec.loss)) {
    if (k === 2) return 'binary'
    throw mismatch(`${spec.loss} with 1 unit needs 2 classes; ${fit}`, last)
  }
  if (units !== k) throw mismatch(fit, last)
  return spec.loss === 'sparseCategoricalCrossentropy' ? 'index' : 'oneHot'
}

function regression(labels: Labels, spec: ModelSpec, units: number,
  last: number): TargetEncoding {
  const targets = labels.targetShape![0]
  const [low, high] = labels.targetRange ?? [0, 1]

  if (spec.loss === 'binaryCrossentropy') {
    if (low < 0 || high > 1) {
      throw withDetails(new errors.SpecShapeMismatch('loss binaryCrossentropy ' +
        `needs targets between 0 and 1; the dataset's run from ${low} to ` +
        `${high}`), { path: 'spec.loss' })
    }
  } else if ((CLASSIFICATION_LOSSES as readonly string[]).includes(spec.loss)) {
    throw withDetails(new errors.SpecShapeMismatch(`loss ${spec.loss} needs ` +
      'class labels, but the dataset is a regression dataset'),
    { path: 'spec.loss' })
  }
  if (units !== targets) {
    throw mismatch(`the last layer has ${units} units but each row has ` +
      `${targets} regression targets`, last)
  }
  return 'values'
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
      `${JSON.stringify(outputShape).replace(/null/g, 'batch')}; it must be ` +
      '[batch, units] (add flatten, a global pooling layer, or a recurrent ' +
      'layer without returnSequences)', last)
  }
  const units = outputShape[1]!
  return labels.task === 'classification'
    ? classification(labels, spec, units, last)
    : regression(labels, spec, units, last)
}
