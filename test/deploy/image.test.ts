// The container image: built here from Debian's packages and the bundle
// (deploy/image/build.sh: mmdebstrap, then buildah), loaded into podman, and
// run as the chart's DaemonSet runs it: its args, root uid with only the
// chart's capabilities, no-new-privileges, a read-only root, the runtime's
// default seccomp profile, the host paths. It answers /metrics, counts real
// skbs exactly, and stops leaving no bpftrace. The host's network stands in
// for the pod network (no CNI here).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchMetrics, freePort, inconsistentCounted, waitReady } from '../helpers/agent.js';
import { renderChart, type K8sObject } from '../helpers/kubernetes.js';
import { root } from '../helpers/repo.js';
import { capMask, capNames } from '../helpers/capabilities.js';
import { cleanup, inject, tapHost } from '../helpers/net.js';
import { Podman, podRunFlags } from '../helpers/podman.js';

const version = (JSON.parse(readFileSync(root + 'package.json', 'utf8')) as { version: string }).version;
const IMAGE = `localhost/fraglist-exporter:${version}`;

describe('container image', () => {
  const podman = new Podman();
  const madeDirs: string[] = [];
  let daemonSet: K8sObject;
  let rootfs: string;
  let stateDir: string | undefined;

  before(async () => {
    const t0 = Date.now();
    const built = await execa('bash', [root + 'deploy/image/build.sh'], { all: true, reject: false });
    assert.equal(built.exitCode, 0, built.all?.slice(-3000));
    const [rootfsPath, archive] = built.stdout.trim().split('\n').slice(-2);
    rootfs = rootfsPath;
    await podman.run(['load', '--quiet', '--input', archive]);
    process.stdout.write(`# image built and loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    // the agent's state directory on this host: one of the test's own, removed after it
    stateDir = mkdtempSync(join(tmpdir(), 'flx-image-state-'));
    daemonSet = (await renderChart([{ image: { repository: 'localhost/fraglist-exporter', tag: version }, stateDir }])).find((o) => o.kind === 'DaemonSet')!;
    for (const dir of podRunFlags(daemonSet).createDirs) {
      if (!existsSync(dir)) { mkdirSync(dir, { recursive: true }); madeDirs.push(dir); }
    }
  });
  after(async () => {
    await podman.remove();
    for (const dir of madeDirs) rmdirSync(dir);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    await cleanup();
  });

  test('the image: pinned bpftrace and Node inside, entrypoint and port as the chart expects', async () => {
    const size = (await execa('tar', ['-tvf', rootfs])).stdout.split('\n').reduce((n, l) => n + (Number(l.split(/\s+/)[2]) || 0), 0);
    const packages = (await execa('tar', ['-xOf', rootfs, './usr/share/fraglist-exporter/packages.txt'])).stdout;
    assert.match(packages, /^bpftrace 0\.17\.0-1$/m);
    assert.match(packages, /^v24\.\d+\.\d+$/m);
    const inspect = JSON.parse((await podman.run(['image', 'inspect', IMAGE])).stdout)[0];
    assert.deepEqual(inspect.Config.Entrypoint, ['/opt/fraglist-exporter/bin/fraglist-exporter']);
    assert.deepEqual(inspect.Config.Cmd, ['serve']);
    assert.ok(inspect.Config.ExposedPorts[`${daemonSet.spec.template.spec.containers[0].ports[0].containerPort}/tcp`]);
    assert.equal(daemonSet.spec.template.spec.containers[0].image, IMAGE);
    process.stdout.write(`# image: ${(size / 1e6).toFixed(0)} MB unpacked, ${packages.split('\n').length - 1} Debian packages; ${packages.match(/^bpftrace .*$/m)![0]}, node ${packages.match(/^v24.*$/m)![0]}\n`);
  });

  test('run as the DaemonSet runs it: /metrics answers, real skbs are counted exactly, stop leaves no bpftrace', async () => {
    const c = daemonSet.spec.template.spec.containers[0];
    const port = await freePort();
    const args = c.args.map((a: string) => a.startsWith('--web.listen-address=') ? `--web.listen-address=127.0.0.1:${port}` : a);
    const { flags } = podRunFlags(daemonSet);
    process.stdout.write(`# podman run ${flags.join(' ')} ${IMAGE} ${args.join(' ')}\n`);
    const tap = await tapHost();
    const name = `flx-agent-${process.pid}`;
    const container = podman.spawn(['run', '--rm', '--name', name, '--network', 'host', ...Podman.RUN, ...flags, IMAGE, ...args]);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitReady(base, container, 120_000);
      assert.equal((await fetchMetrics(base)).sum('frag_list_tracer_up'), 1);
      assert.equal(await inconsistentCounted(base, 60, () => inject(tap.ns, tap.dev, '198.18.7.2', '198.18.0.1', 60)), 60);

      // what the chart's resources are based on: the container's processes' memory
      const pid = (await podman.run(['inspect', '--format', '{{.State.Pid}}', name])).stdout.trim();
      const tree = [pid, ...(await execa('pgrep', ['-P', pid])).stdout.split('\n')];
      const kb = (p: string, field: string) => Number(new RegExp(`^${field}:\\s*(\\d+)`, 'm').exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
      const comm = (p: string) => readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      const bpftrace = tree.find((p) => comm(p) === 'bpftrace');
      assert.ok(bpftrace, 'bpftrace runs in the container');
      const status = readFileSync(`/proc/${bpftrace}/status`, 'utf8');
      const expected = capMask(c.securityContext.capabilities.add);
      assert.match(status, new RegExp(`^CapEff:\\s*${expected}$`, 'm'), `bpftrace holds what the chart adds and this host has: ${capNames(expected).join(' ')}`);
      const rss = tree.reduce((n, p) => n + kb(p, 'VmRSS'), 0), peak = tree.reduce((n, p) => n + kb(p, 'VmHWM'), 0);
      const limitMi = parseInt(c.resources.limits.memory, 10);
      process.stdout.write(`# container memory: ${tree.map((p) => `${comm(p)} ${(kb(p, 'VmRSS') / 1024).toFixed(0)} MiB (peak ${(kb(p, 'VmHWM') / 1024).toFixed(0)})`).join(', ')}; sum ${(rss / 1024).toFixed(0)} MiB, peak ${(peak / 1024).toFixed(0)} MiB; chart limit ${limitMi} Mi\n`);
      assert.ok(peak / 1024 < limitMi, 'the peak fits the chart\'s memory limit');

      const t0 = Date.now();
      await podman.run(['stop', '--time', String(daemonSet.spec.template.spec.terminationGracePeriodSeconds), name]);
      const r = await container;
      process.stdout.write(`# podman stop: exit ${r.exitCode} in ${Date.now() - t0} ms\n`);
      assert.equal(r.exitCode, 0, r.all);
      assert.ok(!existsSync(`/proc/${bpftrace}`), 'bpftrace is gone');
    } finally {
      if (container.exitCode === null) await podman.run(['kill', name], { reject: false });
    }
  });

  test('with CAP_BPF and CAP_PERFMON instead of CAP_SYS_ADMIN the agent exits 1 and says what it needs', async () => {
    const ds = structuredClone(daemonSet);
    ds.spec.template.spec.containers[0].securityContext.capabilities.add = ['BPF', 'PERFMON', 'SYSLOG'];
    const r = await podman.run(['run', '--rm', '--network', 'none', ...Podman.RUN, ...podRunFlags(ds).flags, IMAGE, 'serve'], { reject: false });
    assert.equal(r.exitCode, 1, r.all);
    assert.match(r.all!, /running without CAP_SYS_ADMIN .*fix: grant CAP_SYS_ADMIN/);
  });
});
