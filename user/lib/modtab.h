/* A process's code mappings, kept from the records its tool's BPF side
 * sends (bpf/modrec.h: each executable file mapping, and at exec the
 * program and its interpreter) and from one read of /proc/PID/maps when
 * the process is first seen. The symbolizer reports its modules from this
 * table when /proc/PID/maps is gone or empty (the process has exited),
 * so a command that lives a few milliseconds is still symbolized. */
#ifndef MEMSCOPE_MODTAB_H
#define MEMSCOPE_MODTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct module_record;

struct modtab_ent {
	uint64_t start, end;    /* the mapping */
	uint64_t pgoff;         /* file offset of start, in bytes */
	uint64_t ino;
	unsigned int dev_major, dev_minor;
	char *path;             /* as the process sees it (its mount namespace) */
	/* The mapped file itself, opened through /proc/PID/map_files when the
	 * record was read if the process still lived (-1 otherwise): good
	 * even if the path is replaced or deleted before the exit. */
	int fd;
};

struct modtab {
	struct modtab_ent *v;
	size_t n, cap;
	/* Bumped at every change: a symbolizer re-reports its modules only
	 * when the table moved since it last did. */
	uint64_t gen;
	uint64_t truncated;     /* records whose path did not fit (not kept) */
	uint64_t held, not_held; /* records whose file could / could not be held open */
};

void modtab_init(struct modtab *mt);
void modtab_fini(struct modtab *mt);
/* A new program (exec): every mapping is gone. */
void modtab_reset(struct modtab *mt);
/* A mapping of path; what it overlaps is replaced (MAP_FIXED). e->fd
 * must be -1: the table holds descriptors itself (modtab_record,
 * modtab_seed_maps), within a budget for the whole tool. */
void modtab_add(struct modtab *mt, const struct modtab_ent *e);
/* Is fd the file of e (same device and inode: same_mapped_file)? */
bool modtab_same_file(const struct modtab_ent *e, int fd);
/* [addr, addr + len) was unmapped: the entries it overlaps go. */
void modtab_unmap(struct modtab *mt, uint64_t addr, uint64_t len);
/* A BPF record (size bytes; short or truncated ones are counted, not
 * kept); its file is held open if the process still lives. */
void modtab_record(struct modtab *mt, const struct module_record *r, size_t size);
/* The executable file mappings of /proc/PID/maps, added to the table.
 * Returns the number added, -errno if maps cannot be read. */
int modtab_seed_maps(struct modtab *mt, pid_t pid);
/* Can the BPF side send module records here (bpf_find_vma and bpf_loop,
 * 5.17)? If not, one note on notes (once): a process gone before its
 * tool reads /proc then gets module+offset frames at best. */
#include <stdio.h>
bool modrec_supported(FILE *notes);
/* The path of a record's leaf-first components ("/usr/lib/libc.so.6");
 * NULL if truncated or empty. Caller frees. */
char *modrec_path_join(const struct module_record *r, size_t size);

#endif
