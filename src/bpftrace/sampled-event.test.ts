import { test } from 'node:test';
import assert from 'node:assert/strict';
import { address, parseSampledEvent } from './sampled-event.js';
import { ipWords } from './args.js';

// A line as probes/tracepoint.bt printed it on this machine for a tap-injected skb.
const REAL = 'FLE2 kind=1 crit=1 hook=tracepoint:net:netif_receive_skb_entry dev=tap0 ifindex=2 skb=0xffff8881103b6000 shinfo=0xffff888102a0eec0 before=0x0 after=0x0 len=3040 data_len=0 nr_frags=0 gso_size=1348 gso_segs=0 gso_type=3 gso_before=0x0 cloned=0 ethertype=2048 proto=6 a=20012c6:0 b=10012c6:0 sport=40000 dport=5201 cpu=1 pid=3494 comm=python3 ts=233079230755\n\n        netif_receive_skb+142\n        tun_get_user+3464\n\n';

test('a real sampled event decodes with its flow and stack', () => {
  const e = parseSampledEvent(REAL)!;
  assert.equal(e.kind, 'inconsistent');
  assert.equal(e.inconsistent, true);
  assert.equal(e.overrun, false);
  assert.equal(e.hook, 'tracepoint:net:netif_receive_skb_entry');
  assert.equal(e.gso_size, 1348);
  assert.equal(e.l3, 'ipv4');
  assert.equal(e.src, '198.18.0.2');
  assert.equal(e.dst, '198.18.0.1');
  assert.equal(e.dport, 5201);
  assert.equal(e.ktime_ns, 233079230755n);
  assert.deepEqual(e.stack, ['netif_receive_skb+142', 'tun_get_user+3464']);
});

test('a CLEAR at a kernel function: before/after pointers, GSO before, comm with spaces', () => {
  const e = parseSampledEvent('FLE2 kind=4 crit=2 hook=3 dev=veth0 ifindex=3 skb=0x1 shinfo=0x2 before=0xffff888def456000 after=0x0 len=1 data_len=9 nr_frags=0 gso_size=1348 gso_segs=0 gso_type=1027 gso_before=0x57600000403 cloned=1 ethertype=34525 proto=17 a=b80d0120:200000000000000 b=b80d0120:100000000000000 sport=1 dport=2 cpu=0 pid=7 comm=kworker/0:1 H ts=5\n')!;
  assert.equal(e.kind, 'clear');
  assert.equal(e.hook, '3');
  assert.equal(e.overrun, true);
  assert.equal(e.frag_list_before, '0xffff888def456000');
  assert.equal(e.frag_list, '0x0');
  assert.equal(e.gso_size_before, 1398);
  assert.equal(e.gso_type_before, 1027);
  assert.equal(e.comm, 'kworker/0:1 H');
  assert.equal(e.src, '2001:db8::2');
  assert.equal(e.dst, '2001:db8::1');
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

test('other printf text is not an event', () => {
  for (const t of ['hello', 'FLE2 kind=9 hook=x comm=a ts=1', 'FLE2 kind=1 comm=a ts=1', 'FLE2 kind=1 hook=x len=abc comm=a ts=1', 'FLE2 truncated', 'FLE1 kind=1 hook=x comm=a ts=1']) {
    assert.equal(parseSampledEvent(t), undefined, t);
  }
});
