/* Allocator tracing: one uprobe per allocation function at entry (size,
 * caller) and a shared uretprobe (the block's address); free at entry.
 * Outstanding blocks and per-stack totals never leave the kernel until a
 * report reads them.
 *
 * The probes go where the process's malloc really is: a library or an
 * executable other than libc that defines malloc (jemalloc, tcmalloc,
 * mimalloc, a statically linked allocator) interposes libc's, so libc is
 * probed only when nothing else defines it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "array.h"
#include "bpfutil.h"
#include "memleak.h"
#include "memleak_malloc.h"
#include "output.h"
#include "procfs.h"

struct malloc_probes {
	struct bpf_link **links;
	int n;
	size_t cap;
	char *names;            /* "libjemalloc.so.2, ..." or NULL: none found */
};

enum fn_kind { FN_ALLOC, FN_FREE };

struct alloc_fn {
	const char *name;
	enum fn_kind kind;
};

/* Every entry point probed where defined. C++ new/delete count when the
 * allocator defines them (jemalloc, tcmalloc do: they do not go through
 * its malloc/free then); libstdc++'s new calls malloc, so there new only
 * gives the program's call site. Aligned new/delete are left out, as a
 * pair. */
static const struct alloc_fn fns[] = {
	{ "malloc", FN_ALLOC }, { "calloc", FN_ALLOC }, { "realloc", FN_ALLOC },
	{ "reallocarray", FN_ALLOC }, { "posix_memalign", FN_ALLOC }, { "aligned_alloc", FN_ALLOC },
	{ "memalign", FN_ALLOC }, { "valloc", FN_ALLOC }, { "pvalloc", FN_ALLOC },
	{ "mallocx", FN_ALLOC }, { "rallocx", FN_ALLOC },
	{ "_Znwm", FN_ALLOC }, { "_Znam", FN_ALLOC },
	{ "_ZnwmRKSt9nothrow_t", FN_ALLOC }, { "_ZnamRKSt9nothrow_t", FN_ALLOC },
	{ "free", FN_FREE }, { "sdallocx", FN_FREE }, { "dallocx", FN_FREE },
	{ "_ZdlPv", FN_FREE }, { "_ZdaPv", FN_FREE }, { "_ZdlPvm", FN_FREE }, { "_ZdaPvm", FN_FREE },
};
#define NFNS (sizeof(fns) / sizeof(fns[0]))
#define FN_BIT(i) (1u << (i))
#define HAVE_MALLOC FN_BIT(0)
#define HAVE_FREE FN_BIT(15)
/* libstdc++: operator new only (its delete calls free). */
#define CXX_NEW (FN_BIT(11) | FN_BIT(12))

static struct bpf_program *entry_prog(const struct malloc_bpf *skel, const char *name)
{
	struct { const char *fn; struct bpf_program *p; } map[] = {
		{ "calloc", skel->calloc_enter }, { "realloc", skel->realloc_enter },
		/* rallocx(ptr, size, flags): realloc's first two arguments. */
		{ "rallocx", skel->realloc_enter },
		{ "reallocarray", skel->reallocarray_enter },
		{ "posix_memalign", skel->posix_memalign_enter },
		{ "aligned_alloc", skel->memalign_enter },
		{ "memalign", skel->memalign_enter }, { "valloc", skel->valloc_enter },
		{ "pvalloc", skel->pvalloc_enter },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].fn, name))
			return map[i].p;
	/* malloc, mallocx(size, flags), operator new (size): the size first.
	 * free, sdallocx, dallocx, operator delete: the pointer first. */
	return skel->malloc_enter;
}

static int keep_link(struct malloc_probes *mp, struct bpf_link *l)
{
	ARRAY_GROW(mp->links, (size_t)mp->n, mp->cap, 32);
	mp->links[mp->n++] = l;
	return 0;
}

static int attach_fn(struct malloc_probes *mp, const struct malloc_bpf *skel, pid_t pid,
		     const char *binary, const struct alloc_fn *fn)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = fn->name);
	struct bpf_program *prog = fn->kind == FN_FREE ? skel->free_enter : entry_prog(skel, fn->name);
	struct bpf_link *l;

	l = bpf_program__attach_uprobe_opts(prog, pid, binary, 0, &opts);
	if (!l || keep_link(mp, l))
		goto fail;
	if (fn->kind == FN_FREE)
		return 0;
	opts.retprobe = true;
	l = bpf_program__attach_uprobe_opts(skel->alloc_return, pid, binary, 0, &opts);
	if (l && !keep_link(mp, l))
		return 0;
