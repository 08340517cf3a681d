// The bench's reference for node's memory, as the bare counter is for BPF's
// CPU: the agent's chosen stack used as the agent uses it, and none of the
// agent's code. prom-client's default metrics are served past express (as
// src/outputs/http.ts serves /metrics) and express answers the rest, pino
// logs, node-cron ticks, and execa streams a child's lines into a counter,
// about as many a second as bpftrace prints. An agent built on these holds
// about this much before any code of its own.
// Usage: node [the agent's flags] stack-floor.js PORT
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import express from 'express';
import { execa } from 'execa';
import cron from 'node-cron';
import { pino } from 'pino';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

const log = pino({ level: 'warn' });
const registry = new Registry();
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 2 ** 31 - 1 });
const lines = new Counter({ name: 'stack_floor_lines_total', help: 'lines read from the child', registers: [registry] });

// cat echoes what it is sent, and ends when this process does (its stdin closes)
const child = execa('cat', { stdin: 'pipe', stdout: 'pipe', buffer: false, reject: false });
createInterface({ input: child.stdout! }).on('line', () => lines.inc());
const feed = setInterval(() => child.stdin!.write('@shape0__netif_receive_skb: 0\n'.repeat(25)), 1000);
cron.schedule('*/5 * * * *', () => log.info('summary'));

const app = express();
app.get('/readyz', (_req, res) => { res.send('ready\n'); });
const server = createServer((req, res) => {
  if (req.url !== '/metrics') { app(req, res); return; }
  void registry.metrics().then((body) => {
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(Number(process.argv[2]), '127.0.0.1');

process.on('SIGTERM', () => {
  clearInterval(feed);
  child.stdin!.end();
  server.close();
  void child.then(() => process.exit(0));
});
