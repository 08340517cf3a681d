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

/**
 * The type section is indexed, not decoded: one offset per type id into the
 * blob, and names read only when asked for. Decoding every type of a 5 MB
 * vmlinux into objects cost the agent 30 MB of heap at start, for the three
 * types it needs.
 */
export class Btf {
  /** offsets[id] = where type id's 12-byte header starts; offsets[0] (void) is unused */
  private readonly offsets: Uint32Array;
  private readonly strOff: number;

  constructor(private readonly buf: Buffer) {
    if (buf.length < 24 || buf.readUInt16LE(0) !== BTF_MAGIC) throw new Error('not a little-endian BTF blob');
    const hdrLen = buf.readUInt32LE(4);
    const typeOff = hdrLen + buf.readUInt32LE(8);
    const typeEnd = typeOff + buf.readUInt32LE(12);
    this.strOff = hdrLen + buf.readUInt32LE(16);
    const offsets: number[] = [0];
    for (let p = typeOff; p < typeEnd;) {
      offsets.push(p);
      const info = buf.readUInt32LE(p + 4);
      p += 12 + bodySize(((info >>> 24) & 0x1f) as Kind, info & 0xffff);
    }
    this.offsets = Uint32Array.from(offsets);
  }

  private str(off: number): string {
    const start = this.strOff + off;
    return this.buf.toString('latin1', start, this.buf.indexOf(0, start));
  }

  /** whether the string at off is name, without making a string of it */
  private strIs(off: number, name: Buffer): boolean {
    const start = this.strOff + off;
    return this.buf[start + name.length] === 0 && this.buf.compare(name, 0, name.length, start, start + name.length) === 0;
  }

  private info(id: number): number { return id === 0 ? 0 : this.buf.readUInt32LE(this.offsets[id] + 4); }
  private sizeOrType(id: number): number { return this.buf.readUInt32LE(this.offsets[id] + 8); }
  private vlen(id: number): number { return this.info(id) & 0xffff; }
  private kindFlag(id: number): boolean { return (this.info(id) >>> 31) === 1; }
  private body(id: number): number { return this.offsets[id] + 12; }

  /** Ids of the types of this kind and name. */
  find(kind: Kind, name: string): number[] {
    const want = Buffer.from(name, 'latin1');
    const ids: number[] = [];
    for (let id = 1; id < this.offsets.length; id++) {
      if (this.kind(id) === kind && this.strIs(this.buf.readUInt32LE(this.offsets[id]), want)) ids.push(id);
    }
    return ids;
  }

  kind(id: number): Kind { return ((this.info(id) >>> 24) & 0x1f) as Kind; }
  name(id: number): string { return id === 0 ? 'void' : this.str(this.buf.readUInt32LE(this.offsets[id])); }

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
    return { elem: this.buf.readUInt32LE(this.body(t)), count: this.buf.readUInt32LE(this.body(t) + 8) };
  }

  members(id: number): Member[] {
    const t = this.resolve(id);
    if (this.kind(t) !== Kind.Struct && this.kind(t) !== Kind.Union) throw new Error(`type ${id} is not a struct or union`);
    const out: Member[] = [];
    for (let i = 0; i < this.vlen(t); i++) {
      const p = this.body(t) + i * 12;
      const off = this.buf.readUInt32LE(p + 8);
      out.push({ name: this.str(this.buf.readUInt32LE(p)), type: this.buf.readUInt32LE(p + 4), bitOffset: this.kindFlag(t) ? off & 0xffffff : off });
    }
    return out;
  }

  enumerators(id: number): Enumerator[] {
    const kind = this.kind(id);
    const out: Enumerator[] = [];
    for (let i = 0; i < this.vlen(id); i++) {
      if (kind === Kind.Enum) {
        const p = this.body(id) + i * 8;
        const v = this.kindFlag(id) ? this.buf.readInt32LE(p + 4) : this.buf.readUInt32LE(p + 4);
        out.push({ name: this.str(this.buf.readUInt32LE(p)), value: BigInt(v) });
      } else if (kind === Kind.Enum64) {
        const p = this.body(id) + i * 12;
        const v = (BigInt(this.buf.readUInt32LE(p + 8)) << 32n) | BigInt(this.buf.readUInt32LE(p + 4));
        out.push({ name: this.str(this.buf.readUInt32LE(p)), value: v });
      }
    }
    return out;
  }

  /** The enum (named or not) that has an enumerator of this name. */
  enumContaining(enumerator: string): Enumerator[] | undefined {
    const want = Buffer.from(enumerator, 'latin1');
    for (let id = 1; id < this.offsets.length; id++) {
      const k = this.kind(id);
      if (k !== Kind.Enum && k !== Kind.Enum64) continue;
      const stride = k === Kind.Enum ? 8 : 12;
      for (let i = 0; i < this.vlen(id); i++) {
        if (this.strIs(this.buf.readUInt32LE(this.body(id) + i * stride), want)) return this.enumerators(id);
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
