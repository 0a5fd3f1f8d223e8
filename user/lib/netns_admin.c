#include <errno.h>

#include "lib/exec.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/netns_admin.h"

/* iproute2 owns the bind-mount dance (shared /run/netns propagation); using
 * it keeps our namespaces visible and removable with `ip netns` as well. */
int netns_create(const char *name)
{
	char out[512], line[256];
	int rc = RUN(NULL, out, sizeof(out), "ip", "netns", "add", name);

	if (rc != 0) {
		pr_warn("cannot create network namespace %s: %s", name,
			rc < 0 ? "ip not found" : first_line(out, line, sizeof(line)));
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

int netns_delete(const char *name)
{
	if (!netns_exists(name))
		return 0;
	return RUN(NULL, NULL, 0, "ip", "netns", "delete", name) == 0 ? 0 : -EIO;
}
