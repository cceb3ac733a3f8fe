/* TCP as /proc/net shows it: per-socket state and addresses by inode
 * (/proc/net/tcp, tcp6; sockleak) and the host counters
 * (/proc/net/sockstat; sockleak and memdiag). */
#ifndef MEMSCOPE_PROC_NET_H
#define MEMSCOPE_PROC_NET_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define TCP_ST_ESTABLISHED 1
#define TCP_ST_TIME_WAIT   6
#define TCP_ST_CLOSE_WAIT  8
#define TCP_ST_LISTEN      10
#define TCP_ST_MAX         13

#define ADDR_LEN 64 /* "[ffff:...:ffff]:65535" fits */

struct tcp_row {
	uint64_t ino;           /* 0 for TIME_WAIT and not-yet-accepted */
	int state;              /* TCP_ST_* */
	char local[ADDR_LEN];
	char remote[ADDR_LEN];
};

struct tcp_table {
	struct tcp_row *rows;   /* sorted by ino */
	size_t n;
	uint64_t states[TCP_ST_MAX]; /* host count per state, v4 + v6 */
};

int tcp_table_load(struct tcp_table *t);
/* Rows of one /proc/net/tcp or tcp6 buffer (modified: tokenised) added to
 * t; *cap is t->rows' room. */
void tcp_table_parse(struct tcp_table *t, char *buf, size_t *cap);
const struct tcp_row *tcp_table_find(const struct tcp_table *t, uint64_t ino);
void tcp_table_free(struct tcp_table *t);
const char *tcp_state_name(int state);

/* The TCP and UDP lines of /proc/net/sockstat and sockstat6 (memdiag
 * reads the socket buffer pages from here too). */
struct sockstat {
	uint64_t sockets_used;
	uint64_t tcp_inuse, tcp_orphan, tcp_tw, tcp_alloc, tcp_mem_pages;
	uint64_t udp_mem_pages;
	bool have_mem;          /* a TCP or UDP line carried "mem" */
	uint64_t tcp6_inuse;
};
int sockstat_read(struct sockstat *s);
/* The lines of a sockstat or sockstat6 buffer, added to s. */
void sockstat_parse(const char *buf, struct sockstat *s);

#endif
