// A reader for the kernel's BTF (/sys/kernel/btf/vmlinux): just enough to find
// struct members and enum values on the running kernel, so that layouts and
// flag names come from the kernel itself rather than from tables.
// Format: https://docs.kernel.org/bpf/btf.html

const BTF_MAGIC = 0xeb9f;

export const enum Kind {
  Int = 1, Ptr = 2, Array = 3, Struct = 4, Union = 5, Enum = 6, Fwd = 7,
  Typedef = 8, Volatile = 9, Const = 10, Restrict = 11, Func = 12,
  FuncProto = 13, Var = 14, Datasec = 15, Float = 16, DeclTag = 17,
  TypeTag = 18, Enum64 = 19,
}

export interface Member { name: string; type: number; bitOffset: number }
export interface Enumerator { name: string; value: bigint }

/** Reads into `into` from byte `position` of the blob; returns how many bytes it read, 0 at its end (a file's pread). */
export type ReadAt = (into: Buffer, position: number) => number;

/** A ReadAt over a blob already in memory. */
export const bufferReader = (blob: Buffer): ReadAt => (into, position) => blob.copy(into, 0, position);

/** The longest name read back; kernel identifiers are far shorter (KSYM_NAME_LEN is 512). */
const MAX_NAME = 1024;

/**
 * 64 KiB of the blob at a time: a scan reads it in blocks, a lookup reads
 * only the block it needs. Holding vmlinux's 5 MB blob (and its index as a JS
 * array) was 10 MB of the agent's peak memory at start.
 */
class Window {
  private readonly buf = Buffer.alloc(1 << 16);
  private start = 0;
  private end = 0;

  constructor(private readonly read: ReadAt) {}

  /** where byte `pos` of the blob is in buf, with n bytes after it (or to the blob's end, with `partial`) */
  at(pos: number, n: number, partial = false): number {
    if (pos < this.start || pos + n > this.end) {
      this.start = this.end = pos;
      // sysfs hands vmlinux's BTF out a page or so per read
      for (let got; this.end - pos < this.buf.length && (got = this.read(this.buf.subarray(this.end - pos), this.end)) > 0;) this.end += got;
    }
    if (this.end < pos + (partial ? 1 : n)) throw new Error(`BTF blob ends before byte ${pos + n}`);
    return pos - this.start;
  }

  u32(pos: number): number { return this.buf.readUInt32LE(this.at(pos, 4)); }
  i32(pos: number): number { return this.buf.readInt32LE(this.at(pos, 4)); }

  /** the NUL-terminated string at pos */
  cstr(pos: number): string {
    const i = this.at(pos, MAX_NAME, true);
    const nul = this.buf.indexOf(0, i);
    if (nul < 0 || nul >= this.end - this.start) throw new Error(`BTF string at byte ${pos} is not terminated`);
    return this.buf.toString('latin1', i, nul);
  }

  /** offsets from `from` (below `to`) of every string in [from, to) equal to `name` */
  offsetsOf(name: string, from: number, to: number): Set<number> {
    const found = new Set<number>();
    if (name.length + 2 > MAX_NAME) return found;
    const needle = Buffer.from(`\0${name}\0`, 'latin1');
    for (let pos = from; pos < to;) {
      const i = this.at(pos, Math.min(this.buf.length, to - pos));
      const stop = Math.min(this.end, to) - this.start;
      for (let hit = this.buf.indexOf(needle, i); hit >= 0 && hit + needle.length <= stop; hit = this.buf.indexOf(needle, hit + 1)) {
        found.add(this.start + hit + 1 - from);
      }
      const scannedTo = this.start + stop;
      if (scannedTo >= to) break;
      // the next block starts inside this one, so a match across the two is seen
      pos = scannedTo - (needle.length - 1);
    }
    return found;
  }
}

/**
 * The type section is indexed, not decoded: one offset per type id, and
 * names read only when asked for. Decoding every type of vmlinux into objects
 * cost the agent 30 MB of heap at start, for the three types it needs.
 */
export class Btf {
  /** offsets[id] = where type id's 12-byte header starts; offsets[0] (void) is unused */
  private readonly offsets: Uint32Array;
  private readonly types: Window;
  private readonly strings: Window;
  private readonly strOff: number;
  private readonly strEnd: number;

  constructor(read: ReadAt) {
    this.types = new Window(read);
    this.strings = new Window(read);
    const t = this.types;
    let magic: number;
    try { t.at(0, 24); magic = t.u32(0) & 0xffff; } catch { magic = -1; }
    if (magic !== BTF_MAGIC) throw new Error('not a little-endian BTF blob');
    const hdrLen = t.u32(4);
    const typeOff = hdrLen + t.u32(8);
    const typeEnd = typeOff + t.u32(12);
    this.strOff = hdrLen + t.u32(16);
    this.strEnd = this.strOff + t.u32(20);
    // a type is 12 bytes or more: this bounds their number
    const offsets = new Uint32Array(Math.floor((typeEnd - typeOff) / 12) + 1);
    let n = 1;
    for (let p = typeOff; p < typeEnd; n++) {
      offsets[n] = p;
      const info = t.u32(p + 4);
      p += 12 + bodySize(((info >>> 24) & 0x1f) as Kind, info & 0xffff);
    }
    this.offsets = offsets.slice(0, n);
  }

