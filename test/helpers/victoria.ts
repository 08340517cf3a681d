// The same alerting path on VictoriaMetrics (Debian's victoria-metrics
// package: its single-node server, vmagent and vmalert, the query engine of
// its cluster too): vmagent scrapes and writes to VictoriaMetrics, vmalert
// evaluates the shipped rule file, unchanged, and notifies Alertmanager.
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, until } from './agent.js';
import { SHIPPED_RULES } from './alerting.js';

export interface VictoriaStack { vmUrl: string; vmalertUrl: string; vmagentUrl: string; stop(): Promise<void> }

/**
 * `scrapeConfig`: the scrape_configs entries (YAML, a list); `notifierUrl`: an Alertmanager.
 * Evaluates every second; data is visible to queries 1 s after it is written
 * (VictoriaMetrics' default hides the last 30 s, for remote writers that lag).
 */
export async function startVictoria(scrapeConfigs: string, notifierUrl: string): Promise<VictoriaStack> {
  const dir = mkdtempSync(join(tmpdir(), 'flx-victoria-'));
  const [vmPort, agentPort, alertPort] = [await freePort(), await freePort(), await freePort()];
  const vmUrl = `http://127.0.0.1:${vmPort}`;
  writeFileSync(join(dir, 'scrape.yml'), `global: { scrape_interval: 1s }\nscrape_configs: ${scrapeConfigs}\n`);
  const procs: ResultPromise[] = [
    execa('victoria-metrics', [`-storageDataPath=${join(dir, 'vm')}`, `-httpListenAddr=127.0.0.1:${vmPort}`, '-retentionPeriod=1d',
      '-search.latencyOffset=1s', '-search.disableCache'], { reject: false, all: true }),
    execa('vmagent', [`-promscrape.config=${join(dir, 'scrape.yml')}`, `-remoteWrite.url=${vmUrl}/api/v1/write`, `-remoteWrite.tmpDataPath=${join(dir, 'vmagent')}`,
      `-httpListenAddr=127.0.0.1:${agentPort}`, '-remoteWrite.flushInterval=500ms', '-promscrape.fileSDCheckInterval=1s'], { reject: false, all: true }),
    execa('vmalert', [`-rule=${SHIPPED_RULES}`, `-datasource.url=${vmUrl}`, `-remoteWrite.url=${vmUrl}`, `-remoteRead.url=${vmUrl}`,
      `-notifier.url=${notifierUrl}`, '-evaluationInterval=1s', `-httpListenAddr=127.0.0.1:${alertPort}`, '-remoteWrite.flushInterval=500ms'],
    { reject: false, all: true }),
  ];
  const stop = async () => {
    for (const p of procs.reverse()) { p.kill('SIGTERM'); await p; }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const [name, url] of [['VictoriaMetrics', vmUrl], ['vmagent', `http://127.0.0.1:${agentPort}`], ['vmalert', `http://127.0.0.1:${alertPort}`]]) {
      await until(`${name} to answer`, async () => (await fetch(`${url}/health`).then((r) => r.ok, () => false)) || undefined, 30_000);
    }
  } catch (err) {
    const exited = procs.filter((p) => p.exitCode !== null);
    await stop();
    throw new Error(`${(err as Error).message}${exited.length ? `; exited: ${exited.map((p) => p.all).join('\n')}` : ''}`);
  }
  return { vmUrl, vmalertUrl: `http://127.0.0.1:${alertPort}`, vmagentUrl: `http://127.0.0.1:${agentPort}`, stop };
}
