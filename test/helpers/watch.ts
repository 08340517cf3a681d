// Runs the real `fraglist-exporter watch` (optionally inside a namespace) with
// stdout and stderr on pipes, as `| tee` or `> file 2>&1` would.
import { execa, type ResultPromise } from 'execa';
import { CLI, until } from './agent.js';

export interface WatchRun {
  proc: ResultPromise;
  /** ends it as Ctrl-C at a terminal would: SIGINT to the whole process group */
  interrupt(): Promise<WatchResult>;
  result(): Promise<WatchResult>;
}
export interface WatchResult { code?: number; stdout: string; stderr: string; rows: string[]; stats: Map<string, string> }

export async function startWatch(args: string[], ns?: string): Promise<WatchRun> {
  const cmd = ns ? ['ip', ['netns', 'exec', ns, process.execPath, CLI, 'watch', ...args]] as const : [process.execPath, [CLI, 'watch', ...args]] as const;
  const proc = execa(cmd[0], [...cmd[1]], { reject: false, detached: true, stdin: 'ignore' });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  await until('watch to attach', async () => {
    if (proc.exitCode !== null) throw new Error(`watch exited ${proc.exitCode}: ${stderr}`);
    return stderr.includes('Tracing sk_buff frag_list') ? true : undefined;
  }, 60_000);
  const result = async (): Promise<WatchResult> => {
    const r = await proc;
    const stdout = String(r.stdout);
    return { code: r.exitCode, stdout, stderr: String(r.stderr), rows: stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l)), stats: statsOf(stdout) };
  };
  return {
    proc, result,
    interrupt: async () => { process.kill(-proc.pid!, 'SIGINT'); return result(); },
  };
}

/** "  INCONSISTENT:     30" -> INCONSISTENT => "30" */
function statsOf(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  const block = stdout.slice(stdout.indexOf('--- Statistics ---'));
  for (const line of block.split('\n').slice(1)) {
    const kv = /^\s*([^:]+):\s+(\S+)/.exec(line);
    if (kv) m.set(kv[1].trim(), kv[2]);
  }
  return m;
}
