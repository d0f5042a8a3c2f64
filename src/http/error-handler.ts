import { STATUS_CODES } from 'node:http'
import type {
  FastifyError, FastifyInstance, FastifyReply, FastifyRequest,
} from 'fastify'
import type { Duplex } from 'node:stream'
import {
  codeOf, errors, isTqError, withDetails, type TqError,
} from '../errors.ts'
import { LAYER_TYPES } from '../spec/schema.ts'
import { OPTIMIZER_TYPES } from '../spec/vocabulary.ts'
import { jsonBodyParser } from './json-body.ts'
import { describeValidationError } from './validation-path.ts'

function fromValidation(err: FastifyError): TqError {
  const problem = describeValidationError(err.validation![0],
    err.validationContext)

  // bidirectional wraps a recurrent layer only.
  if (problem.unknownType !== undefined &&
    problem.path.endsWith('.layer.type')) {
    return withDetails(new errors.SpecUnknownLayer(
      `${problem.path}: bidirectional wraps simpleRNN, lstm or gru, not ` +
      JSON.stringify(problem.unknownType)), { path: problem.path })
  }
  // The optimizer is picked by its type as a layer is.
  if (problem.unknownType !== undefined &&
    problem.path.endsWith('optimizer.type')) {
    return withDetails(new errors.SpecInvalid(
      `${problem.path}: unknown optimizer ` +
      `${JSON.stringify(problem.unknownType)}; known optimizers: ` +
      OPTIMIZER_TYPES.join(', ')), { path: problem.path })
  }
  if (problem.unknownType !== undefined) {
    return withDetails(new errors.SpecUnknownLayer(
      `${problem.path}: unknown layer type ` +
      `${JSON.stringify(problem.unknownType)}; known types: ` +
      LAYER_TYPES.join(', ')), { path: problem.path })
  }
  return withDetails(new errors.RequestInvalid(
    `${problem.path || 'body'} ${problem.message}`), { path: problem.path })
}

