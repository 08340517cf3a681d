// A simulated fleet on one port: /metrics?host=N serves host N as the agent
// would (test/fleet/simulated-host.ts), one simulated host per probe mode and
// state, shared by the hosts in it; a host's state can change while Prometheus
// scrapes (a rollout). Its file_sd targets give each host its own instance.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ModeName } from '../../src/modes.js';
import { simulatedHost, type HostState, type SimulatedHost } from './simulated-host.js';

export interface FleetHost { mode: ModeName; state: HostState }

export interface FleetServer {
  port: number;
  /** Prometheus file_sd: one target per host, instance host-N:10045, ?host=N */
  fileSd(): string;
  setState(host: number, state: HostState): void;
  /** scrapes served so far */
  scrapes: number;
  stop(): Promise<void>;
}

export const instanceOf = (host: number) => `host-${host}:10045`;

/** `historySeconds`: how long the hosts have run already (their counters continue a backfilled history) */
export async function startFleetServer(hosts: FleetHost[], o: { historySeconds?: number } = {}): Promise<FleetServer> {
  const kinds = new Map<string, { host: SimulatedHost; text: string; renderedAt: number; advancedAt: number }>();
  const start = Date.now();
  async function textOf(h: FleetHost): Promise<string> {
    const key = `${h.mode}/${h.state}`;
    let k = kinds.get(key);
    if (!k) {
      kinds.set(key, (k = { host: simulatedHost(h.mode, h.state, { bornMs: start - (o.historySeconds ?? 0) * 1000 }), text: '', renderedAt: 0, advancedAt: start }));
      if (o.historySeconds) k.host.advance(o.historySeconds);
    }
    const now = Date.now();
    // rendered at most once a second per kind: the hosts of a kind share it
    if (now - k.renderedAt >= 1000) {
      k.host.advance((now - k.advancedAt) / 1000);
      k.advancedAt = now;
      k.text = await k.host.registries.text.metrics();
      k.renderedAt = now;
    }
    return k.text;
  }
  const fleet: FleetServer = {
    port: 0, scrapes: 0,
    fileSd: () => JSON.stringify(hosts.map((_, i) => ({ targets: [`127.0.0.1:${fleet.port}`], labels: { __param_host: String(i), instance: instanceOf(i) } }))),
    setState(host, state) { hosts[host] = { ...hosts[host], state }; },
    stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
  const server: Server = createServer((req, res) => {
    const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('host'));
    const h = Number.isInteger(n) ? hosts[n] : undefined;
    if (!h) { res.writeHead(404).end('no such host\n'); return; }
    fleet.scrapes++;
    textOf(h).then((text) => res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(text), (err) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fleet.port = (server.address() as AddressInfo).port;
  return fleet;
}
