import type { FastifyRequest } from 'fastify'
import sjson from 'secure-json-parse'
import { errors } from '../errors.ts'

// Fastify's own JSON parser refuses a body with one error for every
// reason, "not valid JSON", even where the JSON is valid but holds a
// __proto__ key (refused because it could change the prototype of every
// object the body's values are merged into). This one says which.

const POISON = /forbidden (prototype|constructor) property/

/**
 * Parses `text` as JSON with prototype poisoning refused; throws a
 * catalogue error naming `what` ("the body") that says why it refused.
 */
export function parseJson(text: string, what: string): unknown {
  try {
    return sjson.parse(text, { protoAction: 'error',
      constructorAction: 'error' })
  } catch (err) {
    const reason = (err as Error).message
    if (POISON.test(reason)) {
      throw new errors.RequestInvalid(`${what} has a __proto__ or ` +
        'constructor.prototype key, which is refused: it could change ' +
        'the prototype of every object')
    }
    throw new errors.RequestMalformedJson(`${what} is not valid JSON: ` +
      reason)
  }
}

/** A Fastify content-type parser (parseAs: 'string') for JSON bodies. */
export function jsonBodyParser(_request: FastifyRequest, body: string,
  done: (err: Error | null, value?: unknown) => void): void {
  if (body.length === 0) {
    done(new errors.RequestInvalid('the body is empty; a JSON object was ' +
      'expected'))
    return
  }
  try {
    done(null, parseJson(body, 'the body'))
  } catch (err) {
    done(err as Error)
  }
}
