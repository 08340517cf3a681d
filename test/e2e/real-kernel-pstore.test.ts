// The crash no page can beat, for real: bullseye's 5.10.223 (no 2024 fraglist
// fix) under qemu, with ramoops on reserved RAM (kept over qemu's reset) and
// a virtio disk for the agent's state directory. One qemu, four boots:
//   1. the tc pull with no delay queue: the kernel dies in the softirq that made the skb; nothing reaches user space
//   2. the agent reads the ramoops record (segmentation, culprit unknown) and pages; then the pull with a 2 s hold:
//      too short for a page (3.5 s), long enough for the agent to hear the FRAGLIST skb and write its last words
//   3. the record is joined with them: the page names bpf_skb_pull_data and the flow
//   4. the same records again: no new page
// A Prometheus on this host (the shipped rules) scrapes the agent of each boot through one forwarded port.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, parseMetrics } from '../helpers/agent.js';
import { startAlerting, type Alert } from '../helpers/alerting.js';
import { debianKernel, GUEST_PORT, runGuest, type GuestRun } from '../helpers/guest.js';

const BOOTS = ['pull@0', 'pull@2000', 'none@0', 'none@0'];
/** seconds each boot's agent holds after reading the records: scrape, rule evaluation and Alertmanager take 2 to 5 s */
const REPORT_HOLD = 20;
const CRASH_ALERT = 'FragListKernelCrashedInSegmentation';

interface Boot { n: number; at: number; lines: GuestRun['lines']; crashes?: any; metrics?: ReturnType<typeof parseMetrics>; doctor: string[] }

function splitBoots(run: GuestRun): Boot[] {
  const boots: Boot[] = [];
  for (const l of run.lines) {
    const m = /^FLX-BOOT (\d+) /.exec(l.line);
    if (m) boots.push({ n: Number(m[1]), at: l.at, lines: [], doctor: [] });
    else boots.at(-1)?.lines.push(l);
  }
  for (const b of boots) {
    const texts = b.lines.map((l) => l.line);
    const crashes = texts.find((t) => t.startsWith('FLX-CRASHES kprobe '));
    if (crashes) b.crashes = JSON.parse(crashes.slice('FLX-CRASHES kprobe '.length));
    const snap = texts.indexOf('FLX-SNAP kprobe start');
    if (snap >= 0) b.metrics = parseMetrics(texts.slice(snap + 1, texts.indexOf('FLX-END', snap)).join('\n'));
    b.doctor = texts.filter((t) => t.startsWith('FLX-DOCTOR-CRASH ')).map((t) => t.slice('FLX-DOCTOR-CRASH kprobe '.length));
  }
  return boots;
}