fail:
	die_msg("cannot attach a uprobe to %s in %s: %s", fn->name, binary, strerror(errno));
	bpf_link__destroy(l);
	return -1;
}

/* The fns[] an ELF file defines (functions, in .symtab or .dynsym): 0 if
 * it is not an ELF file or defines none. */
static uint32_t elf_defines(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint32_t have = 0;
	Elf_Scn *scn = NULL;
	Elf *e;

	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (e && elf_kind(e) == ELF_K_ELF && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;
			int type;

			if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF)
				continue;
			type = GELF_ST_TYPE(s.st_info);
			if (type != STT_FUNC && type != STT_GNU_IFUNC)
				continue;
			name = elf_strptr(e, sh.sh_link, s.st_name);
			for (size_t f = 0; name && f < NFNS; f++)
				if (!strcmp(name, fns[f].name))
					have |= FN_BIT(f);
		}
	}
	elf_end(e);
	close(fd);
	return have;
}

#define MAX_TARGETS 8

struct target {
	char *path;             /* as opened by this tool */
	char *label;            /* the base name of its path in maps */
	uint32_t have;
};

struct seek {
	pid_t pid;
	struct target alloc[MAX_TARGETS], libc, cxx;
	int nalloc;
	char **seen;
	size_t nseen, capseen;
};

static bool base_is(const char *path, const char *prefix)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return !strncmp(b, prefix, strlen(prefix));
}

static void target_set(struct target *t, const char *path, const char *name, uint32_t have)
{
	const char *b = strrchr(name, '/');

	t->path = strdup(path);
	t->label = strdup(b ? b + 1 : name);
	if (!t->path || !t->label)
		abort();
	t->have = have;
}

/* One candidate file (the executable or a library): libc, libstdc++, or
 * an allocator if it defines malloc and free. path opens it, name (its
 * path as the process knows it) says what it is. */
static void consider(struct seek *s, const char *path, const char *name)
{
	uint32_t have;

	if (base_is(name, "libc.so") || base_is(name, "libc-")) {
		if (!s->libc.path)
			target_set(&s->libc, path, name, elf_defines(path));
		return;
	}
	if (base_is(name, "libstdc++.so")) {
		if (!s->cxx.path)
			target_set(&s->cxx, path, name, elf_defines(path) & CXX_NEW);
		return;
	}
	/* The dynamic loader's own malloc is not the process's (ld-linux-x86-64.so.2;
	 * before glibc 2.34 also ld-2.31.so, which this name covers too). */
	if (base_is(name, "ld-") || s->nalloc == MAX_TARGETS)
		return;
	have = elf_defines(path);
	if ((have & (HAVE_MALLOC | HAVE_FREE)) == (HAVE_MALLOC | HAVE_FREE))
		target_set(&s->alloc[s->nalloc++], path, name, have);
}

/* Each executable mapping's file once, opened as mapped (containers,
 * chroots). */
static int on_map(const struct map_entry *m, void *ctx)
{
	struct seek *s = ctx;
	char path[PATH_MAX];

	if (m->perms[2] != 'x' || m->path[0] != '/' || strstr(m->path, " (deleted)"))
		return 0;
	for (size_t i = 0; i < s->nseen; i++)
		if (!strcmp(s->seen[i], m->path))
			return 0;
	ARRAY_GROW(s->seen, s->nseen, s->capseen, 8);
	if (!(s->seen[s->nseen++] = strdup(m->path)))
		abort();
	if (proc_map_file(s->pid, m, path, sizeof(path)))
		consider(s, path, m->path);
	return 0;
}

/* A library named in DT_NEEDED or LD_PRELOAD, found the way the dynamic
 * linker usually does (enough for the host's allocator packages). */
static void consider_lib(struct seek *s, const char *name)
{
	static const char *dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
				      "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
				      "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib" };
	char path[PATH_MAX];

	if (strchr(name, '/')) {
		consider(s, name, name);
		return;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (!access(path, R_OK)) {
			consider(s, path, path);
			return;
		}
	}
}

