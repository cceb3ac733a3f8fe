/* sockleak's reports: the top-like table each interval, the final report
 * with its verdict line first, and their --json twins, printed from the
 * collector's snapshot (sockleak_collect.h); they read nothing themselves. */
#ifndef MEMSCOPE_SOCKLEAK_REPORT_H
#define MEMSCOPE_SOCKLEAK_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "sockleak_collect.h"

struct sl_report_opts {
	bool json;
	bool by_cgroup;
	bool all_fds;
	double older_than_s;
	int top;                  /* rows shown */
	bool kernel_sockets;      /* --kernel-sockets: sk_* counters are live (sl_collector_options) */
	struct sl_sites *sites;   /* creating call sites, symbolized (sl_collector_sites) */
	const uint64_t *drops;    /* the BPF program's loss counters (sl_collector_drops) */
};

/* The table of the last interval, after sl_collector_refresh. */
void sl_report_interval(const struct sl_snapshot *s, const struct sl_report_opts *o);
/* The final report (verdict first, leaked sockets and their stacks). */
void sl_report_final(const struct sl_snapshot *s, const struct sl_report_opts *o);

#endif
