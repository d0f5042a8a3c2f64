import createError, { type FastifyError } from '@fastify/error'

/** An error from the catalogue, optionally with where it happened. */
export interface TqError extends FastifyError {
  details?: Record<string, unknown>
}

interface CatalogueEntry {
  code: string
  statusCode: number
  meaning: string
}

const entries: CatalogueEntry[] = []

function define(code: string, statusCode: number, meaning: string) {
  entries.push({ code, statusCode, meaning })
  return createError<[string]>(code, '%s', statusCode)
}

/**
 * Every error tensorq sends or records, in one place. Codes are stable:
 * clients branch on them. The README lists them; a test keeps the two in
 * step.
 */
export const errors = {
  RequestInvalid: define('TQ_ERR_REQUEST_INVALID', 400,
    'A field of the request does not match its schema; `details.path` ' +
    'names it.'),
  RequestMalformedJson: define('TQ_ERR_REQUEST_MALFORMED_JSON', 400,
    'The body is not valid JSON.'),
  RequestTooLarge: define('TQ_ERR_REQUEST_TOO_LARGE', 413,
    'The body is larger than `MAX_UPLOAD_BYTES`.'),
  RequestUnsupportedMediaType: define(
    'TQ_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', 415,
    'The route does not take this Content-Type.'),
  RouteNotFound: define('TQ_ERR_ROUTE_NOT_FOUND', 404,
    'No route has this method and path.'),
  DatasetInvalid: define('TQ_ERR_DATASET_INVALID', 400,
    'The dataset cannot be used as it is; the message and `details` say ' +
    'which row, line, column or entry.'),
  DatasetNotFound: define('TQ_ERR_DATASET_NOT_FOUND', 404,
    'No dataset has this id.'),
  DatasetInUse: define('TQ_ERR_DATASET_IN_USE', 409,
    'A queued or active job trains on the dataset; it cannot be deleted yet.'),
  SpecInvalid: define('TQ_ERR_SPEC_INVALID', 400,
    'The model spec or training settings are inconsistent.'),
  SpecUnknownLayer: define('TQ_ERR_SPEC_UNKNOWN_LAYER', 400,
    'A layer has a `type` tensorq does not know.'),
  SpecTooLarge: define('TQ_ERR_SPEC_TOO_LARGE', 400,
    'The model would pass a limit: `MAX_MODEL_LAYERS`, ' +
    '`MAX_MODEL_PARAMETERS`, or the activations one training step holds.'),
  SpecShapeMismatch: define('TQ_ERR_SPEC_SHAPE_MISMATCH', 400,
    'Building the model against the dataset failed at the named layer, ' +
    'or its output does not fit the labels.'),
  JobNotFound: define('TQ_ERR_JOB_NOT_FOUND', 404, 'No job has this id.'),
  JobCancelled: define('TQ_ERR_JOB_CANCELLED', 409,
    'The job was cancelled (POST /v1/jobs/{id}/cancel); no version was stored.'),
  JobTimeout: define('TQ_ERR_JOB_TIMEOUT', 400,
    'Training ran past training.maxRuntimeSeconds or the worker\'s ' +
    'MAX_JOB_SECONDS; no version was stored.'),
  JobFinished: define('TQ_ERR_JOB_FINISHED', 409,
    'The job has already finished; there is nothing to cancel.'),
  JobDiverged: define('TQ_ERR_JOB_DIVERGED', 400,
    'The loss became NaN or infinite; lower the learning rate or check ' +
    'the data. Recorded on the job.'),
  JobTrainingFailed: define('TQ_ERR_JOB_TRAINING_FAILED', 500,
    'Training stopped on an unexpected error; recorded on the job, not ' +
    'sent as a reply.'),
  ModelNotFound: define('TQ_ERR_MODEL_NOT_FOUND', 404,
    'No model has this name.'),
  ModelVersionNotFound: define('TQ_ERR_MODEL_VERSION_NOT_FOUND', 404,
    'The model has no such version.'),
  ModelAliasNotFound: define('TQ_ERR_MODEL_ALIAS_NOT_FOUND', 404,
    'The model has no such alias.'),
  ModelVersionAliased: define('TQ_ERR_MODEL_VERSION_ALIASED', 409,
    'An alias points at the version; move or remove the alias first.'),
  PredictInvalidInstance: define('TQ_ERR_PREDICT_INVALID_INSTANCE', 400,
    'An instance does not fit the model input; the message gives both ' +
    'shapes.'),
  PredictTooLarge: define('TQ_ERR_PREDICT_TOO_LARGE', 413,
    'The answer would hold more than `MAX_PREDICT_VALUES` numbers; send ' +
    'fewer instances per request.'),
  Unavailable: define('TQ_ERR_UNAVAILABLE', 503,
    'Redis does not answer; try again.'),
  Internal: define('TQ_ERR_INTERNAL', 500,
    'An unexpected server error; the reply names the request id to find ' +
    'in the log.'),
}

/** The catalogue as data, for the README check and the docs. */
export const errorCatalogue: readonly CatalogueEntry[] = entries

/** Attaches where an error happened (a path, row, column or layer). */
export function withDetails<E extends TqError>(
  err: E,
  details: Record<string, unknown>,
): E {
  err.details = details
  return err
}

/** True for an error of the catalogue (anything with a TQ_ERR_ code). */
export function isTqError(err: unknown): err is TqError {
  return err instanceof Error &&
    typeof (err as TqError).code === 'string' &&
    (err as TqError).code.startsWith('TQ_ERR_')
}

/** The code an error class of the catalogue carries. */
export function codeOf(E: new (message: string) => TqError): string {
  return new E('').code
}
