// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* /dev/kmsg reader and the parser of the kernel's OOM report. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "oom_kmsg.h"

struct kmsg_line {
	uint64_t seq;
	double ts;
	char *text;
};

struct kmsg {
	int fd;
	struct kmsg_line *ring;  /* KMSG_KEEP_LINES slots */
	size_t head, n;          /* next slot, lines held */
	uint64_t lost;
	uint64_t first_seq, last_seq;
	bool have_seq;
};

struct kmsg *kmsg_new(void)
{
	struct kmsg *k = calloc(1, sizeof(*k));

	if (!k || !(k->ring = calloc(KMSG_KEEP_LINES, sizeof(*k->ring))))
		abort();
	k->fd = -1;
	return k;
}

struct kmsg *kmsg_open(void)
{
	struct kmsg *k;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	/* Only what the kernel says from now on: older OOM reports belong to
	 * kills this run did not see. */
	if (lseek(fd, 0, SEEK_END) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	k = kmsg_new();
	k->fd = fd;
	return k;
}

void kmsg_free(struct kmsg *k)
{
	if (!k)
		return;
	if (k->fd >= 0)
		close(k->fd);
	for (size_t i = 0; i < KMSG_KEEP_LINES; i++)
		free(k->ring[i].text);
	free(k->ring);
	free(k);
}

uint64_t kmsg_lost(const struct kmsg *k)
{
	return k ? k->lost : 0;
}

bool kmsg_record_parse(const char *rec, struct kmsg_record *out)
{
	unsigned long long seq = 0, usec = 0;
	const char *semi = strchr(rec, ';');
	int pri;

	if (!semi || sscanf(rec, "%d,%llu,%llu", &pri, &seq, &usec) != 3)
		return false;
	out->seq = seq;
	out->usec = usec;
	out->text = semi + 1;
	/* Continuation lines (" SUBSYSTEM=...") follow the first newline. */
	out->len = strcspn(semi + 1, "\n");
	return true;
}

static void push_line(struct kmsg *k, uint64_t seq, uint64_t usec, const char *text, size_t len)
{
	struct kmsg_line *l = &k->ring[k->head];

	free(l->text);
	if (!(l->text = strndup(text, len)))
		abort();
	l->seq = seq;
	l->ts = usec / 1e6;
	k->head = (k->head + 1) % KMSG_KEEP_LINES;
	if (k->n < KMSG_KEEP_LINES)
		k->n++;
}

void kmsg_feed(struct kmsg *k, const char *rec)
{
	struct kmsg_record r;

	if (!kmsg_record_parse(rec, &r))
		return;
	if (k->have_seq && r.seq > k->last_seq + 1)
		k->lost += r.seq - k->last_seq - 1;
	if (!k->have_seq)
		k->first_seq = r.seq;
	k->last_seq = r.seq;
	k->have_seq = true;
	push_line(k, r.seq, r.usec, r.text, r.len);
}

bool kmsg_first_seq(const struct kmsg *k, uint64_t *seq)
{
	if (!k || !k->have_seq)
		return false;
	*seq = k->first_seq;
	return true;
}

void kmsg_feed_text(struct kmsg *k, uint64_t usec, const char *text)
{
	push_line(k, 0, usec, text, strcspn(text, "\n"));
}

int kmsg_poll(struct kmsg *k)
{
	char buf[8192];
	int added = 0;

	if (!k || k->fd < 0)
		return 0;
	for (;;) {
		ssize_t r = read(k->fd, buf, sizeof(buf) - 1);

		if (r < 0 && errno == EPIPE)
			continue; /* overwritten records: the seq gap counts them */
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf[r] = '\0';
		kmsg_feed(k, buf);
		added++;
	}
	return added;
}

/* The i-th line counting back from the newest (0 = newest). */
static struct kmsg_line *nth_back(struct kmsg *k, size_t i)
{
	return &k->ring[(k->head + KMSG_KEEP_LINES - 1 - i) % KMSG_KEEP_LINES];
}

static bool is_killed_line(const char *t, pid_t *pid)
{
	const char *p = strstr(t, "Killed process ");
	int v;

	if (!p || sscanf(p, "Killed process %d (", &v) != 1)
		return false;
	if (pid)
		*pid = v;
	return true;
}

static char *dup_until(const char *s, const char *stop)
{
	const char *e = stop ? strstr(s, stop) : NULL;
	char *d = e ? strndup(s, e - s) : strdup(s);

	if (!d)
		abort();
	return d;
}

/* "oom-kill:constraint=C,nodemask=..,cpuset=..,mems_allowed=..,
 * oom_memcg=/a,task_memcg=/a/b,task=comm,pid=N,uid=N". Paths may hold
 * commas, so fields are cut at the next known key, not at any comma. */
static void parse_oom_kill_line(const char *t, struct kernel_report *r)
{
	const char *p = strstr(t, "constraint="), *m;

	if (p) {
		size_t n = strcspn(p + 11, ",");

		snprintf(r->constraint, sizeof(r->constraint), "%.*s", (int)n, p + 11);
	}
	/* A block can hold two such lines (a retried kill): the newer wins. */
	if ((m = strstr(t, ",oom_memcg="))) {
		free(r->oom_memcg);
		r->oom_memcg = dup_until(m + 11, ",task_memcg=");
	}
	if ((m = strstr(t, ",task_memcg="))) {
		free(r->task_memcg);
		r->task_memcg = dup_until(m + 12, ",task=");
	}
}

/* "<msg>: Killed process 12 (comm) total-vm:1kB, anon-rss:2kB,
 * file-rss:3kB, shmem-rss:4kB, UID:0 pgtables:5kB oom_score_adj:0" */
static void parse_killed_line(const char *t, struct kernel_report *r)
{
	const char *k = strstr(t, ": Killed process "), *p = strstr(t, ") total-vm:");
	unsigned long long tv, an, fi, sh, pt;
	long uid, adj;

	if (k) {
		free(r->message);
		r->message = strndup(t, k - t);
		r->victim_pid = atoi(k + 17);
	}
	/* The comm can hold ") total-vm:" itself: use the last occurrence. */
	for (const char *q = p; q; q = strstr(q + 1, ") total-vm:"))
		p = q;
	if (k && p && (k = strchr(k + 17, '(')) && k < p) {
		free(r->victim_comm);
		r->victim_comm = strndup(k + 1, p - k - 1);
	}
	if (p && sscanf(p, ") total-vm:%llukB, anon-rss:%llukB, file-rss:%llukB, shmem-rss:%llukB, "
			"UID:%ld pgtables:%llukB oom_score_adj:%ld", &tv, &an, &fi, &sh, &uid, &pt,
			&adj) == 7) {
		r->have_killed = true;
		r->total_vm_kb = tv;
		r->anon_rss_kb = an;
		r->file_rss_kb = fi;
		r->shmem_rss_kb = sh;
		r->uid = uid;
		r->pgtables_kb = pt;
		r->oom_score_adj = adj;
	}
}

static void parse_block_line(const char *t, struct kernel_report *r, bool *in_dump)
{
	const char *p;
	unsigned long long u, l, f;

	if ((p = strstr(t, " invoked oom-killer: "))) {
		r->dumped = true;
		free(r->trigger_comm);
		r->trigger_comm = strndup(t, p - t);
		if ((p = strstr(t, ", order=")))
			r->order = atoi(p + 8);
	} else if (sscanf(t, "memory: usage %llukB, limit %llukB, failcnt %llu", &u, &l, &f) == 3) {
		r->have_memcg_line = true;
		r->memcg_usage_kb = u;
		r->memcg_limit_kb = l;
		r->memcg_failcnt = f;
	} else if (!strncmp(t, "CPU: ", 5) && r->trigger_comm && !r->trigger_pid &&
		   (p = strstr(t, " PID: "))) {
		/* The stack dump's header names the task that hit the OOM. */
		r->trigger_pid = atoi(p + 6);
	} else if (strstr(t, "Tasks state (memory values in pages)")) {
		*in_dump = true;
		return;
	} else if (!strncmp(t, "oom-kill:", 9)) {
		parse_oom_kill_line(t, r);
	}
	if (*in_dump && t[0] == '[' && !strstr(t, "[  pid  ]"))
		r->ntasks++;
	else if (*in_dump && t[0] != '[')
		*in_dump = false;
}

/* Where the block of the kill at index back `at` begins: the newest
 * "invoked oom-killer" before it, unless another kill's line or the
 * reaper's comes first (the dump was rate-limited for this one). */
static size_t block_start(struct kmsg *k, size_t at)
{
	size_t i;

	for (i = at + 1; i < k->n && i - at < KMSG_KEEP_LINES; i++) {
		const char *t = nth_back(k, i)->text;

		if (is_killed_line(t, NULL) || strstr(t, "oom_reaper: reaped process"))
			return at;
		if (strstr(t, " invoked oom-killer: "))
			return i;
	}
	return at;
}

/* The report of the kill whose "Killed process" line is at index back at. */
static void report_at(struct kmsg *k, size_t at, struct kernel_report *r)
{
	size_t start, i;
	bool in_dump = false;

	r->matched = true;
	r->seq = nth_back(k, at)->seq;
	r->ts = nth_back(k, at)->ts;
	start = block_start(k, at);
	r->truncated = start - at + 1 > KMSG_BLOCK_MAX;
	r->lines = calloc(start - at + 1, sizeof(char *));
	if (!r->lines)
		abort();
	for (i = start + 1; i-- > at;) {
		const char *t = nth_back(k, i)->text;

		parse_block_line(t, r, &in_dump);
		/* Keep the head and the tail of an overlong block (the task
		 * dump is in the middle); the counts above see every line. */
		if (r->truncated && start - i >= KMSG_BLOCK_MAX / 2 && i - at >= KMSG_BLOCK_MAX / 2)
			continue;
		if (!(r->lines[r->nlines++] = strdup(t)))
			abort();
	}
	parse_killed_line(nth_back(k, at)->text, r);
}

static void report_init(struct kernel_report *r)
{
	memset(r, 0, sizeof(*r));
	r->order = -1;
}

bool kmsg_match(struct kmsg *k, pid_t pid, struct kernel_report *r)
{
	size_t at;

	report_init(r);
	if (!k)
		return false;
	for (at = 0; at < k->n; at++) {
		pid_t p;

		if (is_killed_line(nth_back(k, at)->text, &p) && p == pid)
			break;
	}
	if (at == k->n)
		return false;
	report_at(k, at, r);
	return true;
}

bool kmsg_newest_kill(struct kmsg *k, struct kernel_report *r)
{
	report_init(r);
	if (!k || !k->n || !is_killed_line(nth_back(k, 0)->text, NULL))
		return false;
	report_at(k, 0, r);
	return true;
}

void kernel_report_free(struct kernel_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r->oom_memcg);
	free(r->task_memcg);
	free(r->trigger_comm);
	free(r->message);
	free(r->victim_comm);
	memset(r, 0, sizeof(*r));
}

