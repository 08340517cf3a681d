import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashesOnFraglistWithoutList, fraglistFix, upstreamVersion, withOverride } from './fraglist-fix.js';

// /proc/version of the Debian kernels the real-kernel stage boots
const BULLSEYE = { release: '5.10.0-32-cloud-amd64', procVersion: 'Linux version 5.10.0-32-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-10 (Debian 10.2.1-6) 10.2.1 20210110, GNU ld (GNU Binutils for Debian) 2.35.2) #1 SMP Debian 5.10.223-1 (2024-08-10)' };
const BOOKWORM = { release: '6.1.0-50-cloud-amd64', procVersion: 'Linux version 6.1.0-50-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-01-10)' };
const TRIXIE = { release: '6.12.117+deb13-cloud-amd64', procVersion: 'Linux version 6.12.117+deb13-cloud-amd64 (debian-kernel@lists.debian.org) (x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1 (2026-02-01)' };

test('the upstream release: from Debian\'s /proc/version, Ubuntu\'s signature, or a release that numbers upstream', () => {
  assert.equal(upstreamVersion(BULLSEYE), '5.10.223');
  assert.equal(upstreamVersion(TRIXIE), '6.12.117');
  assert.equal(upstreamVersion({ release: '5.15.0-122-generic', versionSignature: 'Ubuntu 5.15.0-122.132-generic 5.15.163\n' }), '5.15.163');
  assert.equal(upstreamVersion({ release: '5.10.228-219.884.amzn2.x86_64' }), '5.10.228');
  assert.equal(upstreamVersion({ release: '6.12.0' }), '6.12.0');
  // distribution numbering: sublevel 0 and a suffix say nothing about upstream
  assert.equal(upstreamVersion({ release: '4.18.0-553.47.1.el8_10.x86_64' }), undefined);
  assert.equal(upstreamVersion({ release: '5.15.0-122-generic', procVersion: 'Linux version 5.15.0-122-generic (buildd@lcy02-amd64-106) #132-Ubuntu SMP' }), undefined);
  assert.equal(upstreamVersion({ release: 'garbage' }), undefined);
});

test('the kernels of the real-kernel stage: bullseye lacks the fix, bookworm and trixie have it', () => {
  assert.equal(fraglistFix(BULLSEYE).state, 'lacking');
  assert.match(fraglistFix(BULLSEYE).why, /5\.10\.223: 5\.10\.y lacks the fix through 5\.10\.223/);
  assert.equal(fraglistFix(BOOKWORM).state, 'fixed');
  assert.equal(fraglistFix(TRIXIE).state, 'fixed');
});

test('branch boundaries: the first fixed stable release, mainline, before fraglist GSO existed, and what is not known', () => {
  const at = (release: string) => fraglistFix({ release }).state;
  assert.equal(at('6.1.112'), 'lacking');
  assert.equal(at('6.1.113'), 'fixed');
  assert.equal(at('6.11.2'), 'lacking');
  assert.equal(at('6.11.3'), 'fixed');
  assert.equal(at('6.12.0'), 'fixed');
  assert.equal(at('7.0.1'), 'fixed');
  assert.equal(at('5.4.280'), 'no-fraglist-gso');
  assert.equal(at('5.6.1'), 'unknown');
  assert.equal(at('5.10.224'), 'unknown', 'later 5.10.y: not verified either way');
  assert.equal(at('6.6.50'), 'unknown');
  assert.equal(at('4.18.0-553.el8_10.x86_64'), 'unknown', 'RHEL backports fraglist GRO into 4.18: the number says nothing');
});

test('the operator\'s word overrides the version', () => {
  assert.deepEqual(withOverride(fraglistFix(BULLSEYE), 'fixed'), { state: 'fixed', upstream: '5.10.223', why: '--kernel.fraglist-fix=fixed' });
  assert.equal(withOverride(fraglistFix({ release: '4.18.0-553.el8_10.x86_64' }), 'lacking').state, 'lacking');
  assert.deepEqual(withOverride(fraglistFix(BULLSEYE), 'auto'), fraglistFix(BULLSEYE));
});

test('only a kernel known to have the fix (or to have no fraglist GSO) is safe from it', () => {
  assert.equal(crashesOnFraglistWithoutList('lacking'), true);
  assert.equal(crashesOnFraglistWithoutList('unknown'), true);
  assert.equal(crashesOnFraglistWithoutList('fixed'), false);
  assert.equal(crashesOnFraglistWithoutList('no-fraglist-gso'), false);
});
