/* Symbolization of user addresses with libdwfl.
 *
 * Modules are reported from /proc/PID/maps ourselves instead of with
 * dwfl_linux_proc_report, because the paths in maps are seen from the
 * target's mount namespace, and because a path is the process's to
 * change: each binary is opened inside the process's root
 * (open_in_proc_root) or, when it was deleted or replaced, through
 * /proc/PID/map_files (the very inode still mapped), and is parsed only if
 * its device and inode are the mapping's. The original path names the
 * module. Separate debug files come from libdwfl's standard
 * lookup (build-id under /usr/lib/debug/.build-id, then .gnu_debuglink).
 *
 * Addresses are resolved as given: callers holding return addresses should
 * pass ret - 1 so that the call instruction (not the next line) is found. */
#define _GNU_SOURCE
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <gelf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "dwlookup.h"
#include "golines.h"
#include "jvm.h"
#include "modtab.h"
#include "perfmap.h"
#include "procfs.h"
#include "safeopen.h"
#include "symbolize.h"
#include "symworker.h"
#include "symworker_proto.h"

struct sym_module {
	uint64_t low, high;
	char *name;             /* basename of the path as the target sees it */
	/* No file could be opened that is surely the one mapped: frames get
	 * module+offset (the file offset; low is where offset 0 would lie). */
	bool unverified;
};

/* Pages of a module mapped a second time elsewhere: target is where
 * low's file offset lies in the module. */
struct remap {
	uint64_t low, high, target;
};

/* Anonymous executable memory: code a JIT compiler wrote (V8, CPython's
 * perf trampolines, the JVM), named only by the runtime's perf map. */
struct jit_region {
	uint64_t low, high;
};

struct symbolizer {
	pid_t pid;
	Dwfl *dwfl;
	/* The process's code mappings kept from its tool's BPF records, for
	 * when /proc/PID/maps is gone (not owned); mt_gen is the table's
	 * generation the modules were last reported at. */
	const struct modtab *mt;
	uint64_t mt_gen;
	bool from_modtab;
	/* Files of the table already given to libdwfl, by their mapping: a
	 * new report names them again by range, which keeps the opened ELF
	 * (libdwfl refuses a second ELF for a module it holds). */
	struct reported *reported;
	size_t nreported, capreported;
	struct sym_module *mods;
	int nmods;
	size_t capmods;
	struct jit_region *jit;
	int njit;
	size_t capjit;
	struct perfmap *perfmap;        /* opened at the first JIT frame */
	/* The HotSpot JVM the process runs (jvm.h), probed once: at the
	 * first JIT frame or symbolizer__jit_refresh. */
	struct jvm *jvm;
	bool jvm_probed;
	bool jvm_map_requested;         /* the user consented: dumped at reports */
	bool said_unnamed, said_dump_failed;
	struct remap *remaps;
	int nremaps;
	size_t capremaps;
	/* Resolved addresses, until the next refresh: libdwfl's symbol
	 * lookup scans the whole table, and the stacks of a report share
	 * most of their addresses. */
	struct sym_cached *cache;
	uint32_t cache_size, cache_n;
	struct golines *go;     /* Go binaries' own line tables */
	/* The worker that parses the binaries (symworker.h), NULL when they
	 * are parsed here; session is this process's there. */
	struct symworker *w;
	uint64_t session;
	/* Files the worker is still to be sent (struct reported's w_fd),
	 * and a file it holds was unmapped since (or every file was opened
	 * anew): worker_sync before it resolves. */
	bool w_pending, w_resync;
	/* The unwinder or the pprof writer reads the ELF files through dwfl:
	 * they are opened here too. */
	bool local_elf;
};

/* A file given to libdwfl, by its identity and where its module lies: a
 * mapping of the same file in that range (from maps: the mapping at
 * offset 0; from the table: its first executable one) is the same
 * module. */
struct reported {
	char *dwfl_name;        /* libdwfl's name of the module */
	uint64_t ino, low, high;
	unsigned int dev_major, dev_minor;
	dev_t file_dev;         /* fstat of the file libdwfl was given */
	ino_t file_ino;
	bool seen;              /* in the report being made */
	/* The worker's: the module's name in its session, whether it holds
	 * the file, and the file it is still to be sent (-1: none), mapped
	 * at w_start from file offset w_pgoff. */
	char *name;
	bool w_held;
	int w_fd;
	uint64_t w_start, w_pgoff;
};

struct sym_cached {
	uint64_t addr;
	struct frame *fr;       /* NULL: empty slot */
	int n;
};

#define JIT_MODULE "JIT"

/* Every ELF file is given to libdwfl as its module is reported, opened
 * and verified (report_entry); none is looked up by the module's name,
 * which is the process's path, to open on the host. */
static int no_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		       char **file_name, Elf **elfp)
{
	(void)mod, (void)userdata, (void)name, (void)base, (void)file_name;
	*elfp = NULL;
	return -1;
}

