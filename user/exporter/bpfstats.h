/* The exporter's own BPF programs as the kernel accounts them: run count
 * and run time, so that what the exporter costs the traced host (its
 * programs run in every process that forks, exits or opens a socket) is
 * a series next to its CPU and memory, not a guess. The kernel counts
 * only while someone holds BPF_ENABLE_STATS (or kernel.bpf_stats_enabled
 * is 1): each run then pays two clock reads, as ebpf_exporter's users
 * accept. */
#ifndef MEMSCOPE_EXPORTER_BPFSTATS_H
#define MEMSCOPE_EXPORTER_BPFSTATS_H

#include <stdbool.h>
#include "expo.h"

/* Ask the kernel to count run time for as long as the exporter lives.
 * False (and nothing counted) where it refuses (before Linux 5.8). */
bool bpfstats_enable(void);
/* Every BPF program this process holds, by name and id. */
void bpfstats_write(struct expo *e, bool enabled);
/* The fill of every BPF hash and stack map this process holds: entries
 * in use and max entries, by name and id. */
void bpfstats_write_maps(struct expo *e);

#endif