describe('Debian bullseye\'s kernel (5.10) crashes before any page can leave: after the reboot, the crash record pages', { timeout: 900_000 }, () => {
  test('no delay: segmentation at __udp_gso_segment, culprit unknown; 2 s hold: joined with the last words; a further boot: no new page', async () => {
    const kernel = await debianKernel('bullseye');
    const agentPort = await freePort();
    const instance = `127.0.0.1:${agentPort}`;
    const stack = await startAlerting([instance], undefined, { waitForTargets: false });
    let run: GuestRun, received;
    try {
      run = await runGuest(kernel, ['kprobe'], 800_000, { forward: [[agentPort, GUEST_PORT.kprobe]], boots: BOOTS, reportHoldSeconds: REPORT_HOLD });
    } finally {
      received = [...stack.received];
      await stack.stop();
    }
    const boots = splitBoots(run);
    const tail = () => run.lines.slice(-40).map((l) => l.line).join('\n');
    assert.equal(boots.length, 4, `four boots:\n${tail()}`);
    const notes: string[] = [];
    const serial = (b: Boot, re: RegExp) => b.lines.filter((l) => re.test(l.line)).map((l) => `  [boot ${b.n} +${((l.at - b.at) / 1000).toFixed(1)} s] ${l.line.slice(0, 200)}`);

    // boot 1: the kernel dies with no delay queue; nothing was paged
    const [b1, b2, b3, b4] = boots;
    assert.ok(b1.lines.some((l) => /^FLX-SEND kprobe pull delay_ms=0/.test(l.line)), 'boot 1 sent with no delay');
    assert.ok(b1.lines.some((l) => /RIP: \S+:__udp_gso_segment\+/.test(l.line)), `boot 1 oopsed in __udp_gso_segment:\n${b1.lines.slice(-30).map((l) => l.line).join('\n')}`);
    assert.ok(!b1.lines.some((l) => l.line === 'FLX-DONE'), 'boot 1 never finished');
    assert.deepEqual(b1.crashes?.records, [], 'boot 1 started with no crash record');
    const firing = (from: number, to = Infinity) => received.filter((n) => n.at >= from && n.at < to)
      .flatMap((n) => n.body.alerts).filter((a: Alert) => a.status === 'firing');
    assert.deepEqual(firing(0, b2.at).map((a) => a.labels.alertname), [], 'no page left boot 1: the kernel died in the softirq');
    notes.push(...serial(b1, /^FLX-SEND|^\[.*(BUG:|RIP:|Kernel panic)/).slice(0, 5));

    // boot 2: the record, classified, with no last words to join; the page
    const r1 = b2.crashes?.records?.[0];
    assert.ok(r1, `boot 2's agent read a crash record: ${JSON.stringify(b2.crashes)}`);
    assert.equal(b2.crashes.records.length, 1, 'one crash: ramoops\'s oops and panic records of it are one');
    assert.equal(b2.crashes.skipped.duplicate, 1);
    assert.equal(r1.class, 'segmentation');
    assert.equal(r1.function, '__udp_gso_segment');
    assert.equal(r1.culprit, 'unknown', 'the agent heard nothing before the crash');
    assert.equal(r1.release, '5.10.0-32-cloud-amd64');
    assert.match(r1.path, /^\/sys\/fs\/pstore\/dmesg-ramoops-\d+$/);
    assert.equal(b2.metrics?.sum('frag_list_kernel_crash_records', { class: 'segmentation', function: '__udp_gso_segment' }), 1);
    assert.equal(b2.metrics?.sum('frag_list_kernel_last_crash_timestamp_seconds', { class: 'segmentation' }), r1.timeSeconds);
    assert.ok(b2.doctor.some((d) => /kernel crash records: 1 \(1 in GSO segmentation\) in \/sys\/fs\/pstore/.test(d)), `doctor: ${b2.doctor.join(' | ')}`);
    assert.ok(b2.doctor.some((d) => /last words before a crash go to \/var\/lib\/fraglist-exporter\/last-words\.log \(no \/dev\/pmsg0/.test(d)), `doctor: ${b2.doctor.join(' | ')}`);
    const page1 = firing(b2.at, b3.at).find((a) => a.labels.alertname === CRASH_ALERT);
    assert.ok(page1, `the crash page reached the webhook during boot 2: ${JSON.stringify(firing(b2.at, b3.at).map((a) => a.labels))}`);
    assert.equal(page1.labels.function, '__udp_gso_segment');
    assert.equal(page1.labels.culprit, 'unknown');
    assert.equal(page1.labels.instance, instance);
    assert.equal(page1.annotations.function, '__udp_gso_segment');
    assert.match(page1.annotations.summary, /crashed in __udp_gso_segment; the agent heard no critical skb before it \(culprit unknown\)/);
    // then the 2 s hold: the FRAGLIST skbs are heard, the page loses the race
    assert.ok(b2.lines.some((l) => /^FLX-SEND kprobe pull delay_ms=2000/.test(l.line)), 'boot 2 sent with a 2 s hold');
    assert.ok(b2.lines.some((l) => /RIP: \S+:__udp_gso_segment\+/.test(l.line)), 'boot 2 oopsed in __udp_gso_segment');
    // the Prometheus here had scraped the FRAGLIST counts before the kernel died, so a page may still go out: after the oops
    const oops2 = b2.lines.find((l) => /BUG: kernel NULL pointer/.test(l.line))!.at;
    const lostRace = received.filter((n) => n.at >= b2.at && n.at < b3.at && n.body.alerts.some((a) => a.status === 'firing' && a.labels.alertname === 'FragListFraglistWithoutListSkb'));
    assert.ok(lostRace.every((n) => n.at > oops2), `the FRAGLIST page lost the race: ${lostRace.map((n) => ((n.at - oops2) / 1000).toFixed(2)).join(', ')} s after the oops`);
    notes.push(...serial(b2, /^FLX-CRASHES|^FLX-SEND|^\[.*(BUG:|RIP:|Kernel panic)/).slice(0, 6));

    // boot 3: the second record joined with the last words of boot 2 (ramoops wrote it over the first: it keeps the newest)
    assert.equal(b3.crashes?.records?.length, 1, JSON.stringify(b3.crashes));
    const r2 = b3.crashes.records[0];
    assert.notEqual(r2.hash, r1.hash);
    assert.equal(r2.class, 'segmentation');
    assert.equal(r2.function, '__udp_gso_segment');
    assert.equal(r2.culprit, 'bpf_skb_pull_data');
    assert.equal(r2.lastWord.kind, 'fraglist_nolist');
    assert.match(r2.lastWord.flow, /^198\.18\.14\.1:\d+ -> 198\.18\.15\.2:6001$/);
    const joined = /^crashed in __udp_gso_segment (\d+\.\d) s after FRAGLIST without a list at \S+ \(culprit bpf_skb_pull_data, 198\.18\.14\.1:\d+ -> 198\.18\.15\.2:6001\)$/;
    assert.match(r2.summary, joined);
    assert.ok(Number(joined.exec(r2.summary)![1]) <= 5, 'the last word is from the seconds before the crash');
    const page2 = firing(b3.at, b4.at).find((a) => a.labels.alertname === CRASH_ALERT);
    assert.ok(page2, `the joined crash page reached the webhook during boot 3: ${JSON.stringify(firing(b3.at, b4.at).map((a) => a.labels))}`);
    assert.equal(page2.labels.culprit, 'bpf_skb_pull_data');
    assert.match(page2.annotations.summary, new RegExp(`^The kernel of ${instance.replace(/\./g, '\\.')} crashed in __udp_gso_segment \\d+\\.\\d s after FRAGLIST without a list at \\S+ \\(culprit bpf_skb_pull_data, 198\\.18\\.14\\.1:\\d+ -> 198\\.18\\.15\\.2:6001\\)$`));
    notes.push(...serial(b3, /^FLX-CRASHES/), `  the FRAGLIST page of boot 2, if any: ${lostRace.map((n) => `+${((n.at - oops2) / 1000).toFixed(2)} s after the oops`).join(', ') || 'none'}`);

    // boot 4: the same two records, read from the state directory's memory; no new page
    assert.deepEqual(b4.crashes?.records?.map((r: any) => r.hash), b3.crashes.records.map((r: any) => r.hash));
    assert.equal(b4.crashes.records[0].summary, r2.summary, 'the join is remembered (the last words are not read again)');
    const ready4 = b4.lines.find((l) => /^FLX-READY kprobe 1/.test(l.line))?.at ?? b4.at;
    assert.deepEqual(firing(ready4).filter((a) => a.labels.alertname === CRASH_ALERT), [], 'no page on a boot that found only reported records');
    assert.ok(b4.lines.some((l) => l.line === 'FLX-DONE'), 'boot 4 finished');

    process.stdout.write(`# ${kernel.release}: ${boots.length} boots in ${run.seconds.toFixed(0)} s\n${notes.join('\n')}\n`
      + `# boot 2 page: ${JSON.stringify({ labels: page1.labels, annotations: page1.annotations })}\n`
      + `# boot 3 page: ${JSON.stringify({ labels: page2.labels, annotations: page2.annotations })}\n`
      + `# boot 3 metrics:\n${[...(b3.metrics?.samples.keys() ?? [])].filter((k) => /^frag_list_(kernel_(crash|last_)|agent_)/.test(k))
        .map((k) => `#   ${k} ${b3.metrics!.samples.get(k)}`).join('\n')}\n`);
  });
});
