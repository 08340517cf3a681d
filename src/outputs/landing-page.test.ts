import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODES } from '../modes.js';
import { Counters } from '../state/counters.js';
import { judgeFor } from '../state/danger.js';
import { landingPage, type LandingView } from './landing-page.js';

const build = { version: '0.1.0', bpftraceVersion: 'v0.17.0', kernel: '5.10.0-32-cloud-amd64', nodeVersion: 'v20.19.2' };

function view(fix: 'fixed' | 'lacking', mode = MODES.kprobe, hooks = ['skb_segment', 'bpf_skb_pull_data', 'napi_gro_receive_entry']): LandingView {
  const counters = new Counters();
  counters.observe('inspected', new Map(hooks.map((h, i) => [h, 100 * (i + 1)])));
  counters.observe('inconsistent', new Map([['skb_segment\tbpf_skb_pull_data', 5], ['skb_segment\tunseen', 2], ['napi_gro_receive_entry\tunseen', 40]]));
  counters.observe('fraglist_nolist', new Map([['bpf_skb_pull_data\tbpf_skb_pull_data', 3]]));
  return { mode, hooks, counters, up: true, telemetryPath: '/metrics', build, danger: judgeFor(fix) };
}

/** a hook's row, as its cells' text */
const row = (html: string, hook: string) => {
  const tr = new RegExp(`<tr><td>${hook}</td>(.*?)</tr>`).exec(html)?.[1];
  assert.ok(tr, `a row for ${hook}`);
  return [...tr.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]);
};

test('each count says what it means there: INCONSISTENT pages at skb_segment and is legal at a receive hook', () => {
  const html = landingPage(view('fixed'));
  //          inspected, INCONSISTENT, meaning, OVERRUN, meaning, FRAGLIST, meaning, culprits
  assert.deepEqual(row(html, 'skb_segment'), ['100', '7', 'page', '0', 'page', '0', 'warning', 'bpf_skb_pull_data 5, unseen 2']);
  assert.deepEqual(row(html, 'napi_gro_receive_entry'), ['300', '40', 'legal here', '0', 'page', '0', 'warning', 'unseen 40']);
  assert.deepEqual(row(html, 'bpf_skb_pull_data'), ['200', '0', 'legal here', '0', 'page', '3', 'warning', 'bpf_skb_pull_data 3']);
  assert.match(html, /<td class="seen page" title="INCONSISTENT at skb_segment, the crash point/, 'a count that pages stands out');
});

test('on a kernel without the 2024 fraglist fix, FRAGLIST without a list pages wherever it is seen', () => {
  assert.deepEqual(row(landingPage(view('lacking')), 'bpf_skb_pull_data').slice(5, 7), ['3', 'page']);
});

test('the build line, as an exporter-toolkit landing page shows it; columns only for the counters the mode keeps', () => {
  const html = landingPage(view('fixed'));
  assert.match(html, /Version: \(version=0\.1\.0, bpftrace=v0\.17\.0, kernel=5\.10\.0-32-cloud-amd64, node=v20\.19\.2, mode=kprobe\)/);
  assert.match(html, /<th colspan="2">FRAGLIST without a list<\/th>/);
  const tracepoint = landingPage({ ...view('fixed'), mode: { ...MODES.tracepoint, counters: MODES.tracepoint.counters.filter((c) => c !== 'fraglist_nolist') } });
  assert.doesNotMatch(tracepoint, /FRAGLIST without a list<\/th>/);
});

test('text from outside the program is escaped', () => {
  const html = landingPage({ ...view('fixed'), hooks: ['<script>x</script>'], telemetryPath: '/m"><b>' });
  assert.doesNotMatch(html, /<script>x/);
  assert.doesNotMatch(html, /\/m"><b>/);
});
