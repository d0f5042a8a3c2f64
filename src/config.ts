import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

const Backend = Type.Union([
  Type.Literal('auto'),
  Type.Literal('gpu'),
  Type.Literal('node'),
  Type.Literal('native'),
  Type.Literal('wasm'),
  Type.Literal('cpu'),
])

const LogLevel = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) =>
    Type.Literal(l),
  ),
)

const MiB = 1024 * 1024

/** The environment tensorq reads, with defaults. Units are in the names. */
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  REDIS_URL: Type.String({
    pattern: '^rediss?://',
    default: 'redis://127.0.0.1:6379',
    description: 'a redis:// or rediss:// URL',
  }),
  TENSORQ_STORE: Type.String({ pattern: '^file://', default: 'file://./data',
    description: 'a file:// URL' }),
  TENSORQ_QUEUE_PREFIX: Type.String({
    pattern: '^[A-Za-z0-9_.-]+$',
    default: 'tensorq',
    description: 'letters, digits, _, . or -',
  }),
  TENSORQ_BACKEND: Type.Union(Backend.anyOf, { default: 'auto' }),
  WORKER_METRICS_PORT: Type.Integer({ minimum: 0, maximum: 65535,
    default: 9464 }),
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  // 0: one per core.
  WORKER_PROCESSES: Type.Integer({ minimum: 0, maximum: 256, default: 0 }),
  MAX_UPLOAD_BYTES: Type.Integer({ minimum: 1024, default: 256 * MiB }),
  MODEL_CACHE_BYTES: Type.Integer({ minimum: 0, default: 512 * MiB }),
  MODEL_REFRESH_MS: Type.Integer({ minimum: 0, maximum: 3_600_000,
    default: 1000 }),
  BATCH_MAX_SIZE: Type.Integer({ minimum: 1, maximum: 65536, default: 256 }),
  BATCH_MAX_DELAY_MS: Type.Integer({ minimum: 0, maximum: 1000, default: 0 }),
  MAX_MODEL_PARAMETERS: Type.Integer({ minimum: 1, default: 20_000_000 }),
  MAX_MODEL_LAYERS: Type.Integer({ minimum: 1, maximum: 1024, default: 256 }),
  MAX_UNZIPPED_BYTES: Type.Integer({ minimum: 1, default: 1024 ** 3 }),
  MAX_JOB_SECONDS: Type.Integer({ minimum: 1, default: 24 * 3600 }),
  WORKER_STALLED_INTERVAL_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  MAX_PREDICT_VALUES: Type.Integer({ minimum: 1, default: 1_000_000 }),
  WORKER_LOCK_DURATION_MS: Type.Integer({ minimum: 5000, default: 120_000 }),
  // How often a fast-training job stores a checkpoint and shows its
  // epochs; 0: after every epoch.
  CHECKPOINT_INTERVAL_MS: Type.Integer({ minimum: 0, maximum: 3_600_000,
    default: 1000 }),
  JOB_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
  LOG_LEVEL: Type.Union(LogLevel.anyOf, { default: 'info' }),
  // Browser origins allowed to call the api (tfjs in a page loading
  // model.json, say): * or a comma-separated list; empty, none.
  CORS_ORIGINS: Type.String({ default: '',
    pattern: '^(\\*|https?://[^,\\s/]+(,https?://[^,\\s/]+)*)?$',
    description: '* or origins separated by commas, such as ' +
      'https://app.example.com,http://localhost:5173' }),
})

export type Config = Readonly<Static<typeof ConfigSchema>>
export type BackendName = Static<typeof Backend>

/** Thrown when the environment does not pass the schema; says which name. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

/**
 * Reads and validates the environment once. Unknown names are ignored;
 * known ones are converted from strings and checked, and the result is
 * frozen so that nothing downstream can drift from what was validated.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known: Record<string, unknown> = {}
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') known[key] = value
  }

  // Value.Convert would turn 1.5 into 1 and 2e7 into 2: whole numbers are
  // checked as written.
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    const raw = known[key]
    if (raw === undefined || (schema as { type?: string }).type !== 'integer') {
      continue
    }
    if (!/^[+-]?[0-9]+$/.test(String(raw).trim())) {
      throw new ConfigError(`${key}: must be a whole number in decimal ` +
        `digits (got ${JSON.stringify(raw)})`)
    }
  }

  const withDefaults = Value.Default(ConfigSchema, { ...known })
  const converted = Value.Convert(ConfigSchema, withDefaults)
  const first = Value.Errors(ConfigSchema, converted).First()
  if (first) {
    const name = first.path.replace(/^\//, '') || 'environment'
    // A choice names its choices rather than "Expected union value".
    const choices = (first.schema.anyOf as Array<{ const?: unknown }>)
      ?.map((option) => option.const).filter((c) => c !== undefined)
    // A pattern says in words what it takes, where it has the words.
    const described = (first.schema as { description?: string }).description
    const message = choices?.length
      ? `must be one of ${choices.join(', ')}`
      : described && first.schema.pattern ? `must be ${described}`
        : first.message
    throw new ConfigError(`${name}: ${message} (got ${
      JSON.stringify(known[name] ?? null)})`)
  }

  return Object.freeze(converted as Static<typeof ConfigSchema>)
}
