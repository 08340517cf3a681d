// The parts of struct skb_shared_info that the probes read by offset, because
// their names differ between kernels: the frag length is `size` (4.18),
// `bv_len` (about 5.4-6.6, skb_frag_t = struct bio_vec) or `len` (6.12+).
import { Btf, Kind } from './btf.js';

export interface FragLayout {
  /** offsetof(struct skb_shared_info, frags) */
  fragsOffset: number;
  /** sizeof(frags[0]) */
  fragStride: number;
  /** offset of the length field inside one frag */
  fragLenOffset: number;
  /** that field's name on this kernel, for doctor */
  fragLenField: string;
}

const FRAG_LEN_FIELDS = ['len', 'bv_len', 'size'];

export function fragLayout(btf: Btf): FragLayout {
  const [shinfo] = btf.find(Kind.Struct, 'skb_shared_info');
  if (shinfo === undefined) throw new Error('BTF has no struct skb_shared_info');
  const frags = btf.members(shinfo).find((m) => m.name === 'frags');
  if (!frags) throw new Error('struct skb_shared_info has no member frags');
  const frag = btf.resolve(btf.arrayInfo(frags.type).elem);
  const lenMember = btf.members(frag).find((m) => FRAG_LEN_FIELDS.includes(m.name));
  if (!lenMember) throw new Error(`struct ${btf.name(frag)} has none of ${FRAG_LEN_FIELDS.join(', ')}`);
  return {
    fragsOffset: frags.bitOffset / 8,
    fragStride: btf.size(frag),
    fragLenOffset: lenMember.bitOffset / 8,
    fragLenField: `${btf.name(frag)}.${lenMember.name}`,
  };
}
