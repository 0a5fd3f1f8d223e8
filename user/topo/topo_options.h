/* The topology options shared by `topo up`, `run` and `compare`. */
#ifndef NETPROF_TOPO_OPTIONS_H
#define NETPROF_TOPO_OPTIONS_H

#include <getopt.h>

#include "topo/topo.h"

enum {
	TOPO_OPT_CNI = 0x2001, TOPO_OPT_PLACEMENT, TOPO_OPT_TARGET, TOPO_OPT_MTU, TOPO_OPT_PODS,
	TOPO_OPT_POLICIES, TOPO_OPT_SERVICES, TOPO_OPT_SUBNETS, TOPO_OPT_SOCKET_LB,
	TOPO_OPT_IPTABLES, TOPO_OPT_RUN, TOPO_OPT_NODE_CPUS, TOPO_OPT_WIRE, TOPO_OPT_LINK_RATE,
	TOPO_OPT_SOCKET_BYPASS,
};

#define TOPO_LONGOPTS								\
	{ "cni", required_argument, NULL, TOPO_OPT_CNI },			\
	{ "placement", required_argument, NULL, TOPO_OPT_PLACEMENT },		\
	{ "target", required_argument, NULL, TOPO_OPT_TARGET },			\
	{ "mtu", required_argument, NULL, TOPO_OPT_MTU },			\
	{ "pods", required_argument, NULL, TOPO_OPT_PODS },			\
	{ "policies", required_argument, NULL, TOPO_OPT_POLICIES },		\
	{ "services", required_argument, NULL, TOPO_OPT_SERVICES },		\
	{ "subnets", required_argument, NULL, TOPO_OPT_SUBNETS },		\
	{ "socket-lb", no_argument, NULL, TOPO_OPT_SOCKET_LB },			\
	{ "socket-bypass", no_argument, NULL, TOPO_OPT_SOCKET_BYPASS },		\
	{ "iptables", required_argument, NULL, TOPO_OPT_IPTABLES },		\
	{ "node-cpus", required_argument, NULL, TOPO_OPT_NODE_CPUS },		\
	{ "wire", required_argument, NULL, TOPO_OPT_WIRE },			\
	{ "link-rate", required_argument, NULL, TOPO_OPT_LINK_RATE },		\
	{ "run", required_argument, NULL, TOPO_OPT_RUN }

/* The help lines of those options (ends with a newline). */
extern const char topo_options_help[];

/* 1 when `opt` was a topology option (applied to *o), 0 when it is not one,
 * -1 after printing a usage error. */
int topo_parse_option(const char *command, int opt, const char *arg, struct topo_opts *o);

#endif
