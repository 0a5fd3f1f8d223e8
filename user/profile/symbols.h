/* Symbol lookup for stack samples: kernel (kallsyms) and user (ELF). */
#ifndef NETPROF_SYMBOLS_H
#define NETPROF_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

struct ksyms;
/* NULL with errno set when /proc/kallsyms has no usable addresses. */
struct ksyms *ksyms_load(void);
/* The function containing addr, or NULL. */
const char *ksyms_name(const struct ksyms *k, uint64_t addr);
void ksyms_free(struct ksyms *k);

struct usyms;
struct usyms *usyms_new(void);
/* Reads /proc/PID/maps now (while the process lives); files load once. */
int usyms_add_process(struct usyms *u, int pid);
/* The function containing addr in pid, or NULL; *file gets the mapped file. */
const char *usyms_name(struct usyms *u, int pid, uint64_t addr, const char **file);
void usyms_free(struct usyms *u);

#endif
