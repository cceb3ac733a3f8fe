/* The exporter's socket metrics: sockleak's collector (sockleak_collect.h)
 * without stacks, its per-process figures summed by cgroup and command
 * name: sockets open, created, closed, in CLOSE_WAIT, older than a
 * threshold, and fds against RLIMIT_NOFILE. Prints nothing. */
#ifndef MEMSCOPE_EXPORTER_SOCKMETRICS_H
#define MEMSCOPE_EXPORTER_SOCKMETRICS_H

#include <stddef.h>
#include <stdint.h>
#include "expo.h"

struct sockm_opts {
	double older_than_s;     /* sockets open longer are leak suspects */
	size_t max_rows;         /* (cgroup, comm) rows kept */
};

struct sockm;
/* NULL after one error line when the collector cannot be opened. */
struct sockm *sockm_new(const struct sockm_opts *o);
void sockm_refresh(struct sockm *m);
void sockm_write(const struct sockm *m, struct expo *e);
void sockm_losses(const struct sockm *m, const char *const **names, const uint64_t **vals, size_t *n);
void sockm_free(struct sockm *m);

#endif
