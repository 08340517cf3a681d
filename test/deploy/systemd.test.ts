// Bare metal on a host where systemd is not PID 1 (this one): the bundle's
// install.sh puts the agent, unit and env file in place and says it started
// nothing; systemd-analyze verifies the unit; the uninstall removes it all.
// The unit running under systemd for real: systemd-host.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { bundle } from '../helpers/bundle.js';
import { root } from '../helpers/repo.js';

const UNIT = '/etc/systemd/system/fraglist-exporter.service';
const ENV_FILE = '/etc/fraglist-exporter/fraglist-exporter.env';
const PREFIX = '/opt/fraglist-exporter';

describe('install.sh on a host where systemd is not PID 1', () => {
  let unpacked: string;
  before(async () => {
    assert.ok(!existsSync(PREFIX) && !existsSync(UNIT), `${PREFIX} or ${UNIT} exists already: not ours to overwrite`);
    unpacked = mkdtempSync(tmpdir() + '/flx-bundle-');
    await execa('tar', ['-xzf', await bundle(), '-C', unpacked]);
  });
  after(async () => {
    await execa(`${unpacked}/fraglist-exporter/install.sh`, ['--uninstall', '--purge'], { reject: false });
    rmSync(unpacked, { recursive: true, force: true });
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

  test('install.sh --uninstall --purge removes what it put in place', async () => {
    const r = await execa(`${unpacked}/fraglist-exporter/install.sh`, ['--uninstall', '--purge'], { reject: false, all: true });
    assert.equal(r.exitCode, 0, r.all);
    for (const p of [PREFIX, UNIT, '/etc/fraglist-exporter']) assert.ok(!existsSync(p), `${p} removed`);
    const bad = await execa(`${unpacked}/fraglist-exporter/install.sh`, ['--frobnicate'], { reject: false, all: true });
    assert.equal(bad.exitCode, 2);
    assert.equal(bad.all!.trim().split('\n').length, 1, bad.all);
  });
});
