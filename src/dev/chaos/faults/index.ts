import type {Fault} from '../context.js'
import {failMonitor} from './monitor.js'
import {cutPublicLink, partition} from './network.js'
import {freezeDaemon, killDaemon, killNats} from './process.js'

export const FAULTS: readonly Fault[] = [killDaemon, freezeDaemon, cutPublicLink, partition, killNats, failMonitor]
