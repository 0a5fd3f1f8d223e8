/*
 * The tracer options that `trace`, `run` and `compare` share, as option
 * tables (lib/parse.h): one for the hop tracer, written into a struct
 * hops_target, and one for function timing, into a struct func_timer_opts.
 * A command lists them as groups of its cli_spec, pointed at its own copies,
 * and prints their help with trace_options_help(), so the options, their
 * limits, defaults and help exist once.
 */
#ifndef NETPROF_TRACE_OPTIONS_H
#define NETPROF_TRACE_OPTIONS_H

#include "lib/parse.h"
#include "trace/functime.h"
#include "trace/hops.h"

/* --sample, --max-packets, --all-paths, --duty, --nf-detail, --no-tc,
 * --no-netfilter, --tc-key, --xdp. */
extern const struct cli_option trace_hop_options[];
/* --func, --func-only, --func-probe. */
extern const struct cli_option trace_func_options[];

/* The defaults of what trace_hop_options sets; other fields are left alone. */
void trace_hop_defaults(struct hops_target *t);
/* The defaults of what trace_func_options sets. */
void trace_func_defaults(struct func_timer_opts *o);

/* The help lines of the hop tracer's options, and with `funcs` those of
 * function timing after them under their own heading. */
void trace_options_help(bool funcs);

#endif