static char *debuginfo_path;
static const Dwfl_Callbacks dwfl_cbs = {
	.find_elf = no_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

#define MAX_SEGS 16

struct pending {
	uint64_t low, high, ino;
	uint64_t first_end;     /* of the mapping at file offset 0 */
	unsigned int dev_major, dev_minor;
	char *path;             /* as in maps, without " (deleted)" */
	struct { uint64_t start, off; } seg[MAX_SEGS]; /* its mappings */
	int nseg;
};

/* A later mapping of the pending module's file where its segments go:
 * the distance from the module's start and the file offset agree within
 * an alignment gap. Pages of it mapped elsewhere (V8 remaps node's
 * embedded builtins next to its code space) are a copy, not the module. */
#define SEG_SLACK (64ull << 20)
static bool in_layout(const struct pending *pm, uint64_t start, uint64_t off)
{
	return start >= pm->low + off && start - (pm->low + off) < SEG_SLACK;
}

static void keep_seg(struct pending *pm, uint64_t start, uint64_t off)
{
	if (pm->nseg < MAX_SEGS) {
		pm->seg[pm->nseg].start = start;
		pm->seg[pm->nseg].off = off;
		pm->nseg++;
	}
}

/* A copy of the module's pages at [start, end): resolved where the same
 * file offset lies in the module. */
static void add_remap(struct symbolizer *s, const struct pending *pm, uint64_t start,
		      uint64_t end, uint64_t off)
{
	struct remap *r;
	int i;

	for (i = pm->nseg - 1; i >= 0 && pm->seg[i].off > off; i--)
		;
	if (i < 0)
		return;
	r = ARRAY_GROW(s->remaps, (size_t)s->nremaps, s->capremaps, 16);
	r[s->nremaps++] = (struct remap){ start, end, pm->seg[i].start + (off - pm->seg[i].off) };
}

static void report_entry(struct symbolizer *s, const struct modtab_ent *e, uint64_t end);

/* A module of maps: its file, verified, as the module table's would be. */
static void add_module(struct symbolizer *s, struct pending *pm)
{
	if (pm->path) {
		struct modtab_ent e = {
			.start = pm->low, .end = pm->first_end, .pgoff = 0, .ino = pm->ino,
			.dev_major = pm->dev_major, .dev_minor = pm->dev_minor, .path = pm->path,
			.fd = -1,
		};

		report_entry(s, &e, pm->high);
	}
	free(pm->path);
	memset(pm, 0, sizeof(*pm));
}

static void cache_clear(struct symbolizer *s)
{
	for (uint32_t i = 0; i < s->cache_size; i++) {
		for (int j = 0; s->cache[i].fr && j < s->cache[i].n; j++)
			frame_clear(&s->cache[i].fr[j]);
		free(s->cache[i].fr);
	}
	free(s->cache);
	s->cache = NULL;
	s->cache_size = s->cache_n = 0;
}

static uint32_t addr_hash(uint64_t addr)
{
	addr *= 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(addr >> 32);
}

static struct sym_cached *cache_slot(struct symbolizer *s, uint64_t addr)
{
	uint32_t h = addr_hash(addr) & (s->cache_size - 1);

	while (s->cache[h].fr && s->cache[h].addr != addr)
		h = (h + 1) & (s->cache_size - 1);
	return &s->cache[h];
}

static void frame_copy(struct frame *to, const struct frame *from)
{
	*to = *from;
	to->symbol = from->symbol ? strdup(from->symbol) : NULL;
	to->module = from->module ? strdup(from->module) : NULL;
	to->file = from->file ? strdup(from->file) : NULL;
}

static void cache_grow(struct symbolizer *s)
{
	struct symbolizer old = { .cache = s->cache, .cache_size = s->cache_size };
	uint32_t size = s->cache_size ? s->cache_size * 2 : 1024;

	s->cache = calloc(size, sizeof(*s->cache));
	if (!s->cache) {
		s->cache = old.cache;
		return;
	}
	s->cache_size = size;
	for (uint32_t i = 0; i < old.cache_size; i++)
		if (old.cache[i].fr)
			*cache_slot(s, old.cache[i].addr) = old.cache[i];
	free(old.cache);
}

static void cache_put(struct symbolizer *s, uint64_t addr, const struct frame *fr, int n)
{
	struct sym_cached *c;

	if ((s->cache_n + 1) * 2 > s->cache_size)
		cache_grow(s);
	if ((s->cache_n + 1) * 2 > s->cache_size)
		return;
	c = cache_slot(s, addr);
	if (c->fr || !(c->fr = calloc(n, sizeof(*fr))))
		return;
	c->addr = addr;
	c->n = n;
	for (int i = 0; i < n; i++)
		frame_copy(&c->fr[i], &fr[i]);
	s->cache_n++;
}

static void free_mods(struct symbolizer *s)
{
	cache_clear(s);
	golines__free(s->go);
	s->go = NULL;
	for (int i = 0; i < s->nmods; i++)
		free(s->mods[i].name);
	free(s->mods);
	s->mods = NULL;
	s->nmods = 0;
	s->capmods = 0;
	free(s->jit);
	s->jit = NULL;
	s->njit = 0;
	s->capjit = 0;
	free(s->remaps);
	s->remaps = NULL;
	s->nremaps = 0;
	s->capremaps = 0;
}

/* Executable memory backed by no file: anonymous (V8's code space, rwxp
 * or r-xp), named anonymous ("[anon:...]"), or a memfd a JIT maps twice. */
static bool jit_mapping(const char *perms, const char *path)
{
	if (perms[2] != 'x')
		return false;
	return !path[0] || !strncmp(path, "[anon", 5) || !strncmp(path, "/memfd:", 7) ||
	       !strncmp(path, "//anon", 6);
}

static void add_jit(struct symbolizer *s, uint64_t low, uint64_t high)
{
	struct jit_region *j = ARRAY_GROW(s->jit, (size_t)s->njit, s->capjit, 8);

	j[s->njit++] = (struct jit_region){ low, high };
}

/* The whole of /proc/PID/maps, NULL if it cannot be read or maps no file. */
static char *read_maps(pid_t pid, size_t *len)
{
	char path[64], *text = NULL;
	size_t cap = 0, n;
	FILE *f, *out;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	out = open_memstream(&text, &cap);
	if (out) {
		char buf[8192];

		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, out);
		fclose(out);
	}
	fclose(f);
	*len = text ? strlen(text) : 0;
	if (text && !strchr(text, '/')) {
		free(text);
		text = NULL;
	}
	return text;
}

