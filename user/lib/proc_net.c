// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "procfs.h"
#include "proc_net.h"

static const char *const state_names[TCP_ST_MAX] = {
	"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
	"NEW_SYN_RECV",
};

const char *tcp_state_name(int state)
{
	return state > 0 && state < TCP_ST_MAX ? state_names[state] : "?";
}

/* The kernel prints addresses as the raw 32-bit words in hex (host order
 * of the in-memory bytes) and the port in host order. */
static int fmt_addr(const char *hex, unsigned port, char out[ADDR_LEN])
{
	char ip[INET6_ADDRSTRLEN];
	size_t len = strlen(hex);

	if (len == 8) {
		struct in_addr a;

		a.s_addr = (uint32_t)strtoul(hex, NULL, 16);
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		snprintf(out, ADDR_LEN, "%s:%u", ip, port);
	} else if (len == 32) {
		struct in6_addr a;
		uint32_t w[4];
		char part[9] = { 0 };

		for (int i = 0; i < 4; i++) {
			memcpy(part, hex + 8 * i, 8);
			w[i] = (uint32_t)strtoul(part, NULL, 16);
		}
		memcpy(&a, w, sizeof(a));
		inet_ntop(AF_INET6, &a, ip, sizeof(ip));
		snprintf(out, ADDR_LEN, "[%s]:%u", ip, port);
	} else {
		return -EINVAL;
	}
	return 0;
}

void tcp_table_parse(struct tcp_table *t, char *buf, size_t *cap)
{
	char *line, *save = NULL;

	line = strtok_r(buf, "\n", &save); /* header */
	while ((line = strtok_r(NULL, "\n", &save))) {
		char lh[33], rh[33];
		unsigned lp, rp, st;
		unsigned long long ino;
		struct tcp_row *r;

		if (sscanf(line, " %*u: %32[0-9A-Fa-f]:%x %32[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %*u %*d %llu",
			   lh, &lp, rh, &rp, &st, &ino) != 6)
			continue;
		if (st < TCP_ST_MAX)
			t->states[st]++;
		ARRAY_GROW(t->rows, t->n, *cap, 256);
		r = &t->rows[t->n];
		r->ino = ino;
		r->state = st;
		if (fmt_addr(lh, lp, r->local) || fmt_addr(rh, rp, r->remote))
			continue;
		t->n++;
	}
}

static int add_file(struct tcp_table *t, const char *name, size_t *cap)
{
	char *buf;
	ssize_t len = proc_read(0, name, &buf);

	if (len < 0)
		return len == -ENOENT ? 0 : (int)len; /* no IPv6: fine */
	tcp_table_parse(t, buf, cap);
	free(buf);
	return 0;
}

static int cmp_ino(const void *a, const void *b)
{
	uint64_t x = ((const struct tcp_row *)a)->ino, y = ((const struct tcp_row *)b)->ino;

	return x < y ? -1 : x > y;
}

int tcp_table_load(struct tcp_table *t)
{
	size_t cap = 0;
	int err;

	memset(t, 0, sizeof(*t));
	err = add_file(t, "net/tcp", &cap);
	if (!err)
		err = add_file(t, "net/tcp6", &cap);
	if (err) {
		tcp_table_free(t);
		return err;
	}
	qsort(t->rows, t->n, sizeof(*t->rows), cmp_ino);
	return 0;
}

const struct tcp_row *tcp_table_find(const struct tcp_table *t, uint64_t ino)
{
	struct tcp_row key = { .ino = ino };

	if (!ino || !t->n)
		return NULL;
	return bsearch(&key, t->rows, t->n, sizeof(key), cmp_ino);
}

void tcp_table_free(struct tcp_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

/* "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1": look the words up after
 * the protocol tag. */
static bool word_value(const char *line, const char *word, uint64_t *v)
{
	char key[32];
	const char *p;
	size_t len = strcspn(line, "\n");

	snprintf(key, sizeof(key), " %s ", word);
	p = strstr(line, key);
	if (!p || p >= line + len)
		return false;
	*v = strtoull(p + strlen(key), NULL, 10);
	return true;
}

static uint64_t word_after(const char *line, const char *word)
{
	uint64_t v = 0;

	word_value(line, word, &v);
	return v;
}

static const char *line_of(const char *buf, const char *tag)
{
	const char *p = buf;
	size_t n = strlen(tag);

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, tag, n))
			return p;
	return NULL;
}

void sockstat_parse(const char *buf, struct sockstat *s)
{
	const char *l;

	if ((l = line_of(buf, "sockets:")))
		s->sockets_used = word_after(l, "used");
	if ((l = line_of(buf, "TCP:"))) {
		s->tcp_inuse = word_after(l, "inuse");
		s->tcp_orphan = word_after(l, "orphan");
		s->tcp_tw = word_after(l, "tw");
		s->tcp_alloc = word_after(l, "alloc");
		s->have_mem |= word_value(l, "mem", &s->tcp_mem_pages);
	}
	if ((l = line_of(buf, "UDP:")))
		s->have_mem |= word_value(l, "mem", &s->udp_mem_pages);
	if ((l = line_of(buf, "TCP6:")))
		s->tcp6_inuse = word_after(l, "inuse");
}

int sockstat_read(struct sockstat *s)
{
	char *buf = NULL;
	ssize_t len;

	memset(s, 0, sizeof(*s));
	len = proc_read(0, "net/sockstat", &buf);
	if (len < 0)
		return (int)len;
	sockstat_parse(buf, s);
	free(buf);
	/* sockstat6 has only the TCP6 line. */
	if (proc_read(0, "net/sockstat6", &buf) >= 0) {
		sockstat_parse(buf, s);
		free(buf);
	}
	return 0;
}
