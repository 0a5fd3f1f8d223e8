#include <stdio.h>

#include "lib/log.h"
#include "trace/trace_options.h"

/* Packets followed at once: run's map size, which also serves trace. */
#define DEFAULT_MAX_PACKETS 65536

static int tc_key_option(const char *command, const struct cli_option *opt, const char *arg,
			 void *base)
{
	(void)opt;
	return hops_parse_tc_key(command, arg, &((struct hops_target *)base)->tc_key) ? -1 : 0;
}

const struct cli_option trace_hop_options[] = {
	{ "sample", 0, CLI_U64, CLI_FIELD(struct hops_target, sample_every), .min = 1,
	  .max = 1000000, .arg_name = "N",
	  .help = "follow 1 packet in N (default 1: every packet)" },
	{ "max-packets", 0, CLI_U64, CLI_FIELD(struct hops_target, max_packets), .min = 64,
	  .max = 4 * 1024 * 1024, .arg_name = "N",
	  .help = "packets followed at once (default 65536)" },
	{ "all-paths", 0, CLI_FLAG, CLI_FIELD(struct hops_target, all_paths),
	  .help = "every distinct path, not only the most common ones" },
	{ "duty", 0, CLI_U64, CLI_FIELD(struct hops_target, duty), .min = 1, .max = 1000,
	  .arg_name = "N",
	  .help = "attach the probes one 100 ms window in N: what they cost\n"
		  "shrinks about N times (see scripts/bench-overhead.sh)" },
	{ "nf-detail", 0, CLI_FLAG, CLI_FIELD(struct hops_target, nf_detail),
	  .help = "time every netfilter table apart (9 slots a hook, not\n"
		  "2 timing the tables as one; more probe cost)" },
	{ "fib", 0, CLI_FLAG, CLI_FIELD(struct hops_target, fib),
	  .help = "count the FIB lookups each hop makes (off by default:\n"
		  "a tracepoint run for every lookup, 4 a calico packet)" },
	{ "softirq", 0, CLI_FLAG, CLI_FIELD(struct hops_target, softirq),
	  .help = "count the softirq passes each packet takes (off by\n"
		  "default: 2 tracepoint runs for every softirq of the machine)" },
	{ "no-tc", 0, CLI_FLAG, CLI_FIELD(struct hops_target, no_tc),
	  .help = "leave the tc probes off" },
	{ "no-netfilter", 0, CLI_FLAG, CLI_FIELD(struct hops_target, no_netfilter),
	  .help = "leave the netfilter probes off" },
	{ "tc-key", 0, CLI_CALL, .handler = tc_key_option, .has_value = true,
	  .arg_name = "skb|flow",
	  .help = "how tc hops find a packet: by the kernel skb (default\n"
		  "where bpf_cast_to_kern_ctx exists, kernel 6.2+) or by its\n"
		  "flow tuple, TCP seq/ack and IP id/length (the fallback)" },
	{ "xdp", 0, CLI_FLAG, CLI_FIELD(struct hops_target, xdp),
	  .help = "XDP hops on every device too; off by default: a veth\n"
		  "with XDP receives through NAPI instead of the backlog" },
	{}
};

static int func_option(const char *command, const struct cli_option *opt, const char *arg,
		       void *base)
{
	(void)command;
	(void)opt;
	return func_timer_opts_add(base, arg) ? -1 : 0;
}

static int func_probe_option(const char *command, const struct cli_option *opt,
			     const char *arg, void *base)
{
	int mode = func_probe_mode_parse(arg);

	(void)opt;
	if (mode < 0) {
		usage_error("%s: --func-probe %s: use auto, fentry, kprobe or off", command, arg);
		return -1;
	}
	((struct func_timer_opts *)base)->mode = mode;
	return 0;
}

const struct cli_option trace_func_options[] = {
	{ "func", 0, CLI_CALL, .handler = func_option, .has_value = true,
	  .arg_name = "NAME[,NAME]",
	  .help = "time these too (default: nf_hook_slow, ipt_do_table,\n"
		  "nft_do_chain, nf_conntrack_in, veth_xmit, ip_rcv, ...)" },
	{ "func-only", 0, CLI_FLAG, CLI_FIELD(struct func_timer_opts, only_extra),
	  .help = "time only the --func functions" },
	{ "func-probe", 0, CLI_CALL, .handler = func_probe_option, .has_value = true,
	  .arg_name = "MODE", .help = "auto (default), fentry, kprobe or off" },
	{}
};

void trace_hop_defaults(struct hops_target *t)
{
	t->sample_every = 1;
	t->max_packets = DEFAULT_MAX_PACKETS;
	t->all_paths = false;
	t->duty = 0;
	t->nf_detail = false;
	t->fib = false;
	t->softirq = false;
	t->no_tc = false;
	t->no_netfilter = false;
	t->tc_key = TC_KEY_AUTO;
	t->xdp = false;
}

void trace_func_defaults(struct func_timer_opts *o)
{
	o->nr_extra = 0;
	o->only_extra = false;
	o->mode = FUNC_PROBE_AUTO;
}

void trace_options_help(bool funcs)
{
	cli_print_options(stdout, trace_hop_options);
	if (!funcs)
		return;
	printf("Kernel functions (fentry/fexit, or kprobes where fentry is refused):\n");
	cli_print_options(stdout, trace_func_options);
}
