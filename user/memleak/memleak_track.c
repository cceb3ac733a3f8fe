/* Event accounting for memleak-trace: every successful mmap, munmap,
 * mremap and brk of the traced process updates an exact interval map;
 * each range remembers the stack that mapped it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "memleak.h"
#include "memleak_track.h"
#include "procfs.h"

#define PAGE_UP(x, ps) (((x) + (ps) - 1) & ~((uint64_t)(ps) - 1))

static uint64_t page_size(void)
{
	static uint64_t ps;

	if (!ps)
		ps = (uint64_t)sysconf(_SC_PAGESIZE);
	return ps;
}

const char *mm_kind_name(enum mm_kind k)
{
	static const char *names[MK_KINDS] = { "anon", "heap", "malloc", "file", "shared" };

	return k < MK_KINDS ? names[k] : "?";
}

int tracker_init(struct tracker *t, pid_t pid, uint64_t t0_ns)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->t0_ns = t0_ns;
	t->next_ckpt = 1.0;
	t->pagemap_fd = -1;
	t->ranges = ranges__new();
	return t->ranges ? 0 : -ENOMEM;
}

void tracker_fini(struct tracker *t)
{
	for (uint32_t i = 0; i < t->nstacks; i++) {
		for (int j = 0; j < t->stacks[i].nframes; j++)
			frame_clear(&t->stacks[i].frames[j]);
		free(t->stacks[i].frames);
		free(t->stacks[i].loading);
	}
	free(t->stacks);
	hindex_free(&t->index);
	ranges__free(t->ranges);
	free(t->thp_pending);
	if (t->pagemap_fd >= 0)
		close(t->pagemap_fd);
	memset(t, 0, sizeof(*t));
}

static uint64_t key_hash(int32_t id, uint64_t ret, uint64_t site, uint64_t interp, uint32_t kind)
{
	return hash_mix(hash_mix(ret) ^ site ^ hash_mix(interp) ^ ((uint64_t)(uint32_t)id << 32 | kind));
}

static uint64_t entry_hash(uint32_t e, const void *t)
{
	const struct stack_ent *s = &((const struct tracker *)t)->stacks[e];

	return key_hash(s->stack_id, s->ret_addr, s->site, s->interp, s->kind);
}

static bool entry_is(uint32_t e, const void *key, const void *t)
{
	const struct stack_ent *s = &((const struct tracker *)t)->stacks[e], *k = key;

	return s->stack_id == k->stack_id && s->ret_addr == k->ret_addr && s->site == k->site &&
	       s->interp == k->interp && s->kind == k->kind;
}

uint32_t tracker_stack(struct tracker *t, int32_t stack_id, uint64_t ret_addr, uint64_t site,
		       uint64_t interp, uint32_t kind)
{
	struct stack_ent key = { 0 }, *s;
	uint32_t *sl;

	if (stack_id < 0)
		stack_id = -1;  /* failed captures (site 0) share one entry */
	key.stack_id = stack_id;
	key.ret_addr = ret_addr;
	key.site = site;
	key.interp = interp;
	key.kind = kind;
	hindex_reserve(&t->index, t->nstacks, entry_hash, t);
	sl = hindex_slot(&t->index, key_hash(stack_id, ret_addr, site, interp, kind), entry_is, &key, t);
	if (*sl)
		return *sl - 1;
	ARRAY_GROW(t->stacks, t->nstacks, t->cap, 256);
	s = &t->stacks[t->nstacks];
	*s = key;
	*sl = ++t->nstacks;
	return t->nstacks - 1;
}

/* A stack's outstanding bytes rose: its peak is what a process that
 * releases everything in its shutdown (PHP, Python) held before. */
static void stack_grew(struct tracker *t, uint32_t owner, uint64_t len)
{
	tracker_stack_bytes(t, owner, t->stacks[owner].bytes + (int64_t)len);
}

void tracker_stack_bytes(struct tracker *t, uint32_t owner, int64_t bytes)
{
	struct stack_ent *s = &t->stacks[owner];

	s->bytes = bytes;
	if (bytes > s->peak) {
		s->peak = bytes;
		s->peak_ns = t->now_ns ? t->now_ns : mono_ns();
	}
}

static void piece_gone(const struct mrange *piece, void *ctx)
{
	struct tracker *t = ctx;

	t->stacks[piece->owner].bytes -= (int64_t)(piece->end - piece->start);
}

