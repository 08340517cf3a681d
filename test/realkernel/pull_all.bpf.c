// tc ingress program of the real-kernel stage: pulls all of a GSO skb's data
// into its head, as NAT and load-balancer programs do before rewriting
// headers. On a UDP fraglist-GRO skb this leaves SKB_GSO_FRAGLIST set with
// frag_list NULL: what crashed list segmentation before the 2024 fixes.
// Test-only. Built by build-initramfs.sh: clang -O2 -g -target bpf -c.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int pull_all(struct __sk_buff *skb)
{
	if (skb->gso_segs > 1)
		bpf_skb_pull_data(skb, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
