import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { formatDocument, openapiDocument, typesOf } from '../scripts/openapi-document.ts'

function committed(name: string): string {
  return readFileSync(new URL(`../openapi/${name}`, import.meta.url), 'utf8')
}

test('openapi/ is what the route schemas generate (run npm run openapi)', async () => {
  const doc = await openapiDocument()

  assert.equal(committed('openapi.json'), formatDocument(doc),
    'openapi/openapi.json is stale: run `npm run openapi`')
  assert.equal(committed('schema.d.ts'), await typesOf(doc),
    'openapi/schema.d.ts is stale: run `npm run openapi`')
})

test('every route declares its responses and a tag', async () => {
  const doc = await openapiDocument() as {
    paths: Record<string, Record<string, { tags?: string[]; responses?: object }>>
  }
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      assert.ok(op.tags?.length, `${method} ${path} has no tag`)
      assert.ok(op.responses && Object.keys(op.responses).length > 0,
        `${method} ${path} declares no response`)
    }
  }
})
