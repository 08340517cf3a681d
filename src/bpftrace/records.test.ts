import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { highBytes, parseRecord } from './records.js';

test('every record type bpftrace 0.17 prints', () => {
  assert.deepEqual(parseRecord('{"type": "attached_probes", "data": {"probes": 8}}'), { type: 'attached_probes', probes: 8 });
  assert.deepEqual(parseRecord('{"type": "lost_events", "data": {"events": 12}}'), { type: 'lost_events', events: 12 });
  assert.deepEqual(parseRecord('{"type": "printf", "data": "FLE3 kind=1\\n"}'), { type: 'printf', text: 'FLE3 kind=1\n' });
  assert.deepEqual(parseRecord('{"type": "helper_error", "helper": "probe_read", "retcode": -14, "line": 3, "col": 5}'),
    { type: 'helper_error', helper: 'probe_read', retcode: -14, line: 3, col: 5 });
  assert.deepEqual(parseRecord('{"type": "map", "data": {"@inconsistent": {"tracepoint:net:netif_receive_skb_entry": 1005, "tracepoint:net:net_dev_start_xmit": 0}}}'),
    { type: 'map', name: '@inconsistent', values: new Map([['tracepoint:net:netif_receive_skb_entry', 1005], ['tracepoint:net:net_dev_start_xmit', 0]]), rejected: [] });
  assert.deepEqual(parseRecord('{"type": "map", "data": {"@total": 7}}'), { type: 'map', name: '@total', values: new Map([['', 7]]), rejected: [] });
  assert.deepEqual(parseRecord('{"type": "time", "data": "12:00:00\\n"}'), { type: 'other', recordType: 'time' });
  assert.deepEqual(parseRecord('{"type": "hist", "data": {"@h": []}}'), { type: 'other', recordType: 'hist' });
});

test('partial, garbage and malformed lines are reported, never thrown', () => {
  assert.deepEqual(parseRecord(''), { type: 'other', recordType: 'blank' });
  for (const line of ['{"type": "map", "data": {"@x": {"a": 1', 'Attaching 8 probes...', '42', '{"data": 1}',
    '{"type": "map", "data": {}}', '{"type": "map", "data": {"@x": [1]}}', '{"type": "map", "data": {"@x": -1}}',
    '{"type": "attached_probes", "data": {}}', '{"type": "printf", "data": 5}', '{"type": "lost_events"}']) {
    const r = parseRecord(line);
    assert.equal(r.type, 'unparsable', line);
  }
});

test('a map record keeps its good keys and sets apart the bad ones', () => {
  assert.deepEqual(parseRecord('{"type": "map", "data": {"@x": {"a": -1, "b": 2, "c": 1.5, "d": "9007199254740993", "e": "x", "f": null}}}'),
    { type: 'map', name: '@x', values: new Map([['b', 2], ['d', 9007199254740992]]), rejected: ['a', 'c', 'e', 'f'] });
});

test('property: no line throws; every result is a known record type', () => {
  const types = ['attached_probes', 'printf', 'map', 'lost_events', 'helper_error', 'other', 'unparsable'];
  fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ type: 'map', data: { '@m': v } }))), (line) => {
    assert.ok(types.includes(parseRecord(line).type));
  }), { numRuns: 3000 });
});

test('bytes >= 0x80 that bpftrace 0.17 escapes as \\uffffffXX come back as the UTF-8 they were', () => {
  // measured: a process named "\xff=\n\x80" and one named "été", as bpftrace 0.17 printed them
  const r = parseRecord('{"type": "printf", "data": "comm=\\uffffffff=\\n\\uffffff80 x=\\uffffffc3\\uffffffa9t\\uffffffc3\\uffffffa9"}');
  assert.deepEqual(r, { type: 'printf', text: 'comm=\ufffd=\n\ufffd x=\u00e9t\u00e9' });
  assert.equal(highBytes('plain ascii'), 'plain ascii');
});

test('bpftrace 0.24+ JSON: attached_probes and lost_events with a count field beside data; an empty map (0.24.x prints them)', () => {
  // attached_probes as sid's 0.27.1 printed it on this host; lost_events gains the same field (the reading of the 0.24 changelog)
  assert.deepEqual(parseRecord('{"type": "attached_probes", "count": 1, "data": {"probes": 1}}'), { type: 'attached_probes', probes: 1 });
  assert.deepEqual(parseRecord('{"type": "lost_events", "count": 3, "data": {"events": 3}}'), { type: 'lost_events', events: 3 });
  assert.deepEqual(parseRecord('{"type": "map", "data": {"@overrun": {}}}'), { type: 'map', name: '@overrun', values: new Map(), rejected: [] });
});