  private str(off: number): string { return this.strings.cstr(this.strOff + off); }
  /** the string-section offsets of `name` (one, in a deduplicated blob) */
  private nameOffsets(name: string): Set<number> { return this.strings.offsetsOf(name, this.strOff, this.strEnd); }

  private u32(pos: number): number { return this.types.u32(pos); }
  private nameOff(id: number): number { return this.u32(this.offsets[id]); }
  private info(id: number): number { return id === 0 ? 0 : this.u32(this.offsets[id] + 4); }
  private sizeOrType(id: number): number { return this.u32(this.offsets[id] + 8); }
  private vlen(id: number): number { return this.info(id) & 0xffff; }
  private kindFlag(id: number): boolean { return (this.info(id) >>> 31) === 1; }
  private body(id: number): number { return this.offsets[id] + 12; }

  /** Ids of the types of this kind and name. */
  find(kind: Kind, name: string): number[] {
    const names = this.nameOffsets(name);
    const ids: number[] = [];
    if (names.size === 0) return ids;
    for (let id = 1; id < this.offsets.length; id++) {
      if (this.kind(id) === kind && names.has(this.nameOff(id))) ids.push(id);
    }
    return ids;
  }

  kind(id: number): Kind { return ((this.info(id) >>> 24) & 0x1f) as Kind; }
  name(id: number): string { return id === 0 ? 'void' : this.str(this.nameOff(id)); }

  /** Follows typedefs and qualifiers to the underlying type. */
  resolve(id: number): number {
    while ([Kind.Typedef, Kind.Volatile, Kind.Const, Kind.Restrict, Kind.TypeTag].includes(this.kind(id))) id = this.sizeOrType(id);
    return id;
  }

  /** Byte size of a struct, union, int, enum or array. */
  size(id: number): number {
    id = this.resolve(id);
    if (this.kind(id) === Kind.Array) return this.arrayInfo(id).count * this.size(this.arrayInfo(id).elem);
    if (this.kind(id) === Kind.Ptr) return 8;
    return this.sizeOrType(id);
  }

  arrayInfo(id: number): { elem: number; count: number } {
    const t = this.resolve(id);
    if (this.kind(t) !== Kind.Array) throw new Error(`type ${id} is not an array`);
    return { elem: this.u32(this.body(t)), count: this.u32(this.body(t) + 8) };
  }

  members(id: number): Member[] {
    const t = this.resolve(id);
    if (this.kind(t) !== Kind.Struct && this.kind(t) !== Kind.Union) throw new Error(`type ${id} is not a struct or union`);
    const out: Member[] = [];
    for (let i = 0; i < this.vlen(t); i++) {
      const p = this.body(t) + i * 12;
      const off = this.u32(p + 8);
      out.push({ name: this.str(this.u32(p)), type: this.u32(p + 4), bitOffset: this.kindFlag(t) ? off & 0xffffff : off });
    }
    return out;
  }

  enumerators(id: number): Enumerator[] {
    const kind = this.kind(id);
    const out: Enumerator[] = [];
    for (let i = 0; i < this.vlen(id); i++) {
      if (kind === Kind.Enum) {
        const p = this.body(id) + i * 8;
        const v = this.kindFlag(id) ? this.types.i32(p + 4) : this.u32(p + 4);
        out.push({ name: this.str(this.u32(p)), value: BigInt(v) });
      } else if (kind === Kind.Enum64) {
        const p = this.body(id) + i * 12;
        const v = (BigInt(this.u32(p + 8)) << 32n) | BigInt(this.u32(p + 4));
        out.push({ name: this.str(this.u32(p)), value: v });
      }
    }
    return out;
  }

  /** The enum (named or not) that has an enumerator of this name. */
  enumContaining(enumerator: string): Enumerator[] | undefined {
    const names = this.nameOffsets(enumerator);
    if (names.size === 0) return undefined;
    for (let id = 1; id < this.offsets.length; id++) {
      const k = this.kind(id);
      if (k !== Kind.Enum && k !== Kind.Enum64) continue;
      const stride = k === Kind.Enum ? 8 : 12;
      for (let i = 0; i < this.vlen(id); i++) {
        if (names.has(this.u32(this.body(id) + i * stride))) return this.enumerators(id);
      }
    }
    return undefined;
  }
}

function bodySize(kind: Kind, vlen: number): number {
  switch (kind) {
    case Kind.Int: case Kind.Var: case Kind.DeclTag: return 4;
    case Kind.Array: return 12;
    case Kind.Struct: case Kind.Union: case Kind.Datasec: case Kind.Enum64: return vlen * 12;
    case Kind.Enum: case Kind.FuncProto: return vlen * 8;
    default: return 0;
  }
}
