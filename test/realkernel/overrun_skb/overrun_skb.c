// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only kernel module of the real-kernel stage: makes real OVERRUN skbs.
 * Each skb claims 2000 paged bytes (data_len) that it does not have (no frags,
 * no frag_list), the state skb_segment dereferences a NULL frag_list on, and
 * is handed to pskb_expand_head, a writer the agent hooks; then its claim is
 * withdrawn and it is freed, so nothing else ever sees it. Loading it runs the
 * loop once: insmod overrun_skb.ko count=N; rmmod overrun_skb.
 * Built by build-initramfs.sh against the guest kernel's headers.
 */
#include <linux/module.h>
#include <linux/skbuff.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/net_namespace.h>

static int count = 50;
module_param(count, int, 0444);

#define CLAIM 2000

static int __init overrun_skb_init(void)
{
	int i, expanded = 0;

	for (i = 0; i < count; i++) {
		struct sk_buff *skb = alloc_skb(512, GFP_KERNEL);
		struct iphdr *iph;
		struct udphdr *uh;

		if (!skb)
			return -ENOMEM;
		skb_reserve(skb, 64);
		skb_reset_network_header(skb);
		iph = skb_put_zero(skb, sizeof(*iph));
		iph->version = 4;
		iph->ihl = 5;
		iph->protocol = IPPROTO_UDP;
		iph->saddr = htonl(0xc6121001); /* 198.18.16.1 */
		iph->daddr = htonl(0xc6121002); /* 198.18.16.2 */
		skb_set_transport_header(skb, sizeof(*iph));
		uh = skb_put_zero(skb, sizeof(*uh) + 64);
		uh->source = htons(7000);
		uh->dest = htons(7001);
		skb->protocol = htons(ETH_P_IP);
		skb->dev = init_net.loopback_dev;
		skb_shinfo(skb)->gso_size = 1000;
		skb_shinfo(skb)->gso_type = SKB_GSO_UDP_L4;
		skb_shinfo(skb)->gso_segs = 3;

		skb->data_len = CLAIM;
		skb->len += CLAIM;
		if (pskb_expand_head(skb, 0, 0, GFP_KERNEL) == 0)
			expanded++;
		skb->len -= CLAIM;
		skb->data_len = 0;
		skb_shinfo(skb)->gso_size = 0;
		skb_shinfo(skb)->gso_type = 0;
		skb_shinfo(skb)->gso_segs = 0;
		kfree_skb(skb);
	}
	pr_info("overrun_skb: %d skbs with data_len %d beyond their frags through pskb_expand_head\n", expanded, CLAIM);
	return 0;
}

static void __exit overrun_skb_exit(void)
{
}

module_init(overrun_skb_init);
module_exit(overrun_skb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("fraglist-exporter test: real OVERRUN skbs through pskb_expand_head");
