// `fraglist-exporter watch`: the original BCC watcher's terminal tool on top of
// the same probes, parser and state as serve. Rows on stdout (line by line,
// colour only on a TTY), notices on stderr, exact statistics at the end.
import type { WatchConfig } from './config.js';
import { resolveInterface } from './kernel/interface.js';
import type { ModePlan } from './modes.js';
import type { TracerState } from './state/tracer-state.js';
import { prepareHost, startTracer } from './tracer.js';
import { eventLines, header, statistics, type RowStyle } from './watch/rows.js';

export async function watch(config: WatchConfig): Promise<number> {
  const interfaceId = config.interface ? resolveInterface(config.interface, 'interface') : undefined;
  const out = (lines: string[]) => { if (lines.length) process.stdout.write(lines.join('\n') + '\n'); };
  const note = (text: string) => process.stderr.write(`${text}\n`);
  let rowsShown = 0, suppressedNoted = 0, lastNoticeMs = 0;
  let style: RowStyle | undefined;
  let onExit: (code: number, why?: string) => void = () => undefined;

  const host = await prepareHost(config);
  const tracer = await startTracer(host, {
    bpftracePath: config.bpftracePath, printIntervalSeconds: 1, sampleRatePerSecond: config.rate,
    filters: { gsoOnly: config.gsoOnly, srcIp: config.srcIp, dstIp: config.dstIp, interfaceId }, eventsCapacity: 1, restart: false,
  }, {
    applied(a) {
      if (!style) return; // a refused mode's output
      if (a.kind === 'event') {
        rowsShown++;
        out(config.json ? [JSON.stringify({ type: 'event', ...a.event })] : eventLines(a.event, style));
      } else if (a.kind === 'lost') {
        note(`-- bpftrace lost ${a.events} events --`);
      }
    },
    stderr() { /* kept by the tracer for the exit message */ },
    exited(info, tail) {
      // Ctrl-C at a terminal reaches bpftrace too: a clean exit is the end of the trace
      if (info.code === 0) onExit(0);
      else onExit(1, `fraglist-exporter watch: bpftrace exited (${info.signal ?? `code ${info.code}`}): ${tail.join(' | ') || 'no message'}`);
    },
    refused: (mode, next, why) => note(`${mode} mode was refused when attaching (${why})${next ? `; trying ${next} mode` : ''}`),
  });
  if ('error' in tracer) {
    process.stderr.write(`fraglist-exporter watch: ${tracer.error}\n`);
    return 1;
  }
  const { plan, state, supervisor } = tracer;
  style = {
    verbose: config.verbose, stackTrace: config.stackTrace, danger: host.danger,
    color: process.stdout.isTTY === true && !process.env.NO_COLOR,
    functionWidth: Math.max(20, ...plan.hooks.map((h) => h.length)),
  };
  note(banner(config, plan));
  if (!config.json) out(header(style));
  const noticeTimer = setInterval(() => {
    const suppressed = state.counters.sum('suppressed');
    if (suppressed > suppressedNoted && Date.now() - lastNoticeMs >= 1000) {
      note(`-- ${suppressed - suppressedNoted} more rows suppressed by the rate limit (--rate ${config.rate}/s); the statistics count them --`);
      suppressedNoted = suppressed;
      lastNoticeMs = Date.now();
    }
  }, 1000);

  return new Promise<number>((resolve) => {
    let finishing = false;
    const finish = async (code: number, why?: string) => {
      if (finishing) return;
      finishing = true;
      clearTimeout(timer);
      clearInterval(noticeTimer);
      await supervisor.stop();
      if (why) note(why);
      if (config.json) out([JSON.stringify({ type: 'statistics', mode: plan.mode.name, ...statsObject(state) })]);
      else out(['', ...statistics({ counters: state.counters, rowsShown, sampleRate: config.rate, modeName: plan.mode.name, modeCounters: plan.mode.counters, hooks: plan.hooks })]);
      resolve(code);
    };
    onExit = (code, why) => void finish(code, why);
    const timer = config.duration > 0 ? setTimeout(() => void finish(0), config.duration * 1000) : undefined;
    // `on`, not `once`: execa's signal-exit re-raises a signal it sees no other listener for
    process.on('SIGINT', () => void finish(0));
    process.on('SIGTERM', () => void finish(0));
    // a reader that goes away (`| head`) ends the trace, quietly
    process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') void finish(0); });
  });
}

function banner(c: WatchConfig, plan: ModePlan): string {
  const { mode: { name: mode, blindSpots }, hooks } = plan;
  const filters = [c.srcIp && `--src-ip ${c.srcIp}`, c.dstIp && `--dst-ip ${c.dstIp}`, c.interface && `--interface ${c.interface}`, c.gsoOnly && '--gso-only']
    .filter(Boolean);
  return [
    `Tracing sk_buff frag_list in ${mode} mode at ${hooks.length} hooks (${hooks.join(', ')}). Ctrl-C to end.`,
    `Filters (in the kernel): ${filters.length ? filters.join(' ') : 'none'}. Rows: at most ${c.rate}/s.`,
    ...plan.unattached.map((u) => `Not attached: ${u.hook} (${u.why}).`),
    `Note: ${mode} mode ${blindSpots}.`,
  ].join('\n');
}

function statsObject(state: TracerState) {
  const c = state.counters;
  return { ...Object.fromEntries(state.mode.counters.map((name) => [name, c.sum(name)])), lost: c.get('lost_events') };
}
