import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '../../test/helpers/repo.js';
import { CrashRecords, SEEN_FILE } from './crash-records.js';
import { lastWordLine, LAST_WORDS_FILE } from './last-words.js';

const fixture = (name: string) => readFileSync(join(root, 'test/fixtures/crash', name), 'utf8');
const BOOT = '0b5c1a52-7c33-4e7e-9d8e-2f1f0c6c1a10';
const CRASH_S = 1_796_466_310;

/** a host's crash directories as pstore, systemd-pstore, kdump-tools and RHEL's kdump leave them */
function host(dir: string) {
  const put = (path: string, text: string, mtimeS = CRASH_S) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
    utimesSync(join(dir, path), mtimeS, mtimeS);
  };
  put('pstore/dmesg-ramoops-0', fixture('kernel-3.10-seed-shape.txt'));
  put('pstore/dmesg-ramoops-1', fixture('truncated.txt'), CRASH_S - 5000);
  // ramoops keeps the oops, then the panic after it: one crash, two records
  put('pstore/dmesg-ramoops-2', fixture('kernel-3.10-seed-shape.txt').replace('Panic#1 Part1', 'Oops#1 Part1').replace(/\n<0>.*Kernel panic.*\n/, '\n'), CRASH_S);
  put('pstore/dmesg-efi-1', fixture('warning-not-a-crash.txt'), CRASH_S - 9000);
  put('pstore/console-ramoops-0', 'the console log: not a record');
  symlinkSync('/etc/passwd', join(dir, 'pstore/dmesg-ramoops-9'));
  put('systemd/0123abcd/dmesg.txt', fixture('systemd-pstore-6.1-dmesg.txt'), CRASH_S - 86_400);
  put('systemd/0123abcd/dmesg-efi-170000000101001', fixture('systemd-pstore-6.1-dmesg.txt'), CRASH_S - 86_400);
  put('crash/202611300812/dmesg.202611300812', fixture('other-oops-6.12.txt'), CRASH_S - 400_000);
  put('crash/10.0.0.7-2026-11-01-03:12:44/vmcore-dmesg.txt', fixture('rhel8-vmcore-dmesg.txt'), CRASH_S - 3_000_000);
  put('crash/kexec_cmd', 'kexec -p ...');
  mkdirSync(join(dir, 'state'));
  writeFileSync(join(dir, 'state', LAST_WORDS_FILE), [
    lastWordLine({ t: CRASH_S * 1000 - 60_000, boot: BOOT, kind: 'start' }),
    lastWordLine({ t: CRASH_S * 1000 - 6_600, boot: BOOT, kind: 'fraglist_nolist', hook: 'bpf_skb_pull_data', culprit: 'bpf_skb_pull_data', flow: '198.18.0.1:4000 -> 198.18.1.2:5000' }),
  ].join(''));
  return { dirs: ['pstore', 'systemd', 'crash', 'absent'].map((d) => join(dir, d)), state: join(dir, 'state') };
}

test('every kind of record directory is read; each record classed, the newest joined with the last words; the rest counted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flx-crash-'));
  try {
    const h = host(dir);
    const report = new CrashRecords(h.dirs, h.state, join(h.state, LAST_WORDS_FILE)).refresh();
    assert.deepEqual(report.records.map((r) => [r.path.slice(dir.length + 1), r.class, r.function]), [
      ['pstore/dmesg-ramoops-0', 'segmentation', 'skb_segment'],
      ['systemd/0123abcd/dmesg.txt', 'segmentation', 'skb_segment_list'],
      ['crash/202611300812/dmesg.202611300812', 'other', 'other'],
      ['crash/10.0.0.7-2026-11-01-03:12:44/vmcore-dmesg.txt', 'segmentation', 'skb_segment'],
    ], 'newest first; systemd-pstore\'s parts beside its dmesg.txt are not a second record');
    const [seed] = report.records;
    assert.equal(seed.culprit, 'bpf_skb_pull_data');
    assert.equal(seed.summary, 'crashed in skb_segment 6.6 s after FRAGLIST without a list at bpf_skb_pull_data (culprit bpf_skb_pull_data, 198.18.0.1:4000 -> 198.18.1.2:5000)');
    assert.equal(seed.time, new Date(CRASH_S * 1000).toISOString());
    assert.equal(report.records[1].culprit, 'unknown', 'a day older: the last words are not about it');
    assert.deepEqual(report.skipped, { 'not-an-oops': 0, warning: 1, truncated: 1, unreadable: 1, duplicate: 1 });
    assert.deepEqual(report.missingDirs, [join(dir, 'absent')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a record is parsed and joined once: after a restart the join stands though the last words are gone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flx-crash-'));
  try {
    const h = host(dir);
    const first = new CrashRecords(h.dirs, h.state, join(h.state, LAST_WORDS_FILE)).refresh();
    const seen = JSON.parse(readFileSync(join(h.state, SEEN_FILE), 'utf8')) as Record<string, unknown>;
    assert.equal(Object.keys(seen).length, 7, 'every dmesg file read (not the symlink), records and skipped ones, by hash');
    rmSync(join(h.state, LAST_WORDS_FILE));
    const again = new CrashRecords(h.dirs, h.state, join(h.state, LAST_WORDS_FILE)).refresh();
    assert.deepEqual(again.records, first.records);
    // a torn state file: everything is parsed again, nothing throws
    writeFileSync(join(h.state, SEEN_FILE), '{"ab');
    assert.equal(new CrashRecords(h.dirs, h.state).refresh().records.length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('read-only (doctor) writes nothing; no directories at all is no records', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flx-crash-'));
  try {
    const h = host(dir);
    new CrashRecords(h.dirs, h.state, undefined, { readOnly: true }).refresh();
    assert.throws(() => readFileSync(join(h.state, SEEN_FILE)), /ENOENT/);
    assert.deepEqual(new CrashRecords([join(dir, 'none')]).refresh().records, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('last words from pstore\'s pmsg (a kernel with /dev/pmsg0 keeps them in ramoops): joined as the ring file\'s are', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flx-crash-'));
  try {
    mkdirSync(join(dir, 'pstore'));
    writeFileSync(join(dir, 'pstore/dmesg-ramoops-0'), fixture('bullseye-5.10-ramoops-dmesg.txt'));
    utimesSync(join(dir, 'pstore/dmesg-ramoops-0'), CRASH_S, CRASH_S);
    // what the agent wrote to /dev/pmsg0, cut off mid-line by the crash
    writeFileSync(join(dir, 'pstore/pmsg-ramoops-0'), [
      lastWordLine({ t: CRASH_S * 1000 - 30_000, boot: BOOT, kind: 'start' }),
      lastWordLine({ t: CRASH_S * 1000 - 1_800, boot: BOOT, kind: 'fraglist_nolist', hook: 'bpf_skb_pull_data', culprit: 'bpf_skb_pull_data', flow: '198.18.14.1:38098 -> 198.18.15.2:6001' }),
      '{"t":17964684',
    ].join(''));
    const [r] = new CrashRecords([join(dir, 'pstore')]).refresh().records;
    assert.equal(r.function, '__udp_gso_segment');
    assert.equal(r.summary, 'crashed in __udp_gso_segment 1.8 s after FRAGLIST without a list at bpf_skb_pull_data (culprit bpf_skb_pull_data, 198.18.14.1:38098 -> 198.18.15.2:6001)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
