// An interface name -> what the probes compare: its ifindex and the inode of
// this process's network namespace (an ifindex alone repeats across namespaces).
import { readFileSync, statSync } from 'node:fs';
import { UsageError } from '../config.js';

export function resolveInterface(name: string, flag: string): { ifindex: number; netnsInode: number } {
  let ifindex: number;
  try {
    ifindex = Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'));
  } catch {
    throw new UsageError(`--${flag}: no interface "${name}" in this network namespace`);
  }
  return { ifindex, netnsInode: statSync('/proc/self/ns/net').ino };
}
