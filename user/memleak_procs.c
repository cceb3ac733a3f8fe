/* memleak-trace: the set of traced processes (see memleak_procs.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memleak_procs.h"
#include "procfs.h"

bool proc_alive(pid_t pid)
{
	char path[64], buf[512], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* "pid (comm) S ...": the comm may hold anything, the state follows
	 * the last parenthesis. */
	end = strrchr(buf, ')');
	return end && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

static void remember_comm(struct mproc *p)
{
	char *c = proc_comm(p->t.pid);

	if (c) {
		free(p->comm);
		p->comm = c;
	}
}

static struct mproc *mproc_new(pid_t pid, bool read_proc)
{
	struct mproc *p = calloc(1, sizeof(*p));

	if (!p || tracker_init(&p->t, pid, mono_ns()))
		abort();
	if (read_proc) {
		tracker_seed_brk(&p->t);
		p->sym = symbolizer__new(pid);
	}
	remember_comm(p);
	return p;
}

static void mproc_free(struct mproc *p)
{
	symbolizer__free(p->sym);
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

struct mproc *procset_add(struct procset *ps, pid_t pid, bool read_proc)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 8;
		ps->v = realloc(ps->v, ps->cap * sizeof(*ps->v));
		if (!ps->v)
			abort();
	}
	ps->v[ps->n] = mproc_new(pid, read_proc);
	return ps->v[ps->n++];
}

void procset_poll(struct procset *ps, uint64_t now_ns)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct mproc *p = ps->v[i];

		if (p->t.maps_changed) {
			p->t.maps_changed = false;
			if (!p->sym)
				p->sym = symbolizer__new(p->t.pid);
			else
				symbolizer__refresh(p->sym);
			remember_comm(p);
		}
		tracker_tick(&p->t, now_ns);
	}
}

void procset_drop_exited(struct procset *ps)
{
	size_t k = 0;

	for (size_t i = 0; i < ps->n; i++) {
		if (proc_alive(ps->v[i]->t.pid)) {
			ps->v[k++] = ps->v[i];
		} else {
			mproc_free(ps->v[i]);
			ps->gone++;
		}
	}
	ps->n = k;
}

void procset_free(struct procset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		mproc_free(ps->v[i]);
	free(ps->v);
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
