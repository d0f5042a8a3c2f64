import type { FastifySchema } from 'fastify'
import { DOCUMENTED_BODY } from './schemas/common.ts'

type Json = unknown

/**
 * Rewrites every `if`/`then`/`else` schema in the OpenAPI document as a
 * `oneOf` of its two branches. Requests are validated with if/then/else,
 * so that an error comes from the one branch that applies; but client
 * generators (openapi-typescript among them) know oneOf and not if, and
 * would type such a body as an empty object.
 */
export function branchesAsOneOf(node: Json): Json {
  if (Array.isArray(node)) return node.map(branchesAsOneOf)
  if (typeof node !== 'object' || node === null) return node

  const { if: _if, then, else: otherwise, ...rest } =
    node as Record<string, Json>
  const out: Record<string, Json> = {}
  for (const [key, value] of Object.entries(rest)) {
    out[key] = branchesAsOneOf(value)
  }
  if (then === undefined || otherwise === undefined) return out
  return { ...out, oneOf: [branchesAsOneOf(then), branchesAsOneOf(otherwise)] }
}

/**
 * A route schema as the document shows it: the body content types under
 * DOCUMENTED_BODY join those Fastify validates.
 */
export function withDocumentedBody(schema: FastifySchema): FastifySchema {
  const { [DOCUMENTED_BODY]: extra, ...rest } =
    schema as FastifySchema & Record<string, unknown>
  if (!extra) return schema
  const body = rest.body as { content?: Record<string, unknown> } | undefined
  return { ...rest,
    body: { ...body, content: { ...body?.content, ...(extra as object) } } }
}
