import { Type } from '@sinclair/typebox'
import {
  ModelName, ModelSpec, StringEnum, TrainingSettings,
} from '../../spec/schema.ts'
import { Metrics } from './common.ts'
import { PAGE_OFFSET, PAGE_SIZE } from './patterns.ts'

export const CreateJobBody = Type.Object({
  model: ModelName,
  dataset: Type.String({ description: 'A dataset id.' }),
  spec: Type.Optional(ModelSpec),
  training: Type.Optional(TrainingSettings),
}, { additionalProperties: false })

const JobState = StringEnum(['queued', 'active', 'completed', 'failed',
  'cancelled'] as const)

export const JobRecordSchema = Type.Object({
  id: Type.String(),
  state: JobState,
  model: Type.String(),
  dataset: Type.String(),
  attempts: Type.Integer(),
  backend: Type.Optional(Type.String()),
  progress: Type.Optional(Type.Object({
    epoch: Type.Integer(),
    epochs: Type.Integer(),
    loss: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
    metrics: Metrics,
  })),
  history: Type.Array(Type.Record(Type.String(),
    Type.Union([Type.Number(), Type.Null()])), {
    description: 'One row per epoch: epoch, loss, val_loss and the ' +
      'metrics as tfjs names them (acc, val_acc, …); null where a value ' +
      'was NaN.',
  }),
  result: Type.Optional(Type.Object({
    model: Type.String(),
    version: Type.Integer(),
  })),
  error: Type.Optional(Type.Object({
    code: Type.String(),
    message: Type.String(),
  })),
  lastError: Type.Optional(Type.String({
    description: 'Why the last attempt failed, while a retry is queued.',
  })),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Type.Optional(Type.String({ format: 'date-time' })),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
})

export const JobListQuery = Type.Object({
  state: Type.Optional(JobState),
  model: Type.Optional(Type.String({ minLength: 1 })),
  limit: Type.Optional(Type.String({ pattern: PAGE_SIZE,
    description: 'Jobs per page, 1 to 100; 20 when absent.' })),
  offset: Type.Optional(Type.String({ pattern: PAGE_OFFSET,
    description: 'Jobs to skip; 0 when absent.' })),
}, { additionalProperties: false })

export const JobList = Type.Object({
  jobs: Type.Array(JobRecordSchema, { description: 'Newest first; ' +
    'history left out (GET /v1/jobs/{id} has it).' }),
  total: Type.Integer({ description: 'Jobs that match, on all pages.' }),
  next: Type.Optional(Type.String({ description: 'The query of the next ' +
    'page, when there is one.' })),
})
