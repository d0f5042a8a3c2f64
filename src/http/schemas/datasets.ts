import { Type } from '@sinclair/typebox'
import { StringEnum } from '../../spec/schema.ts'

const Task = StringEnum(['classification', 'regression'] as const)

export const DatasetName = Type.String({
  minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$',
  description: 'Any text without control characters.',
})

export const JsonDatasetUpload = Type.Object({
  name: DatasetName,
  format: Type.Optional(Type.Literal('json')),
  task: Type.Optional(Task),
  rows: Type.Array(Type.Object({
    x: Type.Unknown({ description: 'A number or a nested array of numbers; ' +
      'every row has the shape of the first.' }),
    y: Type.Optional(Type.Unknown({ description: 'A class index, a class ' +
      'name, or a number array (one-hot, or regression targets).' })),
  }, { additionalProperties: false }), { minItems: 1 }),
}, { additionalProperties: false })

export const CsvQuery = Type.Object({
  name: Type.Optional(DatasetName),
  format: Type.Optional(Type.Literal('csv')),
  label: Type.Optional(Type.String({ minLength: 1,
    description: 'The label column (required for CSV).' })),
  features: Type.Optional(Type.String({ description: 'Comma-separated ' +
    'feature columns; all but the label when absent.' })),
  categorical: Type.Optional(Type.String({ description: 'Comma-separated ' +
    'columns to one-hot encode even if they look numeric.' })),
  task: Type.Optional(Task),
}, { additionalProperties: false })

export const DatasetRecordSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  format: StringEnum(['json', 'csv'] as const),
  rows: Type.Integer(),
  inputShape: Type.Array(Type.Integer()),
  task: Task,
  classes: Type.Optional(Type.Array(Type.String())),
  classCounts: Type.Optional(Type.Array(Type.Integer())),
  targetShape: Type.Optional(Type.Array(Type.Integer())),
  targetRange: Type.Optional(Type.Array(Type.Number(), {
    minItems: 2, maxItems: 2, description: 'Smallest and largest target.',
  })),
  featureNames: Type.Optional(Type.Array(Type.String())),
  inputRange: Type.Optional(Type.Array(Type.Number(), {
    minItems: 2, maxItems: 2, description: 'Smallest and largest x value.',
  })),
  integerInputs: Type.Optional(Type.Boolean({
    description: 'Whether every x value is a whole number (token ids).',
  })),
  preprocessing: Type.Any({ description: 'How raw rows become model input ' +
    '(per-column mean and std, category values); applied again at predict.' }),
  createdAt: Type.String({ format: 'date-time' }),
})
