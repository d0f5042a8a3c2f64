import * as tf from '@tensorflow/tfjs'
import type { BackendName } from '../config.ts'
import type { Logger } from '../log.ts'
import { registerNativeKernels } from './native-kernels/register.ts'
import { registerWasmKernels } from './wasm-kernels/register.ts'

type Engine = Exclude<BackendName, 'auto'>

/** Tried in this order by `auto`: fastest first. */
const ORDER: Engine[] = ['gpu', 'node', 'native', 'wasm', 'cpu']

// Package names are held in variables so that TypeScript does not demand
// type declarations for the optional native packages, absent on most
// machines.
const NATIVE_GPU = '@tensorflow/tfjs-node-gpu'
const NATIVE_CPU = '@tensorflow/tfjs-node'
const WASM = '@tensorflow/tfjs-backend-wasm'

/**
 * What each engine registers itself as inside tfjs. `native` is the WASM
 * backend with its products and pooling run by tensorq's addon.
 */
const TFJS_NAME: Record<Engine, string> = {
  gpu: 'tensorflow',
  node: 'tensorflow',
  native: 'wasm',
  wasm: 'wasm',
  cpu: 'cpu',
}

async function register(engine: Engine): Promise<void> {
  if (engine === 'gpu') await import(NATIVE_GPU)
  if (engine === 'node') await import(NATIVE_CPU)
  if (engine === 'native' || engine === 'wasm') {
    await import(WASM)
    registerWasmKernels()
  }
  if (engine === 'native') registerNativeKernels()
}

async function activate(engine: Engine): Promise<void> {
  await register(engine)

  // setBackend resolves false rather than throwing when the backend fails
  // to initialise, and a failed WASM start leaves tfjs on the previous
  // backend, so both the answer and the active name are checked.
  const name = TFJS_NAME[engine]
  const ok = await tf.setBackend(name)
  await tf.ready()
  if (!ok || tf.getBackend() !== name) {
    throw new Error(`tfjs did not activate backend '${name}'`)
  }
}

let active: Engine | undefined

/**
 * Loads the backend `wanted` names, or with `auto` the first that loads.
 * Returns the engine in use (gpu, node, native, wasm or cpu). A named
 * engine that fails to load is an error, not a silent fallback.
 */
export async function initBackend(
  wanted: BackendName,
  log: Logger,
): Promise<Engine> {
  if (active) return active

  // tfjs otherwise prints a console banner advising tfjs-node on first use
  // of the CPU backend; which backend runs is logged below instead.
  tf.env().set('PROD', true)

  const tries = wanted === 'auto' ? ORDER : [wanted]
  for (const engine of tries) {
    try {
      await activate(engine)
      active = engine
      log.info({ backend: engine, tfjs: tf.getBackend() }, 'tfjs backend ready')
      return engine
    } catch (err) {
      if (wanted !== 'auto') throw err
      const reason = err instanceof Error ? err.message.split('\n')[0]
        : String(err)
      log.info({ backend: engine, reason }, 'tfjs backend unavailable')
    }
  }

  throw new Error('no tfjs backend could be loaded')
}

/** The engine initBackend chose, or undefined before it ran. */
export function activeBackend(): Engine | undefined {
  return active
}

export { tf }
