import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { address, parseSampledEvent, type SampledEvent } from './sampled-event.js';
import { ipWords } from './args.js';
import { EVENT_FIELDS, eventPrintfFormat } from '../probes/event-line.js';

// A record as probes/tracepoint.bt printed it on this machine (bpftrace 0.17) for a
// tap-injected skb, from a device and a process named to fool a parser.
const REAL = 'FLE4 kind=1 crit=1 hook=tracepoint:net:netif_receive_skb_entry ifindex=2 skb=0xffff888139f58300 shinfo=0xffff8881be751ec0 before=0x0 after=0x0 len=3040 data_len=0 nr_frags=0 gso_size=1348 gso_segs=0 gso_type=3 gso_before=0x0 cloned=0 ethertype=2048 proto=6 a=20012c6:0 b=10012c6:0 sport=40000 dport=5201 cpu=1 pid=15506 ts=22093825776604 culprit=255 culprit_ts=0 dev=fl=a=z,comm=\n\n        netif_receive_skb+142\n        tun_get_user+3464\n        tun_chr_write_iter+119\n        vfs_write+559\n        ksys_write+102\n        do_syscall_64+113\n        entry_SYSCALL_64_after_hwframe+118\n\nculprit_stack=\ncomm=x"}\\ts=1';

const ok = (text: string): SampledEvent => {
  const r = parseSampledEvent(text);
  assert.ok(r.ok, `not parsed: ${!r.ok && r.reason}`);
  return r.event;
};

test('a real sampled event decodes with its flow and stack', () => {
  const e = ok(REAL);
  assert.equal(e.kind, 'inconsistent');
  assert.equal(e.inconsistent, true);
  assert.equal(e.overrun, false);
  assert.equal(e.hookKey, 'tracepoint:net:netif_receive_skb_entry');
  assert.equal(e.gso_size, 1348);
  assert.equal(e.l3, 'ipv4');
  assert.equal(e.src, '198.18.0.2');
  assert.equal(e.dst, '198.18.0.1');
  assert.equal(e.dport, 5201);
  assert.equal(e.dev, 'fl=a=z,comm=');
  assert.equal(e.comm, 'x"}\\ts=1');
  assert.equal(e.pid, 15506);
  assert.equal(e.ktime_ns, 22093825776604n);
  assert.equal(e.culpritKey, '255');
  assert.deepEqual(e.culprit_stack, []);
  assert.deepEqual(e.stack.slice(0, 2), ['netif_receive_skb+142', 'tun_get_user+3464']);
  assert.equal(e.stack.length, 7);
});

/** What bpftrace's printf makes of the program's format string and these values. */
function printed(values: Record<string, string | number | bigint>, dev: string, stack: string[], comm: string, hookFormat: '%s' | '%d' = '%d', culpritStack: string[] = []): string {
  const args: Array<string | number | bigint> = [];
  for (const [name, f] of EVENT_FIELDS) {
    if (f === 'words') args.push(...String(values[name]).split(':').map((w) => BigInt(`0x${w}`)));
    else if (f === 'ptr') args.push(BigInt(values[name] as string));
    else args.push(values[name]);
  }
  const kstack = (frames: string[]) => (frames.length ? `\n${frames.map((s) => `        ${s}`).join('\n')}\n` : '');
  args.push(dev, kstack(stack), kstack(culpritStack), comm);
  return eventPrintfFormat(hookFormat).replace(/\\n/g, '\n').replace(/%(ld|lx|d|s)/g, (spec) => {
    const v = args.shift()!;
    return spec === '%lx' ? BigInt(v).toString(16) : String(v);
  });
}

const BASE = {
  kind: 4, crit: 2, hook: 3, ifindex: 3, skb: '0x1', shinfo: '0x2', before: '0xffff888def456000', after: '0x0', len: 1, data_len: 9,
  nr_frags: 0, gso_size: 1348, gso_segs: 0, gso_type: 1027, gso_before: '0x57600000403', cloned: 1, ethertype: 34525, proto: 17,
  a: 'b80d0120:200000000000000', b: 'b80d0120:100000000000000', sport: 1, dport: 2, cpu: 0, pid: 7, ts: 5n,
  culprit: 255, culprit_ts: 0n,
};

