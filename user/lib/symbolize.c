/* Symbolization of user addresses with libdwfl.
 *
 * Modules are reported from /proc/PID/maps ourselves instead of with
 * dwfl_linux_proc_report, because the paths in maps are seen from the
 * target's mount namespace: each binary is opened through /proc/PID/root
 * (containers) or, when it was deleted or replaced, through
 * /proc/PID/map_files (the very inode still mapped). The original path is
 * kept for display. Separate debug files come from libdwfl's standard
 * lookup (build-id under /usr/lib/debug/.build-id, then .gnu_debuglink).
 *
 * Addresses are resolved as given: callers holding return addresses should
 * pass ret - 1 so that the call instruction (not the next line) is found. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
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
#include "golines.h"
#include "jvm.h"
#include "modtab.h"
#include "perfmap.h"
#include "symbolize.h"

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
};

struct reported {
	uint64_t ino, start, low, high;
	unsigned int dev_major, dev_minor;
	bool seen;              /* in the report being made */
};

struct sym_cached {
	uint64_t addr;
	struct frame *fr;       /* NULL: empty slot */
	int n;
};

#define JIT_MODULE "JIT"

static char *debuginfo_path;
static const Dwfl_Callbacks dwfl_cbs = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* C++ names: libstdc++'s demangler, looked up at run time so that the C
 * tools need not link libstdc++; without it names stay mangled. */
typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);
static char *demangle(const char *name)
{
	static demangle_fn fn;
	static int tried;

	if (!name)
		return NULL;
	if (!tried) {
		void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);

		tried = 1;
		if (h)
			fn = (demangle_fn)dlsym(h, "__cxa_demangle");
	}
	if (fn && name[0] == '_' && name[1] == 'Z') {
		int status = 0;
		char *d = fn(name, NULL, NULL, &status);

		if (d && status == 0)
			return d;
		free(d);
	}
	/* "__libc_start_main@@GLIBC_2.34": the symbol version is linker
	 * bookkeeping, not part of the name a reader looks for. */
	return strndup(name, strcspn(name, "@"));
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The file behind one maps line, openable from our namespace. */
static char *open_path(pid_t pid, uint64_t start, uint64_t end, const char *path,
		       int deleted)
{
	char *p = NULL;
	struct stat st;

	if (!deleted) {
		if (asprintf(&p, "/proc/%d/root%s", pid, path) < 0)
			return NULL;
		if (stat(p, &st) == 0)
			return p;
		free(p);
	}
	if (asprintf(&p, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, start, end) < 0)
		return NULL;
	return p;
}

#define MAX_SEGS 16

