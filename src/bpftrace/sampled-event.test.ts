import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSampledEvent } from './sampled-event.js';

// A line as probes/tracepoint.bt printed it on this machine for a tap-injected skb.
const REAL = 'FLE1 kind=1 hook=tracepoint:net:netif_receive_skb_entry dev=tap0 ifindex=2 skb=0xffff8881103b6000 shinfo=0xffff888102a0eec0 len=3040 data_len=0 nr_frags=0 gso_size=1348 gso_segs=0 gso_type=3 frag_list=0x0 cloned=0 l3=ipv4 proto=6 src=198.18.0.2 dst=198.18.0.1 sport=40000 dport=5201 cpu=1 pid=3494 comm=python3 ts=233079230755\n\n        netif_receive_skb+142\n        tun_get_user+3464\n\n';

test('a real sampled event decodes with its stack', () => {
  const e = parseSampledEvent(REAL)!;
  assert.equal(e.kind, 'inconsistent');
  assert.equal(e.probe, 'tracepoint:net:netif_receive_skb_entry');
  assert.equal(e.gso_size, 1348);
  assert.equal(e.gso_type, 3);
  assert.equal(e.src, '198.18.0.2');
  assert.equal(e.dport, 5201);
  assert.equal(e.ktime_ns, 233079230755n);
  assert.deepEqual(e.stack, ['netif_receive_skb+142', 'tun_get_user+3464']);
});

test('a comm with spaces and an IPv6 flow', () => {
  const e = parseSampledEvent('FLE1 kind=2 hook=tracepoint:net:net_dev_start_xmit dev=veth0 ifindex=3 skb=0x1 shinfo=0x2 len=1 data_len=9 nr_frags=0 gso_size=0 gso_segs=0 gso_type=0 frag_list=0x0 cloned=1 l3=ipv6 proto=17 src=2001:db8::2 dst=2001:db8::1 sport=1 dport=2 cpu=0 pid=7 comm=kworker/0:1 H ts=5\n')!;
  assert.equal(e.kind, 'overrun');
  assert.equal(e.comm, 'kworker/0:1 H');
  assert.equal(e.dst, '2001:db8::1');
  assert.deepEqual(e.stack, []);
});

test('other printf text is not an event', () => {
  for (const t of ['hello', 'FLE1 kind=9 hook=x comm=a ts=1', 'FLE1 kind=1 comm=a ts=1', 'FLE1 kind=1 hook=x len=abc comm=a ts=1', 'FLE1 truncated']) {
    assert.equal(parseSampledEvent(t), undefined, t);
  }
});
