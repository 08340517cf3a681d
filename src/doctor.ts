// `fraglist-exporter doctor`: the preflight. Human output by default, --json
// for machines; exit 0 when serve can run, 1 when it cannot.
import type { DoctorConfig } from './config.js';
import { crashesOnFraglistWithoutList } from './kernel/fraglist-fix.js';
import type { HostFacts } from './kernel/host.js';
import type { Verdict } from './preflight.js';
import { CrashRecords, type CrashReport } from './crash/crash-records.js';
import { lastWordsTarget } from './crash/last-words.js';
import { prepareHost } from './tracer.js';

export async function doctor(config: DoctorConfig): Promise<number> {
  const { facts: kernelFacts, verdict, fraglistFix } = await prepareHost(config);
  const facts = { ...kernelFacts, fraglistFix }; // as serve will run: --kernel.fraglist-fix applied
  // read only: doctor remembers nothing in the state directory
  const lastWords = lastWordsTarget(config.stateDir);
  const crash = config.crashDirs.length
    ? new CrashRecords(config.crashDirs, config.stateDir, lastWords.kind === 'file' ? lastWords.path : undefined, { readOnly: true }).refresh()
    : undefined;
  if (config.json) {
    process.stdout.write(JSON.stringify({
      ...facts, gsoNames: Object.fromEntries(facts.gsoNames),
      verdict: {
        mode: verdict.plans[0]?.mode.name ?? null, hooks: verdict.plans[0]?.hooks ?? [], unattached: verdict.plans[0]?.unattached ?? [],
        fallbacks: verdict.plans.slice(1).map((p) => p.mode.name), blindSpots: verdict.plans[0]?.mode.blindSpots,
        problems: verdict.problems, modes: verdict.modes,
      },
      canServe: verdict.plans.length > 0,
      crash: { ...(crash ?? { dirs: [] }), lastWords: lastWords.path ?? null },
    }, null, 2) + '\n');
  } else {
    process.stdout.write(render(facts, verdict, crash, lastWords));
  }
  return verdict.plans.length ? 0 : 1;
}

const mark = (ok: boolean | undefined) => (ok === undefined ? '[ ? ]' : ok ? '[ok ]' : '[!! ]');

