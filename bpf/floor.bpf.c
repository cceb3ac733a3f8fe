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

/* The entry and the exit tracepoint of one syscall, both empty. */
#define FLOOR_SYSCALL(name)                                              \
	SEC("tracepoint/syscalls/sys_enter_" #name)                      \
	int floor_enter_##name(void *ctx) { return 0; }                  \
	SEC("tracepoint/syscalls/sys_exit_" #name)                       \
	int floor_exit_##name(void *ctx) { return 0; }

/* memleak-trace's mapping hooks. */
FLOOR_SYSCALL(mmap)
FLOOR_SYSCALL(munmap)
FLOOR_SYSCALL(mremap)
FLOOR_SYSCALL(brk)

/* sockleak's fd hooks. */
FLOOR_SYSCALL(socket)
FLOOR_SYSCALL(socketpair)
FLOOR_SYSCALL(accept)
FLOOR_SYSCALL(accept4)
FLOOR_SYSCALL(close)
FLOOR_SYSCALL(close_range)
FLOOR_SYSCALL(dup)
FLOOR_SYSCALL(dup2)
FLOOR_SYSCALL(dup3)
FLOOR_SYSCALL(fcntl)

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
