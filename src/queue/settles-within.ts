/**
 * True when `promise` fulfils within `ms`, false when it rejects or time
 * runs out first. For closing what waits on Redis, which may never answer.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number):
  Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([promise.then(() => true), late])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