function render(h: HostFacts, v: Verdict, crash: CrashReport | undefined, lastWords: ReturnType<typeof lastWordsTarget>): string {
  const out: string[] = [];
  const line = (ok: boolean | undefined, what: string) => out.push(`${mark(ok)} ${what}`);
  out.push('fraglist-exporter doctor', '');
  line(true, `kernel ${h.kernelRelease}`);
  line(h.isRoot, h.isRoot ? 'running as root' : 'not running as root');
  line(h.missingCapabilities.length === 0, h.missingCapabilities.length ? `missing ${h.missingCapabilities.join(', ')}` : 'capabilities to load BPF programs');
  line(h.btf, h.btf ? 'BTF at /sys/kernel/btf/vmlinux' : 'no BTF at /sys/kernel/btf/vmlinux');
  if (h.layout) line(true, `skb frag length field: ${h.layout.fragLenField} (frags at +${h.layout.fragsOffset}, ${h.layout.fragStride} bytes each)`);
  line(h.typesFrom !== 'none', `kernel headers ${h.kernelHeaders ? 'installed' : `not installed${h.typesFrom === 'btf' ? ' (not needed with BTF)' : ''}`}`);
  line(!h.bpftrace.error, h.bpftrace.error ?? `bpftrace ${h.bpftrace.version} (${h.bpftrace.path})`);
  line(h.typesFrom !== 'none', `bpftrace reads kernel types from ${{
    btf: 'BTF', 'btf-file': `BTF, given as BPFTRACE_BTF=${h.bpftrace.env?.BPFTRACE_BTF} (bpftrace ${h.bpftrace.version ?? ''} finds no kernel BTF by itself before Linux 5.11)`,
    headers: 'the kernel headers (its --info says btf: no)', none: 'nowhere: no usable BTF (--info says btf: no) and no kernel headers',
  }[h.typesFrom]}`);
  const types = Object.entries(h.bpftrace.probeTypes).filter(([k]) => ['kprobe', 'tracepoint', 'kfunc'].includes(k));
  if (types.length) line(true, `bpftrace --info probe types: ${types.map(([k, ok]) => `${k} ${ok ? 'yes' : 'no'}`).join(', ')}`);
  line(h.kprobePmu, `kernel kprobes ${h.kprobePmu ? 'available' : 'not compiled in (no kprobe PMU)'}`);
  line(!!h.tracefs, h.tracefs ? `tracefs at ${h.tracefs}` : `tracefs not mounted${h.tracefsMountError ? `: ${h.tracefsMountError}` : ''}`);
  line(h.netTracepoints.length > 0, `net tracepoints: ${h.netTracepoints.length ? h.netTracepoints.join(', ') : 'none'}`);
  line(h.setprivPdeathsig, `setpriv --pdeathsig ${h.setprivPdeathsig ? 'available (bpftrace dies with the agent)' : 'unavailable (bpftrace ends at its next write after the agent dies)'}`);
  line(!crashesOnFraglistWithoutList(h.fraglistFix.state), `fraglist fix ("gso: fix udp gso fraglist segmentation after pull from frag_list"): ${{
    fixed: 'this kernel has it', lacking: 'this kernel LACKS it', unknown: 'not known for this kernel', 'no-fraglist-gso': 'not needed (no fraglist GSO before 5.6)',
  }[h.fraglistFix.state]} (${h.fraglistFix.why})${crashesOnFraglistWithoutList(h.fraglistFix.state)
    ? '; FRAGLIST skbs without a list page wherever seen (--kernel.fraglist-fix=fixed if it has it)' : ''}`);
  line(true, `GSO flag names from ${h.gsoNamesSource === 'btf' ? 'the kernel BTF' : 'the built-in table for this release'}`);
  if (!crash) line(undefined, 'kernel crash records: not read (--kernel.crash-dirs="")');
  else {
    const seg = crash.records.filter((r) => r.class === 'segmentation').length;
    const where = crash.dirs.filter((d) => !crash.missingDirs.includes(d));
    line(seg === 0, `kernel crash records: ${crash.records.length} (${seg} in GSO segmentation) in ${where.join(', ') || 'none of the crash directories (none exists)'}`);
    const latest = crash.records[0];
    if (latest) out.push(`      latest: ${latest.time} class ${latest.class}, function ${latest.function}${latest.rip ? ` (RIP ${latest.rip.function}+${latest.rip.offset})` : ''}: ${latest.summary}`);
  }
  line(lastWords.kind !== 'none', `last words before a crash go to ${{
    pmsg: `${lastWords.path} (pstore's user messages, kept by ramoops over a reboot)`,
    file: `${lastWords.path} (no /dev/pmsg0 on this kernel: a ring file in the state directory, synced per line)`,
    none: 'nowhere (--state.dir="" and no /dev/pmsg0)',
  }[lastWords.kind]}`);
  out.push('', 'Watched kernel functions (for the kprobe and fentry modes):');
  for (const f of h.functions) {
    const state = !f.inKallsyms ? 'absent or inlined' : f.traceable === false ? 'present, not traceable' : f.traceable ? 'traceable' : 'present';
    out.push(`  ${mark(f.inKallsyms && f.traceable !== false)} ${f.name.padEnd(22)} ${state}`);
  }
  out.push('', 'Probe modes:');
  for (const m of v.modes) out.push(`  ${mark(m.usable)} ${m.mode.padEnd(11)} ${m.why}`);
  out.push('');
  const plan = v.plans[0];
  if (plan) {
    out.push(`serve would run in ${plan.mode.name} mode, hooks: ${plan.hooks.join(', ')}`);
    for (const u of plan.unattached) out.push(`  not attached: ${u.hook} (${u.why})`);
    if (v.plans.length > 1) out.push(`if ${plan.mode.name} is refused at attach time: ${v.plans.slice(1).map((p) => p.mode.name).join(', then ')}`);
    out.push(`this mode ${plan.mode.blindSpots}.`);
  } else {
    out.push('serve cannot run:');
    for (const p of v.problems) out.push(`  - ${p.what}\n    fix: ${p.fix}`);
  }
  out.push('', 'The modes and what each hook sees: docs/probes.md; installing on a host or a cluster: docs/deploy.md.');
  return out.join('\n') + '\n';
}
