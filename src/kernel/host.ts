// What this host offers the tracer: kernel, BTF, bpftrace, tracefs, probe
// types and the watched functions. The I/O edge of `doctor` and mode choice.
import { execa } from 'execa';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { release } from 'node:os';
import { infoFlags } from '../bpftrace/info.js';
import { Btf } from './btf.js';
import { capEffOf, missingBpfCapabilities } from './capabilities.js';
import { fragLayout, type FragLayout } from './layout.js';
import { fraglistFix, type FraglistFix } from './fraglist-fix.js';
import { gsoTableForRelease, gsoTableFromBtf, type GsoTable } from './gso.js';
import { symbolFinder } from './symbols.js';
import { FUNCTION_HOOKS } from '../probes/program.js';

const BTF_PATH = '/sys/kernel/btf/vmlinux';
const TRACEFS_DIRS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/** The kernel functions the kprobe and fentry programs hook. */
const WATCHED_FUNCTIONS = FUNCTION_HOOKS.map((h) => h.fn);
const findWatched = symbolFinder(WATCHED_FUNCTIONS);

export interface FunctionStatus { name: string; inKallsyms: boolean; traceable: boolean | undefined }

export interface HostFacts {
  kernelRelease: string;
  isRoot: boolean;
  /** capabilities this process lacks to load BPF tracing programs */
  missingCapabilities: string[];
  btf: boolean;
  kernelHeaders: boolean;
  /**
   * Where bpftrace reads kernel types: BTF when its --info says it has BTF (or
   * does not say); the BTF file named in BPFTRACE_BTF where bpftrace finds no
   * kernel BTF by itself (bpftrace 0.17 looks for it through bpf_btf_info's
   * name and kernel_btf fields, which Linux 5.11 added: on 5.10 it finds none);
   * else the kernel's headers when installed; else none.
   */
  typesFrom: 'btf' | 'btf-file' | 'headers' | 'none';
  /** `env`: what bpftrace's environment must add on this host (BPFTRACE_BTF) */
  bpftrace: { path: string; version?: string; error?: string; probeTypes: Record<string, boolean>; env?: Record<string, string> };
  /** kernel built with kprobes (a kprobe PMU); bpftrace --info does not check this */
  kprobePmu: boolean;
  tracefs?: string;
  tracefsMountError?: string;
  netTracepoints: string[];
  functions: FunctionStatus[];
  /** util-linux setpriv with --pdeathsig: the tracer dies with the agent */
  setprivPdeathsig: boolean;
  layout?: FragLayout;
  layoutError?: string;
  gsoNames: GsoTable;
  gsoNamesSource: 'btf' | 'table';
  /** whether list segmentation survives SKB_GSO_FRAGLIST without a list here (the 2024 fix), as the version text says */
  fraglistFix: FraglistFix;
}


/**
 * What the running kernel's BTF says, once read: it does not change while the
 * kernel runs, and reading it again was most of the CPU of each periodic
 * re-check. A failed read is tried again next time.
 */
let fromKernelBtf: { layout: FragLayout; gsoNames?: GsoTable } | undefined;

