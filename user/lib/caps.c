#include <linux/capability.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/caps.h"
#include "lib/log.h"

bool cap_effective(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[cap / 32].effective & (1U << (cap % 32));
}

static const char *cap_name(int cap)
{
	switch (cap) {
	case NP_CAP_BPF: return "CAP_BPF";
	case NP_CAP_NET_ADMIN: return "CAP_NET_ADMIN";
	case NP_CAP_PERFMON: return "CAP_PERFMON";
	case NP_CAP_SYS_ADMIN: return "CAP_SYS_ADMIN";
	default: return "a capability";
	}
}

bool caps_require(const char *command, unsigned long long mask)
{
	static const int order[] = { NP_CAP_BPF, NP_CAP_NET_ADMIN, NP_CAP_PERFMON, NP_CAP_SYS_ADMIN };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int cap = order[i];

		if ((mask & NEED_CAP(cap)) && !cap_effective(cap)) {
			pr_cmd_error(command, "missing %s; run as root (sudo netprof %s)",
				     cap_name(cap), command);
			return false;
		}
	}
	return true;
}
