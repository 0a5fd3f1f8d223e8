/* The shape of Istio's capture rules as netprof writes them: the chains,
 * the jumps and their order, the owner exclusions, the ports. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/istio_rules.h"
#include "test.h"

static int generate_default(char *buf, size_t len)
{
	struct istio_rules_opts o;

	istio_rules_defaults(&o);
	return istio_rules_generate(&o, buf, len);
}

/* Index of `line` (a whole line) in text, or -1. */
static int line_index(const char *text, const char *line)
{
	size_t n = strlen(line);
	int idx = 0;

	for (const char *p = text; *p; idx++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len == n && !strncmp(p, line, n))
			return idx;
		if (!nl)
			break;
		p = nl + 1;
	}
	return -1;
}

static int count_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

TEST(istio_rules_default_shape)
{
	/* In order: Istio's golden files list the rules this way, and order
	 * is what iptables evaluates. */
	static const char *const expected[] = {
		"*nat",
		"-N ISTIO_INBOUND",
		"-N ISTIO_REDIRECT",
		"-N ISTIO_IN_REDIRECT",
		"-N ISTIO_OUTPUT",
		"-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN",
		"-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001",
		"-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006",
		"-A PREROUTING -p tcp -j ISTIO_INBOUND",
		"-A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN",
		"-A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN",
		"-A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN",
		"-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT",
		"-A OUTPUT -j ISTIO_OUTPUT",
		"-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN",
		"-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT",
		"-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN",
		"-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN",
		"-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT",
		"-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN",
		"-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN",
		"-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
		"-A ISTIO_OUTPUT -j ISTIO_REDIRECT",
		"COMMIT",
	};
	const int nr = sizeof(expected) / sizeof(expected[0]);
	char buf[4096];
	int len = generate_default(buf, sizeof(buf));

	if (!ASSERT_TRUE(len > 0, "generated"))
		return;
	if (!ASSERT_EQ(len, strlen(buf), "returned length is the text's"))
		return;
	if (!ASSERT_EQ(count_lines(buf), nr, "line count"))
		return;
	for (int i = 0; i < nr; i++)
		if (!ASSERT_EQ(line_index(buf, expected[i]), i, expected[i]))
			return;
	ASSERT_EQ(buf[len - 1], '\n', "ends with a newline (iptables-restore needs it)");
}

TEST(istio_rules_follow_options)
{
	struct istio_rules_opts o;
	char buf[4096];

	istio_rules_defaults(&o);
	o.proxy_uid = 2000;
	o.proxy_gid = 3000;
	o.outbound_port = 16001;
	o.inbound_port = 16006;
	o.inbound_src = "127.0.0.7";
	if (!ASSERT_TRUE(istio_rules_generate(&o, buf, sizeof(buf)) > 0, "generated"))
		return;
	ASSERT_TRUE(line_index(buf, "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 16001") >= 0,
		    "outbound port");
	ASSERT_TRUE(line_index(buf, "-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 16006") >= 0,
		    "inbound port");
	ASSERT_TRUE(line_index(buf, "-A ISTIO_OUTPUT -m owner --uid-owner 2000 -j RETURN") >= 0, "uid");
	ASSERT_TRUE(line_index(buf, "-A ISTIO_OUTPUT -m owner --gid-owner 3000 -j RETURN") >= 0, "gid");
	ASSERT_TRUE(line_index(buf, "-A ISTIO_OUTPUT -o lo -s 127.0.0.7/32 -j RETURN") >= 0,
		    "inbound source");
	ASSERT_TRUE(strstr(buf, "1337") == NULL, "no default uid left");
}

TEST(istio_rules_bad_input)
{
	struct istio_rules_opts o;
	char buf[4096], small[64];

	istio_rules_defaults(&o);
	o.inbound_port = 0;
	ASSERT_EQ(istio_rules_generate(&o, buf, sizeof(buf)), -EINVAL, "port 0");
	o.inbound_port = 65536;
	ASSERT_EQ(istio_rules_generate(&o, buf, sizeof(buf)), -EINVAL, "port 65536");
	istio_rules_defaults(&o);
	o.inbound_src = "";
	ASSERT_EQ(istio_rules_generate(&o, buf, sizeof(buf)), -EINVAL, "empty source");
	istio_rules_defaults(&o);
	ASSERT_EQ(istio_rules_generate(&o, small, sizeof(small)), -ENOSPC, "buffer too small");
	ASSERT_EQ(istio_rules_generate(&o, small, 0), -ENOSPC, "no buffer");
}

TEST(istio_rules_restore_binaries)
{
	ASSERT_STREQ(istio_rules_restore_binary("legacy"), "iptables-legacy-restore", "legacy");
	ASSERT_STREQ(istio_rules_restore_binary("nft"), "iptables-nft-restore", "nft");
	ASSERT_TRUE(istio_rules_restore_binary("nftables") == NULL, "unknown backend");
	ASSERT_TRUE(istio_rules_restore_binary(NULL) == NULL, "no backend");
}
