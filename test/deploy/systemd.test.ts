// Bare metal: the bundle's install.sh puts the agent, unit and env file in
// place on this machine; systemd-analyze verifies the unit; the unit's service
// is started with its ExecStart, environment file and capability bounding set
// (systemd is not PID 1 here, so not by systemctl: see helpers/systemd.ts),
// answers /metrics, counts real skbs, and its stop leaves no bpftrace behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fetchMetrics, freePort, inconsistentCounted, waitReady } from '../helpers/agent.js';
import { bundle } from '../helpers/bundle.js';
import { root } from '../helpers/repo.js';
import { cleanup, inject, tapHost } from '../helpers/net.js';
import { parseUnit, startService } from '../helpers/systemd.js';
import { capMask, capNames } from '../helpers/capabilities.js';

const UNIT = '/etc/systemd/system/fraglist-exporter.service';
const ENV_FILE = '/etc/fraglist-exporter/fraglist-exporter.env';
const PREFIX = '/opt/fraglist-exporter';

describe('systemd install on this host', () => {
  let unpacked: string;
  before(async () => {
    assert.ok(!existsSync(PREFIX) && !existsSync(UNIT), `${PREFIX} or ${UNIT} exists already: not ours to overwrite`);
    unpacked = mkdtempSync(tmpdir() + '/flx-bundle-');
    await execa('tar', ['-xzf', await bundle(), '-C', unpacked]);
  });
  after(async () => {
    await execa(`${unpacked}/fraglist-exporter/install.sh`, ['--uninstall', '--purge'], { reject: false });
    rmSync(unpacked, { recursive: true, force: true });
    await cleanup();
  });

  test('install.sh puts bpftrace, the agent, the unit and the env file in place', async () => {
    const r = await execa(`${unpacked}/fraglist-exporter/install.sh`, { reject: false, all: true });
    assert.equal(r.exitCode, 0, r.all);
    process.stdout.write(`# ${r.all!.split('\n').filter((l) => l.startsWith('install.sh:')).join(' | ')}\n`);
    assert.match(r.all!, /serve would run in tracepoint mode/, 'it ran doctor with the installed agent');
    assert.match(r.all!, /systemd is not running here, so nothing was started/);
    assert.equal(readFileSync(UNIT, 'utf8'), readFileSync(root + 'deploy/systemd/fraglist-exporter.service', 'utf8'));
    assert.equal(readFileSync(ENV_FILE, 'utf8'), readFileSync(root + 'deploy/systemd/fraglist-exporter.env', 'utf8'));
    const v = await execa(`${PREFIX}/bin/fraglist-exporter`, ['--version']);
    assert.match(v.stdout, /^fraglist-exporter \d+\.\d+\.\d+/);
    await execa('bpftrace', ['--version']);
  });

  test('systemd-analyze verify passes on the unit, and fails on a broken copy', async () => {
    const ok = await execa('systemd-analyze', ['verify', UNIT], { reject: false, all: true });
    assert.equal(ok.exitCode, 0, ok.all);
    assert.doesNotMatch(ok.all!, /fraglist-exporter\.service/, `no complaint about the unit: ${ok.all}`);
    const dir = mkdtempSync(tmpdir() + '/flx-unit-');
    try {
      const broken = readFileSync(UNIT, 'utf8').replace('bin/fraglist-exporter serve', 'bin/no-such-binary serve').replace('KillMode=mixed', 'KillMode=gently');
      writeFileSync(`${dir}/fraglist-exporter.service`, broken);
      const bad = await execa('systemd-analyze', ['verify', `${dir}/fraglist-exporter.service`], { reject: false, all: true });
      assert.notEqual(bad.exitCode, 0, bad.all);
      assert.match(bad.all!, /no-such-binary/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the unit\'s service starts with its env file and bounding set, counts real skbs, and stops leaving no bpftrace', async () => {
    const port = await freePort();
    // as an operator would: edit the env file
    writeFileSync(ENV_FILE, readFileSync(ENV_FILE, 'utf8').replace(/^FRAGLIST_WEB_LISTEN_ADDRESS=.*$/m, `FRAGLIST_WEB_LISTEN_ADDRESS=127.0.0.1:${port}`));
    const unitText = readFileSync(UNIT, 'utf8');
    const granted = parseUnit(unitText).Service.CapabilityBoundingSet.join(' ').split(/\s+/);
    assert.deepEqual(granted, ['CAP_SYS_ADMIN', 'CAP_SYSLOG', 'CAP_SYS_RESOURCE']);
    const expected = capMask(granted);
    const tap = await tapHost();
    const service = startService(unitText);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitReady(base, service.proc, 90_000);
      const status = readFileSync(`/proc/${service.pid}/status`, 'utf8');
      assert.match(status, new RegExp(`^CapBnd:\\s*${expected}$`, 'm'), `bounded to what the unit grants and this host has: ${capNames(expected).join(' ')}`);
      assert.match(status, /^NoNewPrivs:\s*1$/m);
      const children = (await execa('pgrep', ['-P', String(service.pid)])).stdout.split('\n').map(Number);
      const bpftrace = children.find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'bpftrace');
      assert.ok(bpftrace, 'bpftrace runs under the service');

      assert.equal((await fetchMetrics(base)).sum('frag_list_tracer_up'), 1);
      assert.equal(await inconsistentCounted(base, 40, () => inject(tap.ns, tap.dev, '198.18.6.2', '198.18.0.1', 40)), 40);

      const stopped = await service.stop();
      assert.equal(stopped.code, 0);
      assert.ok(stopped.ms < 15_000, `stopped in ${stopped.ms} ms, within TimeoutStopSec`);
      assert.ok(!existsSync(`/proc/${bpftrace}`), `bpftrace ${bpftrace} is gone`);
      process.stdout.write(`# service: ready, counted 40 of 40, stopped in ${stopped.ms} ms, bpftrace ${bpftrace} gone\n`);
    } finally {
      if (service.proc.exitCode === null) service.proc.kill('SIGKILL');
    }
  });

  test('install.sh --uninstall --purge removes what it put in place', async () => {
    const r = await execa(`${unpacked}/fraglist-exporter/install.sh`, ['--uninstall', '--purge'], { reject: false, all: true });
    assert.equal(r.exitCode, 0, r.all);
    for (const p of [PREFIX, UNIT, '/etc/fraglist-exporter']) assert.ok(!existsSync(p), `${p} removed`);
    const bad = await execa(`${unpacked}/fraglist-exporter/install.sh`, ['--frobnicate'], { reject: false, all: true });
    assert.equal(bad.exitCode, 2);
    assert.equal(bad.all!.trim().split('\n').length, 1, bad.all);
  });
});
