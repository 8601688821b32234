#!/usr/bin/env node
// Regenerates docs/config.md from schemas/cluster.schema.json (run through `npm run docs`).
import {writeFileSync} from 'node:fs'
import {clusterSchema} from '../dist/config/schema.js'
import {renderConfigReference} from '../dist/config/schema-docs.js'

writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigReference(clusterSchema()))
