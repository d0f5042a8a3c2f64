import { writeFile } from 'node:fs/promises'
import { formatDocument, openapiDocument } from './openapi-document.ts'

// npm run openapi: regenerates openapi/openapi.json from the route schemas.
// A test fails when the committed file differs from what this writes.
const path = new URL('../openapi/openapi.json', import.meta.url)
await writeFile(path, formatDocument(await openapiDocument()))
console.log(`wrote ${path.pathname}`)