/* fd if it is the file of e, else closed: -1. */
static int verified(const struct modtab_ent *e, int fd)
{
	if (fd >= 0 && !modtab_same_file(e, fd)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The mapped file itself, opened read-only: the one held since its
 * record came; by its path inside the process's root (no link may lead
 * out of it; the name lets libdwfl find a .gnu_debuglink file next to
 * it); the very inode while the process lives (map_files); else by its
 * path on the host. Each only if device and inode are the mapped ones:
 * never parse a different file than the one mapped. O_NONBLOCK: a FIFO
 * planted at the path must not hang the tool. -1 if none is. */
static int open_verified(pid_t pid, const struct modtab_ent *e, char **opened)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
	char map_files[PROC_MAP_FILES_LEN];
	int fd = -1;

	proc_map_files_path(pid, e->start, e->end, map_files);
	if (e->fd >= 0 && (fd = dup(e->fd)) >= 0) {
		*opened = strdup(map_files);
	} else if ((fd = verified(e, open_in_proc_root(pid, e->path, flags))) >= 0) {
		if (asprintf(opened, "/proc/%d/root%s", pid, e->path) < 0)
			*opened = NULL;
	} else if ((fd = verified(e, open(map_files, flags))) >= 0) {
		*opened = strdup(map_files);
	} else if ((fd = verified(e, open(e->path, flags | O_NOFOLLOW))) >= 0) {
		*opened = strdup(e->path);
	}
	if (fd >= 0 && !*opened)
		abort();
	return fd;
}

static void keep_module(struct symbolizer *s, uint64_t low, uint64_t high, const char *path,
			bool unverified)
{
	struct sym_module *m = ARRAY_GROW(s->mods, (size_t)s->nmods, s->capmods, 16);

	m[s->nmods] = (struct sym_module){ low, high, strdup(base_name(path)), unverified };
	s->nmods++;
}

/* Is e's mapped file the very file r was read from, though e names it
 * by another device? On overlayfs since Linux 6.8 a mapped file has two
 * identities: /proc/PID/maps shows the overlay's inode (file_user_inode)
 * while the mapping's own struct file, which the BPF module record
 * reads, is the layer's real inode: same inode number, other device. So
 * a module named from maps while the process lived, met again in its
 * records after the exit, would not be recognised, and reporting its
 * file a second time fails (libdwfl: the range overlaps a module).
 * e's file is opened and verified as the mapped one (open_verified), and
 * r is reused only if that file is r's own (same st_dev and st_ino): no
 * file is taken for another. */
static bool same_file_as_reported(struct symbolizer *s, const struct modtab_ent *e,
				  const struct reported *r)
{
	char *opened = NULL;
	struct stat st;
	int fd = open_verified(s->pid, e, &opened);
	bool same = fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == r->file_dev &&
		    st.st_ino == r->file_ino;

	if (fd >= 0)
		close(fd);
	free(opened);
	return same;
}

static struct reported *find_reported(struct symbolizer *s, const struct modtab_ent *e)
{
	struct reported *other_dev = NULL;

	for (size_t i = 0; i < s->nreported; i++) {
		struct reported *r = &s->reported[i];

		if (r->ino != e->ino || e->start < r->low || e->start >= r->high)
			continue;
		if (r->dev_major == e->dev_major && r->dev_minor == e->dev_minor) {
			r->seen = true;
			return r;
		}
		other_dev = r;
	}
	if (other_dev && same_file_as_reported(s, e, other_dev)) {
		other_dev->seen = true;
		return other_dev;
	}
	return NULL;
}

/* fd: the file, which the worker is sent later (worker_sync) when the
 * ELF was read here; without that the worker already holds it. Its
 * identity (fstat) lets the same file be known again under another
 * device (find_reported). */
