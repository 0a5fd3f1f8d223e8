/*
 * --socket-bypass: istio-tcpip-bypass's same-node acceleration on top of
 * any datapath with pods (datapaths.md §5): sockbypass.h's sock_ops
 * program on the run's cgroup puts every established TCP socket of the
 * run's processes into a sockhash, and its sk_msg program hands each
 * sendmsg() to the peer socket. The connection's handshake still takes the
 * datapath's path; its payload takes none, which is what the hop list says.
 */
#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "datapath/sockbypass.h"
#include "topo/topo.h"
#include "topo/topo_impl.h"

int topo_socket_bypass_check(const struct topo_opts *o)
{
	if (!o->socket_bypass)
		return 0;
	if (!topo_ops(o->cni)->has_pods) {
		usage_error("topo: --socket-bypass joins two pods' sockets; --cni %s has no pods",
			    topo_cni_name(o->cni));
		return -EINVAL;
	}
	if (!o->same_node) {
		usage_error("topo: --socket-bypass redirects between sockets of one node only: "
			    "add --placement same-node");
		return -EINVAL;
	}
	return 0;
}

int topo_socket_bypass_start(struct topo *t)
{
	int err;

	if (!t->opts.socket_bypass)
		return 0;
	err = sockbypass_open(&t->rt->bypass, t->cgroup);
	if (err)
		pr_warn("--socket-bypass: %s", strerror(-err));
	return err;
}

void topo_socket_bypass_counters(struct topo *t, struct json_writer *w)
{
	struct sockbypass_counts c;

	if (!t->rt || !t->rt->bypass)
		return;
	sockbypass_read(t->rt->bypass, &c);
	jw_uint(w, "bypass.sockets", c.sockets);
	jw_uint(w, "bypass.msgs_redirected", c.msgs_redirected);
	jw_uint(w, "bypass.bytes_redirected", c.bytes_redirected);
	jw_uint(w, "bypass.msgs_passed", c.msgs_passed);
}

void topo_socket_bypass_close(struct topo *t)
{
	if (t->rt && t->rt->bypass) {
		sockbypass_close(t->rt->bypass);
		t->rt->bypass = NULL;
	}
}

void topo_socket_bypass_hops(struct topo *t)
{
	if (!t->opts.socket_bypass)
		return;
	/* The datapath's list is the handshake's now; the payload's is this. */
	t->nr_hops = 0;
	topo_add_hop(t, t->client.netns, "", "sendmsg(): tcp_bpf_sendmsg runs the sk_msg verdict: "
		     "bpf_msg_redirect_hash to the peer socket (BPF_F_INGRESS)");
	topo_add_hop(t, t->server.netns, "", "the payload on the server socket's ingress_msg "
		     "queue: tcp_bpf_recvmsg (no TCP output, IP, device or netfilter)");
}
