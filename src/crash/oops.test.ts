import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { root } from '../../test/helpers/repo.js';
import { parseOops, type Oops } from './oops.js';

const fixture = (name: string) => readFileSync(join(root, 'test/fixtures/crash', name), 'utf8');
const oops = (text: string): Oops => {
  const r = parseOops(text);
  assert.ok(r.ok, `parsed: ${JSON.stringify(r)}`);
  return r.oops;
};

describe('parseOops on real and real-shaped records', () => {
  test('bullseye 5.10\'s oops in list segmentation, as its console printed it in the crash test', () => {
    const o = oops(fixture('bullseye-5.10-console.txt'));
    assert.equal(o.class, 'segmentation');
    assert.equal(o.function, '__udp_gso_segment');
    assert.deepEqual(o.rip, { function: '__udp_gso_segment', offset: '0x35a/0x550' });
    assert.equal(o.headline, 'BUG: kernel NULL pointer dereference, address: 00000000000000c0');
    assert.deepEqual(o.trace.slice(0, 3), ['inet_gso_segment', 'skb_mac_gso_segment', '__skb_gso_segment'], 'the "?" guesses are left out');
    assert.equal(o.comm, 'ksoftirqd/0');
    assert.equal(o.pid, 11);
    assert.equal(o.release, '5.10.0-32-cloud-amd64');
    assert.equal(o.panic, true);
  });

  test('bullseye 5.10\'s oops as ramoops kept it over the reboot (the pstore e2e test\'s record)', () => {
    const o = oops(fixture('bullseye-5.10-ramoops-dmesg.txt'));
    assert.equal(o.class, 'segmentation');
    assert.equal(o.function, '__udp_gso_segment');
    assert.equal(o.release, '5.10.0-32-cloud-amd64');
    assert.equal(o.panic, true);
  });

  test('the seed\'s shape: skb_segment+558 (0x22e) in an old kernel\'s pstore record, bracketed addresses', () => {
    const o = oops(fixture('kernel-3.10-seed-shape.txt'));
    assert.equal(o.function, 'skb_segment');
    assert.deepEqual(o.rip, { function: 'skb_segment', offset: '0x22e/0x8d0' });
    assert.deepEqual(o.trace.slice(0, 2), ['tcp_gso_segment', 'inet_gso_segment']);
    assert.equal(o.release, '3.10.0-1160.el7.x86_64');
  });

  test('RHEL\'s vmcore-dmesg.txt: "Kdump: loaded" and a taint before the release', () => {
    const o = oops(fixture('rhel8-vmcore-dmesg.txt'));
    assert.equal(o.class, 'segmentation');
    assert.equal(o.function, 'skb_segment');
    assert.equal(o.comm, 'swapper/17');
    assert.equal(o.pid, 0);
    assert.equal(o.release, '4.18.0-305.el8.x86_64');
  });

  test('systemd-pstore\'s dmesg.txt of a 6.1 general protection fault in skb_segment_list', () => {
    const o = oops(fixture('systemd-pstore-6.1-dmesg.txt'));
    assert.equal(o.function, 'skb_segment_list');
    assert.match(o.headline, /^general protection fault/);
    assert.equal(o.comm, 'napi/eth0-385');
    assert.equal(o.release, '6.1.0-18-amd64');
  });

  test('an oops elsewhere is class other, function other (6.12\'s "UID:" in the CPU line)', () => {
    const o = oops(fixture('other-oops-6.12.txt'));
    assert.equal(o.class, 'other');
    assert.equal(o.function, 'other');
    assert.equal(o.rip?.function, 'example_work_fn');
    assert.equal(o.comm, 'kworker/0:2');
    assert.equal(o.panic, false);
  });

  test('a fault in a helper called by skb_segment is skb_segment\'s (the first frames count)', () => {
    const text = fixture('rhel8-vmcore-dmesg.txt').replace('RIP: 0010:skb_segment+0x22e/0xb50', 'RIP: 0010:memcpy_erms+0x6/0x10')
      .replace(' tcp_gso_segment+0x103/0x4c0', ' skb_segment+0x3a1/0xb50');
    assert.equal(oops(text).function, 'skb_segment');
  });

  test('a warning is not a crash; a record without an oops is not one; a cut-off oops is truncated', () => {
    assert.deepEqual(parseOops(fixture('warning-not-a-crash.txt')), { ok: false, reason: 'warning' });
    assert.deepEqual(parseOops('<6>[    0.000000] Linux version 6.1.0\n<6>[    1.0] all is well\n'), { ok: false, reason: 'not-an-oops' });
    assert.deepEqual(parseOops(fixture('truncated.txt')), { ok: false, reason: 'truncated' });
    assert.deepEqual(parseOops(''), { ok: false, reason: 'not-an-oops' });
  });
});

describe('parseOops on hostile text', () => {
  const base = fixture('other-oops-6.12.txt');
  test('a task name with a newline cannot put a RIP line of its own into the oops', () => {
    // 15 bytes a process can set with prctl(PR_SET_NAME): "\nRIP: a+0x1/0x2"; the kernel prefixes the line it starts
    const text = base.replace('Comm: kworker/0:2 Not tainted', 'Comm: \n<4>[  412.882150] RIP: a+0x1/0x2 Not tainted');
    const o = oops(text);
    assert.equal(o.comm, '\nRIP: a+0x1/0x2');
    assert.equal(o.rip?.function, 'example_work_fn');
    assert.equal(o.class, 'other');
  });

  test('a task name that ends like a taint and release is read whole', () => {
    const o = oops(base.replace('Comm: kworker/0:2 Not tainted', 'Comm: a Tainted: 9 #1 Not tainted'));
    assert.equal(o.comm, 'a Tainted: 9 #1');
    assert.equal(o.release, '6.12.117+deb13-cloud-amd64');
  });

  test('a process naming itself skb_segment does not make a crash one in segmentation', () => {
    const o = oops(base.replace('Comm: kworker/0:2', 'Comm: skb_segment+0x1/0x2'));
    assert.equal(o.class, 'other');
  });

  test('no input throws, and what it returns is bounded', () => {
    const line = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.constantFrom('Oops: 0000 [#1] SMP', 'Call Trace:', '<IRQ>', 'RIP: 0010:skb_segment+0x1/0x2', 'CPU: 0 PID: 1 Comm: ', ' Not tainted 6.1.0 #1',
        'Kernel panic - not syncing: x', '---[ end trace 0 ]---', ' skb_segment_list+0x1/0x2', '? x+0x1/0x2', 'BUG: x', 'WARNING: x'),
    );
    fc.assert(fc.property(fc.array(line, { maxLength: 60 }), fc.constantFrom('', '<4>[   1.000000] ', '[ 2.5] '), (lines, prefix) => {
      const r = parseOops(lines.map((l) => prefix + l).join('\n'));
      if (r.ok) {
        assert.ok(r.oops.trace.length <= 64);
        assert.ok(r.oops.headline.length <= 200);
        assert.ok(r.oops.comm === undefined || r.oops.comm.length <= 15);
        assert.ok(['segmentation', 'other'].includes(r.oops.class));
      }
    }), { numRuns: 2000 });
  });

  test('a record of megabytes, with a line of two, is read', () => {
    const text = `${'x'.repeat(2_000_000)}\n${base}\n${'Call Trace:\n'.repeat(50_000)}`;
    assert.equal(oops(text).rip?.function, 'example_work_fn');
  });
});
