/* The exporter's socket collector: sockleak's BPF programs (no stacks)
 * and its per-process table (user/sockleak/sockleak_fdtab.h), summed by
 * cgroup and command name: sockets open, created, closed, in CLOSE_WAIT,
 * older than a threshold, and fds against RLIMIT_NOFILE. A thin adapter
 * until sockleak has a collector API of its own. Prints nothing. */
#ifndef MEMSCOPE_EXPORTER_SOCKC_H
#define MEMSCOPE_EXPORTER_SOCKC_H

#include <stddef.h>
#include <stdint.h>
#include "expo.h"

struct sockc_opts {
	double older_than_s;     /* sockets open longer are leak suspects */
	size_t max_rows;         /* (cgroup, comm) rows kept */
};

struct sockc;
/* NULL after one error line when the programs cannot be loaded. */
struct sockc *sockc_new(const struct sockc_opts *o);
void sockc_refresh(struct sockc *c);
void sockc_write(const struct sockc *c, struct expo *e);
void sockc_losses(const struct sockc *c, const char *const **names, const uint64_t **vals, size_t *n);
void sockc_free(struct sockc *c);

#endif
