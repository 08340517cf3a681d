// --web.config.file: the Prometheus exporter-toolkit web configuration
// (TLS, client certificates, basic auth with bcrypt hashes, response headers,
// a rate limit), the format every Prometheus exporter accepts. This file only
// reads and checks it: text in, a typed config or one error line out. Files it
// names are read through `readFile`, relative to the config file's folder, as
// the toolkit does.
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { createSecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';

// yaml holds about 1 MB once loaded, and most agents run without a web config:
// it is loaded when the first one is read.
let yaml: typeof import('yaml') | undefined;
function parseYaml(text: string): unknown {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text, { uniqueKeys: true });
}

export type ClientAuth = 'NoClientCert' | 'RequestClientCert' | 'RequireAnyClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';
const CLIENT_AUTH: readonly ClientAuth[] = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'];

export interface WebConfig {
  /** absent: plain HTTP */
  tls?: {
    /** for tls.createServer / setSecureContext */
    context: SecureContextOptions;
    clientAuth: ClientAuth;
    /** client certificates must carry one of these SANs (DNS, IP, email or URI), if any are listed */
    clientAllowedSans: string[];
  };
  /** user -> bcrypt hash; empty: no authentication */
  users: Map<string, string>;
  headers: Record<string, string>;
  /** token bucket: one request per intervalMs, `burst` at once; absent: no limit */
  rateLimit?: { intervalMs: number; burst: number };
}

export class WebConfigError extends Error {}

const TLS_VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
/** Go's names (the toolkit's) -> OpenSSL's, for the TLS 1.2 suites Go offers */
const CIPHERS: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA', TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256', TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA', TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA', TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256', TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256', TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305', TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305', TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};
/** Go configures no TLS 1.3 suites; keep OpenSSL's when cipher_suites narrows TLS 1.2 */
const TLS13_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';
const CURVES: Record<string, string> = { CurveP256: 'prime256v1', CurveP384: 'secp384r1', CurveP521: 'secp521r1', X25519: 'X25519' };
const HEADERS = ['Content-Security-Policy', 'X-Frame-Options', 'X-Content-Type-Options', 'X-XSS-Protection', 'Strict-Transport-Security'];
const BCRYPT = /^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$/;

