/*
 * Function timing's choice of the argument that names a call's namespace,
 * read from this kernel's BTF, and its --func parsing.
 */
#include <errno.h>
#include <unistd.h>

#include <linux/types.h>

#include "trace/func_timer.h"
#include "bpf/functime.h"
#include "test.h"

static void expect_arg(const char *func, int kind, int index)
{
	char module[32];
	int arg_index = -1, got = func_timer_describe(func, &arg_index, module, sizeof(module));

	if (got == -ENOENT && access("/sys/kernel/btf/vmlinux", R_OK)) {
		ASSERT_TRUE(0, "this kernel has BTF (/sys/kernel/btf/vmlinux)");
		return;
	}
	if (!ASSERT_EQ(got, kind, func))
		return;
	ASSERT_EQ(arg_index, index, func);
}

TEST(func_arg_prefers_the_namespace_itself)
{
	/* ip_output(struct net *, struct sock *, struct sk_buff *) */
	expect_arg("ip_output", FARG_NET, 0);
}

TEST(func_arg_hook_state_over_skb)
{
	/* nf_hook_slow(struct sk_buff *, struct nf_hook_state *, ...): at
	 * OUTPUT the skb has no device yet, the state always has the net. */
	expect_arg("nf_hook_slow", FARG_NF_STATE, 1);
}

TEST(func_arg_skb_pointer_and_first_member)
{
	expect_arg("__netif_receive_skb_core", FARG_SKB_PTR, 0);
	/* nft_do_chain(const struct nft_pktinfo *, void *): pkt->skb first. */
	expect_arg("nft_do_chain", FARG_SKB_FIRST, 0);
}

TEST(func_arg_sock_skb_napi)
{
	expect_arg("tcp_sendmsg", FARG_SOCK, 0);
	expect_arg("tcp_v4_rcv", FARG_SKB, 0);
	expect_arg("process_backlog", FARG_NAPI, 0);
}

TEST(func_missing_is_reported)
{
	char module[32];
	int idx;

	ASSERT_EQ(func_timer_describe("netprof_no_such_function", &idx, module, sizeof(module)),
		  -ENOENT, "absent function");
}

TEST(func_option_parsing)
{
	struct func_timer_opts o = {};

	ASSERT_EQ(func_timer_opts_add(&o, "ip_finish_output2,dev_queue_xmit"), 0, "two names");
	ASSERT_EQ(o.nr_extra, 2, "both kept");
	ASSERT_STREQ(o.extra[1], "dev_queue_xmit", "second name");
	ASSERT_EQ(func_timer_opts_add(&o, "ip_rcv;reboot"), -1, "shell characters refused");
	ASSERT_EQ(func_probe_mode_parse("kprobe"), FUNC_PROBE_KPROBE, "kprobe mode");
	ASSERT_EQ(func_probe_mode_parse("kretprobe"), -1, "unknown mode");
}
