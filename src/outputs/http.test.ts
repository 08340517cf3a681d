import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { parseRecord } from '../bpftrace/records.js';
import { GSO_TABLE_4_14 } from '../kernel/gso.js';
import { MODES } from '../modes.js';
import { judgeFor } from '../state/danger.js';
import { TracerState } from '../state/tracer-state.js';
import { createApp, pathMatcher } from './http.js';
import { createRegistries } from './metrics.js';

const OM = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const state = new TracerState({ mode: MODES.tracepoint, program: { text: '' }, hooks: ['netif_receive_skb_entry'], unattached: [] }, GSO_TABLE_4_14, 4);
const health = { healthy: () => healthy };
let healthy = true;
const logLines: string[] = [];
const log = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { logLines.push(String(chunk)); cb(); } }));
let base: string;
const servers: Server[] = [];

function serve(registries: { text: Registry; openMetrics: Registry }): Promise<string> {
  const s = createServer(createApp(state, health, registries, '/metrics', log, { danger: judgeFor('fixed'), build: { version: 't', bpftraceVersion: 'v0.17.0', kernel: 'k', nodeVersion: process.version } })).listen(0, '127.0.0.1');
  servers.push(s);
  return new Promise((r) => s.once('listening', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
}

before(async () => {
  state.apply(parseRecord('{"type": "attached_probes", "data": {"probes": 8}}'), 1);
  state.apply(parseRecord('{"type": "map", "data": {"@ticks": 1}}'), 1);
  state.apply(parseRecord('{"type": "map", "data": {"@inconsistent": {"tracepoint:net:netif_receive_skb_entry,255": 7}}}'), 1);
  base = await serve(createRegistries(state, health, { version: 't', bpftraceVersion: 'v0.17.0', kernel: 'k', gsoNamesSource: 'btf', fraglistFix: { state: 'fixed', upstream: '6.12.57', why: 'w' } }));
});
after(() => { for (const s of servers) { s.closeAllConnections(); s.close(); } });

const text = async (path: string, headers: Record<string, string> = {}) => {
  const r = await fetch(base + path, { headers });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
};

test('both expositions stay right for every client, in any order and at once', async () => {
  const order = ['text', 'om', 'text', 'om', 'om', 'text'];
  const all = await Promise.all([...order, ...order].map((f) => text('/metrics', f === 'om' ? { accept: OM } : {}).then((r) => [f, r] as const)));
  for (const [format, r] of all) {
    if (format === 'text') {
      assert.match(r.type, /^text\/plain/);
      assert.match(r.body, /^# TYPE frag_list_inconsistent_total counter$/m);
      assert.match(r.body, /^frag_list_inconsistent_total\{hook="netif_receive_skb_entry",culprit="unseen"\} 7$/m);
      assert.doesNotMatch(r.body, /^frag_list_inconsistent\{/m);
      assert.doesNotMatch(r.body, /# EOF/);
    } else {
      assert.match(r.type, /^application\/openmetrics-text/);
      assert.match(r.body, /^# TYPE frag_list_inconsistent counter$/m);
      assert.match(r.body, /^frag_list_inconsistent_total\{hook="netif_receive_skb_entry",culprit="unseen"\} 7$/m);
      assert.match(r.body, /# EOF\n$/);
    }
  }
});

test('/metrics answers HEAD and a query string as GET does; other methods and paths are not it', async () => {
  const head = await fetch(`${base}/metrics`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.match(head.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(await head.text(), '');
  const get = await fetch(`${base}/metrics`);
  const body = await get.text();
  assert.equal(Number(get.headers.get('content-length')), Buffer.byteLength(body));
  for (const path of ['/metrics?x=1', '/metrics/', '/Metrics']) assert.match((await text(path)).body, /^frag_list_tracer_up 1$/m, path);
  assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 404);
  assert.equal((await text('/metrics/x')).status, 404);
  assert.equal((await text('/metricsx')).status, 404);
});

test('a scrape after the tracer printed new counts shows them; one between prints shows the same', async () => {
  const series = (b: string) => /^frag_list_overrun_total\{hook="netif_receive_skb_entry",culprit="unseen"\} (\d+)$/m.exec(b)?.[1];
  const lastRise = (b: string) => /^frag_list_last_overrun_timestamp_seconds\{hook="netif_receive_skb_entry",culprit="unseen"\} (\S+)$/m.exec(b)?.[1];
  const first = (await text('/metrics')).body;
  // a crash state's series is born with its first skb
  assert.equal(series(first), undefined);
  assert.equal(lastRise(first), undefined);
  assert.match(first, /^# TYPE frag_list_overrun_total counter$/m);
  state.apply(parseRecord('{"type": "map", "data": {"@overrun": {"tracepoint:net:netif_receive_skb_entry,255": 5}}}'), 2000);
  assert.equal(series((await text('/metrics')).body), '5');
  assert.equal(series((await text('/metrics', { accept: OM })).body), '5');
  assert.equal(lastRise((await text('/metrics')).body), '2');
  state.counters.add('tracer_restarts');
  assert.match((await text('/metrics')).body, /^frag_list_tracer_restarts_total 1$/m);
  assert.equal(series((await text('/metrics')).body), '5');
  // the same print again: the same count, no new rise
  state.apply(parseRecord('{"type": "map", "data": {"@overrun": {"tracepoint:net:netif_receive_skb_entry,255": 5}}}'), 9000);
  assert.equal(lastRise((await text('/metrics')).body), '2');
});

test('the telemetry path matches as an express route did: any case, one trailing slash', () => {
  const m = pathMatcher('/metrics');
  for (const p of ['/metrics', '/metrics/', '/METRICS']) assert.equal(m(p), true, p);
  for (const p of ['/metrics//', '/metricsx', '/metrics/x', '/', '', '/x/metrics']) assert.equal(m(p), false, p);
  assert.equal(pathMatcher('/')('/'), true);
  assert.equal(pathMatcher('/')('/metrics'), false);
  assert.equal(pathMatcher('/a/b/')('/a/b'), true);
});

test('/events: a kind must be one the probes print; anything else is 400', async () => {
  assert.equal((await text('/events?kind=inconsistent')).status, 200);
  assert.equal((await text('/events')).status, 200);
  for (const q of ['kind=bogus', 'kind=', 'kind=inconsistent&kind=overrun']) {
    const r = await text(`/events?${q}`);
    assert.equal(r.status, 400, q);
    assert.match(r.body, /^kind must be one of inconsistent, overrun/);
  }
});

test('/readyz says not ready while the tracer is attached but silent', async () => {
  assert.equal((await text('/readyz')).status, 200);
  healthy = false;
  try {
    const r = await text('/readyz');
    assert.equal(r.status, 503);
    assert.match(r.body, /stopped reporting/);
    assert.match((await text('/metrics')).body, /^frag_list_tracer_up 0$/m);
  } finally {
    healthy = true;
  }
});

test('a failing handler answers 500 with no stack trace and logs one JSON line', async () => {
  const failing = { metrics: () => Promise.reject(new TypeError('boom at /secret/path.js:1')), contentType: 'text/plain' } as unknown as Registry;
  const other = await serve({ text: failing, openMetrics: failing });
  const r = await fetch(`${other}/metrics`);
  const body = await r.text();
  assert.equal(r.status, 500);
  assert.equal(body, 'internal error\n');
  const line = JSON.parse(logLines.find((l) => l.includes('HTTP handler failed'))!);
  assert.equal(line.error.type, 'TypeError');
  assert.equal(line.error.stack, undefined);
  assert.equal((await fetch(`${other}/nope`)).status, 404);
  assert.equal((await fetch(`${other}/%E0%A4%A`)).status, 404);
});
