// The api for bench:serve, in a process of its own so that the load
// generator does not share its event loop: the real app from createApi,
// plus POST /bench/noop, which takes the same body through the same
// stack (parsing, schema validation, error handling, serialization) and
// answers without a model: the HTTP ceiling. Prints its URL when ready.
import { loadConfig } from '../src/config.ts'
import { PredictBody } from '../src/http/schemas/models.ts'
import { createLogger } from '../src/log.ts'
import { createApi } from '../src/run/api.ts'

const config = loadConfig()
const api = await createApi(config, createLogger(config, 'api'))
api.app.post('/bench/noop', { schema: { body: PredictBody } },
  async (request) => ({ rows: request.body.instances?.length ?? 0 }))
const url = await api.app.listen({ port: 0, host: '127.0.0.1' })
process.stdout.write(url + '\n')
process.on('SIGTERM', () => void api.close().then(() => process.exit(0)))
