// The listening edge: plain HTTP, or HTTPS with the --web.config.file's
// certificates, client-certificate policy, basic auth, headers and rate limit,
// in front of the app. The file is read again when it or a certificate, key
// or CA file it names changes (checked at each connection and request, as the
// exporter toolkit reads it at each); a change that
// does not parse keeps the last good config and is logged. Turning TLS on or
// off needs a restart. /healthz and /readyz answer without credentials, so
// that kubelet probes need none (they say nothing but up and ready).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import type { Logger } from 'pino';
import { pathOf } from './http.js';
import { parseWebConfig, WebConfigError, type WebConfig } from './web-config.js';

const UNAUTHENTICATED_PATHS = new Set(['/healthz', '/readyz']);
/** bcrypt of "fakepassword" (the toolkit's): unknown users cost the same time as known ones */
const FAKE_HASH = '$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi';
const AUTH_CACHE_MAX = 100;

/** Reads the web config file, and again whenever it or a file it names changes on disk. */
export class WebConfigFile {
  config: WebConfig;
  /** the certificate, key and CA files the config read, whose changes count too */
  private files: string[];
  private signature: string;
  constructor(readonly path: string, private readonly log?: Logger) {
    ({ config: this.config, files: this.files } = WebConfigFile.load(path));
    this.signature = this.stat();
  }

  /** Throws WebConfigError with one line. */
  static load(path: string): { config: WebConfig; files: string[] } {
    let text: string;
    try { text = readFileSync(path, 'utf8'); } catch (err) { throw new WebConfigError(`cannot read ${path}: ${(err as Error).message}`); }
    const files: string[] = [];
    const config = parseWebConfig(text, path, (p) => { files.push(p); return readFileSync(p); });
    return { config, files };
  }

  /** Re-reads the config if it or its files changed; returns true when a new config took effect. */
  refresh(): boolean {
    const sig = this.stat();
    if (sig === this.signature) return false;
    this.signature = sig;
    try {
      const next = WebConfigFile.load(this.path);
      if (Boolean(next.config.tls) !== Boolean(this.config.tls)) {
        this.log?.error({ web_config: this.path }, 'web config: turning TLS on or off needs a restart; keeping the running config');
        return false;
      }
      ({ config: this.config, files: this.files } = next);
      this.signature = this.stat();
      this.log?.info({ web_config: this.path }, 'web config reloaded');
      return true;
    } catch (err) {
      this.log?.error({ web_config: this.path, error: (err as Error).message }, 'web config is invalid; keeping the last good one');
      return false;
    }
  }

  private stat(): string {
    return [this.path, ...this.files].map((f) => {
      try {
        const s = statSync(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch {
        return 'missing';
      }
    }).join('|');
  }
}

/** A server for `app`, plain or TLS as the web config says. */
export function createWebServer(app: RequestListener, file: WebConfigFile | undefined, log: Logger): Server | HttpsServer {
  if (!file) return createHttpServer(app);
  const guarded = guard(app, file, log);
  const tls = file.config.tls;
  if (!tls) return createHttpServer(guarded);
  const server = createHttpsServer({ ...tls.context, ...clientCertPolicy(file.config) }, guarded);
  // before the TLS listener builds the socket, so a new certificate serves this very connection
  server.prependListener('connection', () => {
    if (!file.refresh() || !file.config.tls) return;
    server.setSecureContext(file.config.tls.context);
    Object.assign(server, clientCertPolicy(file.config));
  });
  return server;
}

function clientCertPolicy(c: WebConfig): { requestCert: boolean; rejectUnauthorized: boolean } {
  const auth = c.tls?.clientAuth ?? 'NoClientCert';
  return { requestCert: auth !== 'NoClientCert', rejectUnauthorized: auth === 'RequireAndVerifyClientCert' };
}

/** Rate limit, headers, client-certificate checks the handshake leaves to us, basic auth. */
function guard(app: RequestListener, file: WebConfigFile, log: Logger): RequestListener {
  const authCache = new Map<string, boolean>();
  let cachedFor: WebConfig | undefined;
  let bucket = { tokens: 0, at: 0, for: undefined as WebConfig | undefined };
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!file.config.tls) file.refresh(); // TLS connections refreshed at connect
    const c = file.config;
    if (c !== cachedFor) { authCache.clear(); cachedFor = c; }
    if (c.rateLimit) {
      const now = Date.now();
      if (bucket.for !== c) bucket = { tokens: c.rateLimit.burst, at: now, for: c };
      bucket.tokens = Math.min(c.rateLimit.burst, bucket.tokens + (now - bucket.at) / c.rateLimit.intervalMs);
      bucket.at = now;
      if (bucket.tokens < 1) return deny(res, 429, 'Too Many Requests');
      bucket.tokens -= 1;
    }
    for (const [k, v] of Object.entries(c.headers)) res.setHeader(k, v);
    const certProblem = c.tls ? clientCertProblem(req.socket as TLSSocket, c) : undefined;
    if (certProblem) {
      log.debug({ remote: req.socket.remoteAddress, problem: certProblem }, 'client certificate refused');
      return deny(res, 403, 'Forbidden');
    }
    if (c.users.size === 0 || UNAUTHENTICATED_PATHS.has(pathOf(req.url))) return app(req, res);
    const cred = basicCredentials(req.headers.authorization);
    if (!cred) return unauthorized(res);
    const hash = c.users.get(cred.user) ?? FAKE_HASH;
    const key = createHash('sha256').update(`${cred.user}\0${hash}\0${cred.password}`).digest('hex');
    const known = authCache.get(key);
    const verdict = known !== undefined ? Promise.resolve(known) : bcrypt.compare(cred.password, hash).then((ok) => {
      const pass = ok && c.users.has(cred.user);
      if (authCache.size >= AUTH_CACHE_MAX) authCache.delete(authCache.keys().next().value!);
      authCache.set(key, pass);
      return pass;
    }, () => false);
    void verdict.then((ok) => (ok ? app(req, res) : unauthorized(res)));
  };
}

function clientCertProblem(socket: TLSSocket, c: WebConfig): string | undefined {
  const tls = c.tls!;
  if (tls.clientAuth === 'NoClientCert' || tls.clientAuth === 'RequestClientCert') return undefined;
  const cert = socket.getPeerCertificate();
  const given = cert && Object.keys(cert).length > 0;
  if (!given) return tls.clientAuth === 'VerifyClientCertIfGiven' ? undefined : 'no client certificate';
  if (tls.clientAuth !== 'RequireAnyClientCert' && !socket.authorized) return `client certificate not verified: ${socket.authorizationError}`;
  if (tls.clientAllowedSans.length) {
    const sans = (cert.subjectaltname ?? '').split(', ').map((s) => s.slice(s.indexOf(':') + 1));
    if (!tls.clientAllowedSans.some((a) => sans.includes(a))) return 'client certificate has none of client_allowed_sans';
  }
  return undefined;
}

export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function unauthorized(res: ServerResponse): void {
  res.setHeader('WWW-Authenticate', 'Basic');
  deny(res, 401, 'Unauthorized');
}

function deny(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`${text}\n`);
}