/* [start, end) is now held by owner (already in the interval map). */
static void counted(struct tracker *t, uint64_t start, uint64_t end, uint32_t owner)
{
	stack_grew(t, owner, end - start);
	t->stacks[owner].alloc_bytes += end - start;
	t->stacks[owner].alloc_count++;
	t->mapped += end - start;
}

static void track(struct tracker *t, uint64_t start, uint64_t end, uint32_t owner, uint64_t ts)
{
	if (end <= start)
		return;
	if (ranges__insert(t->ranges, start, end, owner, ts))
		abort();
	counted(t, start, end, owner);
}

static uint64_t untrack(struct tracker *t, uint64_t start, uint64_t end)
{
	return ranges__remove(t->ranges, start, end, piece_gone, t);
}

/* Records carry no time: they are read within a poll interval. */
static void record_seen(struct tracker *t)
{
	t->now_ns = mono_ns();
	t->events++;
}

/* /proc/kpageflags bits (Documentation/admin-guide/mm/pagemap.rst). */
#define KPF_THP          22
#define PM_PRESENT       (1ULL << 63)
#define PM_PFN_MASK      ((1ULL << 55) - 1)

/* Is the page at addr part of a transparent huge page: 1 yes, 0 no, -1
 * unknown (no pagemap or kpageflags: both need CAP_SYS_ADMIN for PFNs),
 * -2 not present (its fault still under way, or given back since). */
static int in_huge_page(struct tracker *t, uint64_t addr)
{
	static int kpf_fd = -2;
	uint64_t pm, kf;

	if (kpf_fd == -2)
		kpf_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (t->pagemap_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)t->pid);
		t->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (kpf_fd < 0 || t->pagemap_fd < 0 ||
	    pread(t->pagemap_fd, &pm, 8, (off_t)(addr / page_size() * 8)) != 8)
		return -1;
	if (!(pm & PM_PRESENT))
		return -2;
	if (!(pm & PM_PFN_MASK) || pread(kpf_fd, &kf, 8, (off_t)((pm & PM_PFN_MASK) * 8)) != 8)
		return -1;
	return (kf >> KPF_THP) & 1;
}

/* Count [start, end) for owner, around the pages counted already. */
static uint64_t track_gaps(struct tracker *t, uint64_t start, uint64_t end, uint32_t owner)
{
	uint64_t ps = page_size(), added = 0, from = start;

	for (uint64_t p = start; p <= end; p += ps) {
		if (p < end && !ranges__find(t->ranges, p))
			continue;
		if (p > from) {
			track(t, from, p, owner, t->now_ns);
			added += p - from;
		}
		from = p + ps;
	}
	return added;
}

/* A fault counted as one page brought the huge page around it: count
 * the rest of its 2 MiB. */
static void count_huge(struct tracker *t, uint64_t addr, uint32_t owner, uint64_t counted_already)
{
	uint64_t lo = addr & ~(MM_HPAGE_SIZE - 1);

	t->huge_faults++;
	t->huge_bytes += counted_already + track_gaps(t, lo, lo + MM_HPAGE_SIZE, owner);
}

/* Polls (100 ms) a fault may stay unsettled: its page absent that long
 * was given back or swapped out before it could be seen. */
#define THP_PENDING_TRIES 50

void tracker_thp_settle(struct tracker *t)
{
	size_t k = 0;

	for (size_t i = 0; i < t->nthp_pending; i++) {
		struct thp_pending *p = &t->thp_pending[i];
		const struct mrange *m = ranges__find(t->ranges, p->addr);
		int huge = m && m->owner == p->owner ? in_huge_page(t, p->addr) : 0;

		if (huge == -2 && ++p->tries < THP_PENDING_TRIES) {
			t->thp_pending[k++] = *p;
			continue;
		}
		if (huge > 0)
			count_huge(t, p->addr, p->owner, page_size());
		else if (huge != 0)
			t->huge_unknown++;
	}
	t->nthp_pending = k;
}

/* --faults: a first touch of an anonymous private page. A page counted
 * already (a fault retried, a page swapped back in) is not growth. The
 * pages one stack touches one after the other (a memset of a new block)
 * make one range. A fault that brought a transparent huge page brought
 * its whole 2 MiB: later touches inside it never fault. */
