// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "array.h"
#include "bpfutil.h"
#include "procfs.h"
#include "sockleak_fdtab.h"
#include "proc_net.h"

static const char *const kind_names[FDK_MAX] = {
	"socket", "file", "pipe", "eventfd", "epoll", "timerfd", "signalfd",
	"inotify", "memfd", "pidfd", "other",
};

const char *fd_kind_name(int kind)
{
	return kind >= 0 && kind < FDK_MAX ? kind_names[kind] : "other";
}

static uint64_t bracket_ino(const char *s)
{
	const char *p = strchr(s, '[');

	return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Classify an fd from its /proc link target. */
int fd_kind_of_target(const char *target, uint64_t *ino)
{
	*ino = 0;
	if (!strncmp(target, "socket:[", 8)) {
		*ino = bracket_ino(target);
		return FDK_SOCKET;
	}
	if (!strncmp(target, "pipe:[", 6)) {
		*ino = bracket_ino(target);
		return FDK_PIPE;
	}
	if (!strncmp(target, "/memfd:", 7))
		return FDK_MEMFD;
	if (target[0] == '/')
		return FDK_FILE;
	if (strstr(target, "eventfd"))
		return FDK_EVENTFD;
	if (strstr(target, "eventpoll"))
		return FDK_EPOLL;
	if (strstr(target, "timerfd"))
		return FDK_TIMERFD;
	if (strstr(target, "signalfd"))
		return FDK_SIGNALFD;
	if (strstr(target, "inotify"))
		return FDK_INOTIFY;
	if (strstr(target, "pidfd"))
		return FDK_PIDFD;
	return FDK_OTHER;
}

static bool in_scope(const struct fdtab *t, int kind)
{
	return t->o.all_fds || kind == FDK_SOCKET;
}

static uint64_t sum_kinds(const struct fdtab *t, const __u64 *v)
{
	uint64_t s = 0;

	for (int k = 0; k < FDK_MAX; k++)
		if (in_scope(t, k))
			s += v[k];
	return s;
}

uint64_t sl_created(const struct fdtab *t, const struct sl_proc *p)
{
	return sum_kinds(t, p->now.created) + p->now.inherited + p->found;
}

uint64_t sl_closed(const struct fdtab *t, const struct sl_proc *p)
{
	return sum_kinds(t, p->now.closed) + p->gone + p->closed_exec + p->closed_exit;
}

uint64_t sl_closed_pre(const struct sl_proc *p)
{
	return p->now.closed_baseline + p->pre_closed;
}

uint64_t sl_closed_pre_prev(const struct sl_proc *p)
{
	return p->prev.closed_baseline + p->prev_pre_closed;
}

uint64_t sl_created_prev(const struct fdtab *t, const struct sl_proc *p)
{
	return sum_kinds(t, p->prev.created) + p->prev.inherited + p->prev_found;
}

uint64_t sl_closed_prev(const struct fdtab *t, const struct sl_proc *p)
{
	return sum_kinds(t, p->prev.closed) + p->prev_gone + p->prev_closed_exec + p->prev_closed_exit;
}

struct fdtab *fdtab__new(const struct fdtab_opts *o)
{
	struct fdtab *t = calloc(1, sizeof(*t));
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (!t)
		abort();
	t->o = *o;
	t->start_ns = t->now_ns = t->prev_ns = mono_ns();
	if (!bpf_obj_get_info_by_fd(o->fds_map, &info, &len))
		t->max_fds = info.max_entries;
	return t;
}

static void proc_free(struct sl_proc *p)
{
	free(p->held);
	free(p->cgroup);
	free(p->cg_v2);
	free(p->cg_v1);
}

void fdtab__free(struct fdtab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nprocs; i++)
		proc_free(&t->procs[i]);
	free(t->procs);
	free(t->ents);
	free(t->free);
	free(t);
}

