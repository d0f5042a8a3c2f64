import { errors, withDetails } from '../errors.ts'

/** What a dataset's labels are for. */
export type Task = 'classification' | 'regression'

/**
 * A numeric CSV column, standardized with the stats kept here (unless the
 * upload said normalize=false). `fill` stands in for a missing value.
 */
export interface NumericFeature {
  name: string
  kind: 'numeric'
  mean: number
  std: number
  min: number
  max: number
  /** False when uploaded with normalize=false: values go in as they are. */
  standardize?: boolean
  /** Cells that were missing in the upload. */
  missing?: number
  fill?: number
}

/** A string CSV column, one-hot encoded over `values`. */
export interface CategoricalFeature {
  name: string
  kind: 'categorical'
  values: string[]
  /** How often each value occurs, in the order of `values`. */
  counts?: number[]
  missing?: number
  fill?: string
}

export type Feature = NumericFeature | CategoricalFeature

/**
 * How raw input becomes the model's input, kept with the dataset and the
 * model versions trained on it, so predict accepts what the upload had.
 */
export type Preprocessing =
  | { kind: 'tensor' }
  | { kind: 'table'; label: string; features: Feature[] }
  | { kind: 'graph' }
  | { kind: 'image'; width: number; height: number; channels: 1 | 3 }

/** A graph dataset's size: nodes, undirected edges, and nodes per split. */
export interface GraphSummary {
  nodes: number
  edges: number
  train: number
  val: number
  test: number
  unlabelled: number
}

/** What a dataset was uploaded as. */
export const DATASET_FORMATS =
  ['json', 'ndjson', 'csv', 'graph', 'idx', 'images'] as const
export type DatasetFormat = (typeof DATASET_FORMATS)[number]

/** A dataset's record: what GET /v1/datasets/{id} answers. */
export interface DatasetRecord {
  id: string
  name: string
  format: DatasetFormat
  /** Rows; for a graph, its nodes. */
  rows: number
  inputShape: number[]
  task: Task
  /** Class names; index i is output unit i. Classification only. */
  classes?: string[]
  classCounts?: number[]
  /** Regression targets per row. */
  targetShape?: number[]
  /** The smallest and largest regression target. */
  targetRange?: [number, number]
  /** The smallest and largest input value, and whether all are whole. */
  inputRange?: [number, number]
  integerInputs?: boolean
  featureNames?: string[]
  /** CSV rows left out for a missing value (missing=drop). */
  droppedRows?: number
  preprocessing: Preprocessing
  graph?: GraphSummary
  createdAt: string
}

/** What a graph dataset keeps beside its node rows. */
export interface GraphData {
  /** Directed pairs [s, d, …]: each undirected edge both ways, once. */
  edges: Int32Array
  /** Per node: 0 without a label, else 1 train, 2 val, 3 test. */
  split: Uint8Array
}

/**
 * A parsed dataset ready to store: `x` holds `rows × prod(inputShape)`
 * floats; `y` holds one class index per row, or the regression targets.
 */
export interface EncodedDataset {
  record: Omit<DatasetRecord, 'id' | 'createdAt'>
  x: Float32Array
  y: Float32Array
  graph?: GraphData
}

/**
 * The most floats a dataset's inputs may hold (1 GiB): one-hot encoding
 * can turn a 7 MB CSV into gigabytes, which the api and the worker would
 * then hold in memory.
 */
export const MAX_DATASET_VALUES = 256 * 1024 * 1024

/** Throws a 400 when rows × width passes MAX_DATASET_VALUES. */
export function checkDatasetSize(rows: number, width: number): void {
  if (rows * width <= MAX_DATASET_VALUES) return
  throw withDetails(new errors.DatasetInvalid(`${rows} rows × ${width} ` +
    `input values is more than the ${MAX_DATASET_VALUES} a dataset may ` +
    'hold; use fewer rows or fewer (or narrower) columns'),
  { rows, width })
}

/** The product of a shape's dimensions. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}