// Fastify's own errors (body parsing, limits) map onto the catalogue so
// that clients see TQ_ERR_ codes only.
const FASTIFY: Record<string, (err: FastifyError) => TqError> = {
  // Fastify's own text says the Content-Type was application/json, which
  // is wrong where a route reads any body as JSON (the protocol routes).
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    new errors.RequestMalformedJson('the body is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new errors.RequestInvalid('the body is empty; a JSON object was expected'),
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new errors.RequestTooLarge('the body is larger than the upload limit'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    new errors.RequestUnsupportedMediaType('unsupported Content-Type; ' +
      'send application/json, or for a dataset upload text/csv, ' +
      'application/x-ndjson, application/zip or multipart/form-data'),
  // From @fastify/multipart, as a form streams in.
  FST_REQ_FILE_TOO_LARGE: () =>
    new errors.RequestTooLarge('a file is larger than the upload limit'),
  FST_FILES_LIMIT: () => new errors.RequestTooLarge('too many files; a ' +
    'dataset upload has one file, or two for IDX'),
  FST_FIELDS_LIMIT: () => new errors.RequestTooLarge('too many form fields'),
  FST_PARTS_LIMIT: () => new errors.RequestTooLarge('too many form parts'),
  FST_MP_PREMATURE_CLOSE: () => new errors.RequestInvalid('the form ended ' +
    'before all of it arrived'),
  FST_PROTO_VIOLATION: () => new errors.RequestInvalid('a form field name ' +
    'is not allowed'),
}

/** Any error thrown while serving a request, as a catalogue error. */
export function toTqError(err: FastifyError): TqError {
  if (isTqError(err)) return err
  if (err.validation) return fromValidation(err)

  const mapped = FASTIFY[err.code]
  if (mapped) return mapped(err)

  // A SyntaxError from a JSON body parser that is not Fastify's own.
  if (err instanceof SyntaxError && err.statusCode === 400) {
    return new errors.RequestMalformedJson(err.message)
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    const e = new errors.RequestInvalid(err.message)
    e.statusCode = err.statusCode
    return e
  }

  const internal = new errors.Internal('internal error') as TqError
  internal.cause = err
  return internal
}

interface Judged {
  err: TqError
  status: number
  /** Ours, not the client's: its message stays in the log. */
  unexpected: boolean
}

/**
 * Status: what the error carries if 400 or above, else 500. Logging: an
 * unexpected error is ours and goes out at error with its stack; a 503
 * the catalogue raises on purpose (Redis away) at warn; a 4xx is the
 * client's and goes out at info, so that bad requests cannot flood the
 * error log.
 */
function judge(raw: FastifyError, request: FastifyRequest): Judged {
  const err = toTqError(raw)
  const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500

  const unexpected = err.code === codeOf(errors.Internal)
  if (unexpected) {
    request.log.error({ err: err.cause ?? raw, code: err.code },
      'request failed')
  } else if (status >= 500) {
    request.log.warn({ code: err.code, reason: err.message },
      'request not served')
  } else {
    request.log.info({ code: err.code, reason: err.message },
      'request rejected')
  }
  return { err, status, unexpected }
}

function hiddenMessage(status: number, request: FastifyRequest): string {
  const reason = (STATUS_CODES[status] ?? 'Error').toLowerCase()
  return `${reason}; see the server log for request ${request.id}`
}

/**
 * The one error handler (see judge for status and logging). An
 * unexpected error's message stays in the log, never the reply: only
 * messages tensorq wrote for clients go out.
 */
export function errorHandler(
  raw: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const { err, status, unexpected } = judge(raw, request)
  return reply.status(status).send({
    statusCode: status,
    code: err.code,
    error: STATUS_CODES[status] ?? 'Error',
    message: unexpected ? hiddenMessage(status, request) : err.message,
    details: unexpected ? undefined : err.details,
  })
}

/**
 * The error handler of the TensorFlow Serving and Open Inference routes:
 * errorHandler's status and message, in the body those protocols'
 * clients read, `{ "error": "…" }`.
 */
export function protocolErrorHandler(
  raw: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const { err, status, unexpected } = judge(raw, request)
  return reply.status(status).send({
    error: unexpected ? hiddenMessage(status, request) : err.message,
  })
}

/**
 * Reads a body of any Content-Type, or none, as JSON, in the plugin it is
 * called in: the TensorFlow Serving and Open Inference documents send
 * JSON with curl's default form type. Same parser, limits and
 * prototype-poisoning checks as application/json (json-body.ts).
 */
export function acceptAnyContentType(app: FastifyInstance): void {
  // The dataset uploads' parsers would otherwise take these types first
  // and hand the routes a string or a buffer.
  app.removeContentTypeParser(UPLOAD_TYPES)
  app.addContentTypeParser('*', { parseAs: 'string' }, jsonBodyParser)
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'text/plain',
    ...UPLOAD_TYPES], { parseAs: 'string' }, jsonBodyParser)
}

/** The Content-Types the app parses for dataset uploads (app.ts). */
const UPLOAD_TYPES = ['text/csv', 'application/x-ndjson', 'application/ndjson',
  'application/jsonl', 'application/zip', 'multipart/form-data']

/** Answers requests that match no route with a catalogue 404. */
export function notFoundHandler(
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  return errorHandler(
    new errors.RouteNotFound(`no route ${request.method} ${request.url}`),
    request, reply)
}

/**
 * Answers requests Node's HTTP parser rejects (a Content-Length that does
 * not match, bad headers) in the usual error shape, then closes.
 */
export function clientErrorHandler(_err: Error, socket: Duplex): void {
  if (!socket.writable) return
  const body = JSON.stringify({
    statusCode: 400,
    code: codeOf(errors.RequestInvalid),
    error: 'Bad Request',
    message: 'the request could not be parsed as HTTP',
  })
  socket.end('HTTP/1.1 400 Bad Request\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' + body)
}
