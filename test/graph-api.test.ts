import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { cleanUp, startTestApi, testEnv, type TestApi } from './helpers/harness.ts'

// Graph datasets and graph specs through the API, up to the queue: what
// is stored, and each bad upload or spec with the 400 that names it.

const GRAPH = {
  name: 'tiny',
  format: 'graph',
  nodes: [
    { features: [1, 0], label: 'a' },
    { features: [0, 1], label: 'b', split: 'train' },
    { features: [1, 1], label: 'a', split: 'val' },
    { features: [0, 0], label: 'b', split: 'test' },
    { features: [2, 2] },
  ],
  // A duplicate, a reversed duplicate and a self-loop: 3 edges remain.
  edges: [[0, 1], [1, 0], [0, 1], [1, 2], [2, 2], [3, 4]],
}

const CONV = {
  layers: [
    { type: 'graphConv', units: 4, activation: 'relu' },
    { type: 'graphConv', units: 2, activation: 'softmax' },
  ],
  loss: 'categoricalCrossentropy',
  optimizer: { type: 'adam' },
}

describe('graph datasets and specs', () => {
  const env = testEnv({ MAX_MODEL_LAYERS: '4' })
  let api: TestApi
  let graph: string
  let rows: string

  async function send(method: 'GET' | 'POST', url: string, payload?: object) {
    const res = await api.app.inject({ method, url, payload })
    return { status: res.statusCode, body: res.json() }
  }

  function job(dataset: string, spec: object, training: object = {}) {
    return send('POST', '/v1/jobs', { model: 'g', dataset, spec, training })
  }

  before(async () => {
    api = await startTestApi(env)
    const g = await send('POST', '/v1/datasets', GRAPH)
    assert.equal(g.status, 201, JSON.stringify(g.body))
    graph = g.body.id
    const r = await send('POST', '/v1/datasets', { name: 'rows',
      rows: [{ x: [1, 2], y: 0 }, { x: [2, 1], y: 1 }] })
    rows = r.body.id
  })

  after(async () => {
    await api.close()
    await cleanUp(env)
  })

  test('a graph is stored with its splits and undirected edges', async () => {
    const { body } = await send('GET', `/v1/datasets/${graph}`)
    assert.equal(body.format, 'graph')
    assert.equal(body.rows, 5)
    assert.deepEqual(body.inputShape, [2])
    assert.deepEqual(body.classes, ['a', 'b'])
    assert.deepEqual(body.classCounts, [2, 2])
    assert.deepEqual(body.graph,
      { nodes: 5, edges: 3, train: 2, val: 1, test: 1, unlabelled: 1 })
  })

  test('a graph spec is queued', async () => {
    const res = await job(graph, CONV, { epochs: 1 })
    assert.equal(res.status, 202, JSON.stringify(res.body))
  })

  const uploads: Array<[string, object, RegExp, string]> = [
    ['an edge to a node that does not exist',
      { edges: [[0, 1], [4, 5]] }, /node 5 does not exist/, 'edges[1][1]'],
    ['a split without a label',
      { nodes: [...GRAPH.nodes, { features: [1, 2], split: 'val' }] },
      /a val node needs a label/, 'nodes[5].label'],
    ['features of another shape',
      { nodes: [...GRAPH.nodes, { features: [1, 2, 3], label: 'a' }] },
      /shape \[3\] where shape \[2\]/, 'nodes[5].features'],
    ['no node to train on',
      { nodes: GRAPH.nodes.map((n) => ({ ...n, split: n.label ? 'test' : undefined })) },
      /no node is for training/, 'nodes'],
    ['one class only',
      { nodes: GRAPH.nodes.map((n) => ({ ...n, label: n.label && 'a' })) },
      /only one class/, 'nodes[0].label'],
  ]
  for (const [what, patch, message, path] of uploads) {
    test(`upload: ${what}`, async () => {
      const res = await send('POST', '/v1/datasets', { ...GRAPH, ...patch })
      assert.equal(res.status, 400, JSON.stringify(res.body))
      assert.equal(res.body.code, 'TQ_ERR_DATASET_INVALID')
      assert.match(res.body.message, message)
      assert.equal(res.body.details.path, path)
    })
  }

  test('upload: the schema of the graph branch, not of rows', async () => {
    const { format: _format, ...noFormat } = GRAPH
    const unsaid = await send('POST', '/v1/datasets', noFormat)
    assert.equal(unsaid.status, 400)
    assert.match(unsaid.body.message, /format must be "graph"|format is required/)

    const { edges: _edges, ...noEdges } = GRAPH
    const res = await send('POST', '/v1/datasets', noEdges)
    assert.equal(res.status, 400)
    assert.equal(res.body.code, 'TQ_ERR_REQUEST_INVALID')
    assert.match(res.body.message, /edges/)
    assert.doesNotMatch(res.body.message, /rows/)

    const bad = await send('POST', '/v1/datasets',
      { ...GRAPH, edges: [[0, 1, 2]] })
    assert.equal(bad.status, 400)
    assert.match(bad.body.message, /edges\/0|edges\[0\]/)
  })

  const specs: Array<[string, string, object, object, RegExp, string]> = [
    ['graphConv on a dataset of rows', 'rows', CONV, {},
      /layers\[0\] \(graphConv\).*needs a graph dataset/, 'spec.layers[0]'],
    ['an output width that is not the class count', 'graph',
      { ...CONV, layers: [CONV.layers[0], { ...CONV.layers[1], units: 3 }] },
      {}, /3 units but the dataset has 2 classes/, 'spec.layers[1]'],
    ['conv2d on node features', 'graph',
      { ...CONV, layers: [{ type: 'conv2d', filters: 2, kernelSize: 3 },
        CONV.layers[1]] }, {}, /layers\[0\] \(conv2d\)/, 'spec.layers[0]'],
    ['validationSplit beside val nodes', 'graph', CONV,
      { validationSplit: 0.5 }, /has 1 val node,/, 'training.validationSplit'],
    ['more layers than MAX_MODEL_LAYERS', 'graph',
      { ...CONV, layers: [...Array(4).fill({ type: 'dropout', rate: 0.1 }),
        CONV.layers[1]] }, {}, /5 layers; the limit is 4/, 'spec.layers'],
  ]
  for (const [what, dataset, spec, training, message, path] of specs) {
    test(`spec: ${what}`, async () => {
      const res = await job(dataset === 'rows' ? rows : graph, spec, training)
      assert.ok(res.status === 400, JSON.stringify(res.body))
      assert.match(res.body.message, message)
      assert.equal(res.body.details.path, path)
    })
  }

  test('spec: a name tensorq gives a layer of its own', async () => {
    const dense = { type: 'dense', units: 2, activation: 'softmax' }
    for (const [layers, taken] of [
      [[{ ...dense, name: 'h', activityRegularizer: { l1: 0.1 } },
        { ...dense, name: 'h_activity' }], 'h_activity'],
      [[{ ...dense, name: 'h' }, { ...dense, name: 'h_input' }], 'h_input'],
    ] as const) {
      const res = await job(rows, { ...CONV, layers })
      assert.equal(res.status, 400, JSON.stringify(res.body))
      assert.equal(res.body.details.path, 'spec.layers[1].name')
      assert.match(res.body.message, new RegExp(`${taken} is the name tensorq`))
    }
    const res = await job(graph, { ...CONV,
      layers: [{ ...CONV.layers[0], name: 'node_features' }, CONV.layers[1]] })
    assert.equal(res.status, 400)
    assert.match(res.body.message, /node_features is the name tensorq gives a graph layer/)
  })

  test('spec: a val_ monitor works with val nodes', async () => {
    const res = await job(graph, CONV,
      { epochs: 2, earlyStopping: { monitor: 'val_loss' } })
    assert.equal(res.status, 202, JSON.stringify(res.body))
  })
})
