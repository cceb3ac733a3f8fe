#ifndef MEMSCOPE_PRIVS_H
#define MEMSCOPE_PRIVS_H

#include <stdbool.h>

/* Check, before anything is loaded, that this process may load and attach
 * tracing BPF programs: CAP_SYS_ADMIN, or CAP_BPF together with CAP_PERFMON
 * (Linux 5.8+). On failure prints one line naming the missing capability
 * and returns -EPERM. */
int privs_check(void);

/* Does kernel.perf_event_paranoid stop this process's perf events? Above
 * 2, Debian's and Ubuntu's kernels allow perf_event_open (how tracepoints
 * and uprobes are attached) only with CAP_SYS_ADMIN, CAP_PERFMON or not
 * (upstream treats 3 as 2). Sets *level to the sysctl's value. */
bool privs_perf_paranoid_blocks(int *level);

#endif
