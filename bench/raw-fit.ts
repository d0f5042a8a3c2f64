// Raw model.fit of bench:train's service MLP in a process of its own.
// A job's worker starts cold (JIT, heap growth), so its raw counterpart
// does too: run in the bench's warm process, raw fit had an unfair start.
// Built and compiled by the service's own code from the same spec, on
// float one-hot labels as a job's are. Prints, as one JSON line, the time
// (Date.now()) each epoch ended, as a worker's log times them.
//
//   node --import tsx bench/raw-fit.ts ENGINE SAMPLES EPOCHS
import { pino } from 'pino'
import { mnistSplit } from '../scripts/mnist-split.ts'
import type { BackendName } from '../src/config.ts'
import { buildModel, compileModel } from '../src/spec/build-model.ts'
import { initBackend, tf } from '../src/tf/backend.ts'
import { SERVICE_BATCH, SERVICE_MLP } from './service-mlp.ts'

const [engine, samples, epochs] = process.argv.slice(2)
await initBackend(engine as BackendName, pino({ level: 'silent' }))

const { train } = mnistSplit(Number(samples))
const x = tf.tensor(Float32Array.from(train.flatMap((d) => d.pixels)),
  [train.length, 784])
const y = tf.tidy(() => tf.oneHot(tf.tensor1d(train.map((d) => d.label),
  'int32'), 10).toFloat())

const model = buildModel(SERVICE_MLP, [784])
compileModel(model, SERVICE_MLP)
const ends: number[] = []
await model.fit(x, y, { batchSize: SERVICE_BATCH, epochs: Number(epochs),
  verbose: 0, shuffle: false, callbacks: { onEpochEnd: async () => {
    ends.push(Date.now())
  } } })
process.stdout.write(JSON.stringify(ends) + '\n')
