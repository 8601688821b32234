#!/usr/bin/env node
// Development entry: same as run.js but without the cached manifest check; run `npm run build` first.
import {execute} from '@oclif/core'

await execute({development: true, dir: import.meta.url})
