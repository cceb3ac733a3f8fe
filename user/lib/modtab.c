/* A process's code mappings from BPF records and /proc/PID/maps (see modtab.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "array.h"
#include "kfeatures.h"
#include "modrec.h"
#include "modtab.h"
#include "procfs.h"

void modtab_init(struct modtab *mt)
{
	memset(mt, 0, sizeof(*mt));
}

/* Descriptors held by every table of the tool: a cgroup of many processes
 * must not take the tool to its RLIMIT_NOFILE (1024 by default). Past the
 * budget a file is found again by its path, still checked by its inode. */
#define MODTAB_MAX_HELD 256
static int held_now;

static void ent_free(struct modtab_ent *e)
{
	free(e->path);
	if (e->fd >= 0) {
		close(e->fd);
		held_now--;
	}
}

void modtab_reset(struct modtab *mt)
{
	for (size_t i = 0; i < mt->n; i++)
		ent_free(&mt->v[i]);
	mt->n = 0;
	mt->gen++;
}

void modtab_fini(struct modtab *mt)
{
	modtab_reset(mt);
	free(mt->v);
	memset(mt, 0, sizeof(*mt));
}

void modtab_unmap(struct modtab *mt, uint64_t addr, uint64_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < mt->n; i++) {
		if (mt->v[i].start < addr + len && addr < mt->v[i].end) {
			ent_free(&mt->v[i]);
			mt->gen++;
			continue;
		}
		mt->v[k++] = mt->v[i];
	}
	mt->n = k;
}

void modtab_add(struct modtab *mt, const struct modtab_ent *e)
{
	struct modtab_ent *v;

	modtab_unmap(mt, e->start, e->end - e->start);
	v = ARRAY_GROW(mt->v, mt->n, mt->cap, 16);
	v[mt->n] = *e;
	v[mt->n].path = strdup(e->path);
	if (!v[mt->n].path)
		abort();
	mt->n++;
	mt->gen++;
}

bool modtab_same_file(const struct modtab_ent *e, int fd)
{
	return same_mapped_file(fd, e->ino, e->dev_major, e->dev_minor);
}

/* The very inode mapped, while the process lives: -1 once it is gone. */
static int hold_file(pid_t pid, const struct modtab_ent *e)
{
	char path[PROC_MAP_FILES_LEN];
	int fd;

	if (held_now >= MODTAB_MAX_HELD)
		return -1;
	proc_map_files_path(pid, e->start, e->end, path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !modtab_same_file(e, fd)) {
		close(fd);
		fd = -1;
	}
	held_now += fd >= 0;
	return fd;
}

char *modrec_path_join(const struct module_record *r, size_t size)
{
	size_t len = r->path_len, ncomp = 0, pos = 0;
	const char *comp[MODREC_DEPTH];
	char *out;

	if (size < sizeof(*r) || (r->flags & MODREC_TRUNCATED) || !len || len > sizeof(r->path))
		return NULL;
	for (size_t i = 0; i < len && ncomp < MODREC_DEPTH; i += strnlen(r->path + i, len - i) + 1)
		comp[ncomp++] = r->path + i;
	out = malloc(len + 2);
	if (!out)
		abort();
	/* Leaf first in the record: the root's child is the last one. */
	while (ncomp--) {
		size_t n = strnlen(comp[ncomp], r->path + len - comp[ncomp]);

		out[pos++] = '/';
		memcpy(out + pos, comp[ncomp], n);
		pos += n;
	}
	out[pos] = 0;
	return out;
}

void modtab_record(struct modtab *mt, const struct module_record *r, size_t size)
{
	struct modtab_ent e;

	if (size < sizeof(*r))
		return;
	e = (struct modtab_ent){
		.start = r->start, .end = r->end, .pgoff = r->pgoff, .ino = r->ino,
		/* The kernel's dev_t: 12 bits of major above 20 of minor. */
		.dev_major = r->dev >> 20, .dev_minor = r->dev & 0xfffff,
		.path = modrec_path_join(r, size),
	};
	if (!e.path) {
		mt->truncated++;
		return;
	}
	e.fd = hold_file((pid_t)r->tgid, &e);
	if (e.fd >= 0)
		mt->held++;
	else
		mt->not_held++;
	modtab_add(mt, &e);
	free(e.path);
}

int modtab_seed_maps(struct modtab *mt, pid_t pid)
{
	char mpath[64], *line = NULL;
	size_t cap = 0;
	int added = 0;
	FILE *f;

	snprintf(mpath, sizeof(mpath), "/proc/%d/maps", pid);
	f = fopen(mpath, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct modtab_ent e = { .fd = -1 };
		char perms[8];
		int pos = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &e.start, &e.end, perms, &e.pgoff, &e.dev_major, &e.dev_minor, &e.ino,
			   &pos) < 7 || !pos || perms[2] != 'x' || !e.ino || line[pos] != '/')
			continue;
		e.path = line + pos;
		e.path[strcspn(e.path, "\n")] = 0;
		/* A deleted file cannot be found by its path after the exit. */
		if (strstr(e.path, " (deleted)"))
			continue;
		e.fd = hold_file(pid, &e);
		modtab_add(mt, &e);
		added++;
	}
	free(line);
	fclose(f);
	return added;
}

bool modrec_supported(FILE *notes)
{
	static bool told;
	const struct features *f = features_get();
	bool have = f->find_vma && f->bpf_loop;

	if (!have && notes && !told) {
		fprintf(notes, "note: naming the code of a process after it exits needs bpf_find_vma "
			"and bpf_loop (Linux 5.17+), which this kernel lacks: a process that exits "
			"before its records are read gets module+offset frames at best\n");
		told = true;
	}
	return have;
}
