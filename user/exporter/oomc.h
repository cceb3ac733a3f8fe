/* The exporter's OOM-kill collector: oomwatch's BPF program on
 * oom:mark_victim, every victim counted by its cgroup, command name and
 * the OOM's constraint, with the time of the last kill. A thin adapter over
 * oomwatch's skeleton and its event decoder (user/oomwatch/oom_report.h)
 * until oomwatch has a collector API of its own. Prints one journal line
 * per kill on stderr; nothing else. */
#ifndef MEMSCOPE_EXPORTER_OOMC_H
#define MEMSCOPE_EXPORTER_OOMC_H

#include <bpf/libbpf.h>
#include <stddef.h>
#include "expo.h"

struct oomc;
/* NULL after one error line when the program cannot be loaded. */
struct oomc *oomc_new(size_t max_series);
/* The ring buffer to poll (events are counted as they are read). */
struct ring_buffer *oomc_ringbuf(struct oomc *c);
void oomc_write(struct oomc *c, struct expo *e);
/* Loss counters, by reason: (name, value) pairs for the exporter's losses. */
void oomc_losses(const struct oomc *c, const char *const **names, const uint64_t **vals, size_t *n);
void oomc_free(struct oomc *c);

#endif
