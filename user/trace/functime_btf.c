/*
 * Which argument of a kernel function leads to the call's namespace, read
 * from BTF (vmlinux's and the loaded modules'): the namespace itself, or
 * what holds it most surely (hook state, skb, socket, device).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "trace/functime_internal.h"

void btf_set_load(struct btf_set *b)
{
	__u32 id = 0;

	memset(b, 0, sizeof(*b));
	b->vmlinux = btf__load_vmlinux_btf();
	if (!b->vmlinux)
		return;
	/* Loaded modules' BTF (netfilter, veth, macvlan on distribution kernels). */
	while (!bpf_btf_get_next_id(id, &id) && b->nr_mods < 256) {
		struct bpf_btf_info info = {};
		__u32 len = sizeof(info);
		char name[64] = "";
		int fd = bpf_btf_get_fd_by_id(id);

		if (fd < 0)
			continue;
		info.name = (__u64)(unsigned long)name;
		info.name_len = sizeof(name);
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf &&
		    strcmp(name, "vmlinux")) {
			struct btf *m = btf__load_from_kernel_by_id_split(id, b->vmlinux);

			if (m) {
				snprintf(b->mod_names[b->nr_mods], sizeof(b->mod_names[0]), "%s", name);
				b->mods[b->nr_mods++] = m;
			}
		}
		close(fd);
	}
}

void btf_set_free(struct btf_set *b)
{
	for (int i = 0; i < b->nr_mods; i++)
		btf__free(b->mods[i]);
	btf__free(b->vmlinux);
}

/* The struct a pointer points to (through typedefs and qualifiers), or NULL. */
static const struct btf_type *pointee_struct(const struct btf *btf, __u32 type_id, int *levels)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);

	*levels = 0;
	while (t) {
		if (btf_is_ptr(t)) {
			(*levels)++;
			t = btf__type_by_id(btf, t->type);
		} else if (btf_is_mod(t) || btf_is_typedef(t)) {
			t = btf__type_by_id(btf, t->type);
		} else {
			break;
		}
	}
	return t && btf_is_struct(t) ? t : NULL;
}

static enum func_arg_kind kind_of_param(const struct btf *btf, __u32 type_id)
{
	int levels;
	const struct btf_type *s = pointee_struct(btf, type_id, &levels);
	const char *name = s ? btf__name_by_offset(btf, s->name_off) : NULL;

	if (!name)
		return FARG_NONE;
	if (levels == 2)
		return !strcmp(name, "sk_buff") ? FARG_SKB_PTR : FARG_NONE;
	if (levels != 1)
		return FARG_NONE;
	if (!strcmp(name, "net"))
		return FARG_NET;
	if (!strcmp(name, "nf_hook_state"))
		return FARG_NF_STATE;
	if (!strcmp(name, "sk_buff"))
		return FARG_SKB;
	if (!strcmp(name, "sock"))
		return FARG_SOCK;
	if (!strcmp(name, "net_device"))
		return FARG_DEV;
	if (!strcmp(name, "napi_struct"))
		return FARG_NAPI;
	if (btf_vlen(s) > 0) {
		const struct btf_member *m = btf_members(s);
		const struct btf_type *inner = pointee_struct(btf, m->type, &levels);

		/* nft_pktinfo and its kind: the packet is the first member. */
		if (m->offset == 0 && inner && levels == 1 &&
		    !strcmp(btf__name_by_offset(btf, inner->name_off), "sk_buff"))
			return FARG_SKB_FIRST;
	}
	return FARG_NONE;
}

/* The best argument: the namespace itself, then what holds it most surely. */
static int kind_rank(enum func_arg_kind k)
{
	static const int rank[FARG_KIND_MAX] = {
		[FARG_NET] = 8, [FARG_NF_STATE] = 7, [FARG_SKB] = 6, [FARG_SKB_PTR] = 5,
		[FARG_SKB_FIRST] = 4, [FARG_SOCK] = 3, [FARG_DEV] = 2, [FARG_NAPI] = 1,
	};
	return k < FARG_KIND_MAX ? rank[k] : 0;
}

bool describe_func(const struct btf_set *b, struct timed_func *f)
{
	for (int i = -1; i < b->nr_mods; i++) {
		const struct btf *btf = i < 0 ? b->vmlinux : b->mods[i];
		const struct btf_type *fn, *proto;
		const struct btf_param *p;
		int id;

		if (!btf)
			continue;
		id = btf__find_by_name_kind(btf, f->name, BTF_KIND_FUNC);
		if (id < 0)
			continue;
		fn = btf__type_by_id(btf, id);
		proto = fn ? btf__type_by_id(btf, fn->type) : NULL;
		if (!proto || !btf_is_func_proto(proto))
			continue;
		snprintf(f->module, sizeof(f->module), "%s", i < 0 ? "" : b->mod_names[i]);
		p = btf_params(proto);
		f->arg_kind = FARG_NONE;
		for (int a = 0; a < btf_vlen(proto) && a < 6; a++) {
			enum func_arg_kind k = kind_of_param(btf, p[a].type);

			if (kind_rank(k) > kind_rank(f->arg_kind)) {
				f->arg_kind = k;
				f->arg_index = a;
			}
		}
		return true;
	}
	return false;
}

int func_timer_describe(const char *name, int *arg_index, char *module, size_t module_len)
{
	struct timed_func f = {};
	struct btf_set btfs;
	bool found;

	snprintf(f.name, sizeof(f.name), "%s", name);
	btf_set_load(&btfs);
	found = describe_func(&btfs, &f);
	btf_set_free(&btfs);
	if (!found)
		return -ENOENT;
	*arg_index = f.arg_index;
	snprintf(module, module_len, "%s", f.module);
	return f.arg_kind;
}
