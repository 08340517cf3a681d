// watch, end to end: the usage guide's command lines against real skbs.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { CLI, sleep, until } from '../helpers/agent.js';
import { cleanup, inject, tapHost } from '../helpers/net.js';
import { startWatch } from '../helpers/watch.js';

const A = '198.18.0.2', B = '198.18.0.9', TAP_ADDR = '198.18.0.1';

describe('watch filters, in the kernel', () => {
  after(cleanup);

  test('--src-ip: rows for A only; B counted as filtered out; statistics exact after Ctrl-C', async () => {
    const tap = await tapHost();
    const w = await startWatch(['--src-ip', A, '--verbose']);
    await inject(tap.ns, tap.dev, A, TAP_ADDR, 30);
    await inject(tap.ns, tap.dev, B, TAP_ADDR, 20);
    await sleep(1500);
    const r = await w.interrupt();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.rows.length, 30, 'one row per injected skb of A (under the rate limit)');
    const flows = r.stdout.split('\n').filter((l) => l.startsWith('  -> Flow: '));
    assert.equal(flows.length, 30);
    assert.ok(flows.every((l) => l.startsWith(`  -> Flow: ${A}:40000 -> ${TAP_ADDR}:5201 | dev=${tap.dev} len=3040 data_len=0 nr_frags=0`)), flows[0]);
    // linear GSO skbs on receive: INCONSISTENT rows, [WARNING] not [CRITICAL] (only skb_segment is a crash point), and verbose says why
    assert.ok(r.rows.every((l) => / INCONSISTENT +netif_receive_skb_entry .*type=TCPV4\|DODGY size=1348 segs=0 \[WARNING\]$/.test(l)), r.rows[0]);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('  -> WARNING: INCONSISTENT at netif_receive_skb_entry, not at a crash point')).length, 30);
    assert.doesNotMatch(r.stdout, /CRITICAL/);
    assert.equal(r.stats.get('INCONSISTENT'), '30');
    assert.equal(r.stats.get('Total events'), '30');
    assert.ok(Number(r.stats.get('Filtered out')) >= 20, `filtered ${r.stats.get('Filtered out')}`);
    assert.match(r.stderr, /Filters \(in the kernel\): --src-ip 198\.18\.0\.2\./);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour on a pipe');
  });

  test('--dst-ip, IPv6: only the matching destination', async () => {
    const tap = await tapHost();
    const w = await startWatch(['--dst-ip', '2001:db8::1', '--json']);
    await inject(tap.ns, tap.dev, '2001:db8::2', '2001:db8::1', 12);
    await inject(tap.ns, tap.dev, '2001:db8::2', '2001:db8::99', 8);
    await inject(tap.ns, tap.dev, A, TAP_ADDR, 5);
    await sleep(1500);
    const r = await w.interrupt();
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const events = lines.filter((l) => l.type === 'event');
    assert.equal(events.length, 12);
    assert.ok(events.every((e) => e.dst === '2001:db8::1' && e.l3 === 'ipv6' && e.gso_type_names === 'DODGY|TCPV6'));
    const stats = lines.at(-1);
    assert.equal(stats.type, 'statistics');
    assert.equal(stats.inconsistent, 12);
    assert.ok(stats.filtered >= 13);
  });

  test('--interface: the named device of this namespace, not a namesake elsewhere', async () => {
    const mine = await tapHost();
    const other = await tapHost(); // same device name, and on a fresh namespace the same ifindex
    assert.equal(mine.ifindex, other.ifindex);
    const w = await startWatch(['--interface', mine.dev], mine.ns);
    await inject(mine.ns, mine.dev, A, TAP_ADDR, 7);
    await inject(other.ns, other.dev, A, TAP_ADDR, 9);
    await sleep(1500);
    const r = await w.interrupt();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stats.get('INCONSISTENT'), '7');
    assert.equal(r.rows.length, 7);
    assert.ok(Number(r.stats.get('Filtered out')) >= 9);
  });

  test('--gso-only: non-GSO skbs are filtered out, GSO ones inspected', async () => {
    const tap = await tapHost();
    const w = await startWatch(['--gso-only', '--src-ip', A]);
    await inject(tap.ns, tap.dev, A, TAP_ADDR, 15, { gsoSize: 0, payload: 500 });
    await inject(tap.ns, tap.dev, A, TAP_ADDR, 10);
    await sleep(1500);
    const r = await w.interrupt();
    assert.equal(r.stats.get('INCONSISTENT'), '10');
    assert.equal(r.stats.get('Skbs inspected'), '10', 'only the GSO skbs of A passed the filters');
    assert.ok(Number(r.stats.get('Filtered out')) >= 15);
  });
});

