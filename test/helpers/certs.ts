// Test certificates made with openssl at test time (nothing that expires is
// committed): a CA, a server certificate for 127.0.0.1 and localhost, and a
// client certificate with SAN DNS:scraper.test, both signed by the CA (and a
// client certificate with another SAN).
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCerts {
  dir: string; ca: string; caKey: string; cert: string; key: string; clientCert: string; clientKey: string; otherKey: string;
  /** signed by the CA for client auth, but with SAN DNS:stranger.test */
  strangerCert: string; strangerKey: string;
}

export async function makeCerts(dir: string): Promise<TestCerts> {
  const p = (f: string) => join(dir, f);
  const ossl = (...args: string[]) => execa('openssl', args, { cwd: dir });
  const key = (f: string) => ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(f));
  await Promise.all(['ca.key', 'server.key', 'client.key', 'other.key', 'stranger.key'].map(key));
  await ossl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=flx test CA', '-days', '2', '-out', 'ca.crt');
  const signed = async (name: string, cn: string, san: string, usage: string) => {
    writeFileSync(p(`${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${usage}\n`);
    await ossl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`);
    await ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  };
  await signed('server', 'localhost', 'IP:127.0.0.1,DNS:localhost', 'serverAuth');
  await signed('client', 'scraper', 'DNS:scraper.test', 'clientAuth');
  await signed('stranger', 'stranger', 'DNS:stranger.test', 'clientAuth');
  return {
    dir, ca: p('ca.crt'), caKey: p('ca.key'), cert: p('server.crt'), key: p('server.key'),
    clientCert: p('client.crt'), clientKey: p('client.key'), otherKey: p('other.key'),
    strangerCert: p('stranger.crt'), strangerKey: p('stranger.key'),
  };
}