static void remember_reported(struct symbolizer *s, const struct modtab_ent *e, uint64_t low,
			      uint64_t high, int fd)
{
	struct reported *r = &ARRAY_GROW(s->reported, s->nreported, s->capreported, 8)[s->nreported];
	bool later = s->w && s->local_elf;
	struct stat file = {};

	if (fd >= 0 && fstat(fd, &file))
		memset(&file, 0, sizeof(file));
	*r = (struct reported){ .ino = e->ino, .low = low, .high = high,
				.dev_major = e->dev_major, .dev_minor = e->dev_minor, .seen = true,
				.dwfl_name = strdup(e->path), .file_dev = file.st_dev,
				.file_ino = file.st_ino,
				.name = strdup(base_name(e->path)), .w_held = s->w && !later,
				.w_fd = later && fd >= 0 ? dup(fd) : -1, .w_start = e->start,
				.w_pgoff = e->pgoff };
	if (!r->name || !r->dwfl_name)
		abort();
	s->w_pending |= r->w_fd >= 0;
	s->nreported++;
}

static void reported_free(struct reported *r)
{
	free(r->name);
	free(r->dwfl_name);
	if (r->w_fd >= 0)
		close(r->w_fd);
}

static void forget_reported(struct symbolizer *s)
{
	for (size_t i = 0; i < s->nreported; i++)
		reported_free(&s->reported[i]);
	s->nreported = 0;
}

/* A file of the previous report: the same module again, by its name and
 * range (only one libdwfl still holds: a module it dropped would come
 * back without its ELF, and libdwfl would look for one by its name). The
 * name is libdwfl's, not e's: on overlayfs since 6.8 a BPF record's path
 * is the file's path in its layer, which maps shows under the overlay's
 * mount point. */
static Dwfl_Module *report_again(struct symbolizer *s, const struct modtab_ent *e)
{
	const struct reported *r = find_reported(s, e);

	return r ? dwfl_report_module(s->dwfl, r->dwfl_name, r->low, r->high) : NULL;
}

/* The entry's ELF given to this process's libdwfl (fd is not taken).
 * libdwfl names it by the path the process sees (pprof's mapping). */
static bool entry_local(struct symbolizer *s, const struct modtab_ent *e, int fd,
			const char *opened, uint64_t *low, uint64_t *high)
{
	Dwfl_Module *mod = report_again(s, e);
	Dwarf_Addr l, h;
	uint64_t bias = 0;
	int own;

	if (!mod && fd >= 0 && dwlookup_elf_bias(fd, e->start, e->pgoff, &bias) &&
	    (own = dup(fd)) >= 0) {
		mod = dwfl_report_elf(s->dwfl, e->path, opened, own, bias, true);
		if (!mod)
			close(own);
	}
	if (!mod)
		return false;
	dwfl_module_info(mod, NULL, &l, &h, NULL, NULL, NULL, NULL);
	*low = l;
	*high = h;
	return true;
}

/* The entry's file handed to the worker, which reads its load bias; this
 * process's libdwfl gets its range only. A file the worker holds is not
 * named again: a refresh costs one message per new file, not one per
 * mapped file (the drain of the ring buffer waits on each). */
static bool entry_worker(struct symbolizer *s, const struct modtab_ent *e, int fd,
			 uint64_t *low, uint64_t *high)
{
	const struct reported *r = find_reported(s, e);
	bool held;

	if (r) {
		*low = r->low;
		*high = r->high;
		held = true;
	} else {
		held = symworker__module(s->w, s->session, SYMW_MOD_MAPPED, base_name(e->path), fd,
					 e->start, 0, e->pgoff, low, high);
	}
	if (held)
		dwfl_report_module(s->dwfl, r ? r->dwfl_name : e->path, *low, *high);
	return held;
}

/* One module (the mapping e at the file's start, its segments up to
 * end): its ELF file if it can be verified, else its name and range
 * only. The file is opened and checked here (open_verified) whoever
 * parses it: this process or the worker. */
static void report_entry(struct symbolizer *s, const struct modtab_ent *e, uint64_t end)
{
	bool again = find_reported(s, e) != NULL;
	char *opened = NULL;
	int fd = again ? -1 : open_verified(s->pid, e, &opened);
	uint64_t low = 0, high = 0;
	bool held = s->w && !s->local_elf ? entry_worker(s, e, fd, &low, &high)
					  : entry_local(s, e, fd, opened, &low, &high);

	if (held && !again)
		remember_reported(s, e, low, high, fd);
	if (held)
		keep_module(s, low, high, e->path, false);
	else
		keep_module(s, e->start - e->pgoff, end, e->path, true);
	if (fd >= 0)
		close(fd);
	free(opened);
}

/* A new report: what it does not name again is dropped at its end. */
static void report_begin(struct symbolizer *s)
{
	dwfl_report_begin(s->dwfl);
	free_mods(s);
	for (size_t i = 0; i < s->nreported; i++)
		s->reported[i].seen = false;
}

static void worker_drop_unmapped(struct symbolizer *s);

/* What was not named again is unmapped: the worker, if it held it, is
 * told now when the refresh sends it new files (the same file mapped at
 * the same place again would clash with the one it still holds), else
 * at worker_sync. */
