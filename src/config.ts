// Command-line flags, in the Prometheus exporter style, each also settable by
// an environment variable (FRAGLIST_ + the flag name upper-cased, `.`/`-` as `_`).
// Pure: argv and env in, a typed config or one error line out.
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import cron from 'node-cron';
import { MODE_NAMES, type ModeName } from './modes.js';
import type { FraglistFixOverride } from './kernel/fraglist-fix.js';
import { RUNTIME_METRICS, type RuntimeMetrics } from './outputs/runtime-metrics.js';

export interface ListenAddress { host: string; port: number }

export interface ServeConfig {
  listen: ListenAddress;
  telemetryPath: string;
  /** exporter-toolkit web config: TLS, basic auth (checked when serve starts) */
  webConfigFile?: string;
  mode: ModeName | 'auto';
  bpftracePath: string;
  fraglistFix: FraglistFixOverride;
  sampleRate: number;
  printInterval: number;
  eventsBuffer: number;
  logLevel: string;
  summarySchedule: string;
  recheckSchedule: string;
  filters: ServeFilters;
  crashDirs: string[];
  /** undefined: keep nothing across restarts (--state.dir="") */
  stateDir?: string;
  runtimeMetrics: RuntimeMetrics;
}

/** serve's in-kernel filters as typed: an agent watching one flow or one interface (by name; bpftrace/args.ts's KernelFilters has it resolved) */
export interface ServeFilters { srcIp?: string; dstIp?: string; interface?: string; gsoOnly: boolean }

export interface DoctorConfig {
  json: boolean; bpftracePath: string; mode: ModeName | 'auto'; fraglistFix: FraglistFixOverride; crashDirs: string[]; stateDir?: string;
}

export interface WatchConfig {
  gsoOnly: boolean;
  srcIp?: string;
  dstIp?: string;
  interface?: string;
  verbose: boolean;
  stackTrace: boolean;
  json: boolean;
  /** seconds; 0 runs until SIGINT/SIGTERM */
  duration: number;
  rate: number;
  mode: ModeName | 'auto';
  bpftracePath: string;
  fraglistFix: FraglistFixOverride;
}

export class UsageError extends Error {}

type Parse<T> = (raw: string, flag: string) => T;
interface FlagSpec<T> { name: string; default: string; help: string; parse: Parse<T> }

const flag = <T>(name: string, def: string, help: string, parse: Parse<T>): FlagSpec<T> => ({ name, default: def, help, parse });

const intIn = (min: number, max: number): Parse<number> => (raw, f) => {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`--${f}: "${raw}" is not an integer from ${min} to ${max}`);
  return Number(raw);
};
const oneOf = <T extends string>(values: readonly T[]): Parse<T> => (raw, f) => {
  if (!values.includes(raw as T)) throw new UsageError(`--${f}: "${raw}" is not one of ${values.join(', ')}`);
  return raw as T;
};
const text: Parse<string> = (raw, f) => { if (!raw) throw new UsageError(`--${f}: must not be empty`); return raw; };
/** five fields, or six with seconds first (node-cron 3 takes more and ignores the rest) */
const cronSpec: Parse<string> = (raw, f) => {
  const fields = raw.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6 || !cron.validate(raw)) throw new UsageError(`--${f}: "${raw}" is not a cron expression (5 fields, or 6 with seconds)`);
  return raw;
};
const urlPath: Parse<string> = (raw, f) => {
  if (!/^\/[\w\-./]*$/.test(raw) || raw === '/' || ['/healthz', '/readyz', '/events', '/crashes'].includes(raw)) {
    throw new UsageError(`--${f}: "${raw}" must be a path like /metrics, not / or another endpoint`);
  }
  return raw;
};

/** "host:port", ":port" or "[v6]:port" */
const parseListenAddress: Parse<ListenAddress> = (raw, f) => {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(raw);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new UsageError(`--${f}: "${raw}" is not host:port with a port from 1 to 65535`);
  const host = m[1] ?? m[2];
  if (m[1] !== undefined && isIP(host) !== 6) throw new UsageError(`--${f}: "${host}" is not an IPv6 address`);
  const numeric = /^[\d.]+$/.test(host);
  if (m[2] && isIP(host) === 0 && (numeric || !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(host))) throw new UsageError(`--${f}: "${host}" is not a host name or address`);
  return { host, port };
};

