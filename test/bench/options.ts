// The benchmarks' command lines, one way: flags parsed as numbers with their
// bounds, and the prerequisites checked, each refusal one line and exit 1.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CLI } from '../helpers/agent.js';

/** a numeric flag: its default and the least value it takes */
export interface NumberFlag { default: number; min: number; help: string }

export function refuse(bench: string, why: string): never {
  process.stderr.write(`${bench}: ${why}\n`);
  process.exit(1);
}

/**
 * Parses `numbers` (each `--name N`) and `strings` (each `--name S`) from the command line; refuses a value that
 * is not a number at or above its least, an unknown flag, a run without root, a tool not installed or an
 * agent not built.
 */
export async function benchOptions<N extends string, S extends string>(bench: string, o: {
  numbers: Record<N, NumberFlag>; strings?: Record<S, { default?: string }>; tools: string[];
}): Promise<Record<N, number> & Partial<Record<S, string>>> {
  const options: Record<string, { type: 'string'; default?: string }> = {};
  for (const [name, f] of Object.entries<NumberFlag>(o.numbers)) options[name] = { type: 'string', default: String(f.default) };
  for (const [name, f] of Object.entries<{ default?: string }>(o.strings ?? {})) options[name] = { type: 'string', ...(f.default !== undefined ? { default: f.default } : {}) };
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ options, strict: true }).values as Record<string, string | undefined>;
  } catch (err) {
    refuse(bench, (err as Error).message.split('\n')[0]);
  }
  const out: Record<string, number | string | undefined> = {};
  for (const [name, f] of Object.entries<NumberFlag>(o.numbers)) {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v < f.min) refuse(bench, `--${name} ${values[name]}: ${f.help} (a number, at least ${f.min})`);
    out[name] = v;
  }
  for (const name of Object.keys(o.strings ?? {})) out[name] = values[name];
  if (process.getuid?.() !== 0) refuse(bench, 'needs root (network namespaces, bpftrace)');
  for (const tool of o.tools) {
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) refuse(bench, `${tool} is not installed (bash scripts/install-deps.sh --test)`);
  }
  if (!existsSync(CLI)) refuse(bench, 'the agent is not built (npm run build)');
  return out as Record<N, number> & Partial<Record<S, string>>;
}
