import type { ChildProcess } from 'node:child_process'

/**
 * Asks a child process to stop (SIGTERM) and kills it (SIGKILL) if it is
 * still running after `timeoutMs`; resolves once it has exited.
 */
export function stopChild(child: ChildProcess, timeoutMs: number):
  Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve()
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
