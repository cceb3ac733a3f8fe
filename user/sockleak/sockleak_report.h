/* sockleak's reports: the top-like table each interval, the final report
 * with its verdict line first, and their --json twins. */
#ifndef MEMSCOPE_SOCKLEAK_REPORT_H
#define MEMSCOPE_SOCKLEAK_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "sockleak_fdtab.h"
#include "sockleak_sites.h"

struct sl_report_opts {
	bool json;
	bool by_cgroup;
	bool all_fds;
	double older_than_s;
	int top;                  /* rows shown */
	bool kernel_sockets;      /* --kernel-sockets: sk_* counters are live */
	int cw_map;               /* BPF map fd */
	struct sl_sites *sites;   /* creating call sites, symbolized */
	const uint64_t *drops;    /* the BPF program's loss counters */
};

void sl_report_interval(struct fdtab *t, const struct sl_report_opts *o);
void sl_report_final(struct fdtab *t, const struct sl_report_opts *o);

#endif
