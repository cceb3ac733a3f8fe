#ifndef MEMSCOPE_PRIVS_H
#define MEMSCOPE_PRIVS_H

/* Check, before anything is loaded, that this process may load and attach
 * tracing BPF programs: CAP_SYS_ADMIN, or CAP_BPF together with CAP_PERFMON
 * (Linux 5.8+). On failure prints one line naming the missing capability
 * and returns -EPERM. */
int privs_check(void);

#endif
