import { writeFile } from 'node:fs/promises'
import { formatDocument, openapiDocument, typesOf } from './openapi-document.ts'

// npm run openapi: regenerates openapi/openapi.json from the route schemas,
// and openapi/schema.d.ts, the TypeScript types of that document for
// openapi-fetch clients. A test fails when either is stale.
const doc = await openapiDocument()
const dir = new URL('../openapi/', import.meta.url)
await writeFile(new URL('openapi.json', dir), formatDocument(doc))
await writeFile(new URL('schema.d.ts', dir), await typesOf(doc))
console.log(`wrote openapi.json and schema.d.ts in ${dir.pathname}`)
