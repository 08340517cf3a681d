// A real Debian host under qemu: a bookworm root filesystem built by
// mmdebstrap from the apt registry (systemd as PID 1, Debian's own cloud
// kernel and initramfs, bpftrace and bpftool from the archive), booted from
// an ext4 disk image (-snapshot: the cached image is never written). A
// second disk carries what the test hands over (the bundle). Driven as a user
// would drive it: a root shell on the serial console; the guest's port 10045
// is forwarded to the host. User-mode networking is restricted: the guest
// reaches nothing but the forwarded port.
import { execa, type ResultPromise } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CACHE = '/var/cache/fraglist-kernels';
const PACKAGES = ['systemd-sysv', 'linux-image-cloud-amd64', 'bpftrace', 'bpftool', 'iproute2', 'procps', 'python3', 'kmod', 'udev', 'ethtool'];

/** the root shell on ttyS0, logged in by agetty, and systemd-networkd for the forwarded port */
const HOOKS = [
  'mkdir -p "$1/etc/systemd/system/serial-getty@ttyS0.service.d"',
  'printf "[Service]\\nExecStart=\\nExecStart=-/sbin/agetty --autologin root --noclear --keep-baud 115200,57600,38400,9600 %%I dumb\\n" > "$1/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"',
  'printf "[Match]\\nName=en* eth*\\n[Network]\\nDHCP=ipv4\\n" > "$1/etc/systemd/network/20-wired.network"',
  'chroot "$1" systemctl enable systemd-networkd.service',
  'echo flx-guest > "$1/etc/hostname"',
  'printf "/dev/vda / ext4 rw,errors=remount-ro 0 1\\n" > "$1/etc/fstab"',
  'rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
];

export interface HostImage { image: string; vmlinuz: string; initrd: string; release: string }