/** Parses and checks a web config; throws WebConfigError with one line. */
export function parseWebConfig(text: string, path: string, readFile: (path: string) => Buffer): WebConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new WebConfigError(`not YAML: ${firstLine(err)}`);
  }
  const top = object(doc, '');
  known(top, '', ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit']);
  const resolve = (p: string) => (isAbsolute(p) ? p : join(dirname(path), p));
  const read = (key: string, p: string) => {
    try { return readFile(resolve(p)); } catch (err) { throw new WebConfigError(`${key}: cannot read ${p}: ${firstLine(err)}`); }
  };

  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(object(top.basic_auth_users ?? {}, 'basic_auth_users'))) {
    if (typeof hash !== 'string' || !BCRYPT.test(hash)) throw new WebConfigError(`basic_auth_users.${user}: not a bcrypt hash`);
    users.set(user, hash);
  }

  const http = object(top.http_server_config ?? {}, 'http_server_config');
  known(http, 'http_server_config', ['http2', 'headers']);
  if (http.http2 !== undefined && typeof http.http2 !== 'boolean') throw new WebConfigError('http_server_config.http2: not true or false');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(object(http.headers ?? {}, 'http_server_config.headers'))) {
    if (!HEADERS.includes(k)) throw new WebConfigError(`http_server_config.headers.${k}: not one of ${HEADERS.join(', ')}`);
    if (typeof v !== 'string' || /[\r\n]/.test(v)) throw new WebConfigError(`http_server_config.headers.${k}: not a one-line string`);
    if (v) headers[k] = v;
  }

  let rateLimit: WebConfig['rateLimit'];
  if (top.rate_limit !== undefined) {
    const rl = object(top.rate_limit, 'rate_limit');
    known(rl, 'rate_limit', ['interval', 'burst']);
    const intervalMs = duration(rl.interval ?? '0', 'rate_limit.interval');
    const burst = rl.burst ?? 0;
    if (!Number.isSafeInteger(burst) || (burst as number) < 0) throw new WebConfigError('rate_limit.burst: not a whole number');
    if (intervalMs > 0) rateLimit = { intervalMs, burst: burst as number };
  }

  const t = top.tls_server_config === undefined ? undefined : object(top.tls_server_config, 'tls_server_config');
  if (!t || Object.keys(t).length === 0) return { users, headers, rateLimit };
  known(t, 'tls_server_config', ['cert', 'key', 'client_ca', 'cert_file', 'key_file', 'client_auth_type', 'client_ca_file',
    'client_allowed_sans', 'min_version', 'max_version', 'cipher_suites', 'prefer_server_cipher_suites', 'curve_preferences']);
  const pem = (inline: string, file: string): Buffer | undefined => {
    if (t[inline] !== undefined && t[file] !== undefined) throw new WebConfigError(`tls_server_config: both ${inline} and ${file}`);
    if (t[inline] !== undefined) return Buffer.from(str(t[inline], `tls_server_config.${inline}`));
    if (t[file] !== undefined) return read(`tls_server_config.${file}`, str(t[file], `tls_server_config.${file}`));
    return undefined;
  };
  const cert = pem('cert', 'cert_file');
  const key = pem('key', 'key_file');
  if (!cert) throw new WebConfigError('tls_server_config: missing one of cert or cert_file');
  if (!key) throw new WebConfigError('tls_server_config: missing one of key or key_file');
  const ca = pem('client_ca', 'client_ca_file');
  const clientAuth = (t.client_auth_type ?? 'NoClientCert') as ClientAuth;
  if (!CLIENT_AUTH.includes(clientAuth)) throw new WebConfigError(`tls_server_config.client_auth_type: not one of ${CLIENT_AUTH.join(', ')}`);
  if (ca && clientAuth === 'NoClientCert') throw new WebConfigError('tls_server_config: client CAs are configured without a client_auth_type');
  if (!ca && (clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert')) {
    throw new WebConfigError(`tls_server_config: client_auth_type ${clientAuth} needs client_ca_file`);
  }
  const version = (k: string, def: string) => {
    const v = t[k] ?? def;
    if (typeof v !== 'string' || !TLS_VERSIONS[v]) throw new WebConfigError(`tls_server_config.${k}: not one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
    return TLS_VERSIONS[v];
  };
  const names = (k: string, table: Record<string, string>) => list(t[k], `tls_server_config.${k}`).map((n) => {
    if (!table[n]) throw new WebConfigError(`tls_server_config.${k}: unknown ${n}`);
    return table[n];
  });
  const ciphers = names('cipher_suites', CIPHERS);
  const curves = names('curve_preferences', CURVES);
  const context: SecureContextOptions = {
    cert, key, ...(ca ? { ca } : {}),
    minVersion: version('min_version', 'TLS12'), maxVersion: version('max_version', 'TLS13'),
    ...(ciphers.length ? { ciphers: `${TLS13_SUITES}:${ciphers.join(':')}` } : {}),
    ...(curves.length ? { ecdhCurve: curves.join(':') } : {}),
    honorCipherOrder: t.prefer_server_cipher_suites !== false,
  };
  try {
    createSecureContext(context); // key matches cert, PEM parses, versions and names are known
  } catch (err) {
    throw new WebConfigError(`tls_server_config: ${firstLine(err)}`);
  }
  return {
    users, headers, rateLimit,
    tls: { context, clientAuth, clientAllowedSans: list(t.client_allowed_sans, 'tls_server_config.client_allowed_sans') },
  };
}

/** "1s", "250ms", "1m30s", "0": Prometheus durations */
export function duration(v: unknown, key: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const s = String(v);
  if (s === '0') return 0;
  if (!/^(\d+(ms|s|m|h))+$/.test(s)) throw new WebConfigError(`${key}: "${s}" is not a duration like 1s or 250ms`);
  return [...s.matchAll(/(\d+)(ms|s|m|h)/g)].reduce((ms, [, n, u]) => ms + Number(n) * units[u], 0);
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

function object(v: unknown, key: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new WebConfigError(`${key || 'the file'}: not a mapping`);
  return v as Record<string, unknown>;
}
function known(o: Record<string, unknown>, key: string, keys: string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new WebConfigError(`${key ? `${key}.` : ''}${k}: unknown field`);
}
function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || !v) throw new WebConfigError(`${key}: not a string`);
  return v;
}
function list(v: unknown, key: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new WebConfigError(`${key}: not a list of strings`);
  return v;
}
