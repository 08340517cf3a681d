// `fraglist-exporter serve`: wires kernel -> bpftrace -> parser -> state ->
// outputs, and owns the process lifecycle.
import cron from 'node-cron';
import { pino, type Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import type { ServeConfig } from './config.js';
import { inspectHost } from './kernel/host.js';
import { resolveInterface } from './kernel/interface.js';
import { createApp } from './outputs/http.js';
import { createRegistries } from './outputs/metrics.js';
import { assess } from './preflight.js';
import type { Applied, TracerState } from './state/tracer-state.js';
import { startTracer } from './tracer.js';
import { VERSION } from './version.js';

export async function serve(config: ServeConfig): Promise<number> {
  const log = pino({ level: config.logLevel, base: { app: 'fraglist-exporter' } });
  const { interface: ifaceName, ...addressFilters } = config.filters;
  const iface = ifaceName ? resolveInterface(ifaceName, 'filter.interface') : undefined;
  const tracer = await startTracer({
    bpftracePath: config.bpftracePath, mode: config.mode, printIntervalSeconds: config.printInterval,
    sampleRatePerSecond: config.sampleRate, filters: { ...addressFilters, iface }, eventsCapacity: config.eventsBuffer, restart: true,
  }, {
    applied: (a) => logApplied(log, a),
    stderr: (line) => log.warn({ stderr: line }, 'bpftrace'),
    exited(info, tail, state) {
      state.runEnded();
      state.counters.add('tracer_restarts');
      log.error({ ...info, stderr: tail }, 'bpftrace exited; restarting');
    },
    refused: (mode, next, tail) => log.warn({ mode, next, stderr: tail }, `${mode} mode was refused at attach time${next ? `; trying ${next}` : ''}`),
  });
  if ('error' in tracer) {
    process.stderr.write(`fraglist-exporter: ${tracer.error}\n`);
    return 1;
  }
  const { facts, verdict, plan, state, supervisor } = tracer;
  const registries = createRegistries(state, {
    version: VERSION, bpftraceVersion: facts.bpftrace.version ?? 'unknown', kernel: facts.kernelRelease, gsoNamesSource: facts.gsoNamesSource,
  });
  const app = createApp(state, registries, config.telemetryPath);
  const server = config.listen.host ? app.listen(config.listen.port, config.listen.host) : app.listen(config.listen.port);
  try {
    await new Promise<void>((resolve, reject) => { server.once('listening', resolve); server.once('error', reject); });
  } catch (err) {
    await supervisor.stop();
    process.stderr.write(`fraglist-exporter: --web.listen-address: cannot listen on ${config.listen.host}:${config.listen.port}: ${(err as Error).message}\n`);
    return 1;
  }
  const addr = server.address() as AddressInfo;
  log.info({
    mode: plan.mode.name, hooks: plan.hooks, unattached: plan.unattached, blind_spots: plan.mode.blindSpots,
    listen: `${addr.address}:${addr.port}`, filters: config.filters, frag_layout: facts.layout, gso_names: facts.gsoNamesSource,
    modes: verdict.modes, pid: supervisor.pid,
  }, 'serving');
  for (const u of plan.unattached) log.warn(u, `hook ${u.hook} not attached`);
  if (!facts.setprivPdeathsig) log.warn('setpriv --pdeathsig is unavailable: if the agent is killed with SIGKILL, bpftrace ends at its next write instead of at once');

  const tasks = [
    cron.schedule(config.summarySchedule, () => log.info(summary(state), 'summary')),
    cron.schedule(config.recheckSchedule, async () => {
      const again = assess(await inspectHost(config.bpftracePath, { mountTracefs: false }), config.mode);
      if (again.plans[0]?.mode.name !== plan.mode.name || again.problems.length) log.warn({ problems: again.problems, would_pick: again.plans[0]?.mode.name }, 'host capabilities changed');
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

function logApplied(log: Logger, a: Applied): void {
  switch (a.kind) {
    case 'event': {
      const e = a.event;
      if (e.kind === 'inconsistent' || e.kind === 'overrun' || e.inconsistent || e.overrun) log.warn(e, `sampled ${e.kind.toUpperCase()} skb at ${e.hook}`);
      else log.debug(e, `sampled ${e.kind.toUpperCase()} at ${e.hook}`);
      break;
    }
    case 'attached': log.info({ probes: a.probes }, 'probes attached'); break;
    case 'lost': log.warn({ events: a.events }, 'bpftrace lost events'); break;
    case 'problem': log.warn(a.detail, a.message); break;
  }
}

function summary(state: TracerState) {
  const c = state.counters;
  const out: Record<string, unknown> = { mode: state.mode.name, tracer_up: state.up };
  for (const name of state.mode.counters) out[name] = c.sum(name);
  return { ...out, lost: c.get('lost_events'), restarts: c.get('tracer_restarts') };
}
