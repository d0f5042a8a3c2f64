import { AsyncLocalStorage } from 'node:async_hooks'

/** sfc32, a small fast generator with a 128-bit state, in [0, 1). */
function sfc32(seed: number): () => number {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const next = () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  // The first outputs of a fresh state are poorly mixed.
  for (let i = 0; i < 15; i++) next()
  return next
}

const streams = new AsyncLocalStorage<() => number>()
const unseeded = Math.random
let installed = false

/**
 * Runs `fn` with Math.random drawing from a generator seeded with `seed`.
 *
 * tfjs takes all its randomness from Math.random when no seed is given:
 * weight initializers, fit()'s shuffling, dropout masks. Giving each op a
 * seed would not do: tfjs's dropout with a seed draws the same mask on
 * every step. So Math.random itself is seeded, per async context: code
 * that `fn` starts, awaits included, sees the seeded stream, and other
 * jobs in the same process keep their own (or the real Math.random).
 */
export function withSeed<T>(seed: number, fn: () => T): T {
  if (!installed) {
    Math.random = () => (streams.getStore() ?? unseeded)()
    installed = true
  }
  return streams.run(sfc32(seed), fn)
}