static void report_finish(struct symbolizer *s)
{
	size_t k = 0;

	dwfl_report_end(s->dwfl, NULL, NULL);
	for (size_t i = 0; i < s->nreported; i++) {
		struct reported *r = &s->reported[i];

		if (r->seen) {
			s->reported[k++] = *r;
			continue;
		}
		s->w_resync |= r->w_held;
		reported_free(r);
	}
	s->nreported = k;
	if (s->w_resync && !s->local_elf)
		worker_drop_unmapped(s);
}

/* One file the worker has not been sent: whether it holds it now. */
static bool worker_send(struct symbolizer *s, struct reported *r)
{
	uint64_t low, high;
	bool held = symworker__module(s->w, s->session, SYMW_MOD_MAPPED, r->name, r->w_fd,
				      r->w_start, 0, r->w_pgoff, &low, &high);

	close(r->w_fd);
	r->w_fd = -1;
	return held;
}

/* After an unmap: the worker's session reported again with the files
 * it holds that are still mapped, by range, so that it drops the rest. */
static void worker_drop_unmapped(struct symbolizer *s)
{
	uint64_t low, high;

	symworker__begin(s->w, s->session);
	for (size_t i = 0; i < s->nreported; i++)
		if (s->reported[i].w_held)
			symworker__module(s->w, s->session, SYMW_MOD_RANGE, s->reported[i].name,
					  -1, s->reported[i].low, s->reported[i].high, 0, &low,
					  &high);
	symworker__end(s->w, s->session);
	s->w_resync = false;
}

/* The worker brought up to the modules reported here, before it
 * resolves: what was unmapped dropped, then the files it was not sent
 * yet (with the ELF files read here for the unwinder, a refresh leaves
 * them for now, so that the drain of the ring buffer never waits on the
 * worker). */
static void worker_sync(struct symbolizer *s)
{
	if (!s->w)
		return;
	if (s->w_resync)
		worker_drop_unmapped(s);
	for (size_t i = 0; s->w_pending && i < s->nreported; i++)
		if (s->reported[i].w_fd >= 0)
			s->reported[i].w_held = worker_send(s, &s->reported[i]);
	s->w_pending = false;
}

/* The modules from the table kept from BPF records: the process is gone. */
static void report_modtab(struct symbolizer *s)
{
	report_begin(s);
	for (size_t i = 0; i < s->mt->n; i++) {
		const struct modtab_ent *e = &s->mt->v[i];
		size_t j;

		/* One module per file (a second mapping of it is a copy). */
		for (j = 0; j < i; j++)
			if (s->mt->v[j].ino == e->ino && s->mt->v[j].dev_major == e->dev_major &&
			    s->mt->v[j].dev_minor == e->dev_minor)
				break;
		if (j == i)
			report_entry(s, e, e->end);
	}
	report_finish(s);
	s->from_modtab = true;
	s->mt_gen = s->mt->gen;
}

static int report_maps(struct symbolizer *s);

/* From /proc/PID/maps while the process has one (it also shows JIT code
 * and remapped pages); from the module table once it is gone, and only
 * when the table changed since the modules were last reported, or anew:
 * every file opened and reported again. */
static int report(struct symbolizer *s, bool anew)
{
	int err = report_maps(s);

	if (err == 0) {
		s->from_modtab = false;
		s->mt_gen = s->mt ? s->mt->gen : 0;
		return 0;
	}
	if (!s->mt || !s->mt->n)
		return err;
	if (!anew && (s->nmods || s->from_modtab) && s->mt_gen == s->mt->gen)
		return 0;
	report_modtab(s);
	return 0;
}

/* One module per file: consecutive mappings of the same inode, from its
 * first mapping (offset 0, the ELF header) to the end of its last one. */
static int report_maps(struct symbolizer *s)
{
	char *line = NULL, *text;
	size_t cap = 0, len = 0;
	struct pending pm = {};
	FILE *f;

	/* An exited process (a zombie too) has an empty maps: the session
	 * is kept as it is until the module table takes over. */
	text = read_maps(s->pid, &len);
	if (!text)
		return -ESRCH;
	f = fmemopen(text, len, "r");
	if (!f) {
		free(text);
		return -errno;
	}
	report_begin(s);
	while (getline(&line, &cap, f) > 0) {
		uint64_t start, end, off, ino;
		unsigned int dmaj, dmin;
		char perms[8];
		int pos = 0;
		char *path, *nl;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &start, &end, perms, &off, &dmaj, &dmin, &ino, &pos) < 7 || !pos)
			continue;
		path = line + pos;
		if ((nl = strchr(path, '\n')))
			*nl = 0;
		if (jit_mapping(perms, path)) {
			add_jit(s, start, end);
			continue;
		}
		if (path[0] != '/' || ino == 0)
			continue;
		/* The inode is what counts (map_files): the name is for people. */
		if (strlen(path) > 10 && !strcmp(path + strlen(path) - 10, " (deleted)"))
			path[strlen(path) - 10] = 0;
		if (pm.path && pm.ino == ino && !strcmp(pm.path, path) && start >= pm.high) {
			if (in_layout(&pm, start, off)) {
				pm.high = end;
				keep_seg(&pm, start, off);
			} else if (perms[2] == 'x') {
				add_remap(s, &pm, start, end, off);
			}
			continue;
		}
		add_module(s, &pm);
		if (off != 0)
			continue;       /* no ELF header here: not a loadable module */
		pm.low = start;
		pm.high = end;
		pm.nseg = 0;
		keep_seg(&pm, start, off);
		pm.first_end = end;
		pm.ino = ino;
		pm.dev_major = dmaj;
		pm.dev_minor = dmin;
		if (!(pm.path = strdup(path)))
			abort();
	}
	add_module(s, &pm);
	free(line);
	fclose(f);
	free(text);
	/* Every file was opened as it was reported, while /proc/PID/root and
	 * map_files still led to it: the process may exit before we resolve. */
	report_finish(s);
	return 0;
}

