#!/usr/bin/env node
// Precompiles schemas/cluster.schema.json into dist/config/cluster-validator.js (ajv standalone
// code), so the CLI does not compile the schema at every start. Run by `npm run build`.
import {writeFileSync} from 'node:fs'
import standaloneCode from 'ajv/dist/standalone/index.js'
import {_} from 'ajv/dist/2020.js'
import {clusterSchema} from '../dist/config/schema.js'
import {createAjv} from '../dist/config/schema-compiler.js'

const ajv = createAjv({source: true, esm: true, formats: _`FORMATS`})
let code = standaloneCode.default(ajv, ajv.compile(clusterSchema()))
// ajv's ESM output still uses require() for this runtime helper; turn it into an import.
code = code.replaceAll('require("ajv/dist/runtime/ucs2length")', 'ucs2length')
const header = "import {FORMATS} from './formats.js';\nimport ucs2length from 'ajv/dist/runtime/ucs2length.js';\n"
writeFileSync(new URL('../dist/config/cluster-validator.js', import.meta.url), header + code)
