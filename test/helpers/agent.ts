// Starts the real agent (dist/src/cli.js) on a free loopback port and reads
// its endpoints. Tests stop it with stop(), which also checks its exit.
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
/** Node's flags for the agent, as its launchers pass them (package.json's config.nodeOptions) */
export const AGENT_NODE_OPTIONS: string[] = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8'))
  .config.nodeOptions.split(' ').filter(Boolean);

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface Agent {
  proc: ResultPromise;
  base: string;
  metrics(): Promise<Metrics>;
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** SIGTERM; resolves with the exit code and how long it took */
  stop(): Promise<{ code?: number; ms: number }>;
}

export async function startAgent(args: string[] = [], timeoutMs = 60_000, env: Record<string, string> = {}): Promise<Agent> {
  const port = await freePort();
  // a state directory of its own (not this host's /var/lib/fraglist-exporter), removed when the agent ends
  const stateDir = mkdtempSync(join(tmpdir(), 'flx-state-'));
  // with node's flags as shipped: the tests run the agent the launchers run
  const proc = execa(process.execPath, [...AGENT_NODE_OPTIONS, CLI, 'serve', `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', `--state.dir=${stateDir}`, ...args],
    { reject: false, buffer: true, all: true, env });
  void proc.finally(() => rmSync(stateDir, { recursive: true, force: true }));
  const base = `http://127.0.0.1:${port}`;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(base + path, { headers });
  try {
    await waitReady(base, proc, timeoutMs);
  } catch (err) {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    throw err;
  }
  return {
    proc, base, get,
    metrics: () => fetchMetrics(base),
    stop: async () => {
      const t0 = Date.now();
      proc.kill('SIGTERM');
      const r = await proc;
      return { code: r.exitCode, ms: Date.now() - t0 };
    },
  };
}

/** Until an agent (however it was started: process, unit, container) answers /readyz with 200. */
export async function waitReady(base: string, proc: ResultPromise, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`agent exited ${proc.exitCode}: ${(await proc).all}`);
    if (await fetch(base + '/readyz').then((r) => r.ok, () => false)) return;
    if (Date.now() > deadline) throw new Error(`agent not ready in ${timeoutMs} ms`);
    await sleep(200);
  }
}

export async function fetchMetrics(base: string): Promise<Metrics> {
  return parseMetrics(await (await fetch(base + '/metrics')).text());
}

/**
 * Runs `act` (which should make `expected` INCONSISTENT skbs), waits until the
 * counters show at least that many, then two more print intervals so a late
 * extra would show too; returns how many were counted.
 */
export async function inconsistentCounted(base: string, expected: number, act: () => Promise<unknown>): Promise<number> {
  const before = (await fetchMetrics(base)).sum('frag_list_inconsistent_total');
  await act();
  await until('the injected skbs to be counted', async () =>
    (await fetchMetrics(base)).sum('frag_list_inconsistent_total') - before >= expected ? true : undefined);
  await sleep(1500);
  return (await fetchMetrics(base)).sum('frag_list_inconsistent_total') - before;
}

/**
 * The families whose series exist only while there is something to say, declared (# TYPE) before: the crash states
 * per hook and culprit (from their first skb), their last-rise timestamps, events_total's INCONSISTENT kind, and a
 * detached probe.
 */
export const SPARSE_FAMILIES = /^frag_list_(inconsistent_total|overrun_total|fraglist_without_list_total|last_\w+_timestamp_seconds|events_total|probe_detached)$/;

/** Prometheus text exposition, by "name{labels}" exactly as printed. */
export class Metrics {
  constructor(readonly samples: Map<string, number>, readonly declared: ReadonlySet<string> = new Set()) {}
  /**
   * Sum of a family's samples whose labels include every given label. No such
   * sample throws, unless the series is not born yet: `unbornIsZero` and a family
   * with samples (a new culprit), or a declared family of SPARSE_FAMILIES.
   */
  sum(name: string, labels: Record<string, string> = {}, unbornIsZero = false): number {
    let total = 0, found = false, family = this.declared.has(name) && SPARSE_FAMILIES.test(name);
    for (const [key, v] of this.samples) {
      const m = /^([^{]+)(?:\{(.*)\})?$/.exec(key)!;
      if (m[1] !== name) continue;
      family ||= unbornIsZero;
      const have = m[2] ?? '';
      if (Object.entries(labels).every(([k, val]) => have.split(',').includes(`${k}="${val}"`))) { total += v; found = true; }
    }
    if (!found && !family) throw new Error(`no sample of ${name} ${JSON.stringify(labels)}`);
    return total;
  }
}

export function parseMetrics(text: string): Metrics {
  const samples = new Map<string, number>();
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    // OpenMetrics declares a counter without its _total
    if (type) declared.add(type[2] === 'counter' && !type[1].endsWith('_total') ? `${type[1]}_total` : type[1]);
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    samples.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return new Metrics(samples, declared);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `check` returns a value that is not undefined. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** The bpftrace process the agent started (setpriv execs into it: same pid). */
export async function childBpftrace(agentPid: number): Promise<number> {
  return until('the agent\'s bpftrace', async () => {
    const r = await execa('pgrep', ['-P', String(agentPid), '-x', 'bpftrace'], { reject: false });
    return r.stdout ? Number(r.stdout.split('\n')[0]) : undefined;
  });
}

/** Alive = exists and is not a zombie waiting for a reaper. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function assertNoCounterDecreased(before: Metrics, after: Metrics): void {
  for (const [key, v] of before.samples) {
    if (!/^frag_list_\w+_total/.test(key)) continue;
    const now = after.samples.get(key);
    assert.ok(now !== undefined && now >= v, `${key} went from ${v} to ${now}`);
  }
}