/** comma-separated absolute paths; "" is none */
const absolutePaths: Parse<string[]> = (raw, f) => {
  const paths = raw.split(',').map((p) => p.trim()).filter(Boolean);
  const bad = paths.find((p) => !p.startsWith('/') || p.includes('\0'));
  if (bad !== undefined) throw new UsageError(`--${f}: "${bad}" is not an absolute path`);
  return paths;
};
const absolutePath: Parse<string> = (raw, f) => {
  if (!raw.startsWith('/') || raw.includes(',') || raw.includes('\0')) throw new UsageError(`--${f}: "${raw}" is not one absolute path`);
  return raw;
};

const trueOrFalse: Parse<boolean> = (raw, f) => {
  if (raw !== 'true' && raw !== 'false') throw new UsageError(`--${f}: "${raw}" is not true or false`);
  return raw === 'true';
};
const optional = <T>(parse: Parse<T>): Parse<T | undefined> => (raw, f) => (raw === '' ? undefined : parse(raw, f));
const ipAddress: Parse<string> = (raw, f) => {
  if (isIP(raw) === 0) throw new UsageError(`--${f}: "${raw}" is not an IPv4 or IPv6 address`);
  return raw;
};
const interfaceName: Parse<string> = (raw, f) => {
  if (!/^[^\s/:]{1,15}$/.test(raw) || raw === '.' || raw === '..') throw new UsageError(`--${f}: "${raw}" is not an interface name`);
  return raw;
};

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const MODE_CHOICES = ['auto', ...MODE_NAMES] as const;
const FRAGLIST_FIX_CHOICES: readonly FraglistFixOverride[] = ['auto', 'fixed', 'lacking'];

export const SERVE_FLAGS = {
  listen: flag('web.listen-address', ':10045', 'address to serve /metrics and the API on', parseListenAddress),
  telemetryPath: flag('web.telemetry-path', '/metrics', 'path of the metrics endpoint', urlPath),
  webConfigFile: flag('web.config.file', '', 'exporter-toolkit web config (TLS, client certificates, basic auth); read again when it changes', optional(text)),
  mode: flag('mode', 'auto', `probe mode: ${MODE_CHOICES.join('|')}`, oneOf(MODE_CHOICES)),
  bpftracePath: flag('bpftrace.path', 'bpftrace', 'bpftrace binary', text),
  fraglistFix: flag('kernel.fraglist-fix', 'auto', 'whether this kernel has the 2024 fix "gso: fix udp gso fraglist segmentation after pull from frag_list": auto (from its version)|fixed|lacking',
    oneOf(FRAGLIST_FIX_CHOICES)),
  sampleRate: flag('sample.rate', '10', 'sampled events per second (token bucket in the kernel; the rest are counted as suppressed)', intIn(0, 1000)),
  printInterval: flag('print.interval', '1', 'seconds between in-kernel counter reads', intIn(1, 3600)),
  eventsBuffer: flag('events.buffer', '256', 'sampled events kept for /events', intIn(1, 10_000)),
  logLevel: flag('log.level', 'info', LOG_LEVELS.join('|'), oneOf(LOG_LEVELS)),
  summarySchedule: flag('summary.schedule', '*/5 * * * *', 'cron schedule of the summary log line', cronSpec),
  recheckSchedule: flag('recheck.schedule', '*/10 * * * *', 'cron schedule of the host capability re-check', cronSpec),
  filterSrcIp: flag('filter.src-ip', '', 'count only skbs from this IPv4/IPv6 address', optional(ipAddress)),
  filterDstIp: flag('filter.dst-ip', '', 'count only skbs to this address', optional(ipAddress)),
  filterInterface: flag('filter.interface', '', 'count only skbs on this interface (of the agent\'s network namespace)', optional(interfaceName)),
  filterGsoOnly: flag('filter.gso-only', 'false', 'count only GSO skbs (true|false)', trueOrFalse),
  crashDirs: flag('kernel.crash-dirs', '/sys/fs/pstore,/var/lib/systemd/pstore,/var/crash',
    'where this host keeps kernel crash records (pstore, systemd-pstore, kdump), comma-separated; read on start and each re-check; "" turns it off', absolutePaths),
  runtimeMetrics: flag('metrics.runtime', 'essential', `the agent's own process and Node.js metrics: essential (CPU, memory, open fds, start time, event-loop delay, heap used)|full (prom-client's whole set, about 60 series more)`,
    oneOf(RUNTIME_METRICS)),
  stateDir: flag('state.dir', '/var/lib/fraglist-exporter', 'the agent\'s own directory: crash records already read, the last words before a crash, the previous run\'s start; "" keeps nothing',
    optional(absolutePath)),
};

