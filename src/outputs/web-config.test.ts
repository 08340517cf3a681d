import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts, type TestCerts } from '../../test/helpers/certs.js';
import { duration, parseWebConfig, WebConfigError } from './web-config.js';

// bcrypt of "secret", cost 10, written $2y$ as htpasswd writes the toolkit's examples
const ALICE = '$2y$10$otPd1y0Or2Z5nNs.zXdNU.tmM4zgV/q8lMVDcnu2mUB4hOFWTPrz6';
let certs: TestCerts;

before(async () => { certs = await makeCerts(mkdtempSync(join(tmpdir(), 'flx-certs-'))); });
after(() => rmSync(certs.dir, { recursive: true, force: true }));

const parse = (text: string) => parseWebConfig(text, join(certs.dir, 'web-config.yml'), (p) => readFileSync(p));
const refused = (text: string, why: RegExp) => assert.throws(() => parse(text), (e: Error) => e instanceof WebConfigError && why.test(e.message) && !e.message.includes('\n'));

test('the toolkit example: TLS with files relative to the config, bcrypt users, headers, a rate limit', () => {
  const c = parse(`
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ${certs.ca}
  client_allowed_sans: [scraper.test]
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
http_server_config:
  http2: false
  headers:
    X-Frame-Options: deny
basic_auth_users:
  alice: ${ALICE}
rate_limit:
  interval: 100ms
  burst: 20
`);
  assert.equal(c.tls?.clientAuth, 'RequireAndVerifyClientCert');
  assert.deepEqual(c.tls?.clientAllowedSans, ['scraper.test']);
  assert.equal(c.tls?.context.minVersion, 'TLSv1.3');
  assert.match(String(c.tls?.context.ciphers), /ECDHE-ECDSA-AES128-GCM-SHA256$/);
  assert.equal(c.tls?.context.ecdhCurve, 'X25519:prime256v1');
  assert.deepEqual(c.headers, { 'X-Frame-Options': 'deny' });
  assert.equal(c.users.get('alice'), ALICE);
  assert.deepEqual(c.rateLimit, { intervalMs: 100, burst: 20 });
});

test('an empty file or no TLS section is plain HTTP; auth alone is allowed', () => {
  assert.equal(parse('').tls, undefined);
  const c = parse(`basic_auth_users:\n  alice: ${ALICE}\n`);
  assert.equal(c.tls, undefined);
  assert.equal(c.users.size, 1);
});

test('every mistake is one line naming the field', () => {
  refused('tls_server_config: [', /not YAML/);
  refused('tls_server_confg: {}', /tls_server_confg: unknown field/);
  refused('tls_server_config:\n  cert_file: server.crt\n', /missing one of key or key_file/);
  refused('tls_server_config:\n  key_file: server.key\n', /missing one of cert or cert_file/);
  refused('tls_server_config:\n  cert_file: nosuch.crt\n  key_file: server.key\n', /tls_server_config.cert_file: cannot read nosuch.crt/);
  refused('tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n', /tls_server_config: .*(key values mismatch|KEY_VALUES_MISMATCH)/i);
  refused('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: Maybe\n', /client_auth_type: not one of/);
  refused('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\n', /client CAs are configured without a client_auth_type/);
  refused('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n', /needs client_ca_file/);
  refused('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS14\n', /min_version: not one of/);
  refused('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  cipher_suites: [RC4]\n', /cipher_suites: unknown RC4/);
  refused('basic_auth_users:\n  alice: secret\n', /basic_auth_users.alice: not a bcrypt hash/);
  refused('basic_auth_users: [alice]\n', /basic_auth_users: not a mapping/);
  refused('basic_auth_users:\n  alice: x\n  alice: y\n', /not YAML/);
  refused('http_server_config:\n  headers:\n    X-Evil: 1\n', /headers.X-Evil: not one of/);
  refused('rate_limit:\n  interval: soon\n', /rate_limit.interval: "soon" is not a duration/);
  refused('- just a list', /the file: not a mapping/);
});

test('durations as Prometheus writes them', () => {
  assert.equal(duration('1s', 'x'), 1000);
  assert.equal(duration('1m30s', 'x'), 90_000);
  assert.equal(duration('250ms', 'x'), 250);
  assert.equal(duration('0', 'x'), 0);
  assert.throws(() => duration('1.5s', 'x'), WebConfigError);
});

test('yaml is loaded by the first config read, not by importing this module: an agent without a web config does not hold it', async () => {
  const { execFileSync } = await import('node:child_process');
  // a fresh process: this one has read configs already
  const script = `
    import { createRequire } from 'node:module';
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/yaml/'));
    const { parseWebConfig } = await import(${JSON.stringify(new URL('./web-config.js', import.meta.url).href)});
    const before = loaded();
    parseWebConfig('{}', '/nonexistent/web.yml', () => Buffer.alloc(0));
    console.log(JSON.stringify({ before, after: loaded() }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script]).toString();
  assert.deepEqual(JSON.parse(out), { before: false, after: true });
});