const char *kmsg_constraint_name(const char *c)
{
	static const struct { const char *k, *name; } map[] = {
		{ "CONSTRAINT_NONE", "global" },
		{ "CONSTRAINT_CPUSET", "cpuset" },
		{ "CONSTRAINT_MEMORY_POLICY", "mempolicy" },
		{ "CONSTRAINT_MEMCG", "memcg" },
	};

	for (size_t i = 0; c && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(c, map[i].k))
			return map[i].name;
	return NULL;
}

/* path itself or a cgroup below it. */
static bool path_within(const char *p, size_t n, const char *path)
{
	size_t l = strlen(path);

	if (!path[0] || !strcmp(path, "/"))
		return true;
	return n >= l && !strncmp(p, path, l) && (n == l || p[l] == '/');
}

void kmsg_kill_feed(struct kmsg_kill *kk, const char *rec, const char *path)
{
	const char *t, *om, *tm, *task, *pid;
	struct kmsg_record r;

	if (!kmsg_record_parse(rec, &r) || strncmp(r.text, "oom-kill:", 9))
		return;
	t = r.text;
	om = strstr(t, ",oom_memcg=");
	tm = strstr(t, ",task_memcg=");
	task = strstr(t, ",task=");
	pid = task ? strstr(task, ",pid=") : NULL;
	if (!om || !tm || !task || !pid)
		return;
	/* comm may hold ",pid=": the last one is the field. */
	for (const char *q = pid; q; q = strstr(q + 1, ",pid="))
		pid = q;
	if (!path_within(om + 11, tm - om - 11, path ? path : "/") &&
	    !path_within(tm + 12, task - tm - 12, path ? path : "/"))
		return;
	kk->found = true;
	snprintf(kk->comm, sizeof(kk->comm), "%.*s", (int)(pid - task - 6), task + 6);
	kk->pid = atoi(pid + 5);
	kk->ts = r.usec / 1e6;
	free(kk->oom_memcg);
	kk->oom_memcg = strndup(om + 11, tm - om - 11);
}

