// `fraglist-exporter serve`: wires kernel -> bpftrace -> parser -> state ->
// outputs, and owns the process lifecycle.
import { pino, type Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import { UsageError, type ServeConfig } from './config.js';
import { staleAfterMs, Watchdog } from './bpftrace/watchdog.js';
import { openCrashWatch, type CrashWatch } from './crash/crash-watch.js';
import { inspectHost } from './kernel/host.js';
import { lookupInterface, NO_INTERFACE, resolveInterface, type InterfaceId } from './kernel/interface.js';
import { eventLogLine } from './outputs/event-log.js';
import { createApp } from './outputs/http.js';
import { LogLimiter } from './outputs/log-limit.js';
import { createRegistries } from './outputs/metrics.js';
import { WebConfigError } from './outputs/web-config.js';
import { createWebServer, WebConfigFile } from './outputs/web-server.js';
import { assess } from './preflight.js';
import { schedule } from './scheduled.js';
import type { Judge } from './state/danger.js';
import type { Applied, TracerState } from './state/tracer-state.js';
import { prepareHost, startTracer } from './tracer.js';
import { VERSION } from './version.js';

export async function serve(config: ServeConfig): Promise<number> {
  const log = pino({ level: config.logLevel, base: { app: 'fraglist-exporter' } });
  let webConfig: WebConfigFile | undefined;
  try {
    webConfig = config.webConfigFile ? new WebConfigFile(config.webConfigFile, log) : undefined;
  } catch (err) {
    if (err instanceof WebConfigError) throw new UsageError(`--web.config.file: ${err.message}`);
    throw err;
  }
  const { interface: interfaceName, ...addressFilters } = config.filters;
  let interfaceId = interfaceName ? resolveInterface(interfaceName, 'filter.interface') : undefined;
  // per kind of line: bpftrace's stderr (a few distinct lines at start), unusable output, sampled events
  const stderrLimit = new LogLimiter(10, 60_000);
  const logLimit = new LogLimiter(1, 10_000);
  const eventLogLimit = new LogLimiter(10, 60_000);
  const host = await prepareHost(config);
  // opened once bpftrace runs: a host that cannot trace says so first
  let crash: CrashWatch | undefined;
  const tracer = await startTracer(host, {
    bpftracePath: config.bpftracePath, printIntervalSeconds: config.printInterval,
    sampleRatePerSecond: config.sampleRate, filters: { ...addressFilters, interfaceId }, eventsCapacity: config.eventsBuffer, restart: true,
  }, {
    applied: (a) => {
      logApplied(log, a, a.kind === 'event' ? eventLogLimit : logLimit, host.danger);
      if (a.kind === 'event') crash?.heard(a.event, host.danger);
    },
    stderr: (line) => { const held = stderrLimit.take('stderr'); if (held !== undefined) log.warn({ stderr: line.slice(0, 500), held_back: held }, 'bpftrace'); },
    exited(info, tail, state) {
      state.status.detached();
      state.counters.add('tracer_restarts');
      log.error({ ...info, stderr: tail }, 'bpftrace exited; restarting');
    },
    refused: (mode, next, why, tail) => log.warn({ mode, next, why, stderr: tail }, `${mode} mode was refused at attach time${next ? `; trying ${next}` : ''}`),
  });
  if ('error' in tracer) {
    process.stderr.write(`fraglist-exporter: ${tracer.error}\n`);
    return 1;
  }
  const { facts, verdict } = host;
  const { plan, state, supervisor, retarget } = tracer;
  try {
    crash = openCrashWatch(config, log);
  } catch (err) {
    await supervisor.stop();
    throw err;
  }
  const watchdog = new Watchdog(state.status, staleAfterMs(config.printInterval), (silentMs) => {
    state.counters.add('tracer_stalls');
    log.error({ silent_ms: silentMs, pid: supervisor.pid }, 'bpftrace stopped reporting; killing it to restart');
    supervisor.kill();
  });
  watchdog.start();
  const status = { healthy: () => watchdog.healthy(), interfacePresent: () => (interfaceName ? interfaceId !== NO_INTERFACE : undefined) };
  const registries = createRegistries(state, status, {
    version: VERSION, bpftraceVersion: facts.bpftrace.version ?? 'unknown', kernel: facts.kernelRelease, gsoNamesSource: facts.gsoNamesSource,
    fraglistFix: host.fraglistFix,
  }, crash.view, config.runtimeMetrics);
  const app = createApp(state, status, registries, config.telemetryPath, log, {
    danger: host.danger, crash: crash.view,
    build: { version: VERSION, bpftraceVersion: facts.bpftrace.version ?? 'unknown', kernel: facts.kernelRelease, nodeVersion: process.version },
  });
  const server = createWebServer(app, webConfig, log);
  if (config.listen.host) server.listen(config.listen.port, config.listen.host); else server.listen(config.listen.port);
  try {
    await new Promise<void>((resolve, reject) => { server.once('listening', resolve); server.once('error', reject); });
  } catch (err) {
    watchdog.stop();
    await supervisor.stop();
    crash.close();
    process.stderr.write(`fraglist-exporter: --web.listen-address: cannot listen on ${config.listen.host}:${config.listen.port}: ${(err as Error).message}\n`);
    return 1;
  }
  const addr = server.address() as AddressInfo;
  log.info({
    mode: plan.mode.name, hooks: plan.hooks, unattached: plan.unattached, blind_spots: plan.mode.blindSpots,
    listen: `${addr.address}:${addr.port}`, tls: Boolean(webConfig?.config.tls), basic_auth: Boolean(webConfig?.config.users.size), filters: config.filters, frag_layout: facts.layout, gso_names: facts.gsoNamesSource, fraglist_fix: host.fraglistFix,
    modes: verdict.modes, pid: supervisor.pid,
  }, 'serving');
  for (const u of plan.unattached) log.warn(u, `hook ${u.hook} not attached`);
  if (!facts.setprivPdeathsig) log.warn('setpriv --pdeathsig is unavailable: if the agent is killed with SIGKILL, bpftrace ends at its next write instead of at once');

  let lastCapabilities = capabilityKey(verdict);
  const tasks = [
    schedule(log, config.summarySchedule, 'summary', () => log.info(summary(state), 'summary')),
    schedule(log, config.recheckSchedule, 'recheck', async () => {
      if (interfaceName) await followInterface();
      crash.refresh();
      // compared with the last assessment on paper, not with the running mode: after an attach-time
      // fallback those differ for good, and only a change is news
      const again = assess(await inspectHost(config.bpftracePath, { mountTracefs: false }), config.mode);
      const key = capabilityKey(again);
      if (key !== lastCapabilities) log.warn({ problems: again.problems, would_pick: again.plans[0]?.mode.name, running: plan.mode.name }, 'host capabilities changed');
      lastCapabilities = key;
    }),
  ];

  /** --filter.interface names a device; a recreated device has a new ifindex, a removed one none. */
  async function followInterface(): Promise<void> {
    const now: InterfaceId = lookupInterface(interfaceName!) ?? NO_INTERFACE;
    if (now.ifindex === interfaceId!.ifindex && now.netnsInode === interfaceId!.netnsInode) return;
    const was = interfaceId!;
    interfaceId = now;
    if (now === NO_INTERFACE) log.warn({ interface: interfaceName, ifindex: was.ifindex }, 'filter.interface is gone: counting nothing until it returns');
    else log.warn({ interface: interfaceName, ifindex: now.ifindex, was: was.ifindex || undefined }, 'filter.interface is (re)created: following it');
    await retarget({ ...addressFilters, interfaceId: now });
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      for (const t of tasks) void t.stop();
      watchdog.stop();
      server.close();
      server.closeAllConnections();
      await supervisor.stop();
      crash.close();
      log.info(summary(state), 'stopped');
      resolve(0);
    };
    // `on`, not `once`: execa's signal-exit re-raises a signal it sees no other listener for
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
  });
}

