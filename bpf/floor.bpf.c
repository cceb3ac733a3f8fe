// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The benchmark floor: empty programs on the hooks the memscope tracers
 * use, so that the harness can tell what the hook itself costs (entering
 * BPF from a syscall tracepoint or a uprobe) from what a tool's program
 * does there. Loaded by scripts/bench.d/floor.c, which enables one group
 * of hooks at a time with bpf_program__set_autoload.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* One empty program on tracepoint category:name, named floor_<name>. */
#define FLOOR_TP(category, name) \
	SEC("tracepoint/" #category "/" #name) int floor_##name(void *ctx) { return 0; }

/* memleak-trace's mapping hooks: the exit of each mapping call (the
 * result is known there) and exec. */
FLOOR_TP(syscalls, sys_exit_mmap)
FLOOR_TP(syscalls, sys_exit_munmap)
FLOOR_TP(syscalls, sys_exit_mremap)
FLOOR_TP(syscalls, sys_exit_brk)
FLOOR_TP(sched, sched_process_exec)

/* sockleak's hooks without --all-fds: fd creation at exit, release at
 * entry, the calls that take an fd over at both ends, process lifetime
 * and TCP state changes. */
FLOOR_TP(syscalls, sys_exit_socket)
FLOOR_TP(syscalls, sys_exit_accept)
FLOOR_TP(syscalls, sys_exit_accept4)
FLOOR_TP(syscalls, sys_enter_socketpair)
FLOOR_TP(syscalls, sys_exit_socketpair)
FLOOR_TP(syscalls, sys_enter_close)
FLOOR_TP(syscalls, sys_enter_close_range)
FLOOR_TP(syscalls, sys_exit_close_range)
FLOOR_TP(syscalls, sys_enter_dup)
FLOOR_TP(syscalls, sys_exit_dup)
FLOOR_TP(syscalls, sys_enter_dup2)
FLOOR_TP(syscalls, sys_exit_dup2)
FLOOR_TP(syscalls, sys_enter_dup3)
FLOOR_TP(syscalls, sys_exit_dup3)
FLOOR_TP(syscalls, sys_enter_fcntl)
FLOOR_TP(syscalls, sys_exit_fcntl)
FLOOR_TP(sched, sched_process_fork)
FLOOR_TP(sched, sched_process_exit)
FLOOR_TP(sock, inet_sock_set_state)

/* memleak-trace --malloc's allocator hooks: an entry probe on each
 * allocation function, a return probe where the result is the address,
 * an entry probe on free. User space attaches them by name to one
 * library and one pid. */
SEC("uprobe") int floor_malloc(void *ctx) { return 0; }
SEC("uretprobe") int floor_malloc_ret(void *ctx) { return 0; }
SEC("uprobe") int floor_calloc(void *ctx) { return 0; }
SEC("uretprobe") int floor_calloc_ret(void *ctx) { return 0; }
SEC("uprobe") int floor_realloc(void *ctx) { return 0; }
SEC("uretprobe") int floor_realloc_ret(void *ctx) { return 0; }
SEC("uprobe") int floor_free(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
