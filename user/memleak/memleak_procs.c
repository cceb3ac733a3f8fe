/* memleak-trace: the set of traced processes (see memleak_procs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "ending.h"
#include "interpreters.h"
#include "memleak_procs.h"
#include "procfs.h"
#include "unwind.h"

static void remember_comm(struct mproc *p)
{
	char *c = proc_comm(p->t.pid);

	if (c) {
		free(p->comm);
		p->comm = c;
	}
}

/* The process's symbolizer: the unwinder's when DWARF stacks are wanted
 * and the process can have one (x86_64), a plain one otherwise. */
static void open_symbols(struct mproc *p, bool dwarf)
{
	if (dwarf)
		p->unw = unwinder__new_with(p->t.pid, &p->mods);
	p->sym = p->unw ? unwinder__symbolizer(p->unw) : symbolizer__new_with(p->t.pid, &p->mods);
}

static struct mproc *mproc_new(const struct procset *ps, pid_t pid, bool read_proc)
{
	struct mproc *p = calloc(1, sizeof(*p));
	bool dwarf = ps->dwarf;

	if (!p || tracker_init(&p->t, pid, mono_ns()))
		abort();
	p->cs = callsites__new(&ps->cs_opts);
	modtab_init(&p->mods);
	if (read_proc) {
		tracker_seed_brk(&p->t);
		modtab_seed_maps(&p->mods, pid);
		open_symbols(p, dwarf);
		/* A JVM is said (and its map dumped) before tracing starts. */
		symbolizer__jit_refresh(p->sym, ps->jvm_perfmap);
	}
	remember_comm(p);
	return p;
}

static void mproc_free(struct mproc *p)
{
	if (p->unw)
		unwinder__free(p->unw);
	else
		symbolizer__free(p->sym);
	callsites__free(p->cs);
	modtab_fini(&p->mods);
	tracker_fini(&p->t);
	free(p->comm);
	free(p);
}

struct mproc *procset_find(struct procset *ps, pid_t pid)
{
	/* Records come in runs from one process: try the last one first. */
	if (ps->last < ps->n && ps->v[ps->last]->t.pid == pid)
		return ps->v[ps->last];
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i]->t.pid == pid)
			return ps->v[ps->last = i];
	return NULL;
}

struct mproc *procset_find_unended(struct procset *ps, pid_t pid)
{
	for (size_t i = 0; i < ps->nended; i++)
		if (ps->ended[i]->t.pid == pid && !(ps->ended[i]->ending.flags & ENDING_SEEN))
			return ps->ended[i];
	return NULL;
}

void procset_late_exit(struct procset *ps, struct mproc *p, const struct mm_exit_event *e)
{
	p->ending = e->ending;
	ps->oom_kills += ending_decode(&p->ending).kind == ENDING_OOM_KILL;
}

struct mproc *procset_add(struct procset *ps, pid_t pid, bool read_proc)
{
	ARRAY_GROW(ps->v, ps->n, ps->cap, 8);
	ps->v[ps->n] = mproc_new(ps, pid, read_proc);
	ps->v[ps->n]->t.pages = ps->pages;
	if (read_proc)
		interp__attach(ps->interp, pid);
	return ps->v[ps->n++];
}

/* New code was mapped (or a new program): read the mappings again. */
static void sync_maps(struct procset *ps, struct mproc *p)
{
	if (!p->t.maps_changed)
		return;
	p->t.maps_changed = false;
	if (!p->sym)
		open_symbols(p, ps->dwarf);
	else
		symbolizer__refresh(p->sym);
	/* A launched command is an interpreter only from its exec. */
	interp__forget(ps->interp, p->t.pid);
	interp__attach(ps->interp, p->t.pid);
	remember_comm(p);
}