struct symbolizer *symbolizer__new(pid_t pid)
{
	return symbolizer__new_with(pid, NULL);
}

static struct symbolizer *create(pid_t pid, const struct modtab *mt, bool local_elf)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->pid = pid;
	s->mt = mt;
	s->local_elf = local_elf;
	s->w = symworker__get();
	if (s->w)
		s->session = symworker__session(s->w);
	s->dwfl = dwfl_begin(&dwfl_cbs);
	if (!s->dwfl || report(s, false) < 0) {
		symbolizer__free(s);
		return NULL;
	}
	return s;
}

struct symbolizer *symbolizer__new_with(pid_t pid, const struct modtab *mt)
{
	return create(pid, mt, false);
}

struct symbolizer *symbolizer__new_local(pid_t pid, const struct modtab *mt)
{
	return create(pid, mt, true);
}

int symbolizer__refresh(struct symbolizer *s)
{
	return s ? report(s, false) : -EINVAL;
}

/* From here on the ELF files are opened in this process too: each is
 * opened and verified again (libdwfl opens none by its name), while the
 * process or the table's held descriptors still lead to it. */
static void open_local_elf(struct symbolizer *s)
{
	s->local_elf = true;
	s->w_resync = s->w != NULL;
	forget_reported(s);
	report(s, true);
}

struct Dwfl *symbolizer__dwfl(struct symbolizer *s)
{
	if (s && !s->local_elf)
		open_local_elf(s);
	return s ? s->dwfl : NULL;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	symworker__close(s->w, s->session);
	free_mods(s);
	forget_reported(s);
	free(s->reported);
	perfmap__free(s->perfmap);
	jvm__free(s->jvm);
	free(s);
}

void frame_clear(struct frame *f)
{
	if (!f)
		return;
	free(f->symbol);
	free(f->module);
	free(f->file);
	memset(f, 0, sizeof(*f));
}

static const struct sym_module *find_mod(const struct symbolizer *s, uint64_t addr)
{
	for (int i = 0; i < s->nmods; i++)
		if (addr >= s->mods[i].low && addr < s->mods[i].high)
			return &s->mods[i];
	return NULL;
}

static uint64_t sm_low(const struct sym_module *sm)
{
	return sm ? sm->low : 0;
}

/* ---- JIT code: perf maps, the JVM ---- */

/* What the JVM's frames are named by, and what they lack: said once per
 * process, when it is first seen to be a JVM. */
static void jvm_banner(const struct symbolizer *s)
{
	const char *v = jvm__version(s->jvm);

	if (!v)
		fprintf(stderr, "note: pid %d runs a HotSpot JVM of unknown version (no JAVA_VERSION in %s/release): "
			"its Java frames are named only as its own perf map names them\n", s->pid, jvm__home(s->jvm));
	else
		fprintf(stderr, "note: pid %d runs OpenJDK %s%s: compiled Java methods named from its perf map, "
			"interpreted ones as \"java (interpreted)\"\n", s->pid, v,
			jvm__version_verified(s->jvm) ? "" : " (verified: " JVM_VERIFIED "; names come from the JVM's own map)");
	if (!jvm__frame_pointers(s->jvm))
		fprintf(stderr, "note: pid %d: the JVM runs without -XX:+PreserveFramePointer: callers of compiled Java "
			"code cannot be followed and are cut (\"%s\"); restart it with -XX:+PreserveFramePointer\n",
			s->pid, JVM_CALLERS_LOST);
}

static struct jvm *jvm_of(struct symbolizer *s)
{
	if (!s->jvm_probed) {
		s->jvm_probed = true;
		s->jvm = jvm__probe(s->pid);
		if (s->jvm)
			jvm_banner(s);
	}
	return s->jvm;
}

static struct perfmap *jit_map(struct symbolizer *s)
{
	if (!s->perfmap) {
		s->perfmap = perfmap__new(s->pid);
		if (jvm_of(s))
			perfmap__set_snapshots(s->perfmap);
	}
	return s->perfmap;
}

void symbolizer__jit_refresh(struct symbolizer *s, bool request_jvm_map)
{
	char why[512];

	if (!s || !jvm_of(s) || !request_jvm_map)
		return;
	s->jvm_map_requested = true;
	jit_map(s);
	if (jvm__dump_perfmap(s->jvm, why, sizeof(why)) == 0) {
		cache_clear(s);  /* JIT frames resolved before the dump are named now */
		return;
	}
	if (s->said_dump_failed)
		return;
	s->said_dump_failed = true;
	fprintf(stderr, "note: pid %d: its perf map could not be dumped (said once): %s\n", s->pid, why);
}

