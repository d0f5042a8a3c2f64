// npm run demo: trains an MLP on 8,000 real MNIST digits through the HTTP
// API and predicts the 2,000 it never saw. It talks to the API only; when
// nothing answers at TENSORQ_URL it starts `tensorq dev` and stops it after.
// DEMO_MODEL=cnn or lstm trains a convolutional or recurrent network
// instead; DEMO_EPOCHS overrides the number of epochs.
import { DEMO_MODELS } from './demo-models.ts'
import { call, type Job, withStack } from './demo-stack.ts'
import { mnistSplit, type Digit } from './mnist-split.ts'

const TRAIN = 8000
const PREDICT_CHUNK = 500
const MODEL = DEMO_MODELS[process.env.DEMO_MODEL ?? 'mlp']
const EPOCHS = Number(process.env.DEMO_EPOCHS ?? MODEL?.epochs)

async function train(datasetId: string): Promise<number> {
  const job = await call<Job>('POST', '/v1/jobs', {
    model: MODEL.name,
    dataset: datasetId,
    spec: MODEL.spec,
    training: { epochs: EPOCHS, batchSize: MODEL.batchSize, shuffle: true },
  })
  console.log(`job ${job.id} queued: ${EPOCHS} epochs`)

  let shown = 0
  let backend: string | undefined
  for (;;) {
    await new Promise((r) => setTimeout(r, 500))
    const now = await call<Job>('GET', `/v1/jobs/${job.id}`)
    if (now.backend && !backend) {
      backend = now.backend
      console.log(`training on the ${backend} backend`)
    }
    for (const row of now.history.slice(shown)) {
      console.log(`epoch ${String(row.epoch).padStart(2)}/${EPOCHS}  ` +
        `loss ${row.loss.toFixed(4)}  accuracy ${row.acc.toFixed(4)}`)
    }
    shown = now.history.length
    if (now.state === 'completed') return now.result!.version
    if (now.state === 'failed' || now.state === 'cancelled') {
      throw new Error(`job ${now.state}: ${JSON.stringify(now.error)}`)
    }
  }
}

async function heldOutAccuracy(version: number, test: Digit[]): Promise<number> {
  let right = 0
  for (let i = 0; i < test.length; i += PREDICT_CHUNK) {
    const chunk = test.slice(i, i + PREDICT_CHUNK)
    const answer = await call<{ classes: string[] }>('POST',
      `/v1/models/${MODEL.name}/predict?version=${version}`,
      { instances: chunk.map(MODEL.input) })
    chunk.forEach((d, j) => {
      if (answer.classes[j] === String(d.label)) right++
    })
  }
  return right / test.length
}

async function main(): Promise<void> {
  if (!MODEL) {
    throw new Error(`DEMO_MODEL must be one of ${Object.keys(DEMO_MODELS)}`)
  }
  await withStack(async () => {
    const { train: digits, test } = mnistSplit(TRAIN)
    const dataset = await call<{ id: string; rows: number }>('POST',
      '/v1/datasets', {
        name: 'mnist-8000',
        format: 'json',
        rows: digits.map((d) => ({ x: MODEL.input(d), y: d.label })),
      })
    console.log(`dataset ${dataset.id}: ${dataset.rows} digits uploaded`)

    const version = await train(dataset.id)
    console.log(`model ${MODEL.name} version ${version} stored; predicting`)
    const accuracy = await heldOutAccuracy(version, test)
    console.log(`held-out accuracy: ${accuracy.toFixed(4)} (${test.length} digits)`)
  })
}

try {
  await main()
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`)
  process.exitCode = 1
}
