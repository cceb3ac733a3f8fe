/* libbpf plumbing shared by the tracers: logging, the start-up checks
 * (privileges, BTF), and loss counters. */
#ifndef MEMSCOPE_BPFUTIL_H
#define MEMSCOPE_BPFUTIL_H

#include <stdbool.h>
#include <bpf/libbpf.h>

/* libbpf's own log only with -v. */
void bpf_log_setup(bool verbose);
/* Privileges, BTF, ring buffer: one clear line and -1 when missing. */
int bpf_preflight(const char *tool);
/* Explain a load/attach failure: what failed, why and what to do. */
void bpf_explain(const char *what, int err);

#endif
