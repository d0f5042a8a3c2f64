/**
 * True for a number that stays finite as float32: 1e39 is finite in
 * JavaScript but becomes Infinity once stored in a tensor.
 */
export function isFloat32(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(Math.fround(v))
}

/** Text for an error message, cut short so a reply stays small. */
export function shorten(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`
}

/** A client's value for an error message, as JSON and cut short. */
export function quote(value: unknown, max = 40): string {
  // JSON has no Infinity or NaN (JSON.stringify says null): 1e400 in a
  // body parses to Infinity, and the message should say so.
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return String(value)
  }
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    // Nested deeper than the stack goes (a few KB of brackets do it).
    text = Array.isArray(value) ? '[…]' : typeof value === 'object'
      ? '{…}' : String(value)
  }
  return shorten(text, max)
}
