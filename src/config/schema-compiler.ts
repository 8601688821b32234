// The ajv instance that compiles the cluster schema: at build time into standalone code
// (scripts/build-validator.js), at run time only when that code is missing (tests from source).
import {Ajv2020, type CodeOptions} from 'ajv/dist/2020.js'
import {FORMATS} from './formats.js'

export function createAjv(codeOptions?: CodeOptions): Ajv2020 {
  const ajv = new Ajv2020({allErrors: true, strict: true, allowUnionTypes: true, ...(codeOptions ? {code: codeOptions} : {})})
  for (const [name, def] of Object.entries(FORMATS)) ajv.addFormat(name, {type: 'string', validate: def.validate})
  return ajv
}