static size_t proc_pos(const struct fdtab *t, uint32_t tgid)
{
	size_t lo = 0, hi = t->nprocs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->procs[mid].tgid < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct sl_proc *fdtab__proc(struct fdtab *t, uint32_t tgid)
{
	size_t i = proc_pos(t, tgid);

	return i < t->nprocs && t->procs[i].tgid == tgid ? &t->procs[i] : NULL;
}

uint64_t sl_kernel_alive(const struct sl_proc *p)
{
	return p->now.sk_born > p->now.sk_freed ? p->now.sk_born - p->now.sk_freed : 0;
}

uint64_t sl_kernel_no_fd(const struct sl_proc *p)
{
	return p->now.sk_released > p->now.sk_freed ? p->now.sk_released - p->now.sk_freed : 0;
}

static char *strdup_or_null(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		abort();
	return d;
}

/* The ids of a process's cgroups, for entries user space makes (the
 * kernel fills its own): the directories named in /proc/PID/cgroup. */
static void cgroup_ids_of_pid(pid_t pid, struct proc_stats *z)
{
	const struct cgroup_layout *l = cgroup_layout();
	char *v2 = NULL, *v1 = NULL, *dir;
	uint64_t id;

	if (cgroup_of_pid(pid, &v2, &v1) < 0)
		return;
	if (v2 && l->v2_mount[0] && asprintf(&dir, "%s%s", l->v2_mount, v2) >= 0) {
		if (!cgroup_id_of_dir(dir, &id))
			z->cg_v2 = id;
		free(dir);
	}
	if (v1 && l->v1_memory[0] && asprintf(&dir, "%s%s", l->v1_memory, v1) >= 0) {
		if (!cgroup_id_of_dir(dir, &id))
			z->cg_v1_memory = id;
		free(dir);
	}
	free(v2);
	free(v1);
}

/* The paths of the cgroup ids the kernel recorded: they outlive the
 * process (a cgroup is looked up at first sight, while it still exists).
 * /proc only when there are no ids. Shown: the v1 memory cgroup where v1
 * holds the memory controller (hybrid hosts) and the process is not at its
 * root, else the cgroup2 path. */
static void proc_identify(struct sl_proc *p)
{
	const char *show;

	free(p->cg_v2);
	free(p->cg_v1);
	free(p->cgroup);
	p->cg_v1 = strdup_or_null(p->now.cg_v1_memory ? cgroup_path_by_id(p->now.cg_v1_memory, true) : NULL);
	p->cg_v2 = strdup_or_null(p->now.cg_v2 ? cgroup_path_by_id(p->now.cg_v2, false) : NULL);
	if (!p->cg_v1 && !p->cg_v2)
		cgroup_of_pid(p->tgid, &p->cg_v2, &p->cg_v1);
	show = p->cg_v1 && strcmp(p->cg_v1, "/") ? p->cg_v1 : p->cg_v2;
	p->cgroup = strdup(show ? show : "");
	if (!p->cgroup)
		abort();
	memset(&p->ctr, 0, sizeof(p->ctr));
	container_from_path(p->cgroup, &p->ctr);
}

bool fdtab__in_cgroup(const struct fdtab *t, const struct sl_proc *p)
{
	const char *path = t->o.cg_v1 ? p->cg_v1 : p->cg_v2;
	size_t l;

	if (!t->o.cg_rel || !strcmp(t->o.cg_rel, "/"))
		return true;
	if (!path)
		return false;
	l = strlen(t->o.cg_rel);
	return !strncmp(path, t->o.cg_rel, l) && (path[l] == '\0' || path[l] == '/');
}

static struct sl_proc *proc_add(struct fdtab *t, uint32_t tgid)
{
	size_t i = proc_pos(t, tgid);
	struct sl_proc *p;

	if (i < t->nprocs && t->procs[i].tgid == tgid)
		return &t->procs[i];
	ARRAY_GROW(t->procs, t->nprocs, t->cap, 64);
	memmove(&t->procs[i + 1], &t->procs[i], (t->nprocs - i) * sizeof(*p));
	t->nprocs++;
	p = &t->procs[i];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	return p;
}

static int cmp_key(const void *a, const void *b)
{
	const struct fd_key *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

static int cmp_ent(const void *a, const void *b)
{
	return cmp_key(&((const struct fd_entry *)a)->k, &((const struct fd_entry *)b)->k);
}

/* The kernel's entry for k into *cur, false when there is none: a free
 * entry (HOW_FREE) is none, whatever fd number it waits for. */
static bool live_entry(const struct fdtab *t, const struct fd_key *k, struct fd_info *cur)
{
	return !bpf_map_lookup_elem(t->o.fds_map, k, cur) && cur->how != HOW_FREE;
}

/* Delete the free entries while they are still free: a fd that takes one
 * meanwhile keeps it. */
static void delete_free(struct fdtab *t, const struct fd_key *k, size_t n)
{
	struct fd_info cur;

	for (size_t i = 0; i < n; i++)
		if (!bpf_map_lookup_elem(t->o.fds_map, &k[i], &cur) && cur.how == HOW_FREE)
			bpf_map_delete_elem(t->o.fds_map, &k[i]);
}

/* Free entries cost nothing but room: past a quarter of the map, give it
 * back (the kernel then inserts again for those fd numbers). */
static void trim_free(struct fdtab *t)
{
	if (t->nfree <= t->max_fds / 4)
		return;
	delete_free(t, t->free, t->nfree);
	t->nfree = 0;
}

static void load_entries(struct fdtab *t)
{
	struct fd_key *keys;
	struct fd_info *vals;
	size_t n = bpf_map_dump(t->o.fds_map, sizeof(*keys), sizeof(*vals), (void **)&keys, (void **)&vals);

	free(t->ents);
	free(t->free);
	t->ents = malloc((n ? n : 1) * sizeof(*t->ents));
	t->free = malloc((n ? n : 1) * sizeof(*t->free));
	if (!t->ents || !t->free)
		abort();
	t->nents = t->nfree = 0;
	for (size_t i = 0; i < n; i++) {
		if (vals[i].how == HOW_FREE) {
			t->free[t->nfree++] = keys[i];
			continue;
		}
		t->ents[t->nents].k = keys[i];
		t->ents[t->nents++].v = vals[i];
	}
	free(keys);
	free(vals);
	qsort(t->ents, t->nents, sizeof(*t->ents), cmp_ent);
	qsort(t->free, t->nfree, sizeof(*t->free), cmp_key);
	trim_free(t);
}

/* The first index of tgid's run in an array sorted by tgid first. */
static size_t tgid_lower(const void *base, size_t n, size_t size, uint32_t tgid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (((const struct fd_key *)((const char *)base + mid * size))->tgid < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct fd_entry *fdtab__entries(const struct fdtab *t, uint32_t tgid, size_t *n)
{
	size_t lo = tgid_lower(t->ents, t->nents, sizeof(*t->ents), tgid), end;

	for (end = lo; end < t->nents && t->ents[end].k.tgid == tgid; end++)
		;
	*n = end - lo;
	return t->ents + lo;
}

/* An exited process's free entries go with it. */
static void delete_free_of(struct fdtab *t, uint32_t tgid)
{
	size_t lo = tgid_lower(t->free, t->nfree, sizeof(*t->free), tgid), end;

	for (end = lo; end < t->nfree && t->free[end].tgid == tgid; end++)
		;
	delete_free(t, t->free + lo, end - lo);
}

/* ---- /proc reconciliation ---- */

struct pfd {
	uint32_t fd;
	int kind;
	uint64_t ino;
};

struct pfd_list {
	struct pfd *v;
	size_t n, cap;
	size_t total;   /* every open fd, in scope or not */
	bool sockets_only;
};

static int collect_fd(int fd, const char *target, void *ctx)
{
	struct pfd_list *l = ctx;
	uint64_t ino;
	int kind = fd_kind_of_target(target, &ino);

	l->total++;
	if (l->sockets_only && kind != FDK_SOCKET)
		return 0;
	ARRAY_GROW(l->v, l->n, l->cap, 64);
	l->v[l->n++] = (struct pfd){ .fd = fd, .kind = kind, .ino = ino };
	return 0;
}

static int cmp_pfd(const void *a, const void *b)
{
	uint32_t x = ((const struct pfd *)a)->fd, y = ((const struct pfd *)b)->fd;

	return x < y ? -1 : x > y;
}

static bool same_file(const struct fd_info *v, const struct pfd *f)
{
	if ((v->kind == FDK_SOCKET) != (f->kind == FDK_SOCKET))
		return false;
	return !v->ino || !f->ino || v->ino == f->ino;
}

/* Make sure the kernel knows the process (fork copies and close_range
 * only look at processes it has an entry for). */
static void ensure_kernel_proc(struct fdtab *t, struct sl_proc *p)
{
	struct proc_stats z = {};
	char *comm = proc_comm(p->tgid);

	if (comm) {
		snprintf(z.comm, sizeof(z.comm), "%s", comm);
		if (!p->comm[0])
			snprintf(p->comm, sizeof(p->comm), "%s", comm);
		free(comm);
	}
	if (p->now.cg_v2 || p->now.cg_v1_memory) {
		z.cg_v2 = p->now.cg_v2;
		z.cg_v1_memory = p->now.cg_v1_memory;
	} else {
		cgroup_ids_of_pid(p->tgid, &z);
	}
	if (bpf_map_update_elem(t->o.procs_map, &p->tgid, &z, BPF_NOEXIST) && errno != EEXIST)
		t->map_full++;
}

enum why { WHY_BASELINE, WHY_RECONCILE };

enum retired { KEPT, RETIRED, CLOSED_BY_KERNEL };

/* Remove the entry unless the kernel replaced it since we read it. An entry
 * already gone was closed meanwhile and counted by the kernel: it only
 * leaves our copy, or its close would be counted twice. */
static enum retired retire(struct fdtab *t, struct fd_entry *e, uint64_t scan_ns)
{
	struct fd_info cur;

	if (!live_entry(t, &e->k, &cur))
		return CLOSED_BY_KERNEL;
	if (cur.ts_ns != e->v.ts_ns || cur.ts_ns > scan_ns)
		return KEPT;
	return bpf_map_delete_elem(t->o.fds_map, &e->k) == 0 ? RETIRED : CLOSED_BY_KERNEL;
}

/* /proc is read after the attach: a socket read there may have been
 * closed before its entry went in, unseen by the kernel (no entry yet).
 * Drop such an entry while it is still ours. Once the kernel has replaced
 * it, it is counted either way: a close of it (another file at that fd),
 * or nothing more (the same file, whose syscall had not returned). */
static bool stale_entry(struct fdtab *t, const struct fd_entry *ne)
{
	char path[64], target[PATH_MAX];
	struct fd_info cur;
	uint64_t ino = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/fd/%u", ne->k.tgid, ne->k.fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = '\0';
		if (fd_kind_of_target(target, &ino) == ne->v.kind && ino == ne->v.ino &&
		    live_entry(t, &ne->k, &cur) && !cur.ts_ns)
			return false;
	}
	if (!live_entry(t, &ne->k, &cur) || cur.ts_ns)
		return false; /* the kernel's now (closed, or replaced): counted */
	return bpf_map_delete_elem(t->o.fds_map, &ne->k) == 0;
}

/* Put in an fd found in /proc that the kernel has no entry for (a free
 * entry at its number is none). False with errno EEXIST when it has one. */
static bool insert_found(struct fdtab *t, const struct fd_entry *ne)
{
	struct fd_info cur;

	if (!bpf_map_update_elem(t->o.fds_map, &ne->k, &ne->v, BPF_NOEXIST))
		return true;
	if (errno != EEXIST)
		return false;
	if (bpf_map_lookup_elem(t->o.fds_map, &ne->k, &cur) || cur.how != HOW_FREE ||
	    bpf_map_update_elem(t->o.fds_map, &ne->k, &ne->v, BPF_EXIST)) {
		errno = EEXIST;
		return false;
	}
	return true;
}

/* Compare one process's entries with /proc/PID/fd. Returns -ESRCH when the
 * process is gone. New entries are appended to *add. */
static int reconcile_pid(struct fdtab *t, struct sl_proc *p, enum why why,
			 struct fd_entry **add, size_t *nadd, size_t *capadd)
{
	struct pfd_list l = { .sockets_only = !t->o.all_fds };
	uint64_t scan_ns = mono_ns();
	struct fd_entry *ents;
	size_t n, i = 0, j = 0;
	bool exec = p->now.execs != p->seen_execs;
	int err;

	err = proc_fds(p->tgid, collect_fd, &l);
	if (err < 0) {
		free(l.v);
		return err;
	}
	p->nfds = l.total;
	if (l.n) /* l.v may be NULL, which qsort must not get */
		qsort(l.v, l.n, sizeof(*l.v), cmp_pfd);
	ents = (struct fd_entry *)fdtab__entries(t, p->tgid, &n);
	while (i < n || j < l.n) {
		struct fd_entry *e = i < n ? &ents[i] : NULL;
		struct pfd *f = j < l.n ? &l.v[j] : NULL;

		if (e && f && e->k.fd == f->fd && same_file(&e->v, f)) {
			i++, j++;
			continue;
		}
		if (e && (!f || e->k.fd <= f->fd)) {
			/* Tracked but not (or no longer the same) in /proc. */
			enum retired r = retire(t, e, scan_ns);

			if (r == CLOSED_BY_KERNEL)
				e->k.tgid = 0;
			if (r == RETIRED) {
				if (e->v.how == HOW_BASELINE)
					p->pre_closed++;
				else if (exec)
					p->closed_exec++;
				else
					p->gone++;
				t->reconciled++;
				e->k.tgid = 0; /* dropped at the next sort */
			}
			i++; /* a /proc fd of the same number is handled next turn */
			continue;
		}
		/* In /proc but not tracked: before start, or an unhooked path. */
		struct fd_entry ne = { .k = { p->tgid, f->fd },
				       .v = { .ino = f->ino, .stack_id = -1, .kind = f->kind,
					     .how = why == WHY_BASELINE ? HOW_BASELINE : HOW_FOUND } };
		if (insert_found(t, &ne)) {
			if (stale_entry(t, &ne)) {
				j++;
				continue;
			}
			if (why == WHY_BASELINE) {
				p->baseline++;
			} else {
				p->found++;
				t->reconciled++;
			}
			ARRAY_GROW(*add, *nadd, *capadd, 64);
			(*add)[(*nadd)++] = ne;
		} else if (errno != EEXIST) {
			t->map_full++;
		}
		j++;
	}
	p->seen_execs = p->now.execs;
	if (l.n)
		ensure_kernel_proc(t, p);
	free(l.v);
	return 0;
}

static void merge_added(struct fdtab *t, struct fd_entry *add, size_t nadd)
{
	size_t k = 0;

	t->ents = realloc(t->ents, (t->nents + nadd + 1) * sizeof(*t->ents));
	if (!t->ents)
		abort();
	if (nadd) /* add may be NULL, which memcpy must not get */
		memcpy(t->ents + t->nents, add, nadd * sizeof(*add));
	t->nents += nadd;
	for (size_t i = 0; i < t->nents; i++)
		if (t->ents[i].k.tgid)
			t->ents[k++] = t->ents[i];
	t->nents = k;
	qsort(t->ents, t->nents, sizeof(*t->ents), cmp_ent);
}

int fdtab__baseline(struct fdtab *t)
{
	struct fd_entry *add = NULL;
	size_t nadd = 0, cap = 0;
	pid_t *pids;
	int npids;

	load_entries(t);
	if (t->o.pid) {
		struct sl_proc *p = proc_add(t, t->o.pid);
		int err = reconcile_pid(t, p, WHY_BASELINE, &add, &nadd, &cap);

		merge_added(t, add, nadd);
		free(add);
		p->alive_start = p->baseline;
		return err;
	}
	npids = proc_pids(&pids);
	if (npids < 0)
		return npids;
	for (int j = 0; j < npids; j++) {
		struct sl_proc *p;
		size_t before = nadd;

		if (pids[j] == getpid())
			continue;
		p = proc_add(t, pids[j]);
		if (t->o.cg_rel) {
			/* -c: the kernel leaves other cgroups alone; so do we. */
			cgroup_ids_of_pid(p->tgid, &p->now);
			proc_identify(p);
		}
		if (fdtab__in_cgroup(t, p))
			reconcile_pid(t, p, WHY_BASELINE, &add, &nadd, &cap);
		if (nadd == before && !p->baseline) {
			/* Nothing of interest: forget it again. */
			size_t i = proc_pos(t, p->tgid);

			proc_free(p);
			memmove(&t->procs[i], &t->procs[i + 1], (t->nprocs - i - 1) * sizeof(*p));
			t->nprocs--;
		}
	}
	free(pids);
	merge_added(t, add, nadd);
	free(add);
	for (size_t i = 0; i < t->nprocs; i++)
		t->procs[i].alive_start = t->procs[i].baseline;
	return 0;
}

/* An fd held until the exit is evidence when it sat in CLOSE_WAIT or was
 * older than --older-than then (created during the trace; a listener is
 * long-lived by design). */
static bool held_evidence(const struct fdtab *t, const struct sl_proc *p, const struct sl_held *h)
{
	uint64_t older_ns = t->o.older_than_s * 1e9;

	if (h->have_x && h->x.state == TCP_ST_CLOSE_WAIT)
		return true;
	if (h->have_x && h->x.state == TCP_ST_LISTEN)
		return false;
	return h->e.v.ts_ns && p->now.exit_ns && p->now.exit_ns - h->e.v.ts_ns >= older_ns;
}

#define HELD_MAX 4096 /* evidence kept per process (the rest is counted) */

static void held_push(struct sl_proc *p, const struct sl_held *h)
{
	if (p->nheld >= HELD_MAX)
		return;
	ARRAY_GROW(p->held, p->nheld, p->capheld, 16);
	p->held[p->nheld++] = *h;
}

static void push_late(struct fdtab *t, const struct late_key *k, const struct late_close *v)
{
	struct sl_proc *p = proc_add(t, k->tgid);
	struct sl_held h = { .e = { .k = { k->tgid, k->fd }, .v = v->v },
			     .x = v->x, .have_x = true, .late = true, .close_ns = k->close_ns };

	p->late++;
	held_push(p, &h);
}

/* A short CLOSE_WAIT closed at the shutdown of a process that exited:
 * after its last new fd. A persistent socket the process kept while it
 * made others after the peer had left shows the shutdown is closing what
 * it leaked; the others closed then (the last one made, whose peer left
 * just before) go with it. Without such a socket, a prompt close before
 * the exit is the normal case. */
static bool closed_at_shutdown(const struct sl_proc *p, const struct late_key *k)
{
	return p->now.exit_ns && k->close_ns >= p->now.last_new_ns;
}

/* The fd existed, and its peer had hung up, when the process made another
 * fd. (The FIN can come before accept() returns: then CLOSE_WAIT predates
 * the fd itself.) */
static bool kept_across_new(const struct sl_proc *p, const struct late_close *v)
{
	uint64_t since = v->x.cw_ns > v->v.ts_ns ? v->x.cw_ns : v->v.ts_ns;

	return since < p->now.last_new_ns;
}

/* Sockets the kernel saw closed after a long CLOSE_WAIT, since the last
 * report, and those closed at the shutdown of a process that exited: kept
 * with their process (evidence if it exits). Short ones of live processes
 * stay in the LRU map until their process exits or the map forgets them. */
static void load_late(struct fdtab *t)
{
	struct late_key *keys;
	struct late_close *vals;
	size_t n = bpf_map_dump(t->o.late_map, sizeof(*keys), sizeof(*vals), (void **)&keys, (void **)&vals);

	for (size_t i = 0; i < n; i++) {
		bpf_map_delete_elem(t->o.late_map, &keys[i]);
		push_late(t, &keys[i], &vals[i]);
	}
	free(keys);
	free(vals);
	n = bpf_map_dump(t->o.short_cw_map, sizeof(*keys), sizeof(*vals), (void **)&keys, (void **)&vals);
	for (size_t i = 0; i < n; i++) {
		struct sl_proc *p = fdtab__proc(t, keys[i].tgid);

		if (p && closed_at_shutdown(p, &keys[i]) && kept_across_new(p, &vals[i]))
			p->shutdown_leak = true;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sl_proc *p = fdtab__proc(t, keys[i].tgid);

		if (!p || !p->now.exit_ns)
			continue;
		bpf_map_delete_elem(t->o.short_cw_map, &keys[i]);
		if (p->shutdown_leak && closed_at_shutdown(p, &keys[i]))
			push_late(t, &keys[i], &vals[i]);
	}
	free(keys);
	free(vals);
}

/* The whole thread group is gone and its fds with it. What it held then
 * (the kernel kept the sockets' state at the exit) stays as evidence. */
static void retire_exited(struct fdtab *t, struct sl_proc *p)
{
	size_t n;
	struct fd_entry *e = (struct fd_entry *)fdtab__entries(t, p->tgid, &n);

	for (size_t i = 0; i < n; i++) {
		struct sl_held h = { .e = e[i] };

		h.have_x = !bpf_map_lookup_elem(t->o.at_exit_map, &e[i].k, &h.x);
		if (h.have_x)
			bpf_map_delete_elem(t->o.at_exit_map, &e[i].k);
		if (bpf_map_delete_elem(t->o.fds_map, &e[i].k) == 0) {
			if (e[i].v.how == HOW_BASELINE)
				p->pre_closed++;
			else
				p->closed_exit++;
		}
		e[i].k.tgid = 0;
		p->held_at_exit++;
		p->cw_at_exit += h.have_x && h.x.state == TCP_ST_CLOSE_WAIT;
		if (held_evidence(t, p, &h))
			held_push(p, &h);
	}
	if ((int64_t)(p->alive_start + p->now.net_peak) > (int64_t)p->peak)
		p->peak = p->alive_start + p->now.net_peak;
	if (p->held_at_exit > p->peak)
		p->peak = p->held_at_exit;
	delete_free_of(t, p->tgid);
	p->exited = true;
	p->gone_from_kernel = true;
	/* --kernel-sockets: its orphans still count against it until freed. */
	if (!t->o.kernel_sockets || !sl_kernel_alive(p))
		bpf_map_delete_elem(t->o.procs_map, &p->tgid);
	if (t->o.on_exit)
		t->o.on_exit(t->o.exit_ctx, p->tgid);
}

static void load_procs(struct fdtab *t)
{
	__u32 *keys;
	struct proc_stats *vals;
	size_t n = bpf_map_dump(t->o.procs_map, sizeof(*keys), sizeof(*vals), (void **)&keys, (void **)&vals);

	for (size_t i = 0; i < n; i++) {
		struct sl_proc *p = proc_add(t, keys[i]);
		bool new_exec = vals[i].execs != p->now.execs;

		p->now = vals[i];
		if (p->now.comm[0])
			snprintf(p->comm, sizeof(p->comm), "%s", p->now.comm);
		if (!p->cgroup || new_exec)
			proc_identify(p);
		if (p->gone_from_kernel && !sl_kernel_alive(p))
			bpf_map_delete_elem(t->o.procs_map, &p->tgid); /* last orphan freed */
	}
	free(keys);
	free(vals);
}

static void compute(struct fdtab *t, struct sl_proc *p, double dt)
{
	uint64_t older_ns = t->o.older_than_s * 1e9;
	double elapsed = (t->now_ns - t->start_ns) / 1e9;
	const struct fd_entry *e;
	size_t n;

	p->alive_prev = p->alive;
	p->alive = p->alive_old = 0;
	memset(p->by_kind, 0, sizeof(p->by_kind));
	e = fdtab__entries(t, p->tgid, &n);
	for (size_t i = 0; i < n; i++) {
		bool old = e[i].v.ts_ns ? t->now_ns - e[i].v.ts_ns >= older_ns
					: elapsed >= t->o.older_than_s;

		if (!in_scope(t, e[i].v.kind))
			continue;
		p->alive++;
		p->alive_old += old;
		p->by_kind[e[i].v.kind < FDK_MAX ? e[i].v.kind : FDK_OTHER]++;
	}
	p->growth = dt > 0 ? ((double)p->alive - (double)p->alive_prev) / dt : 0;
	/* The kernel's peak of the net count, from the count at start. */
	if (!p->exited && (int64_t)(p->alive_start + p->now.net_peak) > (int64_t)p->peak)
		p->peak = p->alive_start + p->now.net_peak;
	if (p->alive > p->peak)
		p->peak = p->alive;
	if (t->o.all_fds && !p->exited)
		p->nofile = proc_nofile_limit(p->tgid);
}

static void roll_prev(struct sl_proc *p)
{
	p->prev = p->now;
	p->prev_found = p->found;
	p->prev_gone = p->gone;
	p->prev_closed_exec = p->closed_exec;
	p->prev_closed_exit = p->closed_exit;
	p->prev_pre_closed = p->pre_closed;
}

int fdtab__refresh(struct fdtab *t)
{
	struct fd_entry *add = NULL;
	size_t nadd = 0, cap = 0;
	double dt;

	t->prev_ns = t->now_ns;
	t->now_ns = mono_ns();
	dt = (t->now_ns - t->prev_ns) / 1e9;
	for (size_t i = 0; i < t->nprocs; i++)
		roll_prev(&t->procs[i]);
	load_procs(t);
	load_late(t);
	load_entries(t);
	for (size_t i = 0; i < t->nprocs; i++) {
		struct sl_proc *p = &t->procs[i];
		size_t n;

		if (p->gone_from_kernel)
			continue;
		if (p->now.exit_ns) {
			retire_exited(t, p);
			continue;
		}
		fdtab__entries(t, p->tgid, &n);
		if (!n && !p->now.execs && p->tgid != (uint32_t)t->o.pid)
			continue;
		if (reconcile_pid(t, p, WHY_RECONCILE, &add, &nadd, &cap) == -ESRCH)
			retire_exited(t, p); /* its exit happened before we saw it */
	}
	merge_added(t, add, nadd);
	free(add);
	for (size_t i = 0; i < t->nprocs; i++)
		compute(t, &t->procs[i], dt);
	return 0;
}
