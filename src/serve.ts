// `fraglist-exporter serve`: wires kernel -> bpftrace -> parser -> state ->
// outputs, and owns the process lifecycle.
import cron from 'node-cron';
import { pino, type Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import { parseRecord } from './bpftrace/records.js';
import { Supervisor } from './bpftrace/supervisor.js';
import type { ServeConfig } from './config.js';
import { inspectHost } from './kernel/host.js';
import { createApp } from './outputs/http.js';
import { createRegistries } from './outputs/metrics.js';
import { assess } from './preflight.js';
import { TracerState } from './state/tracer-state.js';
import { planTracer } from './tracer.js';
import { VERSION } from './version.js';

/** bpftrace's stderr lines that are known to be harmless on supported kernels */
const HARMLESS_STDERR = [/couldn't set RLIMIT_MEMLOCK/, /^\s*$/];

export async function serve(config: ServeConfig): Promise<number> {
  const log = pino({ level: config.logLevel, base: { app: 'fraglist-exporter' } });
  const plan = await planTracer({
    bpftracePath: config.bpftracePath, mode: config.mode, printIntervalSeconds: config.printInterval,
    sampleRatePerSecond: config.sampleRate, filters: { gsoOnly: false },
  });
  if ('error' in plan) {
    process.stderr.write(`fraglist-exporter: ${plan.error}\n`);
    return 1;
  }
  const { facts, verdict, mode, args } = plan;
  const state = new TracerState(mode, verdict.hooks, facts.gsoNames, config.eventsBuffer);
  const registries = createRegistries(state, {
    version: VERSION, bpftraceVersion: facts.bpftrace.version ?? 'unknown', kernel: facts.kernelRelease, gsoNamesSource: facts.gsoNamesSource,
  });

  const app = createApp(state, registries, config.telemetryPath);
  const server = config.listen.host ? app.listen(config.listen.port, config.listen.host) : app.listen(config.listen.port);
  try {
    await new Promise<void>((resolve, reject) => { server.once('listening', resolve); server.once('error', reject); });
  } catch (err) {
    process.stderr.write(`fraglist-exporter: --web.listen-address: cannot listen on ${config.listen.host}:${config.listen.port}: ${(err as Error).message}\n`);
    return 1;
  }
  const addr = server.address() as AddressInfo;
  log.info({ mode: mode.name, hooks: verdict.hooks, blind_spots: mode.blindSpots, listen: `${addr.address}:${addr.port}`,
    frag_layout: facts.layout, gso_names: facts.gsoNamesSource, not_used: verdict.modes.filter((m) => m.mode !== mode.name) }, 'starting');

  if (!facts.setprivPdeathsig) log.warn('setpriv --pdeathsig is unavailable: if the agent is killed with SIGKILL, bpftrace ends at its next write instead of at once');
  const supervisor = new Supervisor({ bpftracePath: config.bpftracePath, args, pdeathsig: facts.setprivPdeathsig }, {
    started(pid) { state.runStarted(); log.info({ pid, args }, 'bpftrace started'); },
    stdoutLine(line) { onRecord(state, log, line); },
    stderrLine(line) {
      if (HARMLESS_STDERR.some((r) => r.test(line))) log.debug({ stderr: line }, 'bpftrace');
      else log.warn({ stderr: line }, 'bpftrace');
    },
    exited(info) {
      state.runEnded();
      state.counters.add('tracer_restarts');
      log.error(info, 'bpftrace exited; restarting');
    },
  });
  supervisor.start();

  const tasks = [
    cron.schedule(config.summarySchedule, () => log.info(summary(state), 'summary')),
    cron.schedule(config.recheckSchedule, async () => {
      const again = assess(await inspectHost(config.bpftracePath, { mountTracefs: false }), config.mode);
      if (again.mode?.name !== mode.name || again.problems.length) log.warn({ problems: again.problems, would_pick: again.mode?.name }, 'host capabilities changed');
    }),
  ];

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      for (const t of tasks) void t.stop();
      server.close();
      server.closeAllConnections();
      await supervisor.stop();
      log.info(summary(state), 'stopped');
      resolve(0);
    };
    // `on`, not `once`: execa's signal-exit re-raises a signal it sees no other listener for
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
  });
}

function onRecord(state: TracerState, log: Logger, line: string): void {
  const applied = state.apply(parseRecord(line), Date.now());
  switch (applied.kind) {
    case 'event': {
      const { stack, ...fields } = applied.event;
      log.warn({ ...fields, stack }, `sampled ${applied.event.kind.toUpperCase()} skb at ${applied.event.hook}`);
      break;
    }
    case 'attached': log.info({ probes: applied.probes }, 'probes attached'); break;
    case 'lost': log.warn({ events: applied.events }, 'bpftrace lost events'); break;
    case 'problem': log.warn(applied.detail, applied.message); break;
  }
}

function summary(state: TracerState) {
  const c = state.counters;
  return {
    tracer_up: state.up, inspected: c.sum('inspected'), gso: c.sum('gso'), inconsistent: c.sum('inconsistent'), overrun: c.sum('overrun'),
    sampled: c.sum('sampled'), suppressed: c.sum('suppressed'), lost: c.get('lost_events'), restarts: c.get('tracer_restarts'),
  };
}
