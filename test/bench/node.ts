// The benches' one way to start node with the agent's flags (package.json's
// config.nodeOptions, as the agent runs): the agent, another build of it, or
// node's floor. The process is the teardown's from its first moment.
import { execa, type ResultPromise } from 'execa';
import { AGENT_NODE_OPTIONS, freePort, waitReady } from '../helpers/agent.js';
import type { Teardown } from './teardown.js';

export interface NodeProcess { proc: ResultPromise; pid: number; base: string; stop(): Promise<void> }

/** `argsFor(port)`: the script and its arguments, listening on 127.0.0.1:port; resolves when /readyz answers 200. */
export async function startNode(teardown: Teardown, argsFor: (port: number) => string[], timeoutMs = 120_000): Promise<NodeProcess> {
  const port = await freePort();
  const args = argsFor(port);
  teardown.check(`node ${args[0]}`);
  const proc = teardown.own(execa(process.execPath, [...AGENT_NODE_OPTIONS, ...args], { reject: false, buffer: false, stdout: 'ignore', stderr: 'ignore' }));
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, proc, timeoutMs);
  return { proc, pid: proc.pid!, base, stop: async () => { proc.kill('SIGTERM'); await proc; } };
}

/** `serve` of a build (its dist/src/cli.js) with these flags */
export const serveArgs = (cli: string, ...flags: string[]) => (port: number) =>
  [cli, 'serve', `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...flags];
