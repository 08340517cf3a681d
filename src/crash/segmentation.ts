// The kernel functions that are GSO segmentation, in one place: a crash whose
// faulting function or first call-trace frames are one of these is classed
// `segmentation` (src/crash/oops.ts), and the `function` label of
// frag_list_kernel_crash_records is one of these or "other" (a closed set).

/** function -> why a crash in it is the GSO segmentation crash this tool exists for */
export const SEGMENTATION_FUNCTIONS: Readonly<Record<string, string>> = {
  skb_segment: 'the generic segmenter: the seed\'s crash ("skb_segment+558"), a NULL frag_list deref when data_len claims bytes the frags and frag_list do not hold',
  skb_segment_list: 'list segmentation: walks frag_list of an SKB_GSO_FRAGLIST skb; without the 2024 fixes it dereferences a pulled (NULL) list',
  __udp_gso_segment: 'UDP GSO: sends FRAGLIST skbs to list segmentation; 5.10 inlines the list path here',
  __udp_gso_segment_list: 'UDP list segmentation wrapper around skb_segment_list',
  __udpv4_gso_segment_list_csum: 'fixes up checksums of each list segment: dereferences the segment list',
  __udpv6_gso_segment_list_csum: 'the IPv6 twin of __udpv4_gso_segment_list_csum',
  udp4_ufo_fragment: 'UDP/IPv4 gso_segment callback on older kernels (calls __udp_gso_segment)',
  udp6_ufo_fragment: 'UDP/IPv6 gso_segment callback on older kernels',
  udp4_gso_segment: 'UDP/IPv4 gso_segment callback on newer kernels',
  udp6_gso_segment: 'UDP/IPv6 gso_segment callback on newer kernels',
  tcp_gso_segment: 'TCP GSO: calls skb_segment, or list segmentation for TCP fraglist GRO skbs',
  __tcp4_gso_segment_list: 'TCP/IPv4 list segmentation (TCP fraglist GRO, 6.9+)',
  __tcp6_gso_segment_list: 'TCP/IPv6 list segmentation',
  __tcpv4_gso_segment_list_csum: 'TCP/IPv4 list segments\' checksum fix-up: dereferences the segment list',
  __tcpv6_gso_segment_list_csum: 'the IPv6 twin of __tcpv4_gso_segment_list_csum',
  tcp4_gso_segment: 'TCP/IPv4 gso_segment callback',
  tcp6_gso_segment: 'TCP/IPv6 gso_segment callback',
};

/** The `function` label of a crash that is not in segmentation. */
export const OTHER_FUNCTION = 'other';

/** How many call-trace frames below the faulting function still count: a fault in memcpy called by skb_segment is skb_segment's. */
export const SEGMENTATION_FRAMES = 4;

export const isSegmentationFunction = (fn: string): boolean => Object.hasOwn(SEGMENTATION_FUNCTIONS, fn);
