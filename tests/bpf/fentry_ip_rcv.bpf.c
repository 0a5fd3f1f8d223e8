// SPDX-License-Identifier: GPL-2.0
/* An fentry program loaded by the tests with bpftool, independently of
 * netprof, to confirm what `netprof check` says about fentry. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 calls = 0;

SEC("fentry/ip_rcv")
int BPF_PROG(test_fentry_ip_rcv, struct sk_buff *skb)
{
	__sync_fetch_and_add(&calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