test('a CLEAR at a kernel function: before/after pointers, GSO before, IPv6, comm with spaces', () => {
  const e = ok(printed(BASE, 'veth0', ['pskb_expand_head+5', 'skb_segment+558 [mod]'], 'kworker/0:1 H'));
  assert.equal(e.kind, 'clear');
  assert.equal(e.hookKey, '3');
  assert.equal(e.overrun, true);
  assert.equal(e.frag_list_before, '0xffff888def456000');
  assert.equal(e.frag_list, '0x0');
  assert.equal(e.gso_size_before, 1348 + 50);
  assert.equal(e.gso_type_before, 1027);
  assert.equal(e.comm, 'kworker/0:1 H');
  assert.equal(e.src, '2001:db8::2');
  assert.equal(e.dst, '2001:db8::1');
  assert.deepEqual(e.stack, ['pskb_expand_head+5', 'skb_segment+558 [mod]']);
});

test('hostile process and device names are taken verbatim and change no other field', () => {
  const truth = ok(printed(BASE, 'eth0', ['f+1'], 'x'));
  const comms = [' a=z comm=', 'x ts=1 comm=y', '\ncomm=evil', 'a\nb=1 dev=x', '"}\\n{"type"', ' kind=1 crit=3', 'é\ufffd\ufffd', 'comm=comm=comm='];
  const devs = ['fl=a=z,comm=', 'x=1', 'dev=evil', 'a"b\\c', ''];
  for (const comm of comms) {
    for (const dev of devs) {
      const e = ok(printed(BASE, dev, ['f+1'], comm));
      assert.equal(e.comm, comm);
      assert.equal(e.dev, dev);
      assert.deepEqual({ ...e, comm: truth.comm, dev: truth.dev }, truth);
    }
  }
});

test('property: any comm, dev and field values round-trip exactly, or nothing is parsed', () => {
  const u = (max: number) => fc.integer({ min: 0, max });
  const hex = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  const words = fc.tuple(hex, hex).map(([x, y]) => `${x.toString(16)}:${y.toString(16)}`);
  const ptr = hex.map((x) => `0x${x.toString(16)}`);
  const comm = fc.string({ maxLength: 15, unit: 'binary' }).filter((s) => !s.includes('\u0000'));
  // the kernel's dev_valid_name: no whitespace, '/' or ':'
  const dev = fc.string({ maxLength: 15, unit: 'grapheme-ascii' }).filter((s) => !/[\s/:]/.test(s));
  const frame = fc.stringMatching(/^[a-z_][a-z0-9_.]{0,30}\+\d{1,5}$/);
  const values = fc.record({
    kind: fc.integer({ min: 1, max: 7 }), crit: u(3), hook: u(8), ifindex: u(2 ** 31), skb: ptr, shinfo: ptr, before: ptr, after: ptr,
    len: u(2 ** 32 - 1), data_len: u(2 ** 32 - 1), nr_frags: u(17), gso_size: u(65535), gso_segs: u(65535), gso_type: u(2 ** 32 - 1),
    gso_before: ptr, cloned: u(1), ethertype: u(65535), proto: u(255), a: words, b: words, sport: u(65535), dport: u(65535),
    cpu: u(4095), pid: u(4194304), ts: fc.bigInt({ min: 0n, max: 2n ** 63n }),
    culprit: u(255), culprit_ts: fc.bigInt({ min: 0n, max: 2n ** 63n }),
  });
  const stack = fc.array(frame, { maxLength: 8 });
  fc.assert(fc.property(values, dev, stack, stack, comm, (v, d, s, cs, c) => {
    const e = ok(printed(v, d, s, c, '%d', cs));
    assert.equal(e.comm, c);
    assert.equal(e.dev, d);
    assert.deepEqual(e.stack, s);
    assert.deepEqual(e.culprit_stack, cs);
    assert.equal(e.culpritKey, String(v.culprit));
    assert.equal(e.culprit_ktime_ns, v.culprit_ts);
    assert.equal(e.len, v.len);
    assert.equal(e.gso_type, v.gso_type);
    assert.equal(e.pid, v.pid);
    assert.equal(e.skb, v.skb);
    assert.equal(e.ktime_ns, v.ts);
    assert.equal(e.hookKey, String(v.hook));
  }), { numRuns: 2000 });
});

