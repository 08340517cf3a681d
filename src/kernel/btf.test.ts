import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf, Kind, bufferReader } from './btf.js';
import { fragLayout } from './layout.js';
import { gsoTableFromBtf, decodeGsoType } from './gso.js';
import { withBtfFile } from './host.js';

/** Builds a BTF blob by hand: struct skb_shared_info { u8 nr_frags; frag frags[17] } and the GSO enum. */
function syntheticBtf(fragLenName: string, lenOffset: number, padding: string[] = []): Buffer {
  const strings = ['', ...padding, 'skb_shared_info', 'frags', 'nr_frags', 'frag', fragLenName, 'u32', 'SKB_GSO_TCPV4', 'SKB_GSO_DODGY', 'SKB_GSO_NEW', 'skb_frag_t'];
  const strOff = new Map<string, number>();
  let strBuf = Buffer.alloc(0);
  for (const s of strings) { strOff.set(s, strBuf.length); strBuf = Buffer.concat([strBuf, Buffer.from(s + '\0')]); }
  const words: number[] = [];
  const type = (name: string, kind: number, vlen: number, sizeOrType: number, ...rest: number[]) =>
    words.push(strOff.get(name)!, (kind << 24) | vlen, sizeOrType, ...rest);
  type('u32', Kind.Int, 0, 4, 32);                                                   // 1
  type('frag', Kind.Struct, 1, 16, strOff.get(fragLenName)!, 1, lenOffset * 8);      // 2
  type('skb_frag_t', Kind.Typedef, 0, 2);                                            // 3
  type('', Kind.Array, 0, 0, 3, 1, 17);                                              // 4
  type('skb_shared_info', Kind.Struct, 2, 48 + 17 * 16,
    strOff.get('nr_frags')!, 1, 16, strOff.get('frags')!, 4, 48 * 8);                // 5
  type('', Kind.Enum, 3, 4, strOff.get('SKB_GSO_TCPV4')!, 1, strOff.get('SKB_GSO_DODGY')!, 2, strOff.get('SKB_GSO_NEW')!, 1 << 30); // 6
  const typeBuf = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => typeBuf.writeUInt32LE(w >>> 0, i * 4));
  const hdr = Buffer.alloc(24);
  hdr.writeUInt16LE(0xeb9f, 0); hdr.writeUInt8(1, 2); hdr.writeUInt32LE(24, 4);
  hdr.writeUInt32LE(0, 8); hdr.writeUInt32LE(typeBuf.length, 12);
  hdr.writeUInt32LE(typeBuf.length, 16); hdr.writeUInt32LE(strBuf.length, 20);
  return Buffer.concat([hdr, typeBuf, strBuf]);
}

test('frag layout comes from BTF whatever the length field is called', () => {
  for (const [field, off] of [['len', 8], ['bv_len', 8], ['size', 12]] as const) {
    const layout = fragLayout(new Btf(bufferReader(syntheticBtf(field, off))));
    assert.deepEqual(layout, { fragsOffset: 48, fragStride: 16, fragLenOffset: off, fragLenField: `frag.${field}` });
  }
});

test('the anonymous GSO enum is found by its enumerator, high bits included', () => {
  const names = gsoTableFromBtf(new Btf(bufferReader(syntheticBtf('len', 8))))!;
  assert.equal(decodeGsoType(3 | (1 << 30), names), 'TCPV4|DODGY|NEW');
});

test('a blob that is not BTF is refused', () => {
  assert.throws(() => new Btf(bufferReader(Buffer.from('not btf at all, really not'))), /not a little-endian BTF blob/);
  assert.throws(() => new Btf(bufferReader(Buffer.from([0x9f, 0xeb]))), /not a little-endian BTF blob/);
});

test('a blob cut short is refused, not read as zeros', () => {
  const whole = syntheticBtf('len', 8);
  assert.throws(() => fragLayout(new Btf(bufferReader(whole.subarray(0, whole.length - 20)))), /BTF (blob ends|string at byte)/);
});

test('names are found wherever they fall in the blob, across its 64 KiB blocks too', () => {
  // padding strings push each name in turn across a block boundary of the string section
  for (let pad = 65_500; pad < 65_560; pad += 7) {
    const btf = new Btf(bufferReader(syntheticBtf('bv_len', 8, ['x'.repeat(pad)])));
    assert.deepEqual(fragLayout(btf), { fragsOffset: 48, fragStride: 16, fragLenOffset: 8, fragLenField: 'frag.bv_len' }, `padding ${pad}`);
    assert.equal(decodeGsoType(3 | (1 << 30), gsoTableFromBtf(btf)!), 'TCPV4|DODGY|NEW');
  }
});

const VMLINUX = '/sys/kernel/btf/vmlinux';
test('the running kernel\'s BTF gives a usable layout and GSO table', () => {
  const names = withBtfFile(VMLINUX, (btf) => {
    const layout = fragLayout(btf);
    assert.ok(layout.fragsOffset > 0 && layout.fragStride >= 12 && layout.fragLenOffset < layout.fragStride);
    return gsoTableFromBtf(btf)!;
  });
  assert.equal(decodeGsoType(3, names), 'TCPV4|DODGY');
  assert.equal(decodeGsoType(1027, names), 'TCPV4|DODGY|UDP_TUNNEL');
});
