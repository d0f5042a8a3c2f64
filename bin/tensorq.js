#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader, so that a fresh clone
// works after `npm ci` with no build step. The Docker image runs the
// compiled output of `npm run build` instead.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli.ts')