/** Builds (once; cached by suite and recipe) the disk image of a Debian host. */
export async function debianHostImage(suite = 'bookworm'): Promise<HostImage> {
  const key = createHash('sha256').update(JSON.stringify([suite, PACKAGES, HOOKS])).digest('hex').slice(0, 12);
  const dir = join(CACHE, `host-${suite}-${key}`);
  const image = join(dir, 'root.ext4');
  if (!existsSync(image)) {
    mkdirSync(CACHE, { recursive: true });
    const work = mkdtempSync(join(CACHE, `host-${suite}-build-`));
    try {
      const root = join(work, 'root');
      const sources = '/etc/apt/sources.list.d/debian.sources';
      await execa('mmdebstrap', ['--mode=root', '--variant=apt', `--include=${PACKAGES.join(',')}`,
        '--dpkgopt=path-exclude=/usr/share/doc/*', '--dpkgopt=path-exclude=/usr/share/man/*', '--dpkgopt=path-exclude=/usr/share/locale/*',
        ...HOOKS.map((h) => `--customize-hook=${h}`), suite, root, ...(existsSync(sources) ? [sources] : [])]);
      const boot = readdirSync(join(root, 'boot'));
      const vmlinuz = boot.find((f) => f.startsWith('vmlinuz-'))!, initrd = boot.find((f) => f.startsWith('initrd.img-'));
      if (!initrd) throw new Error(`${suite}: the kernel package left no initramfs in /boot`);
      for (const f of [vmlinuz, initrd]) await execa('cp', [join(root, 'boot', f), join(work, f)]);
      // room for the agent, its logs and a journal beside what is installed
      const mb = Math.ceil(Number((await execa('du', ['-sm', root])).stdout.split('\t')[0]) * 1.3 + 1024);
      await execa('mke2fs', ['-q', '-t', 'ext4', '-L', 'root', '-d', root, join(work, 'root.ext4'), `${mb}M`]);
      rmSync(root, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
      renameSync(work, dir);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const files = readdirSync(dir);
  const vmlinuz = files.find((f) => f.startsWith('vmlinuz-'))!;
  return { image, vmlinuz: join(dir, vmlinuz), initrd: join(dir, files.find((f) => f.startsWith('initrd.img-'))!), release: vmlinuz.slice('vmlinuz-'.length) };
}

/** An ext4 image holding the given files at its root: the second disk. */
export async function dataDisk(files: string[]): Promise<{ path: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'flx-disk-'));
  const content = join(dir, 'content');
  mkdirSync(content);
  for (const f of files) await execa('cp', [f, content]);
  const mb = Math.ceil(files.reduce((n, f) => n + statSync(f).size, 0) / 1e6 * 1.2 + 32);
  const path = join(dir, 'data.ext4');
  await execa('mke2fs', ['-q', '-t', 'ext4', '-d', content, path, `${mb}M`]);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Guest {
  /** runs a command in the root shell; resolves with its output and exit status */
  sh(command: string, timeoutMs?: number): Promise<{ out: string; code: number }>;
  /** everything the console printed so far */
  console(): string;
  /** powers the guest off (or kills qemu); resolves when qemu is gone */
  stop(): Promise<void>;
}

/** Boots the image; resolves once the root shell answers. */
export async function bootHost(host: HostImage, o: { data: string; forwardPort: number; bootTimeoutMs?: number }): Promise<Guest> {
  const qemu: ResultPromise = execa('qemu-system-x86_64', [
    '-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2', '-m', '3072', '-display', 'none', '-monitor', 'none', '-no-reboot', '-snapshot',
    '-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console',
    '-kernel', host.vmlinuz, '-initrd', host.initrd, '-append', 'root=/dev/vda rw console=ttyS0 quiet loglevel=3 panic=-1',
    '-drive', `file=${host.image},format=raw,if=virtio`, '-drive', `file=${o.data},format=raw,if=virtio`,
    '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${o.forwardPort}-:10045`, '-device', 'virtio-net-pci,netdev=n0',
  ], { reject: false, stdin: 'pipe', buffer: false });
  let text = '';
  const waiters: Array<() => void> = [];
  qemu.stdout!.setEncoding('utf8'); // a character split between chunks stays whole
  qemu.stdout!.on('data', (d: string) => { text += d; for (const w of waiters.splice(0)) w(); });
  const ended = qemu.then(() => { for (const w of waiters.splice(0)) w(); });
  let exited = false;
  void ended.then(() => { exited = true; });

  const waitFor = async (re: RegExp, from: number, timeoutMs: number): Promise<RegExpExecArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      re.lastIndex = from;
      const m = re.exec(text);
      if (m) return m;
      if (exited) throw new Error(`qemu exited while waiting for ${re}; console tail:\n${text.slice(-3000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re}; console tail:\n${text.slice(-3000)}`);
      await new Promise<void>((r) => { const t = setTimeout(r, Math.min(left, 1000)); waiters.push(() => { clearTimeout(t); r(); }); });
    }
  };
  let n = 0;
  const sh = async (command: string, timeoutMs = 120_000) => {
    const id = ++n, from = text.length;
    // the marker is built by printf, so the echo of this line cannot match it
    qemu.stdin!.write(`${command}\nprintf '\\n__FLX_%s_%s__\\n' ${id} $?\n`);
    const m = await waitFor(new RegExp(`\\n__FLX_${id}_(\\d+)__`, 'g'), from, timeoutMs);
    return { out: text.slice(from, m.index).replace(/\r/g, '').trim(), code: Number(m[1]) };
  };
  try {
    await waitFor(/root@flx-guest[^\n]*# /g, 0, o.bootTimeoutMs ?? 300_000);
    // a plain, quiet shell: no echo, no prompt, no kernel messages on the console
    qemu.stdin!.write('stty -echo; export PS1= PS2= TERM=dumb; unset PROMPT_COMMAND; dmesg -n 1\n');
    await sh('true');
  } catch (err) {
    qemu.kill('SIGKILL');
    await ended;
    throw err;
  }
  return {
    sh,
    console: () => text,
    async stop() {
      if (!exited) {
        qemu.stdin!.write('systemctl poweroff\n');
        const t = setTimeout(() => qemu.kill('SIGKILL'), 60_000);
        await ended;
        clearTimeout(t);
      }
    },
  };
}
