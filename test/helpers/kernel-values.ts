import assert from 'node:assert/strict'

/**
 * Asserts that `a` matches `b` value by value, within `tol` relative; a
 * NaN matches a NaN, an infinity the same infinity.
 */
export function close(a: ArrayLike<number>, b: ArrayLike<number>,
  tol = 1e-4): void {
  assert.equal(a.length, b.length)
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue
    const scale = Math.max(1, Math.abs(b[i]))
    assert.ok(Math.abs(a[i] - b[i]) <= tol * scale, `[${i}] ${a[i]} vs ${b[i]}`)
  }
}

/** Values in [-0.5, 0.5) for a tensor of `shape`, the same for a seed. */
export function random(shape: number[], seed: number): number[] {
  let s = seed
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648 - 0.5
  })
}
