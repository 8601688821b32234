// The host side of public IP handling, behind an interface so that the reconciler can run on a
// real host (iproute2-driver.ts) or record only (fake-driver.ts, for users without root).
import type {IpFamily} from '../../config/model.js'

/** One address on one interface, as the host reports it. */
export interface HostAddress {
  interface: string
  /** Canonical spelling (IPv6 compressed, lower case). */
  address: string
  prefixLength: number
  family: IpFamily
  /** IPv6 duplicate address detection still running. */
  tentative?: boolean
  /** IPv6 duplicate address detection failed: the address is unusable. */
  dadFailed?: boolean
  /** IPv4 secondary address (removed with its primary unless promote_secondaries is set). */
  secondary?: boolean
}

export interface HostLink {
  name: string
  /** adminUp && carrier: CTDB's "Link detected: yes". */
  up: boolean
  adminUp: boolean
  carrier: boolean
  /** Hardware address, when the link has one. */
  mac?: string
}

/** An address to put on (or take off) one interface. */
export interface AddressOnInterface {
  address: string
  prefixLength: number
  family: IpFamily
  interface: string
}

/** What to announce: the address, now on `interface`. */
export interface Announcement {
  address: string
  family: IpFamily
  interface: string
}

export interface IpDriver {
  /** 'iproute2' or 'fake'. */
  readonly name: string
  /** Every address on every interface (all families, all scopes). */
  listAddresses(): Promise<HostAddress[]>
  /** Every interface with its link state. */
  linkStates(): Promise<HostLink[]>
  /** Adds the address; succeeds when it is already there. Rejects when the host refuses. */
  addAddress(a: AddressOnInterface): Promise<void>
  /** Removes the address; succeeds when it is already gone. Keeps other addresses of the interface. */
  removeAddress(a: AddressOnInterface): Promise<void>
  /**
   * One announcement round, sent now: for IPv4 a gratuitous ARP request and reply, for IPv6 an
   * unsolicited neighbour advertisement (Override flag) to ff02::1. The caller runs the schedule.
   */
  announce(a: Announcement): Promise<void>
}

/** A system tool the driver needs is not installed: the message names the Debian package. */
export class MissingToolError extends Error {
  constructor(
    readonly tool: string,
    readonly debianPackage: string,
  ) {
    super(`the "${tool}" command is missing: install the Debian package ${debianPackage}`)
    this.name = 'MissingToolError'
  }
}

/** A command run by a driver failed. */
export class IpCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | string | undefined,
  ) {
    super(`${argv.join(' ')} failed${exitCode !== undefined ? ` (exit ${exitCode})` : ''}: ${stderr.trim() || 'no message'}`)
    this.name = 'IpCommandError'
  }
}
