// Bare metal for real: a Debian bookworm host (systemd as PID 1, Debian's
// cloud kernel with kprobes and fentry, bpftrace and bpftool from the archive)
// under qemu. As a user would: unpack the bundle, run install.sh, and let
// systemctl run the unit with every sandboxing option it sets. /metrics is read
// from this host through a forwarded port, by a real Prometheus with the
// shipped rules, whose page reaches a real Alertmanager. (test/deploy/systemd.test.ts checks
// the same install on this VM, where systemd is not PID 1.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fetchMetrics, freePort, sleep, until, type Metrics } from '../helpers/agent.js';
import { bundle } from '../helpers/bundle.js';
import { alertsOf, startAlerting, type AlertingStack } from '../helpers/alerting.js';
import { bootHost, dataDisk, debianHostImage, type Guest } from '../helpers/debian-host.js';
import { capMask, capNames } from '../helpers/capabilities.js';
import { root } from '../helpers/repo.js';
import { parseUnit } from '../helpers/systemd.js';

const UNIT_TEXT = readFileSync(root + 'deploy/systemd/fraglist-exporter.service', 'utf8');
const SERVICE = parseUnit(UNIT_TEXT).Service;
/** the unit's sandboxing, as `systemctl show` names it */
const SANDBOX = ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'ProtectControlGroups', 'ProtectClock', 'ProtectHostname',
  'RestrictNamespaces', 'RestrictRealtime', 'RestrictSUIDSGID', 'LockPersonality', 'RestrictAddressFamilies', 'CapabilityBoundingSet',
  'PrivateDevices', 'SystemCallArchitectures', 'ProtectProc'];
const TRACING_PROGRAMS = new Set(['kprobe', 'tracing', 'perf_event', 'tracepoint', 'raw_tracepoint']);

