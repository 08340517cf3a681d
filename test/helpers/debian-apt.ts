// Another Debian suite's package lists, through the mirror this host's apt
// already uses, in a private apt state: the host's own apt configuration and
// lists are left alone.
import { execa } from 'execa';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * apt options for a private state under `cache` holding one suite's lists. The lists are fetched once, or again
 * with `refresh` (apt-get update: a Release file that has not changed costs one small request).
 */
export async function privateApt(suite: string, cache: string, o: { refresh?: boolean } = {}): Promise<string[]> {
  const dir = join(cache, `apt-${suite}`);
  const uri = /^URIs:\s*(\S+)/m.exec(readFileSync('/etc/apt/sources.list.d/debian.sources', 'utf8'))?.[1]
    ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/m.exec(readFileSync('/etc/apt/sources.list', 'utf8'))?.[1];
  if (!uri) throw new Error('no Debian mirror in this host\'s apt sources');
  for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'sources.list'), `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${uri} ${suite} main\n`);
  const options = ['-o', `Dir::Etc::SourceList=${join(dir, 'sources.list')}`, '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(dir, 'lists')}`, '-o', `Dir::Cache=${join(dir, 'cache')}`];
  if (o.refresh || !readdirSync(join(dir, 'lists')).some((f) => f.endsWith('Packages'))) await execa('apt-get', [...options, 'update', '-q']);
  return options;
}

/** The version of `pkg` the suite's lists offer (apt-cache policy's candidate). */
export async function candidateVersion(apt: string[], pkg: string): Promise<string | undefined> {
  const policy = await execa('apt-cache', [...apt, 'policy', pkg]);
  const v = /Candidate:\s*(\S+)/.exec(policy.stdout)?.[1];
  return v && v !== '(none)' ? v : undefined;
}
