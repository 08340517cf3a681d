// The landing page at `/`, for a person who opens the agent in a browser: per
// hook, what was counted and what each count means on this host as danger.ts
// says it (a page, a warning, or legal here), the culprits, and the build line
// an exporter-toolkit landing page shows. Pure: counters in, HTML out.
import type { Counters } from '../state/counters.js';
import type { Danger, Judge } from '../state/danger.js';
import { perHook, splitLabel } from '../state/hook-culprit.js';

export interface Build { version: string; bpftraceVersion: string; kernel: string; nodeVersion: string }

export interface LandingView {
  mode: { name: string; blindSpots: string; counters: readonly string[] };
  hooks: readonly string[];
  counters: Counters;
  up: boolean;
  telemetryPath: string;
  build: Build;
  /** this host's judge: what a count means here */
  danger: Judge;
}

/** The crash states, as the page's columns: the counter and what its skbs are. */
const STATES = [
  { counter: 'inconsistent', title: 'INCONSISTENT', is: { inconsistent: true, overrun: false, fraglist_nolist: false } },
  { counter: 'overrun', title: 'OVERRUN', is: { inconsistent: false, overrun: true, fraglist_nolist: false } },
  { counter: 'fraglist_nolist', title: 'FRAGLIST without a list', is: { inconsistent: false, overrun: false, fraglist_nolist: true } },
] as const;

const MEANING: Record<Danger['alert'], string> = { page: 'page', warning: 'warning', none: 'legal here' };

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function landingPage(v: LandingView): string {
  const states = STATES.filter((s) => v.mode.counters.includes(s.counter));
  const totals = new Map(states.map((s) => [s.counter, new Map(perHook(v.counters, s.counter))]));
  const cells = (hook: string) => states.map((s) => {
    const total = totals.get(s.counter)!.get(hook) ?? 0;
    const d = v.danger({ kind: s.counter, hook, ...s.is });
    const cls = total > 0 ? `seen ${d.alert}` : d.alert;
    return `<td class="n">${total}</td><td class="${cls}" title="${esc(d.why)}">${MEANING[d.alert]}</td>`;
  }).join('');
  const culprits = (hook: string) => {
    const by = new Map<string, number>();
    for (const s of states) {
      for (const [label, n] of v.counters.series(s.counter)) {
        const { hook: h, culprit } = splitLabel(label);
        if (h === hook && culprit && n > 0) by.set(culprit, (by.get(culprit) ?? 0) + n);
      }
    }
    return [...by].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${esc(c)} ${n}`).join(', ');
  };
  const rows = v.hooks.map((h) => `<tr><td>${esc(h)}</td><td class="n">${v.counters.get('inspected', h)}</td>${cells(h)}<td>${culprits(h)}</td></tr>`).join('\n');
  const b = v.build;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fraglist-exporter</title>
<style>
body { font-family: sans-serif; margin: 1.5em; } table { border-collapse: collapse; } th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; } .page { color: #a00; } .warning { color: #a60; } .none { color: #666; }
td.seen.page { background: #fdd; font-weight: bold; } td.seen.warning { background: #ffe9c2; } .build { color: #555; font-size: 90%; }
</style></head><body>
<h1>fraglist-exporter</h1>
<p class="build">Version: (version=${esc(b.version)}, bpftrace=${esc(b.bpftraceVersion)}, kernel=${esc(b.kernel)}, node=${esc(b.nodeVersion)}, mode=${esc(v.mode.name)})</p>
<p>Tracer <b>${v.up ? 'up' : 'down'}</b> in <b>${esc(v.mode.name)}</b> mode. This mode ${esc(v.mode.blindSpots)}.</p>
<table>
<thead><tr><th rowspan="2">hook</th><th rowspan="2">skbs inspected</th>${states.map((s) => `<th colspan="2">${s.title}</th>`).join('')}<th rowspan="2">culprits</th></tr>
<tr>${states.map(() => '<th>count</th><th>here it is</th>').join('')}</tr></thead>
<tbody>
${rows}
</tbody></table>
<p>"page": the shipped rules page on it (it can crash this kernel). "warning": they warn. "legal here": counted and graphed, no alert
(a linear GSO skb away from <code>skb_segment</code> is legal). Hover a cell for the reason. A culprit is the hooked function that last
cleared the skb's frag_list or changed its GSO fields; <code>unseen</code>: none of them did.</p>
<p><a href="${esc(v.telemetryPath)}">Metrics</a> · <a href="/events">Sampled events</a> · <a href="/healthz">healthz</a> · <a href="/readyz">readyz</a></p>
</body></html>`;
}
