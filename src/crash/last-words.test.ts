import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { crashState, flowOf, lastWordLine, lastWordsTarget, LastWordsWriter, parseLastWords, type LastWord } from './last-words.js';

const BOOT = '0b5c1a52-7c33-4e7e-9d8e-2f1f0c6c1a10';
const word = (t: number, more: Partial<LastWord> = {}): LastWord => ({ t, boot: BOOT, kind: 'fraglist_nolist', hook: 'bpf_skb_pull_data', culprit: 'bpf_skb_pull_data', flow: '198.18.14.1:40000 -> 198.18.15.2:6001', ...more });

test('a word is one line that reads back the same; a line cut off by the crash is left out', () => {
  const text = lastWordLine(word(1)) + lastWordLine({ t: 2, boot: BOOT, kind: 'start' }) + lastWordLine(word(3)).slice(0, 30);
  assert.deepEqual(parseLastWords(text), [word(1), { t: 2, boot: BOOT, kind: 'start', hook: undefined, culprit: undefined, flow: undefined }]);
});

test('lines that are not ours, or carry fields that are not what the agent writes, are left out', () => {
  const bad = [
    '{"t":1,"boot":"x y","kind":"start"}', '{"t":"1","boot":"ab","kind":"start"}', '{"t":1,"boot":"ab","kind":"reboot"}',
    '{"t":1,"boot":"ab","kind":"overrun","hook":"a\\nb"}', '{"t":1,"boot":"ab","kind":"overrun","culprit":{"x":1}}', 'null', '[]', 'garbage',
  ];
  assert.deepEqual(parseLastWords(bad.join('\n')), []);
  fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => { parseLastWords(s); }), { numRuns: 2000 });
});

test('the crash state of an event, most severe first, and its flow (IPv6 in brackets; none without IP)', () => {
  assert.equal(crashState({ kind: 'clear', overrun: false, fraglist_nolist: true, inconsistent: true }), 'fraglist_nolist');
  assert.equal(crashState({ kind: 'modify', overrun: true, fraglist_nolist: true, inconsistent: false }), 'overrun');
  assert.equal(crashState({ kind: 'inconsistent', overrun: false, fraglist_nolist: false, inconsistent: true }), 'inconsistent');
  assert.equal(flowOf({ src: '198.18.0.1', dst: '198.18.1.2', sport: 4000, dport: 5000 }), '198.18.0.1:4000 -> 198.18.1.2:5000');
  assert.equal(flowOf({ src: '2001:db8::1', dst: '2001:db8::2', sport: 1, dport: 2 }), '[2001:db8::1]:1 -> [2001:db8::2]:2');
  assert.equal(flowOf({ sport: 0, dport: 0 }), undefined);
});

test('the ring file: each word synced as it is written, at most one per gap (the newest waits), the last N kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flx-words-'));
  try {
    const target = lastWordsTarget(dir, join(dir, 'no-pmsg'));
    assert.equal(target.kind, 'file');
    const w = new LastWordsWriter({ kind: 'file', path: target.path! }, 4, 50);
    w.write(word(1), 1000);
    assert.equal(parseLastWords(readFileSync(target.path!, 'utf8')).length, 1, 'on disk before write() returned');
    w.write(word(2), 1010);
    w.write(word(3), 1020);
    assert.equal(parseLastWords(readFileSync(target.path!, 'utf8')).length, 1, 'within the gap: waiting');
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(parseLastWords(readFileSync(target.path!, 'utf8')).map((x) => x.t), [1, 3], 'the newest of those waiting was written');
    // the first at once; then a helper and the pull inside it, in one gap: both written
    w.write(word(4, { hook: '__skb_linearize', culprit: '__skb_linearize' }), Date.now());
    w.write(word(5), Date.now());
    w.write(word(6, { hook: '__skb_linearize', culprit: '__skb_linearize' }), Date.now());
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(parseLastWords(readFileSync(target.path!, 'utf8')).map((x) => [x.t, x.culprit]).slice(2),
      [[4, '__skb_linearize'], [5, 'bpf_skb_pull_data'], [6, '__skb_linearize']]);
    for (let t = 10; t < 20; t++) w.write(word(t), Date.now() + 10_000 * t);
    w.close();
    const kept = parseLastWords(readFileSync(target.path!, 'utf8')).map((x) => x.t);
    assert.ok(kept.length >= 4 && kept.length < 8, `bounded: ${kept}`);
    assert.equal(kept.at(-1), 19);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pmsg where the kernel has it, else the file, else nowhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flx-words-'));
  try {
    writeFileSync(join(dir, 'pmsg0'), '');
    assert.deepEqual(lastWordsTarget(dir, join(dir, 'pmsg0')), { kind: 'pmsg', path: join(dir, 'pmsg0') });
    assert.deepEqual(lastWordsTarget(undefined, join(dir, 'none')), { kind: 'none' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

