import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { pino } from 'pino';
import { makeCerts, type TestCerts } from '../../test/helpers/certs.js';
import { basicCredentials, createWebServer, WebConfigFile } from './web-server.js';

let certs: TestCerts;
const log = pino({ level: 'silent' });
const HASH = bcrypt.hashSync('pw', 4);

before(async () => { certs = await makeCerts(mkdtempSync(join(tmpdir(), 'flx-web-'))); });
after(() => rmSync(certs.dir, { recursive: true, force: true }));

test('basic credentials: the header as clients send it, and what is not one', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  assert.deepEqual(basicCredentials(`Basic ${b64('alice:pa:ss')}`), { user: 'alice', password: 'pa:ss' });
  assert.deepEqual(basicCredentials(`basic ${b64(':')}`), { user: '', password: '' });
  for (const h of [undefined, '', 'Bearer x', `Basic ${b64('nocolon')}`, 'Basic !!!']) assert.equal(basicCredentials(h), undefined, h);
});

test('a rotated certificate file is picked up though the config did not change; a broken config keeps the last good one', () => {
  const path = join(certs.dir, 'rot.yml');
  copyFileSync(certs.cert, join(certs.dir, 'live.crt'));
  copyFileSync(certs.key, join(certs.dir, 'live.key'));
  writeFileSync(path, 'tls_server_config:\n  cert_file: live.crt\n  key_file: live.key\n');
  const f = new WebConfigFile(path, log);
  const first = f.config;
  assert.equal(f.refresh(), false, 'nothing changed');
  copyFileSync(certs.clientCert, join(certs.dir, 'live.crt'));
  copyFileSync(certs.clientKey, join(certs.dir, 'live.key'));
  assert.equal(f.refresh(), true, 'the new certificate took effect');
  assert.notEqual(f.config, first);
  writeFileSync(path, 'tls_server_config: [\n');
  assert.equal(f.refresh(), false);
  assert.ok(f.config.tls, 'the last good config stays');
  writeFileSync(path, `basic_auth_users: { a: "${HASH}" }\n`);
  assert.equal(f.refresh(), false, 'turning TLS off needs a restart');
  assert.ok(f.config.tls);
});

test('plain HTTP with users, headers and a rate limit: 401 without, 200 with, 429 over the limit; probes need no credentials', async () => {
  const path = join(certs.dir, 'plain.yml');
  writeFileSync(path, `basic_auth_users: { alice: "${HASH}" }\nhttp_server_config: { headers: { X-Frame-Options: deny } }\nrate_limit: { interval: 1s, burst: 5 }\n`);
  const server = createWebServer((_req, res) => res.end('ok'), new WebConfigFile(path, log), log);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` };
  try {
    const none = await fetch(`${base}/metrics`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Basic');
    assert.equal(none.headers.get('x-frame-options'), 'deny');
    assert.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Basic ${Buffer.from('alice:no').toString('base64')}` } })).status, 401);
    assert.equal((await fetch(`${base}/metrics`, { headers: auth })).status, 200);
    assert.equal((await fetch(`${base}/metrics`, { headers: auth })).status, 200, 'again, from the cache');
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.equal((await fetch(`${base}/metrics`, { headers: auth })).status, 429, 'the sixth request within a second');
  } finally {
    server.close();
  }
});
