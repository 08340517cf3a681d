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

interface TypeHeader { kind: Kind; name: string; sizeOrType: number; vlen: number; kindFlag: boolean; body: number }

export class Btf {
  private readonly types: TypeHeader[] = [];

  constructor(private readonly buf: Buffer) {
    if (buf.length < 24 || buf.readUInt16LE(0) !== BTF_MAGIC) throw new Error('not a little-endian BTF blob');
    const hdrLen = buf.readUInt32LE(4);
    const typeOff = hdrLen + buf.readUInt32LE(8);
    const typeEnd = typeOff + buf.readUInt32LE(12);
    this.strOff = hdrLen + buf.readUInt32LE(16);
    this.types.push({ kind: 0 as Kind, name: 'void', sizeOrType: 0, vlen: 0, kindFlag: false, body: 0 });
    for (let p = typeOff; p < typeEnd;) {
      const info = buf.readUInt32LE(p + 4);
      const t: TypeHeader = {
        kind: ((info >>> 24) & 0x1f) as Kind,
        name: this.str(buf.readUInt32LE(p)),
        sizeOrType: buf.readUInt32LE(p + 8),
        vlen: info & 0xffff,
        kindFlag: (info >>> 31) === 1,
        body: p + 12,
      };
      this.types.push(t);
      p = t.body + bodySize(t.kind, t.vlen);
    }
  }

  private readonly strOff: number;

  private str(off: number): string {
    const start = this.strOff + off;
    return this.buf.toString('latin1', start, this.buf.indexOf(0, start));
  }

  /** Ids of the types of this kind and name. */
  find(kind: Kind, name: string): number[] {
    const ids: number[] = [];
    this.types.forEach((t, id) => { if (t.kind === kind && t.name === name) ids.push(id); });
    return ids;
  }

  kind(id: number): Kind { return this.types[id].kind; }
  name(id: number): string { return this.types[id].name; }

  /** Follows typedefs and qualifiers to the underlying type. */
  resolve(id: number): number {
    let t = this.types[id];
    while ([Kind.Typedef, Kind.Volatile, Kind.Const, Kind.Restrict, Kind.TypeTag].includes(t.kind)) {
      id = t.sizeOrType;
      t = this.types[id];
    }
    return id;
  }

  /** Byte size of a struct, union, int, enum or array. */
  size(id: number): number {
    id = this.resolve(id);
    const t = this.types[id];
    if (t.kind === Kind.Array) return this.arrayInfo(id).count * this.size(this.arrayInfo(id).elem);
    if (t.kind === Kind.Ptr) return 8;
    return t.sizeOrType;
  }

  arrayInfo(id: number): { elem: number; count: number } {
    const t = this.types[this.resolve(id)];
    if (t.kind !== Kind.Array) throw new Error(`type ${id} is not an array`);
    return { elem: this.buf.readUInt32LE(t.body), count: this.buf.readUInt32LE(t.body + 8) };
  }

  members(id: number): Member[] {
    const t = this.types[this.resolve(id)];
    if (t.kind !== Kind.Struct && t.kind !== Kind.Union) throw new Error(`type ${id} is not a struct or union`);
    const out: Member[] = [];
    for (let i = 0; i < t.vlen; i++) {
      const p = t.body + i * 12;
      const off = this.buf.readUInt32LE(p + 8);
      out.push({ name: this.str(this.buf.readUInt32LE(p)), type: this.buf.readUInt32LE(p + 4), bitOffset: t.kindFlag ? off & 0xffffff : off });
    }
    return out;
  }

  enumerators(id: number): Enumerator[] {
    const t = this.types[id];
    const out: Enumerator[] = [];
    for (let i = 0; i < t.vlen; i++) {
      if (t.kind === Kind.Enum) {
        const p = t.body + i * 8;
        const v = t.kindFlag ? this.buf.readInt32LE(p + 4) : this.buf.readUInt32LE(p + 4);
        out.push({ name: this.str(this.buf.readUInt32LE(p)), value: BigInt(v) });
      } else if (t.kind === Kind.Enum64) {
        const p = t.body + i * 12;
        const v = (BigInt(this.buf.readUInt32LE(p + 8)) << 32n) | BigInt(this.buf.readUInt32LE(p + 4));
        out.push({ name: this.str(this.buf.readUInt32LE(p)), value: v });
      }
    }
    return out;
  }

  /** The enum (named or not) that has an enumerator of this name. */
  enumContaining(enumerator: string): Enumerator[] | undefined {
    for (let id = 1; id < this.types.length; id++) {
      const k = this.types[id].kind;
      if (k !== Kind.Enum && k !== Kind.Enum64) continue;
      const values = this.enumerators(id);
      if (values.some((e) => e.name === enumerator)) return values;
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
