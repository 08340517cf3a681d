// Other bpftrace versions, for real: Debian's bpftrace package of a suite in
// a root filesystem made with mmdebstrap (cached), run on this host's kernel
// through a launcher the agent takes as --bpftrace.path. The launcher gives
// bpftrace a private mount namespace with this host's /proc, /sys, /dev and
// the repository's probes/ at their own paths, chroots into the suite's root,
// and runs it in a PID namespace of its own, as in a pod without hostPID.
import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { candidateVersion, privateApt } from './debian-apt.js';

const CACHE = '/var/cache/fraglist-bpftrace';
const PROBES = fileURLToPath(new URL('../../../probes', import.meta.url));
/** suites whose Release files have expired (forky, sid): mmdebstrap must not refuse them */
const NO_VALID_UNTIL = ['--aptopt=Acquire::Check-Valid-Until "false"'];

/**
 * `version`: what `bpftrace --version` says; `package`: the Debian package version in the root, which is the
 * suite's current one: the root is built again when the suite's lists offer another (forky and sid move).
 */
export interface DebianBpftrace { suite: string; root: string; launcher: string; version: string; package: string; rebuilt: boolean }

export async function debianBpftrace(suite: string): Promise<DebianBpftrace> {
  mkdirSync(CACHE, { recursive: true });
  const root = join(CACHE, suite);
  const wanted = await candidateVersion(await privateApt(suite, CACHE, { refresh: true }), 'bpftrace');
  if (!wanted) throw new Error(`Debian ${suite} offers no bpftrace package`);
  const rebuilt = !existsSync(join(root, 'usr/bin/bpftrace')) || await installedVersion(root) !== wanted;
  if (rebuilt) {
    const tmp = `${root}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    await execa('mmdebstrap', ['--variant=apt', '--include=bpftrace', ...NO_VALID_UNTIL, suite, tmp]);
    rmSync(root, { recursive: true, force: true });
    await execa('mv', [tmp, root]);
  }
  const launcher = join(CACHE, `${suite}-bpftrace.sh`);
  // --kill-child: bpftrace (PID 1 of its namespace) dies with the launcher the agent signals
  writeFileSync(launcher, `#!/bin/sh
# bpftrace of Debian ${suite}, in ${root}; written by test/helpers/debian-bpftrace.ts
exec unshare --mount --propagation private --pid --fork --kill-child=SIGTERM sh -c '
  r=$0
  for d in /proc /sys /dev ${PROBES}; do mkdir -p "$r$d" && mount --rbind "$d" "$r$d" || exit 1; done
  exec chroot "$r" bpftrace "$@"' ${root} "$@"
`);
  chmodSync(launcher, 0o755);
  const v = await execa(launcher, ['--version']);
  const pkg = await installedVersion(root);
  if (pkg !== wanted) throw new Error(`${suite}: the root holds bpftrace ${pkg}, the suite offers ${wanted}`);
  return { suite, root, launcher, version: v.stdout.trim().replace(/^bpftrace\s+/, ''), package: pkg, rebuilt };
}

/** The bpftrace package version installed in a root, from its dpkg database. */
async function installedVersion(root: string): Promise<string | undefined> {
  const q = await execa('dpkg-query', [`--admindir=${join(root, 'var/lib/dpkg')}`, '-W', '-f=${Version}', 'bpftrace'], { reject: false });
  return q.exitCode === 0 && q.stdout ? q.stdout : undefined;
}
