/*
 * Address to name, for stack samples: the kernel from /proc/kallsyms
 * (which lists BPF programs and module symbols too), user space from the ELF
 * symbol tables of each process's mapped files, read with libelf and cached
 * per file.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile/symbols.h"

struct sym {
	uint64_t addr;
	char *name;
};

struct sym_table {
	struct sym *syms;
	size_t n, cap;
};

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int table_add(struct sym_table *t, uint64_t addr, const char *name)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct sym *bigger = realloc(t->syms, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		t->syms = bigger;
		t->cap = cap;
	}
	t->syms[t->n].addr = addr;
	t->syms[t->n].name = strdup(name);
	if (!t->syms[t->n].name)
		return -ENOMEM;
	t->n++;
	return 0;
}

/* The symbol at or below addr. */
static const struct sym *table_find(const struct sym_table *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;

	if (!t->n || addr < t->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (t->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &t->syms[lo];
}

static void table_free(struct sym_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->syms[i].name);
	free(t->syms);
	memset(t, 0, sizeof(*t));
}

/* ---- kernel ---- */

struct ksyms {
	struct sym_table t;
};

struct ksyms *ksyms_load(void)
{
	struct ksyms *k = calloc(1, sizeof(*k));
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], name[256], type;
	unsigned long long addr;

	if (!k || !f) {
		free(k);
		if (f)
			fclose(f);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		/* Text symbols only: t/T, and BPF programs and trampolines. */
		if (type != 't' && type != 'T')
			continue;
		if (table_add(&k->t, addr, name)) {
			ksyms_free(k);
			fclose(f);
			return NULL;
		}
	}
	fclose(f);
	if (!k->t.n) {
		/* kptr_restrict hides the addresses: nothing to resolve with. */
		ksyms_free(k);
		errno = EPERM;
		return NULL;
	}
	qsort(k->t.syms, k->t.n, sizeof(struct sym), sym_cmp);
	return k;
}

const char *ksyms_name(const struct ksyms *k, uint64_t addr)
{
	const struct sym *s = k ? table_find(&k->t, addr) : NULL;

	return s ? s->name : NULL;
}

void ksyms_free(struct ksyms *k)
{
	if (!k)
		return;
	table_free(&k->t);
	free(k);
}

/* ---- user space ---- */

struct elf_file {
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	bool loaded;
	struct sym_table t;
	/* PT_LOAD segments, to turn a file offset into a symbol address. */
	struct { uint64_t offset, vaddr, filesz; } segs[16];
	int nr_segs;
	struct elf_file *next;
};

struct mapping {
	uint64_t start, end, offset;
	struct elf_file *file;
};

struct proc_maps {
	int pid;
	struct mapping *maps;
	size_t n;
	struct proc_maps *next;
};

struct usyms {
	struct elf_file *files;
	struct proc_maps *procs;
};

struct usyms *usyms_new(void)
{
	elf_version(EV_CURRENT);
	return calloc(1, sizeof(struct usyms));
}

static void load_elf(struct elf_file *ef, const char *open_path)
{
	int fd = open(open_path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	Elf_Scn *scn = NULL;
	size_t nphdr;

	ef->loaded = true;
	if (fd < 0)
		return;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf) {
		close(fd);
		return;
	}
	if (elf_getphdrnum(elf, &nphdr) == 0) {
		for (size_t i = 0; i < nphdr && ef->nr_segs < 16; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
				ef->segs[ef->nr_segs].offset = ph.p_offset;
				ef->segs[ef->nr_segs].vaddr = ph.p_vaddr;
				ef->segs[ef->nr_segs].filesz = ph.p_filesz;
				ef->nr_segs++;
			}
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		data = elf_getdata(scn, NULL);
		for (size_t i = 0; data && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    !sym.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && *name)
				table_add(&ef->t, sym.st_value, name);
		}
	}
	elf_end(elf);
	close(fd);
	qsort(ef->t.syms, ef->t.n, sizeof(struct sym), sym_cmp);
}

static struct elf_file *file_for(struct usyms *u, int pid, const char *path)
{
	char open_path[PATH_MAX + 32];
	struct elf_file *ef;
	struct stat st;

	/* Through the process's root, so files of another mount namespace resolve. */
	snprintf(open_path, sizeof(open_path), "/proc/%d/root%s", pid, path);
	if (stat(open_path, &st) < 0)
		return NULL;
	for (ef = u->files; ef; ef = ef->next)
		if (ef->dev == st.st_dev && ef->ino == st.st_ino)
			return ef;
	ef = calloc(1, sizeof(*ef));
	if (!ef)
		return NULL;
	snprintf(ef->path, sizeof(ef->path), "%s", path);
	ef->dev = st.st_dev;
	ef->ino = st.st_ino;
	load_elf(ef, open_path);
	ef->next = u->files;
	u->files = ef;
	return ef;
}

int usyms_add_process(struct usyms *u, int pid)
{
	char path[64], line[PATH_MAX + 128];
	struct proc_maps *pm;
	FILE *f;

	for (pm = u->procs; pm; pm = pm->next)
		if (pm->pid == pid)
			return 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	pm = calloc(1, sizeof(*pm));
	if (!pm) {
		fclose(f);
		return -ENOMEM;
	}
	pm->pid = pid;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, offset;
		char perms[8], file[PATH_MAX];
		struct mapping *bigger;

		file[0] = '\0';
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %4095[^\n]", &start, &end, perms, &offset,
			   file) < 4 || perms[2] != 'x' || file[0] != '/')
			continue;
		bigger = realloc(pm->maps, (pm->n + 1) * sizeof(*bigger));
		if (!bigger)
			break;
		pm->maps = bigger;
		pm->maps[pm->n] = (struct mapping){ start, end, offset, file_for(u, pid, file) };
		pm->n++;
	}
	fclose(f);
	pm->next = u->procs;
	u->procs = pm;
	return 0;
}

const char *usyms_name(struct usyms *u, int pid, uint64_t addr, const char **file)
{
	struct proc_maps *pm;

	*file = NULL;
	for (pm = u->procs; pm && pm->pid != pid; pm = pm->next)
		;
	for (size_t i = 0; pm && i < pm->n; i++) {
		const struct mapping *m = &pm->maps[i];
		uint64_t off;
		const struct sym *s;

		if (addr < m->start || addr >= m->end || !m->file)
			continue;
		*file = m->file->path;
		off = addr - m->start + m->offset;
		for (int j = 0; j < m->file->nr_segs; j++) {
			if (off < m->file->segs[j].offset ||
			    off >= m->file->segs[j].offset + m->file->segs[j].filesz)
				continue;
			s = table_find(&m->file->t,
				       off - m->file->segs[j].offset + m->file->segs[j].vaddr);
			return s ? s->name : NULL;
		}
		return NULL;
	}
	return NULL;
}

void usyms_free(struct usyms *u)
{
	if (!u)
		return;
	while (u->files) {
		struct elf_file *next = u->files->next;

		table_free(&u->files->t);
		free(u->files);
		u->files = next;
	}
	while (u->procs) {
		struct proc_maps *next = u->procs->next;

		free(u->procs->maps);
		free(u->procs);
		u->procs = next;
	}
	free(u);
}
