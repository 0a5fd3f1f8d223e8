// SPDX-License-Identifier: GPL-2.0
/* A tc program loaded by the tests with iproute2's own loader, independently
 * of netprof, to confirm what `netprof check` says about tc. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 seen = 0;

SEC("tc")
int test_tc_count(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&seen, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