test('property: random and mutated text never throws, and is either rejected or a well-formed event', () => {
  const real = fc.constantFrom(REAL, printed(BASE, 'veth0', ['f+1'], 'a b'));
  const mutated = fc.tuple(real, fc.nat(), fc.nat({ max: 40 }), fc.string({ maxLength: 40, unit: 'binary' }))
    .map(([t, at, del, ins]) => { const i = at % (t.length + 1); return t.slice(0, i) + ins + t.slice(i + del); });
  fc.assert(fc.property(fc.oneof(mutated, fc.string({ unit: 'binary' })), (text) => {
    const r = parseSampledEvent(text);
    if (r.ok) {
      assert.ok(Number.isSafeInteger(r.event.len) && [...r.event.comm].length <= 15 && !r.event.dev.includes('\n'));
    } else {
      assert.equal(typeof r.reason, 'string');
    }
  }), { numRuns: 5000 });
});

test('addresses decode back from the words the probe read (inverse of ipWords)', () => {
  for (const a of ['198.18.0.2', '0.0.0.0', '255.1.2.3']) {
    const [w] = ipWords(a);
    assert.equal(address('ipv4', `${w.toString(16)}:0`), a);
  }
  for (const a of ['2001:db8::1', '::', '2001:db8:1:2:3:4:5:6', 'fe80::1:0:0:1', '::ffff:c612:2']) {
    const w = ipWords(a).map((x) => BigInt(x));
    const lo = w[0] | (w[1] << 32n), hi = w[2] | (w[3] << 32n);
    assert.equal(address('ipv6', `${lo.toString(16)}:${hi.toString(16)}`), a);
  }
});

test('other printf text is rejected with a reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['hello', /not a sampled event/],
    ['FLE2 kind=1 crit=1 hook=x comm=a ts=1', /not a sampled event/],
    [REAL.replace('kind=1', 'kind=9'), /unknown kind/],
    [REAL.replace('len=3040', 'len=abc'), /bad len/],
    [REAL.replace(' crit=1', ''), /expected crit=/],
    [REAL.replace('a=20012c6:0', 'a=z'), /bad a/],
    [REAL.split('\n')[0], /no stack and comm/],
    [REAL.slice(0, REAL.indexOf('\ncomm=')), /no comm/],
    [REAL.replace('\nculprit_stack=', '\n'), /no culprit stack/],
    [REAL.replace(' culprit=255', ' culprit=x'), /bad culprit/],
    [`${REAL}0123456789abcdef`, /bad comm/],
    [REAL.replace('tun_get_user+3464', 'a b c'), /bad stack frame/],
    [REAL.replace('dev=fl=a=z,comm=', 'dev=0123456789abcdef'), /bad dev/],
    ['FLE4 kind=1', /truncated at kind/],
  ];
  for (const [t, reason] of cases) {
    const r = parseSampledEvent(t);
    assert.equal(r.ok, false, t);
    assert.match(!r.ok ? r.reason : '', reason, t);
  }
});

test('the culprit: its hook id, when it wrote, and its stack, apart from the event\'s own stack', () => {
  const e = ok(printed({ ...BASE, kind: 1, crit: 1, culprit: 9, culprit_ts: 4n }, 'pr1', ['skb_segment+5', 'tcp_gso_segment+300'], 'ksoftirqd/1', '%d',
    ['bpf_skb_pull_data+5', 'bpf_prog_1234_pull_all+40', 'tcf_classify+90']));
  assert.equal(e.culpritKey, '9');
  assert.equal(e.culprit_ktime_ns, 4n);
  assert.deepEqual(e.stack, ['skb_segment+5', 'tcp_gso_segment+300']);
  assert.deepEqual(e.culprit_stack, ['bpf_skb_pull_data+5', 'bpf_prog_1234_pull_all+40', 'tcf_classify+90']);
  assert.deepEqual(ok(printed(BASE, 'pr1', ['f+1'], 'x')).culprit_stack, []);
});

test('FRAGLIST without a list: kind 8, and crit bit 4 on any kind', () => {
  const e = ok(printed({ ...BASE, kind: 8, crit: 5, gso_type: (1 << 17) | (1 << 18), data_len: 0 }, 'pr0', ['bpf_skb_pull_data+5'], 'ksoftirqd/0'));
  assert.equal(e.kind, 'fraglist_nolist');
  assert.deepEqual([e.inconsistent, e.overrun, e.fraglist_nolist], [true, false, true]);
  assert.equal(ok(printed({ ...BASE, crit: 4 }, 'pr0', [], 'x')).fraglist_nolist, true);
  assert.equal(ok(printed(BASE, 'pr0', [], 'x')).fraglist_nolist, false);
});
