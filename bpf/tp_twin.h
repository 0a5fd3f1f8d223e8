/*
 * A tracepoint's program twice: as tp_btf, with typed arguments, and as
 * raw_tp for kernels where tp_btf is refused. User space loads one of the
 * two by name prefix ("btf_"/"raw_" plus the tracepoint, or the prefix the
 * caller gives), so both run the same body.
 *
 *   TP_TWIN(btf_, raw_, netif_rx, on_netif_rx(skb), struct sk_buff *skb)
 *
 * TP_TWIN_READS is the same with a body for each: a tp_btf program may
 * read its arguments' fields directly, a raw_tp one must go through
 * BPF_CORE_READ.
 */
#ifndef NETPROF_TP_TWIN_H
#define NETPROF_TP_TWIN_H

#define TP_TWIN_READS(btf_prefix, raw_prefix, tp, btf_body, raw_body, ...)	\
	SEC("tp_btf/" #tp)							\
	int BPF_PROG(btf_prefix##tp, ##__VA_ARGS__) { btf_body; return 0; }	\
	SEC("raw_tp/" #tp)							\
	int BPF_PROG(raw_prefix##tp, ##__VA_ARGS__) { raw_body; return 0; }

#define TP_TWIN(btf_prefix, raw_prefix, tp, body, ...)				\
	TP_TWIN_READS(btf_prefix, raw_prefix, tp, body, body, ##__VA_ARGS__)

#endif
