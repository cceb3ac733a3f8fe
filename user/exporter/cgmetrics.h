/* The per-cgroup memory collector of memscope-exporter: every memory
 * cgroup of the host (v1 memory hierarchy or cgroup2), read from its
 * memory.* files, with the working set as the kubelet computes it and the
 * time left until the limit at the slope since the cgroup's last restart.
 * Prints nothing: refresh reads, write turns the latest reading into
 * exposition text. */
#ifndef MEMSCOPE_EXPORTER_CGMETRICS_H
#define MEMSCOPE_EXPORTER_CGMETRICS_H

#include <stddef.h>
#include <stdint.h>
#include "expo.h"

struct cgm_opts {
	const char *root;        /* hierarchy mount to walk; NULL: the host's memory hierarchy */
	size_t max_cgroups;      /* exported at most; the rest are counted */
	double slope_window_s;   /* samples this old at most make the slope */
};

struct cgm_stats {
	size_t seen;             /* memory cgroups found in the last refresh */
	size_t exported;
	size_t dropped;          /* over max_cgroups */
	uint64_t read_errors;    /* cgroups that vanished or could not be read, since start */
};

/* The container labels of a cgroup path: container_id as kube-state-metrics
 * writes it ("containerd://<64 hex>", so the two join), the pod's UID. */
struct cgm_container {
	char container_id[96];
	char pod_uid[40];
};
void cgm_container_of(const char *path, struct cgm_container *c);

struct cgm;
/* NULL with -ENOENT in *err when no memory hierarchy is mounted. */
struct cgm *cgm_new(const struct cgm_opts *o, int *err);
/* Walk the hierarchy and read every memory cgroup; now is CLOCK_MONOTONIC
 * seconds, unix_now the same instant as Unix time. */
void cgm_refresh(struct cgm *c, double now, double unix_now);
void cgm_write(const struct cgm *c, struct expo *e);
struct cgm_stats cgm_stats(const struct cgm *c);
const char *cgm_root(const struct cgm *c);
void cgm_free(struct cgm *c);

#endif