describe('systemd on a real Debian host (bookworm under qemu)', () => {
  let guest: Guest, removeDisk: () => void, base: string;
  const t0 = Date.now();

  before(async () => {
    const [image, tarball] = await Promise.all([debianHostImage('bookworm'), bundle()]);
    const disk = await dataDisk([tarball, root + 'test/helpers/tap_inject.py']);
    removeDisk = disk.remove;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    guest = await bootHost(image, { data: disk.path, forwardPort: port });
    process.stdout.write(`# ${image.release}: booted to a root shell in ${((Date.now() - t0) / 1000).toFixed(0)} s (image and bundle included)\n`);
    const m = await guest.sh(`mount /dev/vdb /mnt && mkdir -p /root/b && tar -xzf /mnt/${basename(tarball)} -C /root/b && echo unpacked`);
    assert.equal(m.code, 0, m.out);
  });

  after(async () => {
    await guest?.stop();
    removeDisk?.();
  });

  /** the BPF programs of tracing kinds loaded in the guest (systemd's own cgroup programs are not) */
  const tracingPrograms = async () => {
    const r = await guest.sh('bpftool -j prog show');
    assert.equal(r.code, 0, r.out);
    return (JSON.parse(r.out) as Array<{ id: number; type: string; name?: string }>).filter((p) => TRACING_PROGRAMS.has(p.type));
  };
  const metrics = async (): Promise<Metrics> => fetchMetrics(base);
  const ready = () => until('the agent in the guest to be ready', async () =>
    ((await fetch(`${base}/readyz`).then((r) => r.status, () => 0)) === 200 ? true : undefined), 300_000);
  /** one pid, or the assertion says what came instead (several pids, none, an error) */
  const onePid = (out: string, what: string): number => {
    assert.match(out.trim(), /^[1-9][0-9]*$/, `${what}: one pid, not ${JSON.stringify(out)}`);
    return Number(out);
  };
  const mainPid = async () => onePid((await guest.sh('systemctl show -p MainPID --value fraglist-exporter')).out, 'the service\'s MainPID');
  const bpftracePid = async () => onePid((await guest.sh(`pgrep -P ${await mainPid()} -x bpftrace`)).out, 'bpftrace under the service');

  test('install.sh, then systemctl runs the agent in a kernel-function mode; /metrics answers through the forwarded port', async () => {
    assert.deepEqual(await tracingPrograms(), [], 'no tracing program before the install');
    const r = await guest.sh('/root/b/fraglist-exporter/install.sh 2>&1', 300_000);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /install\.sh: started: systemctl status fraglist-exporter/);
    await ready();
    const m = await metrics();
    const mode = [...m.samples.keys()].map((k) => /^frag_list_build_info\{.*mode="([^"]+)"/.exec(k)?.[1]).find(Boolean);
    assert.ok(mode === 'kprobe' || mode === 'fentry', `mode ${mode}`);
    assert.equal(m.sum('frag_list_tracer_up'), 1);
    assert.equal(m.sum('frag_list_probe_attached', { hook: 'skb_segment' }), 1);
    const status = await guest.sh('systemctl status fraglist-exporter --no-pager --lines=0');
    assert.match(status.out, /Active: active \(running\)/);
    process.stdout.write(`# guest ${mode} mode, ready ${((Date.now() - t0) / 1000).toFixed(0)} s after boot began; systemctl status:\n${status.out.split('\n').map((l) => `#   ${l}`).join('\n')}\n`);
  });

  test('every sandboxing option of the unit is in force on the running service', async () => {
    const shown = await guest.sh(`systemctl show fraglist-exporter ${SANDBOX.map((p) => `-p ${p}`).join(' ')}`);
    const props = new Map(shown.out.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    for (const p of SANDBOX) {
      const want = SERVICE[p]?.join(' ');
      assert.ok(want, `the unit sets ${p}`);
      const have = props.get(p) ?? '';
      // systemctl writes capabilities in lower case and booleans as yes/no
      assert.equal(have.toLowerCase().split(/\s+/).sort().join(' '), want.toLowerCase().split(/\s+/).sort().join(' '), `${p}: ${have}`);
    }
    const pid = await mainPid();
    const status = (await guest.sh(`cat /proc/${pid}/status`)).out;
    const bounding = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec((await guest.sh('cat /proc/1/status')).out)![1]}`);
    const expected = capMask(SERVICE.CapabilityBoundingSet.join(' ').split(/\s+/), bounding);
    assert.match(status, new RegExp(`^CapBnd:\\s*${expected}$`, 'm'), `bounded to ${capNames(expected).join(' ')}`);
    assert.match(status, /^NoNewPrivs:\s*1$/m);
    // the effects, seen from inside the service's mount namespace
    const usr = await guest.sh(`nsenter -t ${pid} -m touch /usr/.flx-probe 2>&1`);
    assert.notEqual(usr.code, 0);
    assert.match(usr.out, /Read-only file system/, 'ProtectSystem=strict');
    // PrivateDevices=yes: a /dev of its own, without the disks
    // each answer printed from inside, so that an nsenter that fails cannot pass for a missing device
    assert.equal((await guest.sh('test -b /dev/vda')).code, 0);
    const devices = await guest.sh(`nsenter -t ${pid} -m sh -c 'test -e /dev/vda; echo vda=$?; test -c /dev/null; echo null=$?' 2>&1`);
    assert.equal(devices.out, 'vda=1\nnull=0', 'PrivateDevices=yes: no disk, but a /dev');
    // ProtectHome=yes: /root is an empty, inaccessible directory in there (root's own shell still lists it)
    assert.match((await guest.sh('ls -A /root')).out, /\bb\b/);
    assert.equal((await guest.sh(`nsenter -t ${pid} -m ls -A /root 2>&1`)).out, '', 'ProtectHome=yes');
    await bpftracePid(); // bpftrace runs under the service, once
  });

  test('real INCONSISTENT skbs (TAP frames forwarded out a TSO-off veth) are counted at skb_segment, and page through a real Prometheus and Alertmanager', async () => {
    const stack = await startAlerting([new URL(base).host]);
    try {
      await checkCountedAndPaged(stack);
    } finally {
      await stack.stop();
    }
  });

  async function checkCountedAndPaged(stack: AlertingStack): Promise<void> {
    const t0 = Date.now();
    const before = (await metrics()).sum('frag_list_inconsistent_total', { hook: 'skb_segment' });
    const r = await guest.sh([
      'ip netns add fa && ip netns add fb',
      'ip -n fa tuntap add dev tap0 mode tap vnet_hdr && ip -n fa addr add 198.18.12.1/24 dev tap0 && ip -n fa link set tap0 up',
      'ip link add fv0 netns fa type veth peer name fv1 netns fb',
      'ip -n fa addr add 198.18.13.1/24 dev fv0 && ip -n fb addr add 198.18.13.2/24 dev fv1',
      'ip -n fa link set fv0 up && ip -n fb link set fv1 up && ip -n fa link set lo up',
      'ip netns exec fa ethtool -K fv0 tso off >/dev/null',
      "ip netns exec fa sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter; echo 0 > /proc/sys/net/ipv4/conf/tap0/rp_filter'",
      'ip netns exec fa python3 /mnt/tap_inject.py tap0 198.18.12.2 198.18.13.2 100',
      'ip netns del fa; ip netns del fb',
    ].join(' && '), 180_000);
    assert.equal(r.code, 0, r.out);
    const counted = await until('100 at skb_segment', async () => {
      const n = (await metrics()).sum('frag_list_inconsistent_total', { hook: 'skb_segment' }) - before;
      return n >= 100 ? n : undefined;
    }, 60_000);
    await sleep(3000);
    const m = await metrics();
    assert.equal(m.sum('frag_list_inconsistent_total', { hook: 'skb_segment' }) - before, 100);
    // a host busy finishing its boot must not make the watchdog kill a healthy bpftrace
    assert.equal(m.sum('frag_list_tracer_stalls_total'), 0, 'no stall was called');
    assert.equal(m.sum('frag_list_tracer_restarts_total'), 0, 'bpftrace ran from the start, never restarted');
    const page = await until('the page at the webhook', async () => alertsOf(stack).find((a) => a.labels.alertname === 'FragListInconsistentSkb'), 60_000);
    assert.equal(page.labels.severity, 'critical');
    assert.equal(page.labels.hook, 'skb_segment');
    assert.equal(page.labels.instance, new URL(base).host);
    assert.deepEqual(alertsOf(stack).filter((a) => a.labels.severity === 'critical').map((a) => a.labels.alertname), ['FragListInconsistentSkb'], 'no other page');
    process.stdout.write(`# guest: ${counted} of 100 INCONSISTENT at skb_segment; the page at the webhook ${((Date.now() - t0) / 1000).toFixed(1)} s after injection: ${JSON.stringify(page)}\n`);
  }

  test('journalctl -u fraglist-exporter shows the agent\'s JSON logs', async () => {
    const r = await guest.sh('journalctl -u fraglist-exporter -o cat --no-pager | grep "^{"');
    assert.equal(r.code, 0, r.out);
    const lines = r.out.split('\n').map((l) => JSON.parse(l) as { msg: string; mode?: string; level: number });
    const serving = lines.find((l) => l.msg === 'serving');
    assert.ok(serving && (serving.mode === 'kprobe' || serving.mode === 'fentry'), 'the serving line, with its mode');
    process.stdout.write(`# journalctl: ${lines.length} JSON lines; first: ${JSON.stringify(lines[0]).slice(0, 160)}\n`);
  });

  test('systemctl restart and stop leave no bpftrace and no BPF program behind', async () => {
    const running = await tracingPrograms();
    assert.ok(running.length > 0, 'bpftool sees the agent\'s programs while it runs');
    const oldBpftrace = await bpftracePid();
    assert.equal((await guest.sh('systemctl restart fraglist-exporter')).code, 0);
    await ready();
    assert.equal((await guest.sh(`kill -0 ${oldBpftrace} 2>/dev/null; echo $?`)).out, '1', 'the old bpftrace is gone after restart');
    assert.notEqual(await bpftracePid(), oldBpftrace, 'one new bpftrace runs');
    const after = await tracingPrograms();
    const list = (ps: Array<{ id: number; type: string; name?: string }>) => ps.map((p) => `${p.id}:${p.type}:${p.name ?? ''}`).join(' ');
    assert.equal(after.length, running.length, `one set of programs after the restart, not two: before ${list(running)}; after ${list(after)}; ${JSON.stringify([...(await metrics()).samples].filter(([k]) => /build_info|tracer_up|restarts/.test(k)))}`);
    assert.ok(after.every((p) => !running.some((q) => q.id === p.id)), 'the old programs were unloaded');
    // timed in the guest; the agent stops bpftrace in at most 3 s (SIGINT, SIGTERM, SIGKILL 1.5 s apart): a stop
    // that waits for the unit's TimeoutStopSec and systemd's SIGKILL fails here, and says so in Result
    const stop = await guest.sh('s=$(date +%s%N); systemctl stop fraglist-exporter; echo "$? $(( ($(date +%s%N) - s) / 1000000 ))"');
    const [stopCode, stopMs] = stop.out.trim().split(' ').map(Number);
    assert.equal(stopCode, 0, stop.out);
    assert.equal((await guest.sh('systemctl show -p Result --value fraglist-exporter')).out, 'success', 'stopped by itself, not by a timeout');
    const timeoutMs = parseFloat(SERVICE.TimeoutStopSec[0]) * 1000;
    assert.ok(stopMs < timeoutMs * 2 / 3, `stop took ${stopMs} ms; the unit allows ${timeoutMs} ms`);
    assert.notEqual((await guest.sh('pgrep -x bpftrace')).code, 0, 'no bpftrace');
    assert.deepEqual(await tracingPrograms(), [], 'no BPF program');
    process.stdout.write(`# guest: ${running.length} tracing programs while running; restart replaced them; stop took ${stopMs} ms and left none\n`);
  });

  test('install.sh --uninstall --purge removes everything', async () => {
    const r = await guest.sh('/root/b/fraglist-exporter/install.sh --uninstall --purge 2>&1');
    assert.equal(r.code, 0, r.out);
    for (const p of ['/opt/fraglist-exporter', '/etc/systemd/system/fraglist-exporter.service', '/etc/fraglist-exporter']) {
      assert.notEqual((await guest.sh(`test -e ${p}`)).code, 0, `${p} removed`);
    }
    assert.notEqual((await guest.sh('systemctl cat fraglist-exporter >/dev/null 2>&1')).code, 0, 'systemd no longer knows the unit');
    assert.deepEqual(await tracingPrograms(), []);
  });
});
