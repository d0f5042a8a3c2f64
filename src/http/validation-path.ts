import type { FastifySchemaValidationError } from 'fastify'
import { patternWords } from './schemas/patterns.ts'

/** The part of the request a validation error is in, as a path prefix. */
function prefixOf(context: string | undefined): string {
  if (context === 'querystring') return 'query'
  if (context === 'params') return 'params'
  if (context === 'headers') return 'headers'
  if (context === 'fields') return 'fields'
  return ''
}

/**
 * `/spec/layers/2/units` in the body becomes `spec.layers[2].units`: the
 * way people write paths into a JSON document.
 */
export function toPath(pointer: string, context?: string): string {
  let path = prefixOf(context)
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (/^[0-9]+$/.test(part)) path += `[${part}]`
    else path += path === '' ? part : `.${part}`
  }
  return path
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

export interface ValidationProblem {
  path: string
  message: string
  unknownType?: string
}

/**
 * One Ajv error as a path and a sentence. Ajv puts the name of a missing
 * or unexpected property in `params`, not in the path; it is moved into
 * the path so that it names the field itself.
 */
export function describeValidationError(
  error: FastifySchemaValidationError,
  context?: string,
): ValidationProblem {
  const path = toPath(error.instancePath, context)
  const params = error.params as Record<string, unknown>

  switch (error.keyword) {
    case 'required':
      return { path: join(path, String(params.missingProperty)),
        message: 'is required' }
    case 'additionalProperties':
      return { path: join(path, String(params.additionalProperty)),
        message: 'is not a known field' }
    case 'discriminator':
      if (params.error === 'mapping') {
        return { path: join(path, 'type'), unknownType:
          String(params.tagValue), message: 'is not a known type' }
      }
      return { path: join(path, 'type'), message: 'must be a string' }
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}` }
    case 'pattern': {
      const words = patternWords(String(params.pattern))
      return { path, message: words ? `must be ${words}`
        : error.message ?? 'is invalid' }
    }
    case 'enum':
      return { path, message: 'must be one of ' +
        (params.allowedValues as unknown[]).join(', ') }
    default:
      return { path, message: error.message ?? 'is invalid' }
  }
}