struct pending {
	uint64_t low, high, ino;
	char *path;             /* as in maps, without " (deleted)" */
	char *open;             /* what libdwfl opens */
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

static void add_module(struct symbolizer *s, struct pending *pm)
{
	struct sym_module *m;

	if (!pm->path)
		return;
	if (dwfl_report_module(s->dwfl, pm->open, pm->low, pm->high)) {
		m = ARRAY_GROW(s->mods, (size_t)s->nmods, s->capmods, 16);
		m[s->nmods].low = pm->low;
		m[s->nmods].high = pm->high;
		m[s->nmods].name = strdup(base_name(pm->path));
		m[s->nmods].unverified = false;
		s->nmods++;
	}
	free(pm->path);
	free(pm->open);
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

static int open_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		       void *arg)
{
	Dwarf_Addr bias;

	(void)userdata, (void)name, (void)base, (void)arg;
	dwfl_module_getelf(mod, &bias);
	return DWARF_CB_OK;
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

/* The mapped file itself, opened read-only: the one held since its
 * record came, or the very inode while the process lives (map_files),
 * else by its path in the process's root or on the host, only if device
 * and inode are the mapped ones: never parse a different file than the
 * one mapped. -1 if none is. */
static int open_verified(pid_t pid, const struct modtab_ent *e, char **opened)
{
	char *tries[3] = {};
	int fd = -1;

	if (asprintf(&tries[0], "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, e->start,
		     e->end) < 0 ||
	    asprintf(&tries[1], "/proc/%d/root%s", pid, e->path) < 0 ||
	    !(tries[2] = strdup(e->path)))
		abort();
	if (e->fd >= 0 && (fd = dup(e->fd)) >= 0)
		*opened = tries[0], tries[0] = NULL;
	for (int i = 0; i < 3 && fd < 0; i++) {
		fd = open(tries[i], O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && !modtab_same_file(e, fd)) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			*opened = tries[i], tries[i] = NULL;
	}
	for (int i = 0; i < 3; i++)
		free(tries[i]);
	return fd;
}

/* The load bias of the ELF file in fd mapped as e: the PT_LOAD segment
 * holding e's file offset lies at e->start. */
static bool elf_bias(int fd, const struct modtab_ent *e, uint64_t *bias)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	size_t n = 0;
	bool found = false;

	if (!elf || elf_getphdrnum(elf, &n) != 0)
		n = 0;
	for (size_t i = 0; i < n && !found; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* The kernel maps a segment from its offset rounded down to a page. */
		if (e->pgoff + page > ph.p_offset && e->pgoff < ph.p_offset + ph.p_filesz) {
			*bias = e->start - (ph.p_vaddr - ph.p_offset + e->pgoff);
			found = true;
		}
	}
	if (elf)
		elf_end(elf);
	return found;
}

static void keep_module(struct symbolizer *s, uint64_t low, uint64_t high, const char *path,
			bool unverified)
{
	struct sym_module *m = ARRAY_GROW(s->mods, (size_t)s->nmods, s->capmods, 16);

	m[s->nmods] = (struct sym_module){ low, high, strdup(base_name(path)), unverified };
	s->nmods++;
}

static struct reported *find_reported(struct symbolizer *s, const struct modtab_ent *e)
{
	for (size_t i = 0; i < s->nreported; i++) {
		struct reported *r = &s->reported[i];

		if (r->ino == e->ino && r->start == e->start && r->dev_major == e->dev_major &&
		    r->dev_minor == e->dev_minor) {
			r->seen = true;
			return r;
		}
	}
	return NULL;
}

static void remember_reported(struct symbolizer *s, const struct modtab_ent *e,
			      Dwfl_Module *mod)
{
	Dwarf_Addr low = 0, high = 0;
	struct reported *r;

	dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	r = ARRAY_GROW(s->reported, s->nreported, s->capreported, 8);
	r[s->nreported++] = (struct reported){ e->ino, e->start, low, high, e->dev_major,
					       e->dev_minor, true };
}

/* A file of the previous report: the same module again, by its range
 * (only one libdwfl still holds: a module it dropped would come back
 * without its ELF, and libdwfl would look for one by its name). */
static Dwfl_Module *report_again(struct symbolizer *s, const struct modtab_ent *e)
{
	const struct reported *r = find_reported(s, e);

	return r ? dwfl_report_module(s->dwfl, base_name(e->path), r->low, r->high) : NULL;
}

/* One module of the table: its ELF file if it can be verified, else its
 * name and range only. */
static void report_entry(struct symbolizer *s, const struct modtab_ent *e)
{
	Dwfl_Module *mod = report_again(s, e);
	char *opened = NULL;
	int fd = -1;
	uint64_t bias = 0;

	if (!mod && (fd = open_verified(s->pid, e, &opened)) >= 0 && elf_bias(fd, e, &bias)) {
		mod = dwfl_report_elf(s->dwfl, base_name(e->path), opened, fd, bias, true);
		if (mod) {
			fd = -1;        /* libdwfl's now */
			remember_reported(s, e, mod);
		}
	}
	if (mod) {
		Dwarf_Addr low, high;

		dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
		keep_module(s, low, high, e->path, false);
	} else {
		keep_module(s, e->start - e->pgoff, e->end, e->path, true);
	}
	if (fd >= 0)
		close(fd);
	free(opened);
}

/* The modules from the table kept from BPF records: the process is gone. */
static void report_modtab(struct symbolizer *s)
{
	size_t k = 0;

	dwfl_report_begin(s->dwfl);
	free_mods(s);
	for (size_t i = 0; i < s->nreported; i++)
		s->reported[i].seen = false;
	for (size_t i = 0; i < s->mt->n; i++) {
		const struct modtab_ent *e = &s->mt->v[i];
		size_t j;

		/* One module per file (a second mapping of it is a copy). */
		for (j = 0; j < i; j++)
			if (s->mt->v[j].ino == e->ino && s->mt->v[j].dev_major == e->dev_major &&
			    s->mt->v[j].dev_minor == e->dev_minor)
				break;
		if (j == i)
			report_entry(s, e);
	}
	dwfl_report_end(s->dwfl, NULL, NULL);
	for (size_t i = 0; i < s->nreported; i++)
		if (s->reported[i].seen)
			s->reported[k++] = s->reported[i];
	s->nreported = k;
	s->from_modtab = true;
	s->mt_gen = s->mt->gen;
}

static int report_maps(struct symbolizer *s);

/* From /proc/PID/maps while the process has one (it also shows JIT code
 * and remapped pages); from the module table once it is gone, and only
 * when the table changed since the modules were last reported. */
static int report(struct symbolizer *s)
{
	int err = report_maps(s);

	if (err == 0) {
		s->from_modtab = false;
		s->mt_gen = s->mt ? s->mt->gen : 0;
		return 0;
	}
	if (!s->mt || !s->mt->n)
		return err;
	if ((s->nmods || s->from_modtab) && s->mt_gen == s->mt->gen)
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
	dwfl_report_begin(s->dwfl);
	free_mods(s);
	s->nreported = 0;       /* this report drops the table's modules */
	while (getline(&line, &cap, f) > 0) {
		uint64_t start, end, off, ino;
		char perms[8];
		int pos = 0, deleted;
		char *path, *nl;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %" SCNu64 " %n",
			   &start, &end, perms, &off, &ino, &pos) < 5 || !pos)
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
		deleted = 0;
		if (strlen(path) > 10 && !strcmp(path + strlen(path) - 10, " (deleted)")) {
			path[strlen(path) - 10] = 0;
			deleted = 1;
		}
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
		pm.ino = ino;
		pm.path = strdup(path);
		pm.open = open_path(s->pid, start, end, path, deleted);
		if (!pm.open) {
			free(pm.path);
			pm.path = NULL;
		}
	}
	add_module(s, &pm);
	free(line);
	fclose(f);
	free(text);
	dwfl_report_end(s->dwfl, NULL, NULL);
	/* Open every file now, while /proc/PID/root and map_files still lead
	 * to it: the process may have exited by the time we resolve. */
	dwfl_getmodules(s->dwfl, open_module, NULL, 0);
	return 0;
}

