import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bpftraceArgs, ipWords } from './args.js';

const layout = { fragsOffset: 48, fragStride: 16, fragLenOffset: 8, fragLenField: 'skb_frag.len' };
const base = { program: { path: '/p/tracepoint.bt' }, printIntervalSeconds: 1, sampleRatePerSecond: 10, layout, fraglistGsoMask: 1 << 18 };

test('no filters', () => {
  assert.deepEqual(bpftraceArgs({ ...base, filters: { gsoOnly: false } }),
    ['-f', 'json', '/p/tracepoint.bt', '1', '10', '48', '16', '8', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '262144']);
});

test('every filter at once, IPv4 source and IPv6 destination', () => {
  assert.deepEqual(bpftraceArgs({ ...base, filters: { gsoOnly: true, srcIp: '198.18.0.2', dstIp: '2001:db8::1', interfaceId: { ifindex: 7, netnsInode: 4026531833 } } }),
    ['-f', 'json', '/p/tracepoint.bt', '1', '10', '48', '16', '8', String(1 | 2 | 16 | 32), '7', String(0x020012c6), '0',
      '0', '0', '0', '0', String(0xb80d0120), '0', '0', String(0x01000000), '4026531833', '262144']);
});

test('addresses become the words a little-endian load of the packet gives', () => {
  assert.deepEqual(ipWords('198.18.0.2'), [0x020012c6]);
  assert.deepEqual(ipWords('2001:db8::1'), [0xb80d0120, 0, 0, 0x01000000]);
  assert.deepEqual(ipWords('::ffff:198.18.0.2'), [0, 0, 0xffff0000, 0x020012c6]);
  assert.deepEqual(ipWords('::'), [0, 0, 0, 0]);
  assert.throws(() => ipWords('10.0.0.300'), /not an IP/);
});

test('a program given as text goes in with -e', () => {
  const args = bpftraceArgs({ ...base, program: { text: 'kprobe:skb_segment { }' }, filters: { gsoOnly: false } });
  assert.deepEqual(args.slice(0, 4), ['-f', 'json', '-e', 'kprobe:skb_segment { }']);
  assert.equal(args.length, 4 + 19);
});
