// Hostile input and hostile clients, end to end on this kernel: process and
// device names chosen to fool a parser, a real Prometheus and a text scraper
// reading /metrics at once, TLS with basic auth and client certificates as a
// real Prometheus scrapes them, and an interface filter whose device goes away
// and comes back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { CLI, freePort, inconsistentCounted, parseMetrics, sleep, startAgent, until, type Agent } from '../helpers/agent.js';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { addTap, cleanup, inject, tapHost } from '../helpers/net.js';
import { query, startPrometheus, type Prometheus } from '../helpers/prometheus.js';

interface Event { src: string; dst: string; comm: string; dev: string; pid: number; len: number; gso_size: number }

describe('hostile process and device names', () => {
  // what a parser of "key=value" pairs would take for other fields
  const COMMS = [' a=z comm=', 'x\ncomm=evil', '"}\\ts=1 dev=e', 'ts=9 kind=2', 'sport=1 a=0:0', '\u00e9t\u00e9 \u00ff'];
  const DEV = 'fl=a=z,comm=';
  let agent: Agent, tap: Awaited<ReturnType<typeof tapHost>>;

  before(async () => {
    tap = await tapHost(DEV);
    agent = await startAgent(['--sample.rate=1000', '--events.buffer=1000']);
  });
  after(async () => {
    if (agent) assert.equal((await agent.stop()).code, 0);
    await cleanup();
  });

  test('the agent stays up, counts exactly, and /events shows the true addresses and the names verbatim', async () => {
    const PER = 20;
    const m0 = await agent.metrics();
    const counted = await inconsistentCounted(agent.base, COMMS.length * PER + PER, async () => {
      for (const [i, comm] of COMMS.entries()) await inject(tap.ns, DEV, `198.18.0.${10 + i}`, '198.18.0.1', PER, { comm: Buffer.from(comm) });
      // a process name that is not UTF-8 at all
      await inject(tap.ns, DEV, '2001:db8::99', '2001:db8::1', PER, { payload: 1200, gsoSize: 500, comm: Buffer.from([0xff, 0x3d, 0x0a, 0x80]) });
    });
    assert.equal(counted, COMMS.length * PER + PER);
    assert.equal(agent.proc.exitCode, null, 'still running');
    const m1 = await agent.metrics();
    assert.equal(m1.sum('frag_list_tracer_unparsable_lines_total') - m0.sum('frag_list_tracer_unparsable_lines_total'), 0);
    const { events } = await (await agent.get('/events?kind=inconsistent')).json() as { events: Event[] };
    for (const [i, comm] of COMMS.entries()) {
      const mine = events.filter((e) => e.comm === comm);
      assert.ok(mine.length >= 1, `events of comm ${JSON.stringify(comm)}`);
      for (const e of mine) {
        assert.equal(e.src, `198.18.0.${10 + i}`);
        assert.equal(e.dst, '198.18.0.1');
        assert.equal(e.dev, DEV);
        assert.equal(e.len, 3040);
        assert.equal(e.gso_size, 1348);
      }
    }
    const v6 = events.filter((e) => e.src === '2001:db8::99');
    assert.ok(v6.length >= 1);
    for (const e of v6) assert.equal(e.comm, Buffer.from([0xff, 0x3d, 0x0a, 0x80]).toString('utf8'));
    assert.equal(events.filter((e) => e.comm === 'evil' || e.src === '0.0.0.0').length, 0);
    process.stdout.write(`# hostile names: ${counted} of ${COMMS.length * PER + PER} counted, ${events.length} sampled events, all names verbatim, unparsable 0\n`);
  });
});

