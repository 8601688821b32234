import {Command} from '@oclif/core'
import {jsonFlag} from '../../cli/flags.js'
import {localFlags, withLocal} from '../../cli/local.js'
import {renderDbMap} from '../../cli/db-render.js'

export default class DbList extends Command {
  static override description = 'Databases attached on this node, as `ctdb getdbmap`.'
  static override flags = {...localFlags, json: jsonFlag}

  async run(): Promise<void> {
    const {flags} = await this.parse(DbList)
    const dbs = await withLocal(this, flags, (c) => c.list())
    process.stdout.write(flags.json ? JSON.stringify(dbs, null, 2) + '\n' : renderDbMap(dbs))
  }
}
