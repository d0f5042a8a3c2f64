import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { barPng, form, idxFile, zipOf } from './helpers/files.ts'
import {
  cleanUp, startTestApi, storeDir, testEnv, type TestApi,
} from './helpers/harness.ts'

// Every upload format through the real HTTP server, and each bad upload
// with its 400 (or 413), leaving nothing in the store.

const CSV = 'a,b,kind\n1,2,x\n2,3,y\n3,1,x\n'

/** `zip` with every `from` in it (entry names) replaced by `to`. */
function rename(zip: Buffer, from: string, to: string): Buffer {
  assert.equal(from.length, to.length)
  const out = Buffer.from(zip)
  for (let i = out.indexOf(from); i >= 0; i = out.indexOf(from, i + 1)) {
    out.write(to, i)
  }
  return out
}

describe('uploads', () => {
  const env = testEnv({ MAX_UPLOAD_BYTES: '200000', MAX_UNZIPPED_BYTES: '100000' })
  let api: TestApi

  before(async () => {
    api = await startTestApi(env, true)
  })

  after(async () => {
    await api.close()
    await cleanUp(env)
  })

  async function post(query: string, body: NonNullable<RequestInit['body']>,
    type?: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${api.url}/v1/datasets${query}`, {
      method: 'POST', body, headers: type ? { 'content-type': type } : {},
    })
    return { status: res.status, body: await res.json() }
  }

  async function stored(): Promise<string[]> {
    return readdir(join(storeDir(env), 'datasets')).catch(() => [])
  }

  test('CSV as a raw body and as a file, with ; detected', async () => {
    const raw = await post('?name=t&label=kind', CSV, 'text/csv')
    assert.equal(raw.status, 201, JSON.stringify(raw.body))
    assert.equal(raw.body.format, 'csv')

    const semicolons = CSV.replace(/,/g, ';')
    const file = await post('', form({ name: 't', label: 'kind' },
      [['file', 't.csv', Buffer.from(semicolons)]]))
    assert.equal(file.status, 201, JSON.stringify(file.body))
    assert.deepEqual(file.body.featureNames, ['a', 'b'])
    const [a] = file.body.preprocessing.features
    assert.deepEqual([a.min, a.max, a.mean], [1, 3, 2])
  })

  test('CSV missing values: a 400, or drop, or mean', async () => {
    const holes = 'a,b,kind\n1,,x\n2,3,y\n3,1,x\n,5,y\n'
    const refused = await post('?name=t&label=kind', holes, 'text/csv')
    assert.equal(refused.status, 400)
    assert.match(refused.body.message, /line 5, column a: the value is missing/)

    const dropped = await post('?name=t&label=kind&missing=drop', holes, 'text/csv')
    assert.equal(dropped.body.rows, 2)
    const filled = await post('?name=t&label=kind&missing=mean', holes, 'text/csv')
    assert.equal(filled.body.rows, 4)
    assert.equal(filled.body.preprocessing.features[1].fill, 3)

    const raw = await post('?name=t&label=kind&normalize=false', CSV, 'text/csv')
    assert.equal(raw.body.preprocessing.features[0].standardize, false)
    assert.deepEqual(raw.body.inputRange, [1, 3])
  })

  test('NDJSON rows', async () => {
    const body = '{"x":[1,2],"y":"a"}\n\n{"x":[2,1],"y":"b"}\n'
    const res = await post('?name=n', body, 'application/x-ndjson')
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.equal(res.body.format, 'ndjson')
    assert.equal(res.body.rows, 2)
  })

  test('an IDX pair, raw and gzipped', async () => {
    const images = idxFile([4, 2, 3], Array.from({ length: 24 }, (_, i) => i * 10))
    const labels = idxFile([4], [0, 1, 1, 0], true)
    const res = await post('', form({ name: 'idx' },
      [['images', 'img.idx', images], ['labels', 'lab.idx.gz', labels]]))
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.equal(res.body.format, 'idx')
    assert.deepEqual(res.body.inputShape, [2, 3, 1])
    assert.deepEqual(res.body.classCounts, [2, 2])
    assert.ok(Math.abs(res.body.inputRange[1] - 230 / 255) < 1e-6)
  })

  test('an image zip, one folder per class', async () => {
    let s = 3
    const noise = () => ((s = (s * 48271) % 2147483647) / 2147483647)
    const entries: Array<[string, Buffer]> = []
    for (let i = 0; i < 4; i++) {
      entries.push([`shapes/across/${i}.png`, await barPng(6, false, i, noise)])
      entries.push([`shapes/down/${i}.png`, await barPng(6, true, i, noise)])
    }
    entries.push(['shapes/.DS_Store', Buffer.from('clutter')])
    const zip = await zipOf(entries)
    const res = await post('?name=bars&size=4', zip, 'application/zip')
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.deepEqual(res.body.inputShape, [4, 4, 1])
    assert.deepEqual(res.body.classes, ['across', 'down'])
    assert.equal(res.body.rows, 8)
  })

  test('DELETE removes a dataset', async () => {
    const { body } = await post('?name=t&label=kind', CSV, 'text/csv')
    const url = `${api.url}/v1/datasets/${body.id}`
    assert.equal((await fetch(url, { method: 'DELETE' })).status, 204)
    assert.equal((await fetch(url)).status, 404)
    assert.equal((await fetch(url, { method: 'DELETE' })).status, 404)
  })

  const png = () => barPng(4, true, 1, () => 0.5)
  const bad: Array<[string, () => Promise<[string, NonNullable<RequestInit['body']>, string?]>,
    RegExp]> = [
    ['a ragged CSV row', async () => ['?name=t&label=kind',
      'a,b,kind\n1,2,x\n1,x\n', 'text/csv'], /line 3: 2 fields where the header has 3/],
    ['a non-number in a numeric column', async () => ['?name=t&label=kind',
      'a,b,kind\n1,2,x\n1,oops,y\n3,4,x\n', 'text/csv'], /line 3, column b: "oops"/],
    ['NaN in a cell', async () => ['?name=t&label=kind',
      'a,b,kind\n1,2,x\n1,NaN,y\n', 'text/csv'], /column b: "NaN"/],
    ['Infinity in a cell', async () => ['?name=t&label=kind',
      'a,b,kind\n1,2,x\n1,Infinity,y\n', 'text/csv'], /column b: "Infinity"/],
    ['a header with no rows', async () => ['?name=t&label=kind',
      'a,b,kind\n', 'text/csv'], /header but no rows/],
    ['a missing label column', async () => ['?name=t&label=species',
      CSV, 'text/csv'], /column species is not in the header/],
    ['one class only', async () => ['?name=t&label=kind',
      'a,b,kind\n1,2,x\n2,3,x\n', 'text/csv'], /only one class/],
    ['duplicate header names', async () => ['?name=t&label=kind',
      'a,a,kind\n1,2,x\n2,3,y\n', 'text/csv'], /column name a appears twice/],
    ['an NDJSON line that is not JSON', async () => ['?name=n',
      '{"x":[1],"y":0}\n{"x":[2],\n', 'application/x-ndjson'],
    /line 2: not valid JSON/],
    ['an IDX file with a wrong magic number', async () => ['', form({ name: 'i' },
      [['images', 'i.idx', Buffer.from([1, 2, 3, 4, 5])],
        ['labels', 'l.idx', idxFile([1], [0])]])], /i.idx: not an IDX file/],
    ['an IDX pair whose counts differ', async () => ['', form({ name: 'i' },
      [['images', 'i.idx', idxFile([3, 1, 1], [1, 2, 3])],
        ['labels', 'l.idx', idxFile([2], [0, 1])]])],
    /i.idx holds 3 images but l.idx holds 2 labels/],
    ['a corrupt image', async () => ['?name=z', await zipOf([
      ['a/1.png', await png()], ['b/2.png', Buffer.from('not a png')]]),
    'application/zip'], /entry b\/2.png: not a readable image/],
    ['a zip entry outside the archive root', async () => ['?name=z',
      // yazl refuses to write such a name; it is put in afterwards.
      rename(await zipOf([['a/1.png', await png()], ['xx/b/2.png', await png()]]),
        'xx/b/2.png', '../b/2.png'),
      'application/zip'], /entry \.\.\/b\/2.png: the path leads outside/],
    ['zip entries that declare more than the limit', async () => ['?name=z',
      await zipOf([['a/1.png', await png()], ['b/big.png', Buffer.alloc(150_000)]]),
      'application/zip'], /declare more than 100000 bytes/],
    ['an SVG named .png', async () => ['?name=z', await zipOf([
      ['a/1.png', await png()], ['b/2.png', Buffer.from('<svg xmlns=' +
        '"http://www.w3.org/2000/svg" width="4" height="4"></svg>')]]),
    'application/zip'], /entry b\/2.png: not a readable image \(the bytes are not PNG/],
    ['a UNC path', async () => ['?name=z', rename(await zipOf([
      ['a/1.png', await png()], ['xxsrv/b/2.png', await png()]]),
    'xxsrv/b/2.png', '\\\\srv/b/2.png'), 'application/zip'],
    /the path leads outside the archive root/],
    ['a file that is not a zip', async () => ['?name=z', Buffer.from('PK no'),
      'application/zip'], /not a readable zip file/],
    ['a gzipped IDX file that unpacks past the limit', async () => ['',
      form({ name: 'i' }, [['images', 'i.gz', idxFile([250, 28, 28],
        new Uint8Array(250 * 784), true)], ['labels', 'l', idxFile([250],
        new Uint8Array(250))]])], /i.gz: unpacks to more than 100000 bytes/],
    ['IDX images with a dimension of 0', async () => ['', form({ name: 'i' },
      [['images', 'i.idx', idxFile([2, 0, 4], [])],
        ['labels', 'l.idx', idxFile([2], [0, 1])]])],
    /i.idx: the header declares dimensions 2 × 0 × 4/],
    ['a row nested deeper than the stack', async () => ['?name=n',
      '{"x":[1,2],"y":0}\n{"x":[1,' + '['.repeat(6000) + '1' +
      ']'.repeat(6000) + '],"y":1}\n', 'application/x-ndjson'],
    /line 2, x\[1\]: .*where a number was expected|line 2, x/],
  ]
  test('an NDJSON row is named by its line, in the message and details',
    async () => {
      const res = await post('?name=n', '{"x":[1,2],"y":0}\n\n' +
        '{"x":[1,"a"],"y":1}\n', 'application/x-ndjson')
      assert.equal(res.status, 400, JSON.stringify(res.body))
      assert.match(res.body.message, /^line 3, x/)
      assert.equal(res.body.details.line, 3)
      assert.equal(res.body.details.row, undefined)
    })

  for (const [what, make, message] of bad) {
    test(`refused: ${what}`, async () => {
      const before = await stored()
      const [query, body, type] = await make()
      const res = await post(query, body, type)
      assert.equal(res.status, 400, JSON.stringify(res.body))
      assert.equal(res.body.code, 'TQ_ERR_DATASET_INVALID')
      assert.match(res.body.message, message)
      assert.deepEqual(await stored(), before)
    })
  }

  test('refused: a form that ends early, a long field, a bad delimiter',
    async () => {
      const body = '--XX\r\ncontent-disposition: form-data; name="name"\r\n' +
        '\r\nt\r\n--XX\r\ncontent-disposition: form-data; name="file"; ' +
        'filename="t.csv"\r\n\r\na,kind\n1,x\n'
      const cut = await post('', body, 'multipart/form-data; boundary=XX')
      assert.equal(cut.status, 400, JSON.stringify(cut.body))
      assert.match(cut.body.message, /not valid multipart\/form-data/)

      const long = await post('', form({ name: 't', label: 'kind',
        features: 'a,'.repeat(40_000) }, [['file', 't.csv', Buffer.from(CSV)]]))
      assert.equal(long.status, 413, JSON.stringify(long.body))
      assert.equal(long.body.details.path, 'fields.features')

      const quote = await post('?name=t&label=kind&delimiter=%22', CSV, 'text/csv')
      assert.equal(quote.status, 400)
      assert.equal(quote.body.details.path, 'query.delimiter')
    })

  test('a zip whose entries start with ./', async () => {
    const res = await post('?name=dot', await zipOf([
      ['./a/1.png', await png()], ['./b/2.png', await png()]]), 'application/zip')
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.deepEqual(res.body.classes, ['a', 'b'])
  })

  test('refused: an empty file', async () => {
    const res = await post('?name=t&label=kind', '', 'text/csv')
    assert.equal(res.status, 400)
    assert.match(res.body.message, /the body is empty/)
  })

  test('past MAX_UPLOAD_BYTES: 413, as a body and as a file', async () => {
    const before = await stored()
    const big = 'a,kind\n' + '1,x\n2,y\n'.repeat(30_000)
    const raw = await post('?name=t&label=kind', big, 'text/csv')
    assert.equal(raw.status, 413)
    assert.equal(raw.body.code, 'TQ_ERR_REQUEST_TOO_LARGE')
    const file = await post('', form({ name: 't', label: 'kind' },
      [['file', 'big.csv', Buffer.from(big)]]))
    assert.equal(file.status, 413, JSON.stringify(file.body))
    assert.equal(file.body.code, 'TQ_ERR_REQUEST_TOO_LARGE')
    assert.deepEqual(await stored(), before)
  })

  test('an option the format does not read is refused', async () => {
    const res = await post('?name=n&label=y', '{"x":[1],"y":0}\n{"x":[2],"y":1}\n',
      'application/x-ndjson')
    assert.equal(res.status, 400)
    assert.equal(res.body.details.path, 'query.label')
    assert.match(res.body.message, /does not apply to an NDJSON upload/)
  })

  test('form fields are checked like the query', async () => {
    const csv = Buffer.from(CSV)
    const unknown = await post('', form({ name: 't', label: 'kind', sep: ';' },
      [['file', 't.csv', csv]]))
    assert.equal(unknown.status, 400)
    assert.equal(unknown.body.details.path, 'fields.sep')
    const noName = await post('', form({ label: 'kind' }, [['file', 't.csv', csv]]))
    assert.equal(noName.status, 400)
    assert.match(noName.body.message, /fields.name is required/)
    const unknownFormat = await post('', form({ name: 't' },
      [['file', 't.bin', csv]]))
    assert.equal(unknownFormat.status, 400)
    assert.match(unknownFormat.body.message, /cannot tell the format of t.bin/)
  })
})

describe('a dataset in use', () => {
  const env = testEnv()
  let api: TestApi

  before(async () => {
    api = await startTestApi(env)
  })

  after(async () => {
    await api.close()
    await cleanUp(env)
  })

  test('cannot be deleted while a job waits for it', async () => {
    const up = await api.app.inject({ method: 'POST',
      url: '/v1/datasets?name=t&label=kind',
      headers: { 'content-type': 'text/csv' }, payload: CSV })
    const id = up.json().id
    // No worker runs here: the job stays queued.
    const job = await api.app.inject({ method: 'POST', url: '/v1/jobs',
      payload: { model: 'm', dataset: id, spec: {
        layers: [{ type: 'dense', units: 2, activation: 'softmax' }],
        loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } } } })
    assert.equal(job.statusCode, 202)

    const res = await api.app.inject({ method: 'DELETE',
      url: `/v1/datasets/${id}` })
    assert.equal(res.statusCode, 409)
    assert.equal(res.json().code, 'TQ_ERR_DATASET_IN_USE')
    assert.match(res.json().message, new RegExp(`job ${job.json().id}`))
    const still = await api.app.inject({ method: 'GET', url: `/v1/datasets/${id}` })
    assert.equal(still.statusCode, 200)
  })

  test('a job queued while its dataset is being deleted takes itself back',
    async () => {
      const up = await api.app.inject({ method: 'POST',
        url: '/v1/datasets?name=t&label=kind',
        headers: { 'content-type': 'text/csv' }, payload: CSV })
      const id = up.json().id
      // As DELETE does before it looks for jobs that use the dataset.
      await api.queue.markDeleting(id)
      const job = await api.app.inject({ method: 'POST', url: '/v1/jobs',
        payload: { model: 'm', dataset: id, spec: {
          layers: [{ type: 'dense', units: 2, activation: 'softmax' }],
          loss: 'categoricalCrossentropy', optimizer: { type: 'adam' } } } })
      assert.equal(job.statusCode, 404, job.body)
      assert.match(job.json().message, /is being deleted/)
      assert.deepEqual(await api.queue.jobsUsing(id), [])
    })

})
