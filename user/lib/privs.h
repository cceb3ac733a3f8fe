#ifndef MEMSCOPE_PRIVS_H
#define MEMSCOPE_PRIVS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/capability.h>

/* Newer than some kernel headers. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

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

/* A capability as a bit of a keep mask. */
#define PRIV(cap) (1ull << (cap))

/* cap, or CAP_SYS_ADMIN on a kernel older than cap (CAP_BPF and
 * CAP_PERFMON came in 5.8, CAP_CHECKPOINT_RESTORE in 5.9; before them
 * CAP_SYS_ADMIN stood for each). */
uint64_t privs_or_admin(int cap);

/* Give up, once the programs are attached, every capability but keep
 * from the effective, permitted and bounding sets (the bounding set, so
 * that a program run later as root cannot get them back at exec), and
 * clear the inheritable and ambient sets; no_new_privs is set, so that
 * where the bounding set is not ours to cut (no CAP_SETPCAP under a
 * unit) exec grants nothing either. CAP_BPF is kept as well where
 * this kernel checks it at every bpf() call, map reads included
 * (kernel.unprivileged_bpf_disabled before 5.19). Capabilities belong to
 * each thread: call it before any thread starts, and after the symbolizer
 * worker has started (it needs CAP_SETUID to become nobody). With
 * verbose, says what is kept. 0, or -errno with a warning printed. */
int privs_settle(uint64_t keep, bool verbose);

#endif