void tracker_fault(struct tracker *t, const struct mm_map_event *e)
{
	uint64_t ps = page_size(), start = e->addr & ~(ps - 1);
	uint32_t owner;
	int huge = 0;

	record_seen(t);
	if (ranges__find(t->ranges, start)) {
		t->refaults++;
		return;
	}
	t->faults++;
	owner = tracker_stack(t, e->stack_id, e->ret_addr, e->site, e->interp,
			      e->flags & MM_FAULT_HEAP ? MK_HEAP : MK_ANON);
	if (e->flags & MM_FAULT_THP)
		huge = in_huge_page(t, start);
	if (huge > 0) {
		count_huge(t, e->addr, owner, 0);
		return;
	}
	t->huge_unknown += huge == -1;
	if (ranges__extend(t->ranges, start, start + ps, owner) == 0)
		counted(t, start, start + ps, owner);
	else
		track(t, start, start + ps, owner, t->now_ns);
	if (huge == -2) {
		ARRAY_GROW(t->thp_pending, t->nthp_pending, t->thp_pending_cap, 16);
		t->thp_pending[t->nthp_pending++] = (struct thp_pending){ start, owner, 0 };
	}
}

/* --faults: madvise gave pages back (they fault anew when touched). */
void tracker_giveback(struct tracker *t, const struct mm_unmap_event *e)
{
	uint64_t ps = page_size(), start = e->addr & ~(ps - 1);

	record_seen(t);
	t->released += untrack(t, start, start + PAGE_UP(e->len, ps));
}

static enum mm_kind map_kind(uint32_t flags)
{
	if (flags & MM_MAP_SHARED)
		return MK_SHARED;
	return (flags & MM_MAP_ANONYMOUS) ? MK_ANON : MK_FILE;
}

void tracker_mmap(struct tracker *t, const struct mm_map_event *e)
{
	uint64_t end = e->addr + PAGE_UP(e->len, page_size());
	uint32_t owner;

	record_seen(t);
	if (e->prot & MM_PROT_EXEC)
		t->maps_changed = true;
	/* Whatever lay there (MAP_FIXED) is gone. */
	if (t->pages) {
		t->released += untrack(t, e->addr, end);
		return;
	}
	owner = tracker_stack(t, e->stack_id, e->ret_addr, e->site, e->interp, map_kind(e->flags));
	untrack(t, e->addr, end);
	track(t, e->addr, end, owner, t->now_ns);
}

void tracker_munmap(struct tracker *t, const struct mm_unmap_event *e)
{
	uint64_t len = PAGE_UP(e->len, page_size());
	uint64_t got;

	record_seen(t);
	got = untrack(t, e->addr, e->addr + len);
	t->released += got;
	t->released_untracked += len - got;
}

struct moved {
	struct mrange *v;
	size_t n, cap;
	uint64_t limit;         /* pieces below this address move */
};

static void collect_moved(const struct mrange *piece, void *ctx)
{
	struct tracker *t = ((void **)ctx)[0];
	struct moved *mv = ((void **)ctx)[1];
	struct mrange keep = *piece;

	piece_gone(piece, t);
	/* Beyond the new length: released (mremap shrink). */
	if (piece->end > mv->limit) {
		uint64_t from = piece->start > mv->limit ? piece->start : mv->limit;

		t->released += piece->end - from;
		keep.end = from;
	}
	if (keep.end <= keep.start)
		return;
	ARRAY_GROW(mv->v, mv->n, mv->cap, 8);
	mv->v[mv->n++] = keep;
}

#define MREMAP_DONTUNMAP_FLAG 4

/* The kept part keeps its stack and age at its new address; a grown part
 * belongs to the mremap caller; a shrunk tail is released. */
void tracker_mremap(struct tracker *t, const struct mm_remap_event *r)
{
	const struct mm_map_event *e = &r->m;
	uint64_t ps = page_size();
	uint64_t olen = PAGE_UP(r->old_len, ps), nlen = PAGE_UP(e->len, ps);
	uint64_t keep = olen < nlen ? olen : nlen;
	struct moved mv = { .limit = r->old_addr + keep };
	void *ctx[2] = { t, &mv };
	uint32_t kind = MK_ANON;

	record_seen(t);
	if (!(e->flags & MREMAP_DONTUNMAP_FLAG))
		ranges__remove(t->ranges, r->old_addr, r->old_addr + olen, collect_moved, ctx);
	untrack(t, e->addr, e->addr + nlen);
	for (size_t i = 0; i < mv.n; i++) {
		struct mrange *m = &mv.v[i];
		uint64_t shift = e->addr - r->old_addr;

		if (ranges__insert(t->ranges, m->start + shift, m->end + shift, m->owner, m->ts))
			abort();
		stack_grew(t, m->owner, m->end - m->start);
		kind = t->stacks[m->owner].kind;
	}
	free(mv.v);
	if (t->pages)           /* pages come with their faults */
		return;
	if (nlen > olen && olen)
		track(t, e->addr + olen, e->addr + nlen,
		      tracker_stack(t, e->stack_id, e->ret_addr, e->site, e->interp, kind), t->now_ns);
	else if (!olen)         /* a duplicate of a shared mapping */
		track(t, e->addr, e->addr + nlen,
		      tracker_stack(t, e->stack_id, e->ret_addr, e->site, e->interp, MK_SHARED), t->now_ns);
}

