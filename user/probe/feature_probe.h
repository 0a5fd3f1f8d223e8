/* Single feature probes from `netprof check`, for the tracer's fallbacks. */
#ifndef NETPROF_FEATURE_PROBE_H
#define NETPROF_FEATURE_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Runs the probe named `key` (the JSON name in `netprof check --json`) that
 * needs no test namespace: cast_to_kern_ctx, tp_btf, raw_tp, fentry, fexit,
 * kprobe, kprobe_multi, perf_cycles, perf_cpu_clock, ringbuf, redirect_peer,
 * redirect_neigh, fib_lookup, sockmap, btf_vmlinux. Returns true when the
 * feature works; `why` gets the probe's detail either way.
 */
bool feature_probe(const char *key, char *why, size_t len);

#endif