void mproc_record(struct procset *ps, struct mproc *p, const void *rec, size_t size)
{
	const struct mm_unmap_event *u = rec;
	bool unmap_sized = size >= sizeof(*u);

	if (size < MM_EV_HEAD)
		return;
	switch (u->type) {
	case MM_EV_STACK:
		/* The code mapped in this same drain (a library just loaded,
		 * a command just exec'd) must be known to unwind through it. */
		sync_maps(ps, p);
		callsites__record(p->cs, p->unw, rec, size);
		break;
	case MM_EV_UNMAP:
		if (unmap_sized) {
			tracker_munmap(&p->t, rec);
			modtab_unmap(&p->mods, u->addr, u->len);
		}
		break;
	case MM_EV_EXEC:
		tracker_exec(&p->t);
		modtab_reset(&p->mods);
		break;
	case MM_EV_MODULE:
		modtab_record(&p->mods, rec, size);
		p->t.maps_changed = true;
		break;
	case MM_EV_MAP:
		if (size >= sizeof(struct mm_map_event))
			tracker_mmap(&p->t, rec);
		break;
	case MM_EV_REMAP:
		if (size >= sizeof(struct mm_remap_event))
			tracker_mremap(&p->t, rec);
		break;
	case MM_EV_BRK:
		if (size >= sizeof(struct mm_map_event))
			tracker_brk(&p->t, rec);
		break;
	case MM_EV_FAULT:
		if (size >= sizeof(struct mm_map_event))
			tracker_fault(&p->t, rec);
		break;
	case MM_EV_GIVEBACK:
		if (unmap_sized)
			tracker_giveback(&p->t, rec);
		break;
	case MM_EV_EXIT:
		if (size >= sizeof(struct mm_exit_event)) {
			p->ending = ((const struct mm_exit_event *)rec)->ending;
			p->exit_ns = mono_ns();
		}
		break;
	}
}

void procset_poll(struct procset *ps, uint64_t now_ns)
{
	for (size_t i = 0; i < ps->n; i++) {
		sync_maps(ps, ps->v[i]);
		tracker_tick(&ps->v[i]->t, now_ns);
	}
}

/* An exit record (MM_EV_EXIT) may be there before /proc says so. */
static bool mproc_exited(const struct mproc *p)
{
	return (p->ending.flags & ENDING_SEEN) || !proc_alive(p->t.pid);
}

int mproc_by_held(const void *x, const void *y, void *all_kinds)
{
	uint64_t bx = mproc_outstanding(*(struct mproc *const *)x, *(const bool *)all_kinds);
	uint64_t by = mproc_outstanding(*(struct mproc *const *)y, *(const bool *)all_kinds);

	return bx < by ? 1 : bx > by ? -1 : 0;
}

/* Keep an exited process's evidence, most held first; past the cap the
 * one holding least goes. */
static void keep_ended(struct procset *ps, struct mproc *p, bool all_kinds)
{
	ARRAY_GROW(ps->ended, ps->nended, ps->ended_cap, 8);
	ps->ended[ps->nended++] = p;
	qsort_r(ps->ended, ps->nended, sizeof(*ps->ended), mproc_by_held, &all_kinds);
	if (ps->nended > MAX_KEPT_EXITED) {
		mproc_free(ps->ended[--ps->nended]);
		ps->ended_dropped++;
	}
}

void procset_retire_exited(struct procset *ps, bool all_kinds)
{
	size_t k = 0;

	for (size_t i = 0; i < ps->n; i++) {
		struct mproc *p = ps->v[i];

		if (!mproc_exited(p)) {
			ps->v[k++] = p;
			continue;
		}
		ps->gone++;
		if (!p->exit_ns)
			p->exit_ns = mono_ns();
		ps->oom_kills += ending_decode(&p->ending).kind == ENDING_OOM_KILL;
		if (mproc_outstanding(p, all_kinds))
			keep_ended(ps, p, all_kinds);
		else
			mproc_free(p);
	}
	ps->n = k;
}

void procset_free(struct procset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		mproc_free(ps->v[i]);
	for (size_t i = 0; i < ps->nended; i++)
		mproc_free(ps->ended[i]);
	free(ps->v);
	free(ps->ended);
	memset(ps, 0, sizeof(*ps));
}

uint64_t mproc_outstanding(const struct mproc *p, bool all_kinds)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < p->t.nstacks; i++) {
		const struct stack_ent *s = &p->t.stacks[i];

		if (s->bytes > 0 && (all_kinds || s->kind == MK_ANON || s->kind == MK_HEAP))
			sum += (uint64_t)s->bytes;
	}
	return sum;
}
