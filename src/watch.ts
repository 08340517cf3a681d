// `fraglist-exporter watch`: the original BCC watcher's terminal tool on top of
// the same probes, parser and state as serve. Rows on stdout (line by line,
// colour only on a TTY), notices on stderr, exact statistics at the end.
import { readFileSync, statSync } from 'node:fs';
import { parseRecord } from './bpftrace/records.js';
import { Supervisor } from './bpftrace/supervisor.js';
import { UsageError, type WatchConfig } from './config.js';
import { TracerState } from './state/tracer-state.js';
import { planTracer } from './tracer.js';
import { eventLines, header, statistics, type RowStyle } from './watch/rows.js';

export async function watch(config: WatchConfig): Promise<number> {
  const iface = config.interface ? resolveInterface(config.interface) : undefined;
  const plan = await planTracer({
    bpftracePath: config.bpftracePath, mode: config.mode, printIntervalSeconds: 1, sampleRatePerSecond: config.rate,
    filters: { gsoOnly: config.gsoOnly, srcIp: config.srcIp, dstIp: config.dstIp, iface },
  });
  if ('error' in plan) {
    process.stderr.write(`fraglist-exporter watch: ${plan.error}\n`);
    return 1;
  }
  const state = new TracerState(plan.mode, plan.hooks, plan.facts.gsoNames, 1);
  const style: RowStyle = {
    verbose: config.verbose, stackTrace: config.stackTrace,
    color: process.stdout.isTTY === true && !process.env.NO_COLOR,
    functionWidth: Math.max(20, ...plan.hooks.map((h) => h.length)),
  };
  const out = (lines: string[]) => { if (lines.length) process.stdout.write(lines.join('\n') + '\n'); };
  const note = (text: string) => process.stderr.write(`${text}\n`);

  let rowsShown = 0, suppressedNoted = 0, lastNoticeMs = 0;
  const stderrTail: string[] = [];
  let attached = false;

  return new Promise<number>((resolve) => {
    let finishing = false;
    const finish = async (code: number, why?: string) => {
      if (finishing) return;
      finishing = true;
      clearTimeout(timer);
      await supervisor.stop();
      if (why) note(why);
      const stats = statistics({ counters: state.counters, rowsShown, sampleRate: config.rate, modeName: plan.mode.name, modeEvents: plan.mode.events });
      if (config.json) out([JSON.stringify({ type: 'statistics', ...statsObject(state) })]);
      else out(['', ...stats]);
      resolve(code);
    };

    const supervisor = new Supervisor({ bpftracePath: config.bpftracePath, args: plan.args, pdeathsig: plan.facts.setprivPdeathsig, restart: false }, {
      started() { state.runStarted(); },
      stdoutLine(line) {
        const applied = state.apply(parseRecord(line), Date.now());
        if (applied.kind === 'attached' && !attached) {
          attached = true;
          note(banner(config, plan.mode.name, plan.hooks, plan.mode.blindSpots));
          if (!config.json) out(header(style));
        } else if (applied.kind === 'event') {
          rowsShown++;
          out(config.json ? [JSON.stringify({ type: 'event', ...applied.event })] : eventLines(applied.event, style));
        } else if (applied.kind === 'lost') {
          note(`-- bpftrace lost ${applied.events} events --`);
        }
        const suppressed = state.counters.sum('suppressed');
        if (suppressed > suppressedNoted && Date.now() - lastNoticeMs >= 1000) {
          note(`-- ${suppressed - suppressedNoted} more rows suppressed by the rate limit (--rate ${config.rate}/s); the statistics count them --`);
          suppressedNoted = suppressed;
          lastNoticeMs = Date.now();
        }
      },
      stderrLine(line) {
        if (/RLIMIT_MEMLOCK|^\s*$/.test(line)) return;
        stderrTail.push(line);
        if (stderrTail.length > 5) stderrTail.shift();
      },
      exited(info) {
        // Ctrl-C at a terminal reaches bpftrace too: a clean exit is the end of the trace
        if (info.code === 0) void finish(0);
        else void finish(1, `fraglist-exporter watch: bpftrace exited (${info.signal ?? `code ${info.code}`}): ${stderrTail.join(' | ') || 'no message'}`);
      },
    });

    const timer = config.duration > 0 ? setTimeout(() => void finish(0), config.duration * 1000) : undefined;
    // `on`, not `once`: execa's signal-exit re-raises a signal it sees no other listener for
    process.on('SIGINT', () => void finish(0));
    process.on('SIGTERM', () => void finish(0));
    // a reader that goes away (`| head`) ends the trace, quietly
    process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') void finish(0); });
    supervisor.start();
  });
}

/** An interface name of this network namespace -> what the probe compares. */
function resolveInterface(name: string): { ifindex: number; netnsInode: number } {
  let ifindex: number;
  try {
    ifindex = Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'));
  } catch {
    throw new UsageError(`--interface: no interface "${name}" in this network namespace`);
  }
  return { ifindex, netnsInode: statSync('/proc/self/ns/net').ino };
}

function banner(c: WatchConfig, mode: string, hooks: string[], blindSpots: string): string {
  const filters = [c.srcIp && `--src-ip ${c.srcIp}`, c.dstIp && `--dst-ip ${c.dstIp}`, c.interface && `--interface ${c.interface}`, c.gsoOnly && '--gso-only']
    .filter(Boolean);
  return [
    `Tracing sk_buff frag_list in ${mode} mode at ${hooks.length} hooks (${hooks.join(', ')}). Ctrl-C to end.`,
    `Filters (in the kernel): ${filters.length ? filters.join(' ') : 'none'}. Rows: at most ${c.rate}/s.`,
    `Note: ${mode} mode ${blindSpots}.`,
  ].join('\n');
}

function statsObject(state: TracerState) {
  const c = state.counters;
  return {
    inconsistent: c.sum('inconsistent'), overrun: c.sum('overrun'), filtered: c.sum('filtered'), inspected: c.sum('inspected'),
    gso: c.sum('gso'), sampled: c.sum('sampled'), suppressed: c.sum('suppressed'), lost: c.get('lost_events'),
  };
}
