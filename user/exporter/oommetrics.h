/* The exporter's OOM-kill metrics: oomwatch's collector (oomwatch_collect.h)
 * without its cmdline hooks and kernel log, every victim counted by its
 * cgroup, command name and the OOM's constraint, with the time of the
 * last kill. Prints one journal line per kill on stderr; nothing else. */
#ifndef MEMSCOPE_EXPORTER_OOMMETRICS_H
#define MEMSCOPE_EXPORTER_OOMMETRICS_H

#include <stddef.h>
#include "expo.h"

struct ring_buffer;
struct oomm;
/* NULL after one error line when the collector cannot be opened. */
struct oomm *oomm_new(size_t max_series);
/* The ring buffer to poll; oomm_drain after each poll. */
struct ring_buffer *oomm_ringbuf(struct oomm *m);
/* Count the kills read by the last poll. */
void oomm_drain(struct oomm *m);
void oomm_write(const struct oomm *m, struct expo *e);
/* Loss counters, by reason: (name, value) pairs for the exporter's losses. */
void oomm_losses(const struct oomm *m, const char *const **names, const uint64_t **vals, size_t *n);
void oomm_free(struct oomm *m);

#endif