/** Logs what a record did; sampled events and problems through a limiter (counters stay exact). */
function logApplied(log: Logger, a: Applied, limit: LogLimiter, danger: Judge): void {
  switch (a.kind) {
    case 'event': {
      const line = eventLogLine(a.event, danger);
      if (line.level === 'debug') {
        if (log.isLevelEnabled('debug')) log.debug(a.event, line.msg);
      } else {
        const held = limit.take('event');
        if (held !== undefined) log[line.level]({ ...a.event, held_back: held }, line.msg);
      }
      break;
    }
    case 'attached': log.info({ probes: a.probes }, 'probes attached'); break;
    case 'lost': log.warn({ events: a.events }, 'bpftrace lost events'); break;
    case 'problem': {
      const held = limit.take(a.message);
      if (held !== undefined) log.warn({ ...a.detail, held_back: held }, a.message);
      break;
    }
  }
}

function summary(state: TracerState) {
  const c = state.counters;
  const out: Record<string, unknown> = { mode: state.mode.name, tracer_attached: state.status.up };
  for (const name of state.mode.counters) out[name] = c.sum(name);
  return { ...out, lost: c.get('lost_events'), restarts: c.get('tracer_restarts') };
}

/** What a host assessment says, as a string to compare: the mode it would pick and its problems. */
const capabilityKey = (v: ReturnType<typeof assess>) => JSON.stringify([v.plans[0]?.mode.name, v.problems.map((p) => p.what)]);
