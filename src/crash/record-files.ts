// Finds the crash records a Linux host keeps, in the directories of
// --kernel.crash-dirs, at the top or one directory down:
//   pstore              /sys/fs/pstore/dmesg-<backend>-<id>  (ramoops, efi-pstore...); pmsg-* are last words
//   systemd-pstore      /var/lib/systemd/pstore/<id>/dmesg.txt (its dmesg-* parts beside it are not read again)
//   kdump-tools         /var/crash/<YYYYmmddHHMM>/dmesg.<YYYYmmddHHMM>
//   RHEL kdump          /var/crash/<host>-<date>/vmcore-dmesg.txt
// Only regular files (no symlinks), at most MAX_FILES, each read from its last
// MAX_BYTES (the oops is at the end of a log).
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

export interface RecordFile { path: string; kind: 'dmesg' | 'pmsg'; mtimeMs: number; text: string }

export const MAX_FILES = 256;
export const MAX_BYTES = 1 << 20;

const DMESG = /^(?:dmesg-[\w.-]{1,64}|dmesg\.txt|dmesg\.\d{12}|vmcore-dmesg\.txt)$/;
const PMSG = /^pmsg-[\w.-]{1,64}$/;
/** ramoops/efi records the kernel could not decompress: nothing to read */
const COMPRESSED = /\.enc\.z$/;

export interface Found { files: RecordFile[]; unreadable: number; missingDirs: string[] }

export function findRecordFiles(dirs: readonly string[]): Found {
  const found: Found = { files: [], unreadable: 0, missingDirs: [] };
  for (const dir of dirs) {
    const entries = list(dir);
    if (!entries) { found.missingDirs.push(dir); continue; }
    scan(dir, entries, found);
    for (const sub of entries) {
      const path = join(dir, sub);
      if (isDir(path)) scan(path, list(path) ?? [], found);
    }
  }
  return found;
}

function scan(dir: string, names: string[], found: Found): void {
  // systemd-pstore's dmesg.txt is its parts joined
  const dmesgTxt = names.includes('dmesg.txt');
  for (const name of names.sort()) {
    const kind = DMESG.test(name) ? 'dmesg' : PMSG.test(name) ? 'pmsg' : undefined;
    if (!kind || (dmesgTxt && name !== 'dmesg.txt' && kind === 'dmesg')) continue;
    if (found.files.length >= MAX_FILES || COMPRESSED.test(name)) { found.unreadable++; continue; }
    const file = readTail(join(dir, name));
    if (file) found.files.push({ ...file, kind }); else found.unreadable++;
  }
}

function readTail(path: string): { path: string; mtimeMs: number; text: string } | undefined {
  try {
    if (!lstatSync(path).isFile()) return undefined;
    const fd = openSync(path, 'r');
    try {
      const st = fstatSync(fd);
      // pstore files report size 0 only when empty; sysfs-like sizes are trusted no further than MAX_BYTES
      const from = Math.max(0, st.size - MAX_BYTES);
      const buf = Buffer.alloc(Math.min(st.size, MAX_BYTES));
      let n = 0;
      while (n < buf.length) {
        const r = readSync(fd, buf, n, buf.length - n, from + n);
        if (r === 0) break;
        n += r;
      }
      return { path, mtimeMs: st.mtimeMs, text: buf.subarray(0, n).toString('utf8') };
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function list(dir: string): string[] | undefined {
  try { return readdirSync(dir).slice(0, 4 * MAX_FILES); } catch { return undefined; }
}

function isDir(path: string): boolean {
  try { return lstatSync(path).isDirectory(); } catch { return false; }
}
