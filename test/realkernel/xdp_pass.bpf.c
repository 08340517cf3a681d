// XDP program of the real-kernel stage: passes every frame. Attached to the
// router's receiving veth because a veth runs NAPI, and so GRO, on 5.10 only
// with an XDP program. Test-only. Built by build-initramfs.sh.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