/* brk: the pages between the old and the new break, attributed like a
 * mapping so that heap growth has a stack too. */
void tracker_brk(struct tracker *t, const struct mm_map_event *e)
{
	uint64_t ps = page_size();
	uint64_t old = PAGE_UP(t->brk_cur, ps), cur = PAGE_UP(e->addr, ps);

	record_seen(t);
	if (!t->brk_known) {
		t->brk_known = true;
		t->brk_start = t->brk_cur = e->addr;
		return;
	}
	if (cur > old && !t->pages)
		track(t, old, cur,
		      tracker_stack(t, e->stack_id, e->ret_addr, e->site, e->interp, MK_HEAP),
		      t->now_ns);
	else if (cur < old)
		t->released += untrack(t, cur, old);
	t->brk_cur = e->addr;
}

void tracker_exec(struct tracker *t)
{
	record_seen(t);
	ranges__clear(t->ranges);
	for (uint32_t i = 0; i < t->nstacks; i++)
		t->stacks[i].bytes = t->stacks[i].peak = 0;
	t->brk_known = false;
	t->maps_changed = true;
	t->exec_seen = true;
	/* A new address space: every anonymous page from here faults. */
	t->rss_anon_start = 0;
	t->rss_anon_start_known = true;
	t->nthp_pending = 0;
	if (t->pagemap_fd >= 0)
		close(t->pagemap_fd);
	t->pagemap_fd = -1;
}

struct heap_seek {
	uint64_t end;
};

static int find_heap(const struct map_entry *m, void *ctx)
{
	if (!strcmp(m->path, "[heap]"))
		((struct heap_seek *)ctx)->end = m->end;
	return 0;
}

void tracker_seed_brk(struct tracker *t)
{
	struct heap_seek h = {};
	struct proc_status st;

	if (proc_maps(t->pid, find_heap, &h) >= 0 && h.end) {
		t->brk_known = true;
		t->brk_start = t->brk_cur = h.end;
	}
	if (proc_status(t->pid, &st) == 0) {
		t->rss_anon_start = st.rss_anon;
		t->rss_anon_start_known = true;
	}
}

void tracker_tick(struct tracker *t, uint64_t now_ns)
{
	double el = (double)(now_ns - t->t0_ns) / 1e9;

	if (t->nthp_pending)
		tracker_thp_settle(t);
	if (el < t->next_ckpt)
		return;
	for (uint32_t i = 0; i < t->nstacks; i++) {
		t->stacks[i].ckpt_bytes[0] = t->stacks[i].ckpt_bytes[1];
		t->stacks[i].ckpt_bytes[1] = t->stacks[i].bytes;
	}
	t->ckpt_t[0] = t->ckpt_t[1];
	t->ckpt_t[1] = el;
	if (t->nckpt < 2)
		t->nckpt++;
	t->next_ckpt *= 2;
}

double tracker_growth(const struct tracker *t, const struct stack_ent *s, uint64_t now_ns)
{
	double el = (double)(now_ns - t->t0_ns) / 1e9;
	double from_t = 0;
	int64_t from_b = 0;

	/* The newest checkpoint in the first half of the run: start-up
	 * allocations weigh less than what keeps happening. */
	if (t->nckpt >= 1 && t->ckpt_t[1] <= el / 2) {
		from_t = t->ckpt_t[1];
		from_b = s->ckpt_bytes[1];
	} else if (t->nckpt >= 2) {
		from_t = t->ckpt_t[0];
		from_b = s->ckpt_bytes[0];
	}
	if (el - from_t < GROWTH_MIN_SPAN_S)
		return 0;
	return (double)(s->bytes - from_b) / (el - from_t);
}
