import { Type, type Static } from '@sinclair/typebox'
import { DATASET_FORMATS } from '../../data/dataset.ts'
import { StringEnum } from '../../spec/schema.ts'
import {
  CSV_DELIMITER, IMAGE_SIZE, NO_CONTROL_CHARACTERS,
} from './patterns.ts'

const Task = StringEnum(['classification', 'regression'] as const)

export const DatasetName = Type.String({
  minLength: 1, maxLength: 128, pattern: NO_CONTROL_CHARACTERS,
  description: 'Any text without control characters.',
})

export const JsonRowsUpload = Type.Object({
  name: DatasetName,
  format: Type.Optional(Type.Literal('json')),
  task: Type.Optional(Task),
  rows: Type.Array(Type.Object({
    x: Type.Unknown({ description: 'A number or a nested array of numbers; ' +
      'every row has the shape of the first.' }),
    y: Type.Optional(Type.Unknown({ description: 'A class index, a class ' +
      'name, or a number array (one-hot, or regression targets).' })),
  }, { additionalProperties: false }), { minItems: 1 }),
}, { additionalProperties: false, title: 'JSON rows' })

export const GraphUpload = Type.Object({
  name: DatasetName,
  format: Type.Literal('graph'),
  task: Type.Optional(Task),
  nodes: Type.Array(Type.Object({
    features: Type.Unknown({ description: 'A number or a nested array of ' +
      'numbers; every node has the shape of the first.' }),
    label: Type.Optional(Type.Unknown({ description: 'As a row\'s y; ' +
      'nodes without one are unlabelled.' })),
    split: Type.Optional(StringEnum(['train', 'val', 'test'] as const, {
      description: 'What the node is for; train when it has a label and ' +
        'no split. Validation uses the val nodes; test nodes are scored ' +
        'once training ends.',
    })),
  }, { additionalProperties: false }), {
    minItems: 1,
    description: 'Node i is the i-th entry; edges and predict name nodes so.',
  }),
  edges: Type.Array(Type.Array(Type.Integer({ minimum: 0 }),
    { minItems: 2, maxItems: 2 }), {
    description: 'Undirected [a, b] pairs of node numbers; duplicates ' +
      'and self-loops are dropped (graph convolution adds its own).',
  }),
}, { additionalProperties: false, title: 'Graph' })

/**
 * A JSON upload: rows, or a graph when `format` is `graph`. if/then/else
 * and not oneOf, so that errors come from the one branch that applies;
 * Ajv's discriminator would make `format` required in both.
 */
export const JsonDatasetUpload = Type.Unsafe<
  Static<typeof JsonRowsUpload> | Static<typeof GraphUpload>>({
  type: 'object',
  // A body with nodes is meant as a graph: it is told of a missing
  // format: graph, not of missing rows.
  if: { anyOf: [
    { properties: { format: { const: 'graph' } }, required: ['format'] },
    { required: ['nodes'] },
  ] },
  then: GraphUpload,
  else: JsonRowsUpload,
})

/** Formats that arrive as a file or a raw body rather than JSON. */
export const FILE_FORMATS = ['csv', 'ndjson', 'idx', 'images'] as const

/**
 * Options of a file upload (a raw body or multipart/form-data), in the
 * query string or, for multipart, as form fields: all strings, as both
 * carry them.
 */
export const UploadOptions = Type.Object({
  name: Type.Optional(DatasetName),
  format: Type.Optional(StringEnum(FILE_FORMATS, { description: 'What ' +
    'the upload is; from the Content-Type or the file names when absent.' })),
  task: Type.Optional(Task),
  label: Type.Optional(Type.String({ minLength: 1,
    description: 'CSV: the label column (required).' })),
  features: Type.Optional(Type.String({ description: 'CSV: ' +
    'comma-separated feature columns; all but the label when absent.' })),
  categorical: Type.Optional(Type.String({ description: 'CSV: ' +
    'comma-separated columns to one-hot encode even if they look numeric.' })),
  delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 1,
    pattern: CSV_DELIMITER,
    description: 'CSV: the field separator; guessed from the header when ' +
      'absent (comma, semicolon, tab or bar).' })),
  missing: Type.Optional(StringEnum(['error', 'drop', 'mean'] as const, {
    description: 'CSV: what an empty cell does. error (default): a 400; ' +
      'drop: its row is left out; mean: the column mean (most frequent ' +
      'value for categories), at predict too.',
  })),
  normalize: Type.Optional(StringEnum(['true', 'false'] as const, {
    description: 'CSV: false keeps numeric columns as they are instead of ' +
      'standardizing them (mean 0, std 1).',
  })),
  size: Type.Optional(Type.String({ pattern: IMAGE_SIZE,
    description: 'Images: WIDTHxHEIGHT (or one number for both) to resize ' +
      'to; the first image\'s size when absent.' })),
  channels: Type.Optional(StringEnum(['1', '3'] as const, {
    description: 'Images: 1 (grey) or 3 (RGB); the first image\'s when ' +
      'absent.' })),
}, { additionalProperties: false })

/** multipart/form-data, for the document: files plus option fields. */
export const MultipartUpload = Type.Object({
  file: Type.Optional(Type.String({ format: 'binary', description: 'The ' +
    'dataset file: CSV, NDJSON, or a zip of images in one folder per ' +
    'class. For IDX, two files (any field names): images and labels, ' +
    'raw or gzipped.' })),
  ...UploadOptions.properties,
}, { additionalProperties: true })

export const DatasetRecordSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  format: StringEnum(DATASET_FORMATS),
  rows: Type.Integer({ description: 'Rows; for a graph, its nodes.' }),
  inputShape: Type.Array(Type.Integer()),
  task: Task,
  classes: Type.Optional(Type.Array(Type.String())),
  classCounts: Type.Optional(Type.Array(Type.Integer())),
  targetShape: Type.Optional(Type.Array(Type.Integer())),
  targetRange: Type.Optional(Type.Array(Type.Number(), {
    minItems: 2, maxItems: 2, description: 'Smallest and largest target.',
  })),
  featureNames: Type.Optional(Type.Array(Type.String())),
  droppedRows: Type.Optional(Type.Integer({
    description: 'CSV rows left out for a missing value (missing=drop).',
  })),
  inputRange: Type.Optional(Type.Array(Type.Number(), {
    minItems: 2, maxItems: 2, description: 'Smallest and largest x value.',
  })),
  integerInputs: Type.Optional(Type.Boolean({
    description: 'Whether every x value is a whole number (token ids).',
  })),
  preprocessing: Type.Any({ description: 'How raw rows become model input ' +
    '(per-column mean and std, category values); applied again at predict.' }),
  graph: Type.Optional(Type.Object({
    nodes: Type.Integer(),
    edges: Type.Integer({ description: 'Undirected, without duplicates.' }),
    train: Type.Integer(),
    val: Type.Integer(),
    test: Type.Integer(),
    unlabelled: Type.Integer(),
  })),
  createdAt: Type.String({ format: 'date-time' }),
})
