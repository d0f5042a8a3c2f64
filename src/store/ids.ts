import { randomUUID } from 'node:crypto'

const UUID = /^[0-9a-f-]{36}$/

/** A new id for a dataset or a job. */
export function newId(): string {
  return randomUUID()
}

/**
 * True for an id tensorq could have made. Ids become store keys, so
 * anything else (a path, say) is an unknown id, never a key.
 */
export function isId(id: string): boolean {
  return UUID.test(id)
}
