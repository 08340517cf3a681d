// The HTTP edge: /metrics (text or OpenMetrics), a landing page, health,
// readiness and the sampled-event ring.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { KIND } from '../probes/program.js';
import type { Judge } from '../state/danger.js';
import type { TracerState } from '../state/tracer-state.js';
import { landingPage, type Build } from './landing-page.js';
import type { CrashView } from './crash-metrics.js';
import type { Health } from './metrics.js';

const EVENT_KINDS = Object.keys(KIND);

export function createApp(
  state: TracerState, health: Health, registries: { text: Registry; openMetrics: Registry }, telemetryPath: string, log: Logger,
  host: { build: Build; danger: Judge; crash?: CrashView },
): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => { res.type('text/plain').send('ok\n'); });
  app.get('/readyz', (_req, res) => {
    if (health.healthy()) res.type('text/plain').send(`ready: ${state.status.attachedProbes} probes attached\n`);
    else if (state.status.up) res.status(503).type('text/plain').send('not ready: bpftrace stopped reporting; it is being restarted\n');
    else res.status(503).type('text/plain').send('not ready: probes are not attached\n');
  });
  app.get('/events', (req, res) => {
    const kind = req.query.kind;
    if (kind !== undefined && (typeof kind !== 'string' || !EVENT_KINDS.includes(kind))) {
      res.status(400).type('text/plain').send(`kind must be one of ${EVENT_KINDS.join(', ')}\n`);
      return;
    }
    const events = state.events.list().filter((e) => !kind || e.kind === kind);
    res.json({ capacity: state.events.capacity, count: events.length, events });
  });
  // the crash records of this host, each parsed and joined with the agent's last words before it
  app.get('/crashes', (_req, res) => {
    if (!host.crash) { res.status(404).type('text/plain').send('crash records are not read (--kernel.crash-dirs="")\n'); return; }
    const report = host.crash.report();
    res.json({ ...report, previousStart: host.crash.previousStartMs ? new Date(host.crash.previousStartMs).toISOString() : null });
  });
  app.get('/', (_req, res) => {
    res.type('html').send(landingPage({
      mode: state.mode, hooks: state.hooks, counters: state.counters, up: health.healthy(), telemetryPath, build: host.build, danger: host.danger,
    }));
  });
  app.use((_req: Request, res: Response) => { res.status(404).type('text/plain').send('not found\n'); });
  // last: an error is logged as JSON; the client gets no stack trace, whatever NODE_ENV says
  app.use((err: Error & { status?: number }, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) { res.destroy(); return; }
    if (err.status && err.status >= 400 && err.status < 500) { res.status(err.status).type('text/plain').send('bad request\n'); return; }
    log.error({ path: req.path, error: { type: err.name, message: err.message } }, 'HTTP handler failed');
    res.status(500).type('text/plain').send('internal error\n');
  });
  // /metrics bypasses express: it is the request every host answers every
  // scrape interval, and express's router, ETag and send were about a quarter
  // of its CPU (npm run bench); the rest of the API keeps express.
  const isTelemetryPath = pathMatcher(telemetryPath);
  return (req, res) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && isTelemetryPath(pathOf(req.url))) serveMetrics(req, res, registries, log);
    else app(req, res);
  };
}

/** a request URL's path, without its query */
export function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?')[0];
}

/** matches a path as express's routes did: any case, one trailing slash or none */
export function pathMatcher(route: string): (path: string) => boolean {
  const want = route.replace(/\/$/, '').toLowerCase();
  return (path) => path.replace(/\/$/, '').toLowerCase() === want;
}

function serveMetrics(req: IncomingMessage, res: ServerResponse, registries: { text: Registry; openMetrics: Registry }, log: Logger): void {
  const registry = (req.headers.accept ?? '').includes('application/openmetrics-text') ? registries.openMetrics : registries.text;
  registry.metrics().then((body) => {
    res.writeHead(200, { 'Content-Type': registry.contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }, (err: Error) => {
    log.error({ path: pathOf(req.url), error: { type: err.name, message: err.message } }, 'HTTP handler failed');
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('internal error\n');
  });
}