export const WATCH_FLAGS = {
  srcIp: flag('src-ip', '', 'only skbs from this IPv4/IPv6 address', optional(ipAddress)),
  dstIp: flag('dst-ip', '', 'only skbs to this address', optional(ipAddress)),
  interface: flag('interface', '', 'only skbs on this interface (of this network namespace)', optional(interfaceName)),
  duration: flag('duration', '0', 'stop after this many seconds (0: at Ctrl-C)', intIn(0, 31_536_000)),
  rate: flag('rate', '100', 'rows per second at most (in-kernel; the rest are counted)', intIn(1, 100_000)),
  mode: SERVE_FLAGS.mode,
  bpftracePath: SERVE_FLAGS.bpftracePath,
  fraglistFix: SERVE_FLAGS.fraglistFix,
};
export const WATCH_SWITCHES = ['gso-only', 'verbose', 'stack-trace', 'json'];

export const DOCTOR_FLAGS = {
  bpftracePath: SERVE_FLAGS.bpftracePath,
  mode: SERVE_FLAGS.mode,
  fraglistFix: SERVE_FLAGS.fraglistFix,
  crashDirs: SERVE_FLAGS.crashDirs,
  stateDir: SERVE_FLAGS.stateDir,
};

const envName = (flagName: string) => `FRAGLIST_${flagName.toUpperCase().replace(/[.-]/g, '_')}`;

type Values<S> = { [K in keyof S]: S[K] extends FlagSpec<infer T> ? T : never };

/** Parses flags (then env, then defaults) for one command; throws UsageError. */
function parseFlags<S extends Record<string, FlagSpec<unknown>>>(
  specs: S, argv: string[], env: NodeJS.ProcessEnv, booleans: string[] = [],
): { values: Values<S>; booleans: Record<string, boolean> } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const s of Object.values(specs)) options[s.name] = { type: 'string' };
  for (const b of booleans) options[b] = { type: 'boolean' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(oneLine((err as Error).message));
  }
  const values = {} as Record<string, unknown>;
  for (const [key, s] of Object.entries(specs)) {
    const raw = (parsed.values[s.name] as string | undefined) ?? env[envName(s.name)] ?? s.default;
    values[key] = s.parse(raw, s.name);
  }
  const bools: Record<string, boolean> = {};
  for (const b of booleans) bools[b] = parsed.values[b] === true;
  return { values: values as Values<S>, booleans: bools };
}

export function serveConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  const { filterSrcIp, filterDstIp, filterInterface, filterGsoOnly, ...rest } = parseFlags(SERVE_FLAGS, argv, env).values;
  return { ...rest, filters: { srcIp: filterSrcIp, dstIp: filterDstIp, interface: filterInterface, gsoOnly: filterGsoOnly } };
}

export function doctorConfig(argv: string[], env: NodeJS.ProcessEnv): DoctorConfig {
  const { values, booleans } = parseFlags(DOCTOR_FLAGS, argv, env, ['json']);
  return { ...values, json: booleans.json };
}

/** watch takes no environment: its flags are typed at a prompt, as in the original tool */
export function watchConfig(argv: string[]): WatchConfig {
  const { values, booleans } = parseFlags(WATCH_FLAGS, argv, {}, WATCH_SWITCHES);
  return { ...values, gsoOnly: booleans['gso-only'], verbose: booleans.verbose, stackTrace: booleans['stack-trace'], json: booleans.json };
}

export function flagHelp(specs: Record<string, FlagSpec<unknown>>): string {
  return Object.values(specs)
    .map((s) => `  --${s.name}=${s.default || '""'}\n      ${s.help} [env ${envName(s.name)}]`)
    .join('\n');
}

// node's messages are multi-line ("Unknown option '--x'. To specify a positional ...")
const oneLine = (msg: string) => msg.split(/\.\s|\n/)[0]
  .replace(/^Unknown option '([^']+)'$/, '$1: unknown flag')
  .replace(/^Unexpected argument '([^']+)'$/, '$1: unexpected argument');