/* A JVM's Java frame the map does not name: how to get names, once. */
static void jvm_unnamed(struct symbolizer *s)
{
	char when[32] = "";
	time_t t = perfmap__mtime(s->perfmap);
	struct tm tm;

	if (s->said_unnamed)
		return;
	s->said_unnamed = true;
	if (!perfmap__found(s->perfmap) && s->said_dump_failed) {
		fprintf(stderr, "note: pid %d: Java frames unnamed (JIT+0xOFFSET): no perf map (its dump failed)\n",
			s->pid);
		return;
	}
	if (!perfmap__found(s->perfmap)) {
		fprintf(stderr, "note: pid %d: Java frames unnamed (JIT+0xOFFSET): the JVM wrote no /tmp/perf-PID.map; "
			"--jvm-perfmap asks it for one at each report (jcmd %d Compiler.perfmap, as its user)\n",
			s->pid, s->pid);
		return;
	}
	if (t && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), " at %H:%M:%S UTC", &tm);
	fprintf(stderr, "note: pid %d: Java frames unnamed (JIT+0xOFFSET): compiled after its perf map was dumped%s%s\n",
		s->pid, when, s->jvm_map_requested ? "" : "; --jvm-perfmap dumps it anew at each report");
}

/* A perf-map name as the reader sees it: HotSpot's template interpreter
 * is one blob ("Interpreter") that runs every interpreted method. */
static char *jit_name(struct symbolizer *s, const char *name)
{
	char *n = strdup(s->jvm && !strcmp(name, "Interpreter") ? JVM_INTERPRETED : name);

	if (!n)
		abort();
	return n;
}

/* A frame in JIT code: module "[jit]", the perf map's name if the
 * runtime publishes one, else the offset into the region. */
static bool resolve_jit(struct symbolizer *s, uint64_t addr, struct frame *out)
{
	const char *name;
	uint64_t start;
	int i;

	for (i = 0; i < s->njit; i++)
		if (addr >= s->jit[i].low && addr < s->jit[i].high)
			break;
	if (i == s->njit)
		return false;
	out->addr = addr;
	out->kind = FRAME_JIT;
	out->module = strdup(JIT_MODULE);
	name = perfmap__lookup(jit_map(s), addr, &start);
	if (name) {
		out->symbol = jit_name(s, name);
		out->offset = addr - start;
	} else {
		out->offset = addr - s->jit[i].low;
		if (s->jvm)
			jvm_unnamed(s);
	}
	return true;
}

bool frame_jit_unnamed(const struct frame *f)
{
	return f->kind == FRAME_JIT && !f->symbol;
}

/* Code the frame-pointer chain leaves reliably: HotSpot's interpreter and
 * native code keep rbp as the frame pointer; compiled Java code (or JIT
 * code not known to be the interpreter) only with PreserveFramePointer. */
static bool fp_unreliable_after(const struct frame *f)
{
	return f->kind == FRAME_JIT && !(f->symbol && !strcmp(f->symbol, JVM_INTERPRETED));
}

int symbolizer__jvm_trim(struct symbolizer *s, struct frame *fr, int n)
{
	int i;

	if (!s || !jvm_of(s) || jvm__frame_pointers(s->jvm))
		return n;
	for (i = 0; i < n && !fp_unreliable_after(&fr[i]); i++)
		;
	if (i >= n - 1)
		return n;
	for (int j = i + 1; j < n; j++)
		frame_clear(&fr[j]);
	fr[i + 1].kind = FRAME_JIT;
	fr[i + 1].symbol = strdup(JVM_CALLERS_LOST);
	if (!fr[i + 1].symbol)
		abort();
	return i + 2;
}

static int resolve_uncached(struct symbolizer *s, uint64_t addr, struct frame *out, int max);

int symbolizer__resolve(struct symbolizer *s, uint64_t addr, struct frame *out, int max)
{
	const struct sym_cached *c = s && s->cache_size ? cache_slot(s, addr) : NULL;
	int n;

	if (max < 1)
		return 0;
	if (c && c->fr && c->n <= max) {
		memset(out, 0, sizeof(*out) * max);
		for (int i = 0; i < c->n; i++)
			frame_copy(&out[i], &c->fr[i]);
		return c->n;
	}
	n = resolve_uncached(s, addr, out, max);
	/* Complete (not cut at max), and not JIT code, whose perf map may
	 * name it later. */
	if (s && n < max && !(out[n - 1].module && !strcmp(out[n - 1].module, JIT_MODULE)))
		cache_put(s, addr, out, n);
	return n;
}

/* Frames the worker gave for one address, into out (up to max: the
 * innermost inlined ones and the containing function). */
struct taken {
	struct frame *out;
	int max, n;
};

static void take_frames(void *ctx, int i, struct frame *fr, int n)
{
	struct taken *t = ctx;
	int keep = n < t->max ? n : t->max;

	(void)i;
	for (int k = 0; k < keep - 1; k++)
		t->out[k] = fr[k];
	for (int k = keep - 1; k < n - 1; k++)
		frame_clear(&fr[k]);
	if (keep)
		t->out[keep - 1] = fr[n - 1];
	t->n = keep;
}