struct symbolizer *symbolizer__new(pid_t pid)
{
	return symbolizer__new_with(pid, NULL);
}

struct symbolizer *symbolizer__new_with(pid_t pid, const struct modtab *mt)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->pid = pid;
	s->mt = mt;
	s->dwfl = dwfl_begin(&dwfl_cbs);
	if (!s->dwfl || report(s) < 0) {
		symbolizer__free(s);
		return NULL;
	}
	return s;
}

int symbolizer__refresh(struct symbolizer *s)
{
	return s ? report(s) : -EINVAL;
}

struct Dwfl *symbolizer__dwfl(struct symbolizer *s)
{
	return s ? s->dwfl : NULL;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	if (s->dwfl)
		dwfl_end(s->dwfl);
	free_mods(s);
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

/* The name of a subprogram or inlined instance, following
 * abstract_origin/specification; the linkage name demangles best. */
static char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *n = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		n = dwarf_formstring(&attr);
	if (!n)
		n = dwarf_diename(die);
	if (!n && dwarf_attr_integrate(die, DW_AT_name, &attr))
		n = dwarf_formstring(&attr);
	return n ? demangle(n) : NULL;
}

static char *call_site(Dwarf_Die *cudie, Dwarf_Die *inl, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word fidx = 0, lno = 0;
	Dwarf_Files *files;
	size_t nfiles;
	const char *name;

	*line = 0;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &lno) == 0)
		*line = (int)lno;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &fidx) != 0)
		return NULL;
	if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0 || fidx >= nfiles)
		return NULL;
	name = dwarf_filesrc(files, fidx, NULL, NULL);
	return name ? strdup(name) : NULL;
}

/* Inlined frames from debug info: scopes[] runs from the innermost
 * scope outwards; each inlined_subroutine is one frame whose caller's
 * position is that scope's call_file/call_line. Returns frames filled
 * (the outermost function is left for the caller to fill). */
static int inline_frames(Dwfl_Module *mod, uint64_t addr, struct frame *out, int max,
			 char **file, int *line)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cudie = dwfl_module_addrdie(mod, addr, &bias);
	Dwarf_Die *scopes = NULL;
	int n, filled = 0;

	if (!cudie)
		return 0;
	n = dwarf_getscopes(cudie, addr - bias, &scopes);
	for (int i = 0; i < n && filled < max - 1; i++) {
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		out[filled].addr = addr;
		out[filled].symbol = die_name(&scopes[i]);
		out[filled].file = *file;
		out[filled].line = *line;
		out[filled].inlined = true;
		filled++;
		/* The enclosing scope is positioned at this call site. */
		*file = call_site(cudie, &scopes[i], line);
	}
	free(scopes);
	return filled;
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
	if (jvm__dump_perfmap(s->jvm, why, sizeof(why)) == 0 || s->said_dump_failed)
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

static int resolve_uncached(struct symbolizer *s, uint64_t addr, struct frame *out, int max)
{
	const struct sym_module *sm = s ? find_mod(s, addr) : NULL;
	Dwfl_Module *mod = s ? dwfl_addrmodule(s->dwfl, addr) : NULL;
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name = NULL;
	Dwfl_Line *dl;
	char *file = NULL;
	int line = 0, n = 0;
	struct frame *last;

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
	if (mod) {
		name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
		dl = dwfl_module_getsrc(mod, addr);
		if (dl) {
			const char *src = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);

			file = src ? strdup(src) : NULL;
		}
		n = inline_frames(mod, addr, out, max, &file, &line);
	}
	last = &out[n];
	last->addr = addr;
	last->module = sm ? strdup(sm->name) : NULL;
	last->unverified = sm && sm->unverified;
	if (name) {
		last->symbol = demangle(name);
		last->offset = off;
	} else if (mod) {
		Dwarf_Addr bias = 0;

		/* The ELF address, what addr2line -e MODULE takes. */
		last->offset = dwfl_module_getelf(mod, &bias) ? addr - bias : addr - sm_low(sm);
	} else {
		last->offset = addr - sm_low(sm);
	}
	last->file = file;
	last->line = line;
	/* Go: names of a stripped binary, and lines libdw cannot find. */
	if (mod)
		golines_fill(&s->go, mod, addr, last);
	for (int i = 0; i < n; i++)
		out[i].module = last->module ? strdup(last->module) : NULL;
	return n + 1;
}

const char *frame_kind_name(enum frame_kind k)
{
	static const char *const names[] = { "native", "jit", "php", "python" };

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
	if (f->kind == FRAME_PHP || f->kind == FRAME_PYTHON)
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
