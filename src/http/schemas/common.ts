import { Type } from '@sinclair/typebox'

/** The body of every error reply. */
export const ErrorBody = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'Stable TQ_ERR_ code; see the README.' }),
  error: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Any(), {
    description: 'Where the problem is: path, row, line, column, layer.',
  })),
}, { $id: 'ErrorBody' })

export const ErrorRef = Type.Ref(ErrorBody)

export const IdParams = Type.Object({ id: Type.String({ minLength: 1 }) })

/** Metric values by name; null where tfjs reported NaN. */
export const Metrics = Type.Record(Type.String(),
  Type.Union([Type.Number(), Type.Null()]))

/**
 * A route schema key for body content types that the document shows but
 * Fastify does not validate as a body (multipart, read part by part).
 */
export const DOCUMENTED_BODY = 'x-documented-body'