int kmsg_read_all(void (*cb)(const char *rec, void *ctx), void *ctx)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	char buf[8192];

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf) - 1);

		/* EPIPE: the record to read next was overwritten meanwhile;
		 * the next read goes on from the oldest one left. */
		if (r < 0 && (errno == EPIPE || errno == EINTR))
			continue;
		if (r <= 0)
			break;
		buf[r] = '\0';
		cb(buf, ctx);
	}
	close(fd);
	return 0;
}

struct last_kill_ctx {
	struct kmsg_kill *kk;
	const char *path;
};

static void last_kill_cb(const char *rec, void *ctx)
{
	struct last_kill_ctx *c = ctx;

	kmsg_kill_feed(c->kk, rec, c->path);
}

int kmsg_last_kill(const char *path, struct kmsg_kill *kk)
{
	memset(kk, 0, sizeof(*kk));
	return kmsg_read_all(last_kill_cb, &(struct last_kill_ctx){ .kk = kk, .path = path });
}

/* ---- the journal's export format ---- */

struct jentry {
	char boot[40];
	uint64_t mono, real;
	bool have_mono;
	char *msg;
};

static void jentry_field(struct jentry *e, const char *key, size_t klen, const char *val, size_t vlen)
{
#define KEY_IS(s) (klen == sizeof(s) - 1 && !memcmp(key, s, klen))
	char num[24];

	if (KEY_IS("MESSAGE")) {
		free(e->msg);
		if (!(e->msg = strndup(val, vlen)))
			abort();
		return;
	}
	if (KEY_IS("_BOOT_ID")) {
		snprintf(e->boot, sizeof(e->boot), "%.*s", (int)(vlen < 39 ? vlen : 39), val);
		return;
	}
	snprintf(num, sizeof(num), "%.*s", (int)(vlen < 23 ? vlen : 23), val);
	if (KEY_IS("_SOURCE_MONOTONIC_TIMESTAMP")) {
		e->mono = strtoull(num, NULL, 10);
		e->have_mono = true;
	} else if (KEY_IS("__MONOTONIC_TIMESTAMP") && !e->have_mono) {
		e->mono = strtoull(num, NULL, 10);
	} else if (KEY_IS("__REALTIME_TIMESTAMP")) {
		e->real = strtoull(num, NULL, 10);
	}
#undef KEY_IS
}

