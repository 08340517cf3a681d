// An interface name -> what the probes compare: its ifindex and the inode of
// this process's network namespace (an ifindex alone repeats across namespaces).
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../config.js';

export interface InterfaceId { ifindex: number; netnsInode: number }

/** The interface as it is now, or undefined when there is none of that name. */
export function lookupInterface(name: string): InterfaceId | undefined {
  let ifindex: number;
  try {
    ifindex = Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'));
  } catch {
    return undefined;
  }
  return { ifindex, netnsInode: statSync('/proc/self/ns/net').ino };
}

export function resolveInterface(name: string, flag: string): InterfaceId {
  const id = lookupInterface(name);
  if (!id) throw new UsageError(`--${flag}: no interface "${name}" in this network namespace`);
  return id;
}

/** What the probes compare while the interface is gone: no device has ifindex 0. */
export const NO_INTERFACE: InterfaceId = { ifindex: 0, netnsInode: 0 };