describe('exposition: a real Prometheus and a text scraper at once', () => {
  let agent: Agent, prom: Prometheus;
  before(async () => {
    agent = await startAgent();
    prom = await startPrometheus(`
global: { scrape_interval: 1s }
scrape_configs: [{ job_name: flx, static_configs: [{ targets: ['${new URL(agent.base).host}'] }] }]
`);
  });
  after(async () => {
    await prom?.stop();
    if (agent) assert.equal((await agent.stop()).code, 0);
  });

  test('every text scrape keeps the _total names and passes promtool while Prometheus scrapes OpenMetrics', async () => {
    await until('Prometheus to scrape', async () => ((await query(prom.url, 'up{job="flx"} == 1').catch(() => [])).length ? true : undefined), 30_000);
    const t0 = Date.now();
    let texts = 0;
    while (Date.now() - t0 < 5000) {
      const [text, om] = await Promise.all([
        agent.get('/metrics').then((r) => r.text()),
        agent.get('/metrics', { accept: 'application/openmetrics-text; version=1.0.0' }).then((r) => r.text()),
      ]);
      assert.match(text, /^# TYPE frag_list_inconsistent_total counter$/m);
      assert.match(text, /^frag_list_skbs_inspected_total\{/m);
      assert.doesNotMatch(text, /^frag_list_(skbs_inspected|inconsistent)\{/m);
      assert.doesNotMatch(text, /^# TYPE frag_list_\w+(?<!_total) counter$/m);
      assert.match(om, /^# TYPE frag_list_inconsistent counter$/m);
      assert.match(om, /# EOF\n$/);
      texts++;
      await sleep(100);
    }
    const final = await (await agent.get('/metrics')).text();
    const check = await execa('promtool', ['check', 'metrics'], { input: final, reject: false });
    assert.equal(check.exitCode, 0, check.stdout + check.stderr);
    // a counter every host has (the crash states' have no series before their first skb)
    assert.ok((await query(prom.url, 'frag_list_skbs_inspected_total{job="flx"}')).length > 0, 'Prometheus stores the _total series');
    assert.deepEqual(await query(prom.url, '{__name__="frag_list_skbs_inspected",job="flx"}'), [], 'and no series without _total');
    process.stdout.write(`# ${texts} text and ${texts} OpenMetrics reads beside Prometheus's scrapes: names right in both\n`);
  });
});

describe('TLS, client certificates and basic auth (--web.config.file)', () => {
  let certs: TestCerts, dir: string;
  const curl = (url: string, ...args: string[]) => execa('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', certs.ca, ...args, url], { reject: false });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flx-web-'));
    certs = await makeCerts(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The agent behind TLS: ready when /readyz answers 200 over HTTPS (it needs no credentials). */
  const startTlsAgent = async (configPath: string, clientCert: string[] = []) => {
    const port = await freePort();
    const proc = execa(process.execPath, [CLI, 'serve', `--web.listen-address=127.0.0.1:${port}`, `--web.config.file=${configPath}`, '--log.level=info'],
      { reject: false, all: true });
    let log = '';
    proc.all?.on('data', (chunk: Buffer) => { log += chunk; });
    const url = `https://127.0.0.1:${port}`;
    await until('the agent ready over HTTPS', async () => {
      if (proc.exitCode !== null) throw new Error(`agent exited: ${(await proc).all}`);
      return (await curl(`${url}/readyz`, ...clientCert)).stdout === '200' ? true : undefined;
    }, 60_000);
    return { proc, url, host: `127.0.0.1:${port}`, logged: (re: RegExp) => re.test(log), stop: async () => { proc.kill('SIGTERM'); return (await proc).exitCode; } };
  };

  const webConfig = (name: string, users: Record<string, string>, tlsExtra = '') => {
    const path = join(dir, name);
    writeFileSync(path, `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n${tlsExtra}basic_auth_users:\n${Object.entries(users).map(([u, p]) => `  ${u}: ${bcrypt.hashSync(p, 10)}`).join('\n')}\n`);
    return path;
  };

  test('a real Prometheus scrapes over HTTPS with basic auth; curl without credentials gets 401; the file is read again on change', async () => {
    const path = webConfig('web.yml', { alice: 'secret' });
    const agent = await startTlsAgent(path);
    const url = agent.url;
    const prom = await startPrometheus(`
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: flx
    scheme: https
    tls_config: { ca_file: '${certs.ca}' }
    basic_auth: { username: alice, password: secret }
    static_configs: [{ targets: ['${agent.host}'] }]
`);
    try {
      await until('Prometheus to scrape over HTTPS', async () => ((await query(prom.url, 'up{job="flx"} == 1').catch(() => [])).length ? true : undefined), 30_000);
      assert.ok((await query(prom.url, 'frag_list_skbs_inspected_total{job="flx"}')).length > 0);
      assert.equal((await curl(`${url}/metrics`)).stdout, '401');
      assert.equal((await curl(`${url}/metrics`, '-u', 'alice:wrong')).stdout, '401');
      assert.equal((await curl(`${url}/metrics`, '-u', 'mallory:secret')).stdout, '401');
      assert.equal((await curl(`${url}/metrics`, '-u', 'alice:secret')).stdout, '200');
      assert.equal((await curl(`${url}/events`)).stdout, '401');
      assert.equal((await curl(`${url}/healthz`)).stdout, '200', 'kubelet probes need no credentials');
      assert.equal((await curl(`${url}/readyz`)).stdout, '200');
      const plain = await execa('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://${agent.host}/metrics`], { reject: false });
      assert.notEqual(plain.stdout, '200', 'no plain HTTP on a TLS port');

      webConfig('web.yml', { bob: 'hunter2' });
      await until('the new users to take effect', async () => ((await curl(`${url}/metrics`, '-u', 'bob:hunter2')).stdout === '200' ? true : undefined));
      assert.equal((await curl(`${url}/metrics`, '-u', 'alice:secret')).stdout, '401');
      writeFileSync(path, 'basic_auth_users: [broken\n');
      // the file is read again when a request finds it changed: these requests are the first to see it broken
      assert.equal((await curl(`${url}/metrics`)).stdout, '401', 'a broken file does not turn authentication off');
      assert.equal((await curl(`${url}/metrics`, '-u', 'bob:hunter2')).stdout, '200', 'a broken file keeps the last good config');
      await until('the broken file to be logged', async () => (agent.logged(/web config is invalid; keeping the last good one/) ? true : undefined), 5_000);
      assert.equal((await curl(`${url}/metrics`)).stdout, '401');
      assert.equal((await curl(`${url}/metrics`, '-u', 'bob:wrong')).stdout, '401');
      assert.equal((await curl(`${url}/metrics`, '-u', 'alice:secret')).stdout, '401', 'nor bring back the users before the last good one');
      process.stdout.write('# HTTPS + basic auth: Prometheus up=1; no credentials 401, wrong 401, right 200; new users taken on change; a broken file kept the last good one\n');
    } finally {
      await prom.stop();
      assert.equal(await agent.stop(), 0);
    }
    const log = String((await agent.proc).stdout);
    assert.match(log, /web config is invalid; keeping the last good one/);
  });

  test('RequireAndVerifyClientCert with client_allowed_sans: no certificate, no connection', async () => {
    const path = webConfig('mtls.yml', { alice: 'secret' },
      `  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [scraper.test]\n`);
    const agent = await startTlsAgent(path, ['--cert', certs.clientCert, '--key', certs.clientKey]);
    const url = agent.url;
    try {
      // the handshake's own refusal, not any failure of curl's (a refused connection, a wrong CA, a timeout)
      const none = await curl(`${url}/metrics`, '-S', '-u', 'alice:secret');
      assert.ok([35, 56].includes(none.exitCode ?? 0), `curl exit ${none.exitCode}: ${none.stderr}`);
      assert.match(none.stderr, /alert certificate required|alert handshake failure/, 'the server refused the handshake for want of a certificate');
      assert.equal((await curl(`${url}/metrics`, '-u', 'alice:secret', '--cert', certs.clientCert, '--key', certs.clientKey)).stdout, '200');
      // a client certificate from the right CA without an allowed SAN
      assert.equal((await curl(`${url}/metrics`, '-u', 'alice:secret', '--cert', certs.strangerCert, '--key', certs.strangerKey)).stdout, '403');
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  });

  test('a bad web config is one line and exit 2, before anything is attached', async () => {
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'basic_auth_users:\n  alice: not-a-hash\n');
    for (const [file, why] of [[bad, /basic_auth_users\.alice: not a bcrypt hash/], [join(dir, 'nosuch.yml'), /cannot read/]] as const) {
      const r = await execa(process.execPath, [CLI, 'serve', `--web.config.file=${file}`, `--web.listen-address=127.0.0.1:${await freePort()}`], { reject: false, timeout: 30_000 });
      assert.equal(r.exitCode, 2);
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});

describe('--filter.interface follows its device', () => {
  let tap: Awaited<ReturnType<typeof tapHost>>;
  before(async () => {
    tap = await tapHost();
    await execa('ip', ['-n', tap.ns, 'link', 'set', 'lo', 'up']); // the agent listens on the namespace's loopback
  });
  after(cleanup);

  test('gone: says so and counts nothing; back with a new ifindex: followed and counted', async () => {
    const port = await freePort();
    // the agent runs in the tap's namespace, where the interface name means this device; read through curl there
    const proc = execa('ip', ['netns', 'exec', tap.ns, process.execPath, CLI, 'serve', `--web.listen-address=127.0.0.1:${port}`,
      `--filter.interface=${tap.dev}`, '--recheck.schedule=*/2 * * * * *', '--log.level=info'], { reject: false, all: true });
    const get = async (path: string) => (await execa('ip', ['netns', 'exec', tap.ns, 'curl', '-s', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${path}`], { reject: false })).stdout;
    const metrics = async () => parseMetrics(await get('/metrics'));
    const ready = async () => ((await get('/readyz')).endsWith('200') ? true : undefined);
    const counted = async (n: number, src: string) => {
      const before = (await metrics()).sum('frag_list_inconsistent_total');
      await inject(tap.ns, tap.dev, src, '198.18.0.1', n);
      await until('counted', async () => ((await metrics()).sum('frag_list_inconsistent_total') - before >= n ? true : undefined));
      await sleep(1500);
      return (await metrics()).sum('frag_list_inconsistent_total') - before;
    };
    try {
      await until('ready', ready, 60_000);
      assert.equal((await metrics()).sum('frag_list_filter_interface_present'), 1);
      assert.equal(await counted(20, '198.18.0.2'), 20);

      await execa('ip', ['-n', tap.ns, 'link', 'del', tap.dev]);
      await until('the device reported gone', async () => ((await metrics()).sum('frag_list_filter_interface_present') === 0 ? true : undefined));
      const ifindex = await addTap(tap.ns, tap.dev);
      assert.notEqual(ifindex, tap.ifindex, 'a recreated device has a new ifindex');
      await until('the device followed', async () => ((await metrics()).sum('frag_list_filter_interface_present') === 1 ? true : undefined));
      await until('ready again', ready, 60_000);
      assert.equal(await counted(15, '198.18.0.3'), 15, 'counted on the new device');
    } finally {
      proc.kill('SIGTERM');
    }
    const r = await proc;
    assert.equal(r.exitCode, 0);
    const lines = String(r.stdout).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => /filter.interface is gone/.test(l.msg)));
    assert.ok(lines.some((l) => /filter.interface is \(re\)created/.test(l.msg)));
    process.stdout.write('# interface filter: 20 of 20 counted; device deleted -> present 0; recreated with a new ifindex -> followed, 15 of 15 counted\n');
  });
});
