// Loads a stored model version in a process of its own and predicts with
// it: node --import tsx predict-fresh.ts <store url> <model> <version>,
// the predict body as JSON on stdin, the answer as JSON on stdout.
import { pino } from 'pino'
import { ModelCache } from '../../src/serving/model-cache.ts'
import { predict, predictNodes } from '../../src/serving/predict.ts'
import { openStore } from '../../src/store/open-store.ts'
import { initBackend } from '../../src/tf/backend.ts'

const [storeUrl, name, version] = process.argv.slice(2)
const log = pino({ level: 'silent' })
await initBackend('wasm', log)

const chunks: Buffer[] = []
for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const cache = new ModelCache({ store: openStore(storeUrl), maxBytes: 1 << 30, log })
const answer = await cache.use(name, Number(version), (loaded) =>
  loaded.manifest.graph
    ? predictNodes(loaded, body.nodes, 1e7)
    : predict(loaded, body.instances, 1e7))
if (!answer) throw new Error(`no ${name} version ${version}`)
process.stdout.write(JSON.stringify(answer))
