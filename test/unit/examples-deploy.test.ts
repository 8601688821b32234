// The deployment examples: examples/systemd/node.yaml is valid for the node settings loader and
// the systemd unit passes `systemd-analyze verify` with the capabilities the daemon needs.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseListen} from '../../src/daemon/metrics-server.js'
import {readNodeSettings} from '../../src/daemon/node-settings.js'

test('examples/systemd/node.yaml loads with every setting', () => {
  const s = readNodeSettings('examples/systemd/node.yaml', true)
  expect(s).toEqual({
    config: '/etc/ctdbctl/cluster.yaml',
    node: 'fs1',
    dataDir: '/var/lib/ctdbctl',
    natsServer: 'nats://10.0.0.1:4222',
    natsCredentials: '/etc/ctdbctl/creds/fs1.nk',
    metricsListen: '10.0.0.1:9464',
    ipDriver: 'iproute2',
    logLevel: 'info',
  })
  expect(parseListen(s.metricsListen!)).toEqual({host: '10.0.0.1', port: 9464})
})

test('--metrics-listen takes HOST:PORT or [IPv6]:PORT and explains anything else', () => {
  expect(parseListen('[::1]:9464')).toEqual({host: '::1', port: 9464})
  expect(parseListen('localhost:0')).toEqual({host: 'localhost', port: 0})
  for (const bad of ['9464', ':9464', 'host:', 'host:70000', '::1:9464', 'a b:1']) expect(() => parseListen(bad)).toThrow(`--metrics-listen "${bad}": expected HOST:PORT`)
})

test('examples/systemd/ctdbctl.service: restarts on failure, keeps only the network capabilities, and verifies', () => {
  const unit = readFileSync('examples/systemd/ctdbctl.service', 'utf8')
  expect(unit).toMatch(/^ExecStart=\/usr\/bin\/ctdbctl daemon --node-config \/etc\/ctdbctl\/node.yaml$/m)
  expect(unit).toMatch(/^Restart=on-failure$/m)
  expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW$/m)
  expect(unit).toMatch(/^RestrictAddressFamilies=.*AF_NETLINK.*AF_PACKET/m)
  expect(unit).toMatch(/^NoNewPrivileges=yes$/m)
  let analyze = true
  try {
    execFileSync('systemd-analyze', ['--version'], {stdio: 'ignore'})
  } catch {
    analyze = false
  }
  if (!analyze) throw new Error('systemd-analyze is missing: install the Debian package "systemd" to verify the unit')
  // verify needs the ExecStart binary to exist on this machine.
  const dir = mkdtempSync(join(tmpdir(), 'ctdbctl-unit-'))
  try {
    writeFileSync(join(dir, 'ctdbctl.service'), unit.replace('/usr/bin/ctdbctl', '/bin/true'))
    execFileSync('systemd-analyze', ['verify', join(dir, 'ctdbctl.service')], {stdio: 'pipe'})
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
