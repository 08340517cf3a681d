// Starts a unit's service the way systemd would, for machines where systemd
// is not PID 1 (this one: `systemctl start` cannot work). It honours the
// directives our unit uses: EnvironmentFile (with "-"), ExecStart,
// CapabilityBoundingSet and NoNewPrivileges (through setpriv), and stops it as
// KillMode=mixed does: SIGTERM to the main process, SIGKILL to the rest after
// TimeoutStopSec. Everything else in the unit is checked by systemd-analyze.
import { execa, type ResultPromise } from 'execa';
import { readFileSync } from 'node:fs';

export type Unit = Record<string, Record<string, string[]>>;

/** A unit file's sections and their directives (a directive may repeat). */
export function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) { section = header[1]; unit[section] ??= {}; continue; }
    const eq = line.indexOf('=');
    const key = line.slice(0, eq).trim(), value = line.slice(eq + 1).trim();
    ((unit[section] ??= {})[key] ??= []).push(value);
  }
  return unit;
}

/** systemd's EnvironmentFile: KEY=VALUE lines, # comments, optional quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`not KEY=VALUE: ${line}`);
    env[m[1]] = m[2].replace(/^"(.*)"$|^'(.*)'$/, '$1$2');
  }
  return env;
}

export interface Service { proc: ResultPromise; pid: number; stop(): Promise<{ code?: number; ms: number }> }

export function startService(unitText: string): Service {
  const s = parseUnit(unitText).Service;
  const envFile = s.EnvironmentFile?.[0];
  const env = envFile ? readEnvFile(envFile) : {};
  const caps = (s.CapabilityBoundingSet?.[0] ?? '').split(/\s+/).filter(Boolean).map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
  const setpriv = ['--bounding-set', ['-all', ...caps].join(','), ...(s.NoNewPrivileges?.[0] === 'yes' ? ['--no-new-privs'] : [])];
  const [exe, ...args] = s.ExecStart[0].split(/\s+/);
  const proc = execa('setpriv', [...setpriv, '--', exe, ...args], {
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...env }, extendEnv: false, reject: false, all: true,
  });
  const timeoutMs = parseFloat(s.TimeoutStopSec?.[0] ?? '90') * 1000;
  return {
    proc, pid: proc.pid!,
    async stop() {
      const t0 = Date.now();
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const r = await proc;
      clearTimeout(killer);
      return { code: r.exitCode, ms: Date.now() - t0 };
    },
  };
}

function readEnvFile(spec: string): Record<string, string> {
  const optional = spec.startsWith('-');
  try {
    return parseEnvFile(readFileSync(optional ? spec.slice(1) : spec, 'utf8'));
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}