static void consider_needed(struct seek *s, const char *exe)
{
	int fd = open(exe, O_RDONLY | O_CLOEXEC);
	Elf_Scn *scn = NULL;
	Elf *e;

	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (e && elf_kind(e) == ELF_K_ELF && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Dyn dyn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		d = elf_getdata(scn, NULL);
		for (int i = 0; d && gelf_getdyn(d, i, &dyn) && dyn.d_tag != DT_NULL; i++) {
			const char *n = dyn.d_tag == DT_NEEDED ? elf_strptr(e, sh.sh_link, dyn.d_un.d_val)
							       : NULL;
			if (n)
				consider_lib(s, n);
		}
	}
	elf_end(e);
	close(fd);
}

/* A command not exec'd yet: its executable, what it preloads (this
 * tool's environment is the command's) and what it links directly. */
static void seek_command(struct seek *s, const char *cmd)
{
	const char *pre = getenv("LD_PRELOAD");
	char exe[PATH_MAX] = "", *dup, *tok, *save;

	if (strchr(cmd, '/')) {
		snprintf(exe, sizeof(exe), "%s", cmd);
	} else {
		char *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");

		for (tok = strtok_r(path, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
			snprintf(exe, sizeof(exe), "%s/%s", tok, cmd);
			if (!access(exe, X_OK))
				break;
			exe[0] = 0;
		}
		free(path);
	}
	if (pre && (dup = strdup(pre))) {
		for (tok = strtok_r(dup, " :", &save); tok; tok = strtok_r(NULL, " :", &save))
			consider_lib(s, tok);
		free(dup);
	}
	if (exe[0]) {
		consider(s, exe, exe);
		consider_needed(s, exe);
	} else {
		/* execvp will say it is not there; guess the usual. */
		consider_lib(s, "libc.so.6");
	}
}

static void target_free(struct target *t)
{
	free(t->path);
	free(t->label);
}

static void seek_free(struct seek *s)
{
	for (int i = 0; i < s->nalloc; i++)
		target_free(&s->alloc[i]);
	target_free(&s->libc);
	target_free(&s->cxx);
	for (size_t i = 0; i < s->nseen; i++)
		free(s->seen[i]);
	free(s->seen);
}

static int attach_target(struct malloc_probes *mp, const struct malloc_bpf *skel, pid_t pid,
			 const struct target *t)
{
	for (size_t f = 0; f < NFNS; f++)
		if ((t->have & FN_BIT(f)) && attach_fn(mp, skel, pid, t->path, &fns[f]))
			return -1;
	return 0;
}

static void add_name(struct malloc_probes *mp, const char *label)
{
	char *n;

	if (asprintf(&n, "%s%s%s", mp->names ? mp->names : "", mp->names ? ", " : "", label) < 0)
		abort();
	free(mp->names);
	mp->names = n;
}

struct malloc_probes *malloc_probes__attach(const struct malloc_bpf *skel, pid_t pid, const char *cmd,
					    bool verbose)
{
	struct malloc_probes *mp = calloc(1, sizeof(*mp));
	struct seek s = { .pid = pid };
	int err = 0;

	if (!mp)
		return NULL;
	if (cmd)
		seek_command(&s, cmd);
	else
		proc_maps(pid, on_map, &s);
	for (int i = 0; i < s.nalloc && !err; i++) {
		err = attach_target(mp, skel, pid, &s.alloc[i]);
		add_name(mp, s.alloc[i].label);
	}
	/* libc's malloc is interposed by any allocator found above. */
	if (!s.nalloc && s.libc.path && (s.libc.have & HAVE_MALLOC)) {
		err = attach_target(mp, skel, pid, &s.libc);
		add_name(mp, s.libc.label);
	}
	if (!err && mp->names && s.cxx.path)
		err = attach_target(mp, skel, pid, &s.cxx);
	if (verbose && mp->names)
		warn_msg("%d allocator probes", mp->n);
	seek_free(&s);
	if (err) {
		malloc_probes__free(mp);
		return NULL;
	}
	return mp;
}

const char *malloc_probes__names(const struct malloc_probes *mp)
{
	return mp ? mp->names : NULL;
}

static void *destroy_one(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/* Each uprobe or tracepoint link's release waits for its own RCU grace
 * period (~120 ms per uprobe here): one after the other, 23 of them took
 * 2.8 s. On a thread each, the waits overlap. */
void links_destroy(struct bpf_link **links, int n)
{
	pthread_t *th = calloc(n > 0 ? n : 1, sizeof(*th));
	bool *started = calloc(n > 0 ? n : 1, sizeof(*started));

	for (int i = 0; i < n; i++) {
		if (!links[i])
			continue;
		started[i] = th && started && !pthread_create(&th[i], NULL, destroy_one, links[i]);
		if (!started[i])
			bpf_link__destroy(links[i]);
	}
	for (int i = 0; i < n && started; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	free(th);
	free(started);
}

void malloc_probes__free(struct malloc_probes *mp)
{
	if (!mp)
		return;
	links_destroy(mp->links, mp->n);
	free(mp->links);
	free(mp->names);
	free(mp);
}

/* Calls, from weights in 1/SAMPLE_ONE (alloc_info.weight), rounded. */
static uint64_t weight_calls(uint64_t weight)
{
	return (weight + SAMPLE_ONE / 2) / SAMPLE_ONE;
}

struct sync_ctx {
	const struct malloc_bpf *skel;
	struct tracker *t;
};

static void sync_one(const void *key, const void *val, void *ctx)
{
	const struct alloc_key *k = key;
	const struct alloc_agg *agg = val;
	struct sync_ctx *c = ctx;
	/* tracker_stack may move t->stacks: index after the call. */
	uint32_t o = tracker_stack(c->t, k->stack_id, k->ret_addr, k->site, k->interp, MK_MALLOC);

	tracker_stack_bytes(c->t, o, (int64_t)agg->bytes);
	c->t->stacks[o].alloc_bytes = agg->total_bytes;
	c->t->stacks[o].alloc_count = weight_calls(agg->total_allocs);
}

void malloc_sync(const struct malloc_bpf *skel, struct tracker *t)
{
	struct sync_ctx c = { skel, t };

	t->now_ns = mono_ns();  /* when the peaks below were seen */
	bpf_map_each(skel->aggs_fd, sizeof(struct alloc_key), sizeof(struct alloc_agg), sync_one, &c);
}

struct collect_ctx {
	struct tracker *t;
	struct stack_acc *acc;
	uint64_t *weight;  /* per stack, the blocks' weights summed */
	uint32_t n;
	uint64_t now_ns, min_age_ns;
};

static void collect_one(const void *key, const void *val, void *ctx)
{
	const struct alloc_info *a = val;
	struct collect_ctx *c = ctx;
	struct stack_acc *s;
	uint32_t o;

	(void)key;
	if (c->now_ns > a->ts && c->now_ns - a->ts < c->min_age_ns)
		return;
	o = tracker_stack(c->t, a->key.stack_id, a->key.ret_addr, a->key.site, a->key.interp,
			  MK_MALLOC);
	if (o >= c->n)
		return;
	s = &c->acc[o];
	s->bytes += a->size * a->weight / SAMPLE_ONE;
	s->traced++;
	c->weight[o] += a->weight;
	if (!s->oldest_ts || a->ts < s->oldest_ts)
		s->oldest_ts = a->ts;
}

/* Every outstanding block, in batches (bpf_map_each). */
void malloc_collect(const struct malloc_bpf *skel, struct tracker *t, struct stack_acc *acc, uint32_t n,
		    uint64_t now_ns, uint64_t min_age_ns)
{
	struct collect_ctx c = { t, acc, calloc(n ? n : 1, sizeof(*c.weight)), n, now_ns, min_age_ns };

	if (!c.weight)
		abort();
	bpf_map_each(skel->allocs_fd, sizeof(__u64), sizeof(struct alloc_info), collect_one, &c);
	/* Rounded once per stack, not per block: at --sample 4 a block of
	 * 1.6 pages stands for 2.5 calls, which would round up each time. */
	for (uint32_t i = 0; i < n; i++)
		acc[i].count += weight_calls(c.weight[i]);
	free(c.weight);
}
