// Test hosts: network namespaces with a TAP or a veth pair, addresses in
// 198.18.0.0/15 (and 2001:db8::/32) only. Everything made here is removed by
// `cleanup()`, which tests call in an after hook.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

const INJECT = fileURLToPath(new URL('../../../test/helpers/tap_inject.py', import.meta.url));
let serial = 0;
const made: string[] = [];

const ip = (...args: string[]) => execa('ip', args);

export function nsName(role: string): string {
  return `flx-${process.pid}-${++serial}-${role}`;
}

/** A namespace with a TAP device (IFF_VNET_HDR-capable) addressed 198.18.0.1 and 2001:db8::1. */
export async function tapHost(dev = 'flxtap0'): Promise<{ ns: string; dev: string; ifindex: number }> {
  const ns = nsName('tap');
  await ip('netns', 'add', ns);
  made.push(ns);
  return { ns, dev, ifindex: await addTap(ns, dev) };
}

/** Adds (or adds again) the TAP device of a tapHost namespace; returns its ifindex. */
export async function addTap(ns: string, dev: string): Promise<number> {
  await ip('-n', ns, 'tuntap', 'add', 'dev', dev, 'mode', 'tap', 'vnet_hdr');
  await ip('-n', ns, 'addr', 'add', '198.18.0.1/24', 'dev', dev);
  await ip('-n', ns, '-6', 'addr', 'add', '2001:db8::1/64', 'dev', dev, 'nodad');
  await ip('-n', ns, 'link', 'set', dev, 'up');
  const { stdout } = await execa('ip', ['netns', 'exec', ns, 'cat', `/sys/class/net/${dev}/ifindex`]);
  return Number(stdout);
}

export interface InjectOptions {
  payload?: number;
  gsoSize?: number;
  /** the injecting process's name (any bytes but NUL, up to 15) */
  comm?: Buffer;
}

/**
 * Writes `count` GSO frames from `src` to `dst` into the tap (see tap_inject.py); returns the pid of the process
 * that wrote them (ip netns exec runs python in its own place), which the kernel reports as the skbs' process.
 */
export async function inject(ns: string, dev: string, src: string, dst: string, count: number, o: InjectOptions = {}): Promise<number> {
  const extra = [...(o.payload ? ['--payload', String(o.payload)] : []), ...(o.gsoSize !== undefined ? ['--gso-size', String(o.gsoSize)] : []),
    ...(o.comm ? ['--comm', o.comm.toString('hex')] : [])];
  const writer = execa('ip', ['netns', 'exec', ns, 'python3', INJECT, dev, src, dst, String(count), ...extra]);
  await writer;
  return writer.pid!;
}

/** Two namespaces joined by a veth pair: a 198.18.1.1 <-> b 198.18.1.2. */
export async function vethPair(): Promise<{ a: string; b: string }> {
  const a = nsName('a'), b = nsName('b');
  for (const ns of [a, b]) { await ip('netns', 'add', ns); made.push(ns); await ip('-n', ns, 'link', 'set', 'lo', 'up'); }
  await ip('link', 'add', 'flxva', 'netns', a, 'type', 'veth', 'peer', 'name', 'flxvb', 'netns', b);
  await ip('-n', a, 'addr', 'add', '198.18.1.1/24', 'dev', 'flxva');
  await ip('-n', b, 'addr', 'add', '198.18.1.2/24', 'dev', 'flxvb');
  await ip('-n', a, 'link', 'set', 'flxva', 'up');
  await ip('-n', b, 'link', 'set', 'flxvb', 'up');
  return { a, b };
}

export async function cleanup(): Promise<void> {
  while (made.length) await execa('ip', ['netns', 'del', made.pop()!], { reject: false });
}