describe('watch output', () => {
  after(cleanup);

  test('--stack-trace prints the kernel stack under each row; rate-limited rows are counted and announced', async () => {
    const tap = await tapHost();
    const w = await startWatch(['--src-ip', A, '--stack-trace', '--rate', '5']);
    await inject(tap.ns, tap.dev, A, TAP_ADDR, 200);
    await sleep(2500);
    const r = await w.interrupt();
    const lines = r.stdout.split('\n');
    const first = lines.findIndex((l) => /INCONSISTENT +netif_receive_skb_entry/.test(l));
    assert.match(lines[first + 1], /^ {8}netif_receive_skb\+\d+$/);
    assert.match(lines[first + 2], /^ {8}tun_get_user\+\d+$/);
    assert.equal(r.stats.get('INCONSISTENT'), '200', 'statistics count everything');
    assert.ok(r.rows.length >= 5 && r.rows.length < 200, `rows ${r.rows.length}`);
    assert.equal(Number(r.stats.get('Rows suppressed')), 200 - r.rows.length);
    assert.match(r.stderr, /more rows suppressed by the rate limit \(--rate 5\/s\)/);
  });

  test('--duration ends by itself; through `| grep INCONSISTENT` nothing is held back', async () => {
    const tap = await tapHost();
    const run = execa('sh', ['-c', `"${process.execPath}" "${CLI}" watch --src-ip ${A} --duration 8 | grep INCONSISTENT`], { reject: false });
    let stderr = '';
    run.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    await until('watch to attach', async () => (stderr.includes('Tracing sk_buff') ? true : undefined), 30_000);
    await inject(tap.ns, tap.dev, A, TAP_ADDR, 25);
    const r = await run;
    const rows = r.stdout.split('\n').filter((l) => /INCONSISTENT +netif_receive_skb_entry/.test(l));
    assert.equal(rows.length, 25);
    assert.match(r.stdout, /INCONSISTENT: +25/);
  });

  test('workflow 2\'s pipe: verbose output reaches grep row by row; tracepoint mode has no "-> NULL" (CLEAR) rows to find', async () => {
    const tap = await tapHost();
    // the guide's `watch --gso-only --verbose | grep -- "-> NULL"`, widened to every "->" so the pipe's delivery is checked too
    const run = execa('bash', ['-c', `"${process.execPath}" "${CLI}" watch --gso-only --verbose --duration 8 | grep --line-buffered -- "->"; echo "watch=\${PIPESTATUS[0]}"`], { reject: false });
    let stderr = '';
    run.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    await until('watch to attach', async () => (stderr.includes('Tracing sk_buff frag_list') ? true : undefined), 60_000);
    await inject(tap.ns, tap.dev, A, TAP_ADDR, 12);
    const r = await run;
    const lines = String(r.stdout).trimEnd().split('\n');
    assert.equal(lines.pop(), 'watch=0', 'watch ran and ended cleanly');
    assert.equal(lines.filter((l) => l.startsWith(`  -> Flow: ${A}:40000 -> ${TAP_ADDR}:5201`)).length, 12, 'every verbose flow line came through the pipe');
    assert.equal(lines.filter((l) => l.includes('-> NULL')).length, 0, 'no CLEAR rows in tracepoint mode (src/watch/rows.test.ts shows them in a kernel-function mode)');
    assert.match(stderr, /Filters \(in the kernel\): --gso-only\./);
  });
});

describe('watch refusals', () => {
  test('bad input: one line naming the flag, exit 2, nothing attached', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--src-ip', '10.0.0.300'], /^fraglist-exporter: --src-ip: "10\.0\.0\.300" is not an IPv4 or IPv6 address$/],
      [['--interface', 'nosuch0'], /^fraglist-exporter: --interface: no interface "nosuch0" in this network namespace$/],
      [['--verbos'], /--verbos: unknown flag/],
      [['--rate', '0'], /--rate/],
    ];
    for (const [args, re] of cases) {
      const r = await execa(process.execPath, [CLI, 'watch', ...args], { reject: false });
      assert.equal(r.exitCode, 2, args.join(' '));
      assert.match(r.stderr.trim(), re);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.equal(r.stdout, '');
    }
  });

  test('bpftrace missing: says how to install it, exit 1', async () => {
    const r = await execa(process.execPath, [CLI, 'watch', '--bpftrace.path', '/nonexistent/bpftrace'], { reject: false });
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /bpftrace unavailable.*apt-get install -y bpftrace/);
  });
});
