import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { redisAnswers } from '../queue/connection.ts'

/** True when `redis-server` can be started from the PATH. */
export function redisServerOnPath(): boolean {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' })
  return found.status === 0
}

/**
 * Starts a throwaway redis-server on the port of `url`, bound to loopback
 * and keeping nothing on disk: nothing only in Redis is precious here.
 * Resolves once it answers PING.
 */
export async function startLocalRedis(url: string): Promise<ChildProcess> {
  const port = new URL(url).port || '6379'
  const child = spawn('redis-server', [
    '--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
  ], { stdio: 'ignore' })

  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) break
    if (await redisAnswers(url, 200)) return child
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill()
  throw new Error(`redis-server did not start on port ${port}`)
}
