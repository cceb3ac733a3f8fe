// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Host processes by memory, and swap traffic, for memdiag's host report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cgroup.h"
#include "memdiag_procs.h"
#include "memstat.h"
#include "procfs.h"

/* Insert into a list kept largest-first by key; the smallest falls off. */
static void rank(struct host_proc *list, int *n, const struct host_proc *p,
		 uint64_t (*key)(const struct host_proc *))
{
	int pos = *n;

	while (pos > 0 && key(&list[pos - 1]) < key(p))
		pos--;
	if (pos >= HOST_TOP_PROCS)
		return;
	if (*n < HOST_TOP_PROCS)
		(*n)++;
	memmove(&list[pos + 1], &list[pos], (*n - 1 - pos) * sizeof(*list));
	list[pos] = *p;
}

static uint64_t by_rss(const struct host_proc *p) { return p->rss; }
static uint64_t by_swap(const struct host_proc *p) { return p->swap; }

/* PSS walks the page tables: only for the processes listed. */
static void add_pss(struct host_proc *p)
{
	struct smaps_rollup sr;
	char *buf = NULL;

	if (proc_read(p->pid, "smaps_rollup", &buf) >= 0 && smaps_rollup_parse(buf, &sr) == 0) {
		p->pss = sr.pss;
		p->have_pss = true;
	}
	free(buf);
}

/* What the listed ones are: their own or another team's container. */
static void add_details(struct host_proc *p)
{
	add_pss(p);
	cgroup_memory_of_pid(p->pid, &p->cgroup);
}

int host_procs_scan(struct host_procs *hp)
{
	pid_t *pids = NULL;
	int n = proc_pids(&pids);

	memset(hp, 0, sizeof(*hp));
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct proc_status st;
		struct host_proc p = { .pid = pids[i] };

		/* Kernel threads have no memory of their own. */
		if (proc_status(pids[i], &st) < 0 || (!st.vm_rss && !st.vm_swap))
			continue;
		hp->nprocs++;
		snprintf(p.comm, sizeof(p.comm), "%s", st.name);
		p.rss = st.vm_rss;
		p.anon = st.rss_anon;
		p.file = st.rss_file;
		p.shmem = st.rss_shmem;
		p.swap = st.vm_swap;
		rank(hp->by_rss, &hp->nrss, &p, by_rss);
		if (p.swap)
			rank(hp->by_swap, &hp->nswap, &p, by_swap);
	}
	free(pids);
	for (int i = 0; i < hp->nrss; i++)
		add_details(&hp->by_rss[i]);
	for (int i = 0; i < hp->nswap; i++)
		add_details(&hp->by_swap[i]);
	return 0;
}

void host_procs_free(struct host_procs *hp)
{
	for (int i = 0; i < hp->nrss; i++)
		free(hp->by_rss[i].cgroup);
	for (int i = 0; i < hp->nswap; i++)
		free(hp->by_swap[i].cgroup);
	hp->nrss = hp->nswap = 0;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void swap_io_read(struct swap_io *now, const struct swap_io *prev)
{
	char *buf = NULL;

	memset(now, 0, sizeof(*now));
	if (proc_read(0, "vmstat", &buf) >= 0)
		now->have = kv_u64(buf, "pswpin", &now->pswpin) && kv_u64(buf, "pswpout", &now->pswpout);
	free(buf);
	now->t = mono_s();
	if (!now->have)
		return;
	if (prev && prev->have && now->t > prev->t) {
		now->window_s = now->t - prev->t;
		now->in_per_s = (now->pswpin - prev->pswpin) / now->window_s;
		now->out_per_s = (now->pswpout - prev->pswpout) / now->window_s;
	} else {
		/* The monotonic clock counts from boot, as the counters do. */
		now->since_boot = true;
		now->window_s = now->t;
		now->in_per_s = now->window_s > 0 ? now->pswpin / now->window_s : 0;
		now->out_per_s = now->window_s > 0 ? now->pswpout / now->window_s : 0;
	}
}