static void jentry_emit(struct jentry *e, void (*cb)(const struct journal_kernel_rec *, void *),
			void *ctx, int *n)
{
	if (e->msg) {
		cb(&(struct journal_kernel_rec){ .boot_id = e->boot, .mono_usec = e->mono,
						 .real_usec = e->real, .message = e->msg }, ctx);
		(*n)++;
	}
	free(e->msg);
	memset(e, 0, sizeof(*e));
}

int journal_export_parse(const char *buf, size_t len,
			 void (*cb)(const struct journal_kernel_rec *rec, void *ctx), void *ctx)
{
	struct jentry e = { 0 };
	size_t pos = 0;
	int n = 0;

	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos), *eq;
		size_t llen;

		if (!nl)
			break; /* a last field cut short: dropped */
		llen = nl - line;
		if (!llen) {
			jentry_emit(&e, cb, ctx, &n);
			pos++;
			continue;
		}
		if ((eq = memchr(line, '=', llen))) {
			jentry_field(&e, line, eq - line, eq + 1, nl - eq - 1);
			pos += llen + 1;
			continue;
		}
		/* Binary: KEY\n, le64 size, data, \n. */
		uint64_t size = 0;
		size_t data = pos + llen + 1;

		if (len - data < 8)
			goto bad;
		for (int i = 7; i >= 0; i--)
			size = size << 8 | (unsigned char)buf[data + i];
		data += 8;
		if (size >= len - data || buf[data + size] != '\n')
			goto bad;
		jentry_field(&e, line, llen, buf + data, size);
		pos = data + size + 1;
	}
	jentry_emit(&e, cb, ctx, &n);
	return n;
bad:
	free(e.msg);
	return -EINVAL;
}