export async function inspectHost(bpftracePath: string, opts: { mountTracefs: boolean }): Promise<HostFacts> {
  const kernelRelease = release();
  const btf = existsSync(BTF_PATH);
  const facts: HostFacts = {
    kernelRelease,
    isRoot: process.getuid?.() === 0,
    missingCapabilities: missingBpfCapabilities(capEffOf(readFileSync('/proc/self/status', 'utf8'))),
    btf,
    kernelHeaders: existsSync(`/lib/modules/${kernelRelease}/build/include`),
    typesFrom: 'btf',
    bpftrace: { path: bpftracePath, probeTypes: {} },
    kprobePmu: existsSync('/sys/bus/event_source/devices/kprobe'),
    netTracepoints: [],
    functions: [],
    setprivPdeathsig: false,
    gsoNames: gsoTableForRelease(kernelRelease),
    gsoNamesSource: 'table',
    fraglistFix: fraglistFix({ release: kernelRelease, procVersion: readOptional('/proc/version'), versionSignature: readOptional('/proc/version_signature') }),
  };

  if (btf) {
    try {
      fromKernelBtf ??= withBtfFile(BTF_PATH, (parsed) => ({ layout: fragLayout(parsed), gsoNames: gsoTableFromBtf(parsed) }));
      facts.layout = fromKernelBtf.layout;
      if (fromKernelBtf.gsoNames) { facts.gsoNames = fromKernelBtf.gsoNames; facts.gsoNamesSource = 'btf'; }
    } catch (err) {
      facts.layoutError = (err as Error).message;
    }
  } else {
    facts.layoutError = `no BTF at ${BTF_PATH}`;
  }

  const [bt, info, setpriv] = await Promise.all([
    execa(bpftracePath, ['--version'], { reject: false, timeout: 10_000 }),
    execa(bpftracePath, ['--info'], { reject: false, timeout: 20_000, all: true }),
    execa('setpriv', ['--help'], { reject: false, timeout: 5_000 }),
  ]);
  if (bt.failed) facts.bpftrace.error = bt.code === 'ENOENT' ? `${bpftracePath}: not found` : String(bt.stderr || bt.shortMessage).split('\n')[0];
  else facts.bpftrace.version = bt.stdout.trim().replace(/^bpftrace\s+/, '');
  facts.bpftrace.probeTypes = infoFlags(String(info.all ?? ''));
  if (facts.bpftrace.probeTypes.btf === false && btf) {
    // kfunc stays as the first answer: attaching one needs the kernel's BTF object ids, which a file has not
    const withFile = await execa(bpftracePath, ['--info'], { reject: false, timeout: 20_000, all: true, env: { BPFTRACE_BTF: BTF_PATH } });
    if (infoFlags(String(withFile.all ?? '')).btf) {
      facts.bpftrace.env = { BPFTRACE_BTF: BTF_PATH };
      facts.typesFrom = 'btf-file';
    }
  }
  if (facts.typesFrom === 'btf' && facts.bpftrace.probeTypes.btf === false) facts.typesFrom = facts.kernelHeaders ? 'headers' : 'none';
  facts.setprivPdeathsig = !setpriv.failed && setpriv.stdout.includes('--pdeathsig');

  facts.tracefs = TRACEFS_DIRS.find((d) => existsSync(`${d}/events`));
  if (!facts.tracefs && opts.mountTracefs && facts.isRoot) {
    const r = await execa('mount', ['-t', 'tracefs', 'nodev', TRACEFS_DIRS[0]], { reject: false, timeout: 10_000 });
    if (existsSync(`${TRACEFS_DIRS[0]}/events`)) facts.tracefs = TRACEFS_DIRS[0];
    else facts.tracefsMountError = String(r.stderr || r.shortMessage).split('\n')[0];
  }
  if (facts.tracefs) {
    try { facts.netTracepoints = readdirSync(`${facts.tracefs}/events/net`).filter((n) => !['enable', 'filter'].includes(n)); }
    catch { /* no net tracepoints on this kernel */ }
  }
  facts.functions = watchedFunctions(facts.tracefs);
  return facts;
}

function watchedFunctions(tracefs: string | undefined): FunctionStatus[] {
  const kallsyms = symbolsAmong('/proc/kallsyms');
  const traceable = tracefs ? symbolsAmong(`${tracefs}/available_filter_functions`) : undefined;
  return WATCHED_FUNCTIONS.map((name) => ({
    name,
    inKallsyms: kallsyms?.has(name) ?? false,
    traceable: traceable ? traceable.has(name) : undefined,
  }));
}

function readOptional(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

/**
 * Which watched functions a symbol file lists. Read in blocks of whole lines,
 * keeping only matches: kallsyms is 5 MB and 200,000 lines, and the whole of
 * it held as a string and a set was most of the agent's peak memory at start.
 */
function symbolsAmong(path: string): Set<string> | undefined {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return undefined; }
  try {
    const found = new Set<string>();
    const block = Buffer.alloc(1 << 16);
    let rest = '';
    for (let n; (n = readSync(fd, block, 0, block.length, null)) > 0;) {
      const text = rest + block.toString('latin1', 0, n);
      const whole = text.lastIndexOf('\n') + 1;
      for (const name of findWatched(text.slice(0, whole))) found.add(name);
      rest = text.slice(whole);
    }
    for (const name of findWatched(rest)) found.add(name);
    return found;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Reads a BTF file in place (pread through the parser's window, not whole); the file is closed when `use` returns or throws. */
export function withBtfFile<T>(path: string, use: (btf: Btf) => T): T {
  const fd = openSync(path, 'r');
  try {
    return use(new Btf((into, position) => readSync(fd, into, 0, into.length, position)));
  } finally {
    closeSync(fd);
  }
}
