// The real-kernel stage: Debian's kernel under qemu (software emulation), with
// an initramfs of this host's binaries and the built agent
// (test/realkernel/). Kernels come from the apt registry, unpacked, never
// installed on the host.
import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMetrics, type Metrics } from './agent.js';
import { privateApt } from './debian-apt.js';

/** the scenario of guest-scenario.sh, as the tests read it */
export const MODES = ['kprobe', 'fentry'];
export const INJECTED = 200;      // tap frames
export const UDP_SENDS = 200;     // UDP_SEGMENT sends
export const SEGMENTS = 60;       // segments per send
/** the agent's port in the guest, per mode */
export const GUEST_PORT: Record<string, number> = { kprobe: 10045, fentry: 10046 };
/** the guest's webhook receiver (guest-init.sh): it prints each alert to the console */
export const GUEST_WEBHOOK_PORT = 10047;

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CACHE = '/var/cache/fraglist-kernels';

/**
 * Downloads and unpacks the cloud kernel of a Debian suite (bookworm, trixie,
 * bullseye). The suite's package lists are fetched into a private apt state
 * under the cache, through the mirror this host's apt already uses: the host's
 * own apt configuration is left alone.
 */
export async function debianKernel(suite: string): Promise<{ root: string; vmlinuz: string; release: string }> {
  const apt = await privateApt(suite, CACHE);
  const deps = await execa('apt-cache', [...apt, 'depends', 'linux-image-cloud-amd64']);
  const pkg = /Depends: (linux-image-[\w.+-]+)/.exec(deps.stdout)?.[1];
  if (!pkg) throw new Error(`${suite}: linux-image-cloud-amd64 depends on no linux-image package`);
  const root = join(CACHE, pkg);
  if (!existsSync(join(root, 'boot'))) {
    await execa('apt-get', [...apt, 'download', pkg], { cwd: CACHE });
    const deb = readdirSync(CACHE).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb`);
    await execa('dpkg-deb', ['-x', join(CACHE, deb), root]);
  }
  const vmlinuz = readdirSync(join(root, 'boot')).find((f) => f.startsWith('vmlinuz-'))!;
  return { root, vmlinuz: join(root, 'boot', vmlinuz), release: vmlinuz.slice('vmlinuz-'.length) };
}

/**
 * The kernel's headers and kbuild, unpacked from the suite's packages, for
 * building a test module. Modules are built with this host's gcc, which must be the compiler the kernel was
 * built with (bookworm's gcc-12 builds bookworm's kernel; trixie's is gcc-14).
 */
export async function debianKernelHeaders(suite: string, kernel: { root: string; release: string }): Promise<KernelHeaders> {
  const root = join(CACHE, `headers-${kernel.release}`);
  const dir = join(root, 'usr/src', `linux-headers-${kernel.release}`);
  if (!existsSync(join(dir, 'Makefile'))) {
    const apt = await privateApt(suite, CACHE);
    const pkg = `linux-headers-${kernel.release}`;
    const deps = await execa('apt-cache', [...apt, 'depends', pkg]);
    const pkgs = [pkg, ...[...deps.stdout.matchAll(/Depends: (linux-(?:headers-[\w.+-]+-common|kbuild-[\d.]+))/g)].map((m) => m[1])];
    const debs = mkdtempSync(join(CACHE, 'debs-'));
    try {
      await execa('apt-get', [...apt, 'download', ...pkgs], { cwd: debs });
      for (const deb of readdirSync(debs)) await execa('dpkg-deb', ['-x', join(debs, deb), root]);
    } finally {
      rmSync(debs, { recursive: true, force: true });
    }
    // the flavour's Makefile includes the common tree by its installed path
    const makefile = join(dir, 'Makefile');
    writeFileSync(makefile, readFileSync(makefile, 'utf8').replaceAll('/usr/src/', `${root}/usr/src/`));
  }
  const config = readdirSync(join(kernel.root, 'boot')).find((f) => f.startsWith('config-'));
  const cc = config && /^CONFIG_CC_VERSION_TEXT="(\S+)/m.exec(readFileSync(join(kernel.root, 'boot', config), 'utf8'))?.[1];
  const hostGcc = (await execa('gcc', ['-dumpversion'], { reject: false })).stdout.split('.')[0];
  const modules = cc === `gcc-${hostGcc}` ? true : `${kernel.release} was built with ${cc ?? 'an unknown compiler'}; this host has gcc-${hostGcc}`;
  return { dir, modules };
}

export interface KernelHeaders {
  /** the flavour's headers: generated includes, and the Makefile that builds against the common tree */
  dir: string;
  /** true: this host's gcc builds modules for the kernel; else why not */
  modules: true | string;
}

export interface GuestRun {
  serial: string;
  /** the serial console's lines, each with when it reached this host (Date.now(), the clock the webhook's `at` uses) */
  lines: Array<{ at: number; line: string }>;
  seconds: number;
  attempts: number;
}

/**
 * Boots the kernel with the test initramfs; returns the serial console text.
 * A boot that dies before /init runs is retried: under multi-threaded TCG a
 * kernel now and then oopses on an int3 while it patches its own text.
 */
export interface GuestOptions {
  /** host port -> the guest's port, on 127.0.0.1 (a virtio NIC with user networking; restrict=on: it reaches nothing else) */
  forward?: Array<[hostPort: number, guestPort: number]>;
  /** seconds the scenario holds after its tc pull and OVERRUN phases, with the agent running (for a Prometheus on the host to page) */
  holdSeconds?: number;
  /** the kernel's headers (debianKernelHeaders): the OVERRUN module is built (where it can be) and its phase runs */
  headers?: KernelHeaders;
  /** the scenario's phases (guest-scenario.sh), all by default */
  phases?: string[];
  /** the netem delay on the router's egress in the tc pull phase (guest-scenario.sh's default otherwise) */
  delayMs?: number;
  /** a root filesystem with another bpftrace: modes named MODE@other run with it (build-initramfs.sh) */
  otherBpftraceRoot?: string;
  /** the phases of the MODE@other runs */
  otherPhases?: string[];
  /** instead of the scenarios, guest_bench.py: rounds, and UDP_SEGMENT sends per run */
  bench?: { rounds: number; sends: number };
  /**
   * boots that follow each other in one qemu (guest-init.sh's flx_boots): "PHASES@DELAY_MS", PHASES a '+' list or
   * "none". A panic reboots the guest (panic=1, RAM and ramoops kept); a virtio disk keeps the agent's state directory.
   */
  boots?: string[];
  /** seconds each run holds after reading the crash records (a Prometheus on the host pages on them) */
  reportHoldSeconds?: number;
}

/** RAM the guest's kernel leaves to ramoops (guest-init.sh loads it there): qemu keeps it over a reboot */
const RAMOOPS_MEMMAP = 'memmap=1M$0x80000000';

export async function runGuest(kernel: { root: string; vmlinuz: string }, modes: string[], timeoutMs: number, o: GuestOptions = {}): Promise<GuestRun> {
  const dir = mkdtempSync(join(tmpdir(), 'flx-guest-'));
  // interrupted (Ctrl-C in npm run bench:guests): stop this qemu and remove the 350 MB initramfs, then exit as the signal would
  let qemuPid: number | undefined;
  const interrupted = (signal: NodeJS.Signals) => {
    if (qemuPid) try { process.kill(qemuPid, 'SIGKILL'); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    const cpio = join(dir, 'initrd.cpio');
    await execa('bash', [join(REPO, 'test/realkernel/build-initramfs.sh'), cpio, kernel.root, REPO], {
      env: {
        FLX_MODULE_HEADERS: o.headers?.modules === true ? o.headers.dir : '',
        FLX_BPFTRACE_ROOT: o.otherBpftraceRoot ?? '',
      },
    });
    const disk = join(dir, 'state.img');
    if (o.boots) {
      writeFileSync(disk, '');
      await execa('truncate', ['-s', '64M', disk]);
      await execa('mkfs.ext4', ['-q', '-F', disk]);
    }
    const nic = o.forward?.length
      ? ['-netdev', `user,id=n0,restrict=on,${o.forward.map(([h, g]) => `hostfwd=tcp:127.0.0.1:${h}-:${g}`).join(',')}`, '-device', 'virtio-net-pci,netdev=n0']
      : ['-nic', 'none'];
    for (let attempt = 1; ; attempt++) {
      const t0 = Date.now();
      // the console on qemu's stdout, stamped line by line as it arrives: a page and a panic are ordered on one clock
      const lines: GuestRun['lines'] = [];
      let partial = '';
      const qemu = execa('qemu-system-x86_64', [
        '-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2', '-m', '3072', '-display', 'none', '-monitor', 'none',
        ...(o.boots ? ['-drive', `file=${disk},format=raw,if=virtio`] : ['-no-reboot']), ...nic, '-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console', '-kernel', kernel.vmlinuz, '-initrd', cpio,
        '-append', `console=ttyS0 ${o.boots ? 'panic=1' : 'panic=-1'} ${RAMOOPS_MEMMAP} quiet flx_modes=${modes.join(',')}${o.forward?.length ? ' flx_net=1' : ''} flx_hold=${o.holdSeconds ?? 0}${
          o.phases ? ` flx_phases=${o.phases.join(',')}` : ''}${o.delayMs !== undefined ? ` flx_delay_ms=${o.delayMs}` : ''}${
          o.otherPhases ? ` flx_other_phases=${o.otherPhases.join(',')}` : ''}${o.bench ? ` flx_bench=${o.bench.rounds}:${o.bench.sends}` : ''}${
          o.boots ? ` flx_boots=${o.boots.join(',')}` : ''}${o.reportHoldSeconds ? ` flx_report_hold=${o.reportHoldSeconds}` : ''}`,
      ], { timeout: timeoutMs, reject: false, stdin: 'ignore', buffer: false });
      qemuPid = qemu.pid;
      qemu.stdout!.on('data', (chunk: Buffer) => {
        const at = Date.now();
        const parts = (partial + chunk.toString('utf8')).split(/\r?\n/);
        partial = parts.pop()!;
        for (const line of parts) lines.push({ at, line });
      });
      await qemu;
      if (partial) lines.push({ at: Date.now(), line: partial });
      const text = lines.map((l) => l.line).join('\n');
      // for a person reading a failed run: FLX_SERIAL_OUT=FILE keeps the console
      if (process.env.FLX_SERIAL_OUT) writeFileSync(process.env.FLX_SERIAL_OUT, text);
      if (text.includes('FLX-KERNEL') || attempt === 3) return { serial: text, lines, seconds: (Date.now() - t0) / 1000, attempts: attempt };
    }
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ModeResult {
  ready: boolean;
  readySeconds: number;
  snapshots: Map<string, Metrics>;
  events: Map<string, Array<Record<string, any>>>;
  exitCode?: number;
  udpSink?: string;
  /** `tc filter show` of the pulling program, as the guest printed it */
  tcFilter?: string;
  /** the router veth's XDP program ("prog/xdp id N"), as the guest printed it */
  xdp?: string;
  /** the OVERRUN module's own report (dmesg), where it ran */
  module?: string;
  /** doctor's line saying where bpftrace reads kernel types */
  typesFrom?: string;
  /** the pid of the tap phase's injecting process, in the guest's own PID namespace */
  injectorPid?: number;
  /** the agent's /crashes at start */
  crashes?: { records: Array<Record<string, any>>; skipped: Record<string, number> };
  log: string[];
}

/** Reads the FLX-* lines guest-scenario.sh prints, per mode. */
export function parseSerial(serial: string): { kernel?: string; done: boolean; modes: Map<string, ModeResult>; kallsyms?: Set<string>; pstoreBackend?: string } {
  const modes = new Map<string, ModeResult>();
  const mode = (m: string) => {
    if (!modes.has(m)) modes.set(m, { ready: false, readySeconds: 0, snapshots: new Map(), events: new Map(), log: [] });
    return modes.get(m)!;
  };
  let kernel: string | undefined, done = false, kallsyms: Set<string> | undefined, pstoreBackend: string | undefined;
  const lines = serial.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if ((m = /^FLX-KERNEL (\S+)/.exec(line))) kernel = m[1];
    else if (line === 'FLX-DONE') done = true;
    else if ((m = /^FLX-KALLSYMS(.*)$/.exec(line))) kallsyms = new Set(m[1].split(' ').filter(Boolean));
    else if ((m = /^FLX-PSTORE-BACKEND ?(.*)$/.exec(line))) pstoreBackend = m[1];
    else if ((m = /^FLX-CRASHES (\S+) (.*)$/.exec(line))) mode(m[1]).crashes = JSON.parse(m[2]);
    else if ((m = /^FLX-READY (\S+) (\d) (\d+)/.exec(line))) Object.assign(mode(m[1]), { ready: m[2] === '1', readySeconds: Number(m[3]) });
    else if ((m = /^FLX-SNAP (\S+) (\S+)/.exec(line))) {
      const body: string[] = [];
      while (++i < lines.length && lines[i] !== 'FLX-END') body.push(lines[i]);
      mode(m[1]).snapshots.set(m[2], parseMetrics(body.join('\n')));
    } else if ((m = /^FLX-EVENTS (\S+) (\S+) (.*)$/.exec(line))) mode(m[1]).events.set(m[2], JSON.parse(m[3]).events);
    else if ((m = /^FLX-EXIT (\S+) (\d+)/.exec(line))) mode(m[1]).exitCode = Number(m[2]);
    else if ((m = /^FLX-UDP (\S+) (.*)$/.exec(line))) mode(m[1]).udpSink = m[2];
    else if ((m = /^FLX-TC (\S+) (.*)$/.exec(line))) mode(m[1]).tcFilter = m[2];
    else if ((m = /^FLX-XDP (\S+) (.*)$/.exec(line))) mode(m[1]).xdp = m[2];
    else if ((m = /^FLX-MODULE (\S+) (.*)$/.exec(line))) mode(m[1]).module = m[2];
    else if ((m = /^FLX-DOCTOR (\S+) (.*)$/.exec(line))) mode(m[1]).typesFrom = m[2];
    else if ((m = /^FLX-INJECTOR (\S+) (\d+)$/.exec(line))) mode(m[1]).injectorPid = Number(m[2]);
    else if ((m = /^FLX-LOG (\S+) (.*)$/.exec(line))) mode(m[1]).log.push(m[2]);
  }
  return { kernel, done, modes, kallsyms, pstoreBackend };
}
