// The crash records as the real agent reports them on this host: crash
// directories laid out as pstore, systemd-pstore and kdump leave them (the
// records from test/fixtures/crash, one of them hostile), read on start; the
// metrics (promtool check metrics, Prometheus and a text scraper at once),
// /crashes, doctor, a restart, and bad flags.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync as readdir, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_NODE_OPTIONS, CLI, freePort, startAgent, type Agent } from '../helpers/agent.js';
import { root } from '../helpers/repo.js';

const CRASH_S = Math.floor(Date.now() / 1000) - 120;
const fixture = (name: string) => readFileSync(join(root, 'test/fixtures/crash', name), 'utf8');

describe('crash records read by serve and doctor', () => {
  let dir: string, dirs: string, agent: Agent;
  const put = (path: string, text: string, mtimeS: number) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
    utimesSync(join(dir, path), mtimeS, mtimeS);
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flx-crashdirs-'));
    put('pstore/dmesg-ramoops-0', fixture('bullseye-5.10-console.txt'), CRASH_S);
    // hostile: a task name with a newline and quotes, in a record of class other
    put('pstore/dmesg-ramoops-1', fixture('other-oops-6.12.txt').replace('Comm: kworker/0:2', 'Comm: "}\n<4>[  412.882150] {x'), CRASH_S - 600);
    put('pstore/dmesg-ramoops-2', fixture('truncated.txt'), CRASH_S - 900);
    put('crash/202611300812/dmesg.202611300812', fixture('rhel8-vmcore-dmesg.txt'), CRASH_S - 86_400);
    dirs = ['pstore', 'crash', 'systemd-pstore'].map((d) => join(dir, d)).join(',');
    agent = await startAgent([`--kernel.crash-dirs=${dirs}`]);
  });
  after(async () => {
    if (agent) assert.equal((await agent.stop()).code, 0);
    rmSync(dir, { recursive: true, force: true });
  });

  test('/crashes: each record parsed, newest first; the hostile one parsed safely', async () => {
    const r = await (await agent.get('/crashes')).json() as any;
    assert.deepEqual(r.records.map((x: any) => [x.class, x.function]), [['segmentation', '__udp_gso_segment'], ['other', 'other'], ['segmentation', 'skb_segment']]);
    assert.equal(r.records[0].culprit, 'unknown');
    assert.equal(r.records[0].summary, 'crashed in __udp_gso_segment; the agent heard no critical skb before it (culprit unknown)');
    assert.equal(r.records[1].comm, '"}\n{x');
    assert.equal(r.records[1].rip.function, 'example_work_fn');
    assert.deepEqual(r.skipped, { 'not-an-oops': 0, warning: 0, truncated: 1, unreadable: 0, duplicate: 0 });
    assert.deepEqual(r.missingDirs, [join(dir, 'systemd-pstore')]);
    assert.equal(r.previousStart, null, 'the first run in this state directory');
  });

  test('the metrics: bounded labels, accepted by promtool, in both formats asked at once', async () => {
    const [text, om] = await Promise.all([
      agent.get('/metrics').then((x) => x.text()),
      agent.get('/metrics', { Accept: 'application/openmetrics-text; version=1.0.0' }).then((x) => x.text()),
    ]);
    const lines = text.split('\n').filter((l) => /^frag_list_(kernel_(crash|last_)|agent_previous)/.test(l));
    assert.deepEqual(lines.filter((l) => !l.startsWith('frag_list_kernel_last_segmentation_crash_info')).sort(), [
      'frag_list_agent_previous_start_timestamp_seconds 0',
      'frag_list_kernel_crash_records_skipped{reason="truncated"} 1',
      'frag_list_kernel_crash_records{class="other",function="other"} 1',
      'frag_list_kernel_crash_records{class="segmentation",function="__udp_gso_segment"} 1',
      'frag_list_kernel_crash_records{class="segmentation",function="skb_segment"} 1',
      `frag_list_kernel_last_crash_timestamp_seconds{class="other"} ${CRASH_S - 600}`,
      `frag_list_kernel_last_crash_timestamp_seconds{class="segmentation"} ${CRASH_S}`,
    ]);
    assert.ok(lines.includes('frag_list_kernel_last_segmentation_crash_info{function="__udp_gso_segment",culprit="unknown",summary="crashed in __udp_gso_segment; the agent heard no critical skb before it (culprit unknown)"} 1'));
    const check = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
    assert.equal(check.exitCode, 0, check.stdout + check.stderr);
    assert.match(om, /^frag_list_kernel_crash_records\{class="segmentation",function="__udp_gso_segment"\} 1$/m);
    assert.match(om, /# EOF\n$/);
  });

  test('doctor names the latest record and where last words go; --json has every record', async () => {
    const state = mkdtempSync(join(tmpdir(), 'flx-state-'));
    try {
      const human = await execa(process.execPath, [CLI, 'doctor', `--kernel.crash-dirs=${dirs}`, `--state.dir=${state}`], { reject: false });
      assert.match(human.stdout, /\[!! \] kernel crash records: 3 \(2 in GSO segmentation\) in \S+pstore, \S+crash\n/);
      assert.match(human.stdout, /latest: \S+ class segmentation, function __udp_gso_segment \(RIP __udp_gso_segment\+0x35a\/0x550\): crashed in __udp_gso_segment/);
      assert.match(human.stdout, new RegExp(`last words before a crash go to ${state}/last-words.log \\(no /dev/pmsg0`));
      const json = JSON.parse((await execa(process.execPath, [CLI, 'doctor', '--json', `--kernel.crash-dirs=${dirs}`, `--state.dir=${state}`], { reject: false })).stdout);
      assert.equal(json.crash.records.length, 3);
      assert.deepEqual(readdir(state), [], 'doctor writes nothing in the state directory');
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  test('a restart in the same state directory: the previous run\'s start is known, the records are the same', async () => {
    const state = mkdtempSync(join(tmpdir(), 'flx-state-'));
    try {
      const first = await startAgent([`--kernel.crash-dirs=${dirs}`, `--state.dir=${state}`]);
      const t0 = Date.now();
      const before = await (await first.get('/crashes')).json() as any;
      assert.equal((await first.stop()).code, 0);
      assert.ok(readdir(state).includes('crash-records.json') && readdir(state).includes('last-words.log'));
      const second = await startAgent([`--kernel.crash-dirs=${dirs}`, `--state.dir=${state}`]);
      try {
        const after = await (await second.get('/crashes')).json() as any;
        assert.deepEqual(after.records, before.records);
        const prev = Date.parse(after.previousStart);
        assert.ok(prev <= t0 && t0 - prev < 120_000, `previous start ${after.previousStart}`);
        assert.equal((await second.metrics()).sum('frag_list_agent_previous_start_timestamp_seconds'), Math.floor(prev / 1000));
      } finally {
        assert.equal((await second.stop()).code, 0);
      }
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  test('bad flags, and a state directory that cannot be written: one line and exit 2', async () => {
    const port = await freePort();
    const run = (args: string[]) => execa(process.execPath, [...AGENT_NODE_OPTIONS, CLI, 'serve', `--web.listen-address=127.0.0.1:${port}`, ...args], { reject: false, timeout: 60_000 });
    for (const [args, msg] of [
      [['--kernel.crash-dirs=/sys/fs/pstore,relative/dir'], /^fraglist-exporter: --kernel.crash-dirs: "relative\/dir" is not an absolute path$/],
      [['--state.dir=/a,/b'], /^fraglist-exporter: --state.dir: "\/a,\/b" is not one absolute path$/],
    ] as const) {
      const r = await run([...args]);
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr.trim(), msg);
    }
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const r = await run([`--state.dir=${file}/state`]);
    assert.equal(r.exitCode, 2, r.stderr);
    assert.match(r.stderr.trim(), new RegExp(`^fraglist-exporter: --state.dir: cannot write to ${file}/state: .*ENOTDIR.*\\(--state.dir="" keeps nothing\\)$`));
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('--kernel.crash-dirs="" turns it off: no /crashes, no crash series', async () => {
    const off = await startAgent(['--kernel.crash-dirs=']);
    try {
      assert.equal((await off.get('/crashes')).status, 404);
      assert.doesNotMatch(await (await off.get('/metrics')).text(), /frag_list_kernel_crash|frag_list_agent_previous/);
    } finally {
      assert.equal((await off.stop()).code, 0);
    }
  });
});