/* The frames that parsing the binary gives: in the worker, or here when
 * there is none. 0 when no opened ELF holds addr (or the worker died). */
static int parse_addr(struct symbolizer *s, uint64_t addr, struct frame *out, int max)
{
	struct taken t = { out, max, 0 };

	if (!s)
		return 0;
	if (!s->w)
		return dwlookup_addr(s->dwfl, &s->go, addr, out, max);
	worker_sync(s);
	if (symworker__resolve(s->w, s->session, &addr, 1, take_frames, &t) < 0)
		return 0;
	return t.n;
}

/* Frames of the binary named after their module; with none, the module
 * and the offset into it. */
static int name_frames(const struct sym_module *sm, uint64_t addr, struct frame *out, int n)
{
	if (n == 0) {
		out[0].addr = addr;
		out[0].offset = addr - sm_low(sm);
		n = 1;
	}
	for (int i = 0; i < n; i++)
		if (sm && !(out[i].module = strdup(sm->name)))
			abort();
	out[n - 1].unverified = sm && sm->unverified;
	return n;
}

static int resolve_uncached(struct symbolizer *s, uint64_t addr, struct frame *out, int max)
{
	int n;

	if (max < 1)
		return 0;
	memset(out, 0, sizeof(*out) * max);
	if (s && resolve_jit(s, addr, out))
		return 1;
	for (int i = 0; s && i < s->nremaps; i++) {
		const struct remap *r = &s->remaps[i];

		if (addr >= r->low && addr < r->high) {
			n = symbolizer__resolve(s, r->target + (addr - r->low), out, max);
			for (int j = 0; j < n; j++)
				out[j].addr = addr;
			return n;
		}
	}
	n = parse_addr(s, addr, out, max);
	return name_frames(s ? find_mod(s, addr) : NULL, addr, out, n);
}

/* Prefetched frames of one address, named and cached. */
struct prefetch {
	struct symbolizer *s;
	const uint64_t *addrs;
};

static void cache_frames(void *ctx, int i, struct frame *fr, int n)
{
	struct prefetch *p = ctx;
	uint64_t addr = p->addrs[i];
	struct frame all[SYMW_MAX_FRAMES + 1] = {};

	memcpy(all, fr, sizeof(*fr) * n);
	n = name_frames(find_mod(p->s, addr), addr, all, n);
	cache_put(p->s, addr, all, n);
	for (int k = 0; k < n; k++)
		frame_clear(&all[k]);
}

/* Code of a binary (not JIT, not a remapped copy) that is not cached. */
static bool wants_parse(struct symbolizer *s, uint64_t addr)
{
	const struct sym_cached *c = s->cache_size ? cache_slot(s, addr) : NULL;

	if (c && c->fr)
		return false;
	for (int i = 0; i < s->njit; i++)
		if (addr >= s->jit[i].low && addr < s->jit[i].high)
			return false;
	for (int i = 0; i < s->nremaps; i++)
		if (addr >= s->remaps[i].low && addr < s->remaps[i].high)
			return false;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted, each address once; the new count. */
static int unique_addrs(uint64_t *v, int n)
{
	int k = 0;

	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	for (int i = 0; i < n; i++)
		if (!k || v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

void symbolizer__prefetch(struct symbolizer *s, const uint64_t *addrs, int n)
{
	uint64_t *todo;
	int k = 0;

	if (!s || !s->w || !symworker__alive(s->w) || n < 1)
		return;
	worker_sync(s);
	if (!(todo = malloc(sizeof(*todo) * n)))
		return;
	for (int i = 0; i < n; i++)
		if (wants_parse(s, addrs[i]))
			todo[k++] = addrs[i];
	k = k ? unique_addrs(todo, k) : 0;
	if (k) {
		struct prefetch p = { s, todo };

		symworker__resolve(s->w, s->session, todo, k, cache_frames, &p);
	}
	free(todo);
}

const char *frame_kind_name(enum frame_kind k)
{
	static const char *const names[] = { "native", "jit", "php", "python", "js" };

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "native";
}

char *frame_format(const struct frame *f)
{
	char *s = NULL, *loc = NULL;
	const char *file = f->file ? base_name(f->file) : NULL;
	int r;

	if (file && f->line)
		r = asprintf(&loc, " (%s:%d%s)", file, f->line, f->line_is_def ? ", def line" : "");
	else if (file)
		r = asprintf(&loc, " (%s)", file);
	else
		r = asprintf(&loc, "%s", "");
	if (r < 0)
		return NULL;
	if (frame_is_interp(f))
		r = asprintf(&s, "%s%s", f->symbol ? f->symbol : "?", loc);
	else if (f->symbol && f->inlined)
		r = asprintf(&s, "%s%s [inlined]", f->symbol, loc);
	else if (f->symbol)
		r = asprintf(&s, "%s+0x%" PRIx64 "%s", f->symbol, f->offset, loc);
	else if (f->module)
		r = asprintf(&s, "%s+0x%" PRIx64 "%s", f->module, f->offset, loc);
	else
		r = asprintf(&s, "[unknown]+0x%" PRIx64, f->addr);
	free(loc);
	return r < 0 ? NULL : s;
}
