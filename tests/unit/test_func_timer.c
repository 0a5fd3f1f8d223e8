/*
 * Function timing's choice of the argument that names a call's namespace,
 * read from this kernel's BTF, its --func parsing, and its report from a
 * snapshot built by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/types.h>

#include "lib/output.h"
#include "trace/functime.h"
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

static char *render(const struct func_snapshot *s, double packets, double transactions)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	out_to(f, false);
	func_timer_print(s, packets, transactions, NULL);
	out_finish();
	fclose(f);
	out_init(false);
	return buf;
}

TEST(func_report_off_says_why)
{
	static struct func_snapshot s;
	char *text;

	s.mode = FUNC_PROBE_OFF;
	snprintf(s.why, sizeof(s.why), "fentry unavailable (no trampolines)");
	text = render(&s, 100, 10);
	ASSERT_STREQ(text, "Kernel functions: off (fentry unavailable (no trampolines))\n", "off");
	free(text);
	text = render(NULL, 100, 10);
	ASSERT_STREQ(text, "Kernel functions: off (not requested)\n", "no timer");
	free(text);
}

TEST(func_report_and_summary_from_a_snapshot)
{
	static struct func_snapshot s;
	struct func_summary sum;
	char *text;

	memset(&s, 0, sizeof(s));
	s.mode = FUNC_PROBE_KPROBE;
	s.off_cpu = true;
	s.nr_funcs = 2;
	snprintf(s.funcs[0].name, sizeof(s.funcs[0].name), "ip_rcv");
	snprintf(s.funcs[0].status, sizeof(s.funcs[0].status), "kprobe");
	s.funcs[0].timed = true;
	snprintf(s.funcs[1].name, sizeof(s.funcs[1].name), "veth_xmit");
	snprintf(s.funcs[1].status, sizeof(s.funcs[1].status), "not in this kernel");
	s.stats[0] = (struct func_stats){ .calls = 200, .total_ns = 300000, .self_ns = 100000 };
	s.stats[0].hist.count = 200;
	s.stats[0].hist.buckets[lat_bucket(1500)] = 200;
	s.counters[FCNT_UNRESOLVED] = 3;
	text = render(&s, 100, 10);
	ASSERT_STREQ(text,
		     "Kernel functions: kprobe, 1 of 2 functions timed; self time excludes switched-out"
		     " time; per packet = per IP packet the endpoints sent (100)\n"
		     "  function                        calls calls/pkt  total/pkt   self/pkt   self/tx"
		     "       p50       p99  category\n"
		     "                                                          us         us        us"
		     "        us        us\n"
		     "  ip_rcv                            200      2.00      3.000      1.000    10.000"
		     "      1.41      1.41  -\n"
		     "  not timed: veth_xmit (not in this kernel)\n"
		     "  not counted: other_netns_calls 0 unresolved_calls 3 unresolved_held_full 0"
		     " too_deep 0 exits_without_entry 0 lost_exits 0 stacks_full 0\n", "kprobe report");
	free(text);
	func_timer_summarize(&s, 100, NULL, &sum);
	ASSERT_TRUE(sum.valid, "summary valid");
	ASSERT_STREQ(sum.probe, "kprobe", "probe kind");
	ASSERT_NEAR(sum.total_self_us_per_packet, 1.0, 1e-9, "timed functions' self time only");
}
