/* Allocator tracing: one uprobe per allocation function at entry (size,
 * caller) and a shared uretprobe (the block's address); free at entry.
 * Outstanding blocks and per-stack totals never leave the kernel until a
 * report reads them. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "memleak.h"
#include "memleak_malloc.h"
#include "output.h"
#include "procfs.h"

struct malloc_probes {
	struct bpf_link **links;
	int n, cap;
};

struct alloc_fn {
	const char *name;
	bool required;
	bool has_return;
};

static struct bpf_program *entry_prog(const struct malloc_bpf *skel, const char *name)
{
	struct { const char *fn; struct bpf_program *p; } map[] = {
		{ "malloc", skel->malloc_enter }, { "calloc", skel->calloc_enter },
		{ "realloc", skel->realloc_enter },
		{ "reallocarray", skel->reallocarray_enter },
		{ "posix_memalign", skel->posix_memalign_enter },
		{ "aligned_alloc", skel->memalign_enter },
		{ "memalign", skel->memalign_enter }, { "valloc", skel->valloc_enter },
		{ "pvalloc", skel->pvalloc_enter }, { "free", skel->free_enter },
		/* operator new / new[]: the caller of new is the culprit. */
		{ "_Znwm", skel->malloc_enter }, { "_Znam", skel->malloc_enter },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].fn, name))
			return map[i].p;
	return NULL;
}

static int keep_link(struct malloc_probes *mp, struct bpf_link *l)
{
	if (mp->n == mp->cap) {
		int cap = mp->cap ? mp->cap * 2 : 32;
		struct bpf_link **v = realloc(mp->links, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		mp->links = v;
		mp->cap = cap;
	}
	mp->links[mp->n++] = l;
	return 0;
}

static int attach_fn(struct malloc_probes *mp, const struct malloc_bpf *skel, pid_t pid,
		     const char *binary, const struct alloc_fn *fn, bool verbose)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = fn->name);
	struct bpf_link *l;

	l = bpf_program__attach_uprobe_opts(entry_prog(skel, fn->name), pid, binary, 0, &opts);
	if (!l) {
		if (fn->required)
			die_msg("cannot attach a uprobe to %s in %s: %s", fn->name, binary,
				strerror(errno));
		else if (verbose)
			warn_msg("no uprobe on %s in %s: %s", fn->name, binary, strerror(errno));
		return fn->required ? -1 : 0;
	}
	keep_link(mp, l);
	if (!fn->has_return)
		return 0;
	opts.retprobe = true;
	l = bpf_program__attach_uprobe_opts(skel->alloc_return, pid, binary, 0, &opts);
	if (!l) {
		die_msg("cannot attach a uretprobe to %s in %s: %s", fn->name, binary, strerror(errno));
		return -1;
	}
	return keep_link(mp, l);
}

struct lib_seek {
	char *libc, *libstdcxx;
	pid_t pid;
};

static bool lib_is(const char *path, const char *base)
{
	const char *b = strrchr(path, '/');

	return b && !strncmp(b + 1, base, strlen(base));
}

static int find_libs(const struct map_entry *m, void *ctx)
{
	struct lib_seek *s = ctx;
	char **slot = NULL;

	if (lib_is(m->path, "libc.so") || lib_is(m->path, "libc-"))
		slot = &s->libc;
	else if (lib_is(m->path, "libstdc++.so"))
		slot = &s->libstdcxx;
	/* The path as the target sees it, opened through its root. */
	if (slot && !*slot && asprintf(slot, "/proc/%d/root%s", s->pid, m->path) < 0)
		*slot = NULL;
	return 0;
}

struct malloc_probes *malloc_probes__attach(const struct malloc_bpf *skel, pid_t pid, bool launched,
					    bool verbose)
{
	static const struct alloc_fn libc_fns[] = {
		{ "malloc", true, true }, { "free", true, false }, { "calloc", true, true },
		{ "realloc", true, true }, { "reallocarray", false, true },
		{ "posix_memalign", false, true }, { "aligned_alloc", false, true },
		{ "memalign", false, true }, { "valloc", false, true }, { "pvalloc", false, true },
	};
	static const struct alloc_fn cxx_fns[] = { { "_Znwm", false, true }, { "_Znam", false, true } };
	struct malloc_probes *mp = calloc(1, sizeof(*mp));
	struct lib_seek s = { .pid = pid };
	const char *libc, *cxx;
	char exe[64];

	if (!mp)
		return NULL;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	if (launched) {
		/* Not exec'd yet: libbpf finds these in the linker's paths. */
		libc = "libc.so.6";
		cxx = "libstdc++.so.6";
	} else {
		proc_maps(pid, find_libs, &s);
		/* A static binary carries its own allocator. */
		libc = s.libc ? s.libc : exe;
		cxx = s.libstdcxx;
	}
	for (size_t i = 0; i < sizeof(libc_fns) / sizeof(libc_fns[0]); i++)
		if (attach_fn(mp, skel, pid, libc, &libc_fns[i], verbose))
			goto fail;
	for (size_t i = 0; cxx && i < sizeof(cxx_fns) / sizeof(cxx_fns[0]); i++)
		attach_fn(mp, skel, pid, cxx, &cxx_fns[i], verbose);
	free(s.libc);
	free(s.libstdcxx);
	return mp;
fail:
	free(s.libc);
	free(s.libstdcxx);
	malloc_probes__free(mp);
	return NULL;
}

void malloc_probes__free(struct malloc_probes *mp)
{
	if (!mp)
		return;
	for (int i = 0; i < mp->n; i++)
		bpf_link__destroy(mp->links[i]);
	free(mp->links);
	free(mp);
}

void malloc_sync(const struct malloc_bpf *skel, struct tracker *t)
{
	int fd = skel->aggs_fd;
	struct alloc_key key, next;
	struct alloc_agg agg;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &agg))
			continue;
		/* tracker_stack may move t->stacks: index after the call. */
		uint32_t o = tracker_stack(t, key.stack_id, key.ret_addr, MK_MALLOC);

		t->stacks[o].bytes = (int64_t)agg.bytes;
	}
}

#define BATCH 4096

/* Every outstanding block, in batches: one syscall per 4096 blocks, so a
 * million outstanding allocations take a few hundred milliseconds. */
void malloc_collect(const struct malloc_bpf *skel, struct tracker *t, struct stack_acc *acc, uint32_t n,
		    uint64_t now_ns, uint64_t min_age_ns)
{
	int fd = skel->allocs_fd;
	static __u64 keys[BATCH];
	static struct alloc_info vals[BATCH];
	__u64 in = 0, out = 0;
	bool first = true;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	for (;;) {
		__u32 count = BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, &opts);

		if (err && errno != ENOENT)
			break;
		for (__u32 i = 0; i < count; i++) {
			const struct alloc_info *a = &vals[i];
			uint32_t o;
			struct stack_acc *s;

			if (now_ns > a->ts && now_ns - a->ts < min_age_ns)
				continue;
			o = tracker_stack(t, a->key.stack_id, a->key.ret_addr, MK_MALLOC);
			if (o >= n)
				continue;
			s = &acc[o];
			s->bytes += a->size;
			s->count++;
			if (!s->oldest_ts || a->ts < s->oldest_ts)
				s->oldest_ts = a->ts;
		}
		if (err)
			break;
		in = out;
		first = false;
	}
}
