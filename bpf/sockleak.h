/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* sockleak's kernel/user ABI. Nothing travels per event: the BPF side keeps
 * the live fds and the per-process counters in hash maps, and user space
 * walks them at each report. */
#ifndef MEMSCOPE_SOCKLEAK_H
#define MEMSCOPE_SOCKLEAK_H

#include "callsite.h"
#include "common.h"
#include "modrec.h"

#define SL_MAX_FDS_DEFAULT   131072 /* live tracked fds, system-wide */
#define SL_MAX_PROCS         16384  /* processes with tracked fds */
#define SL_MAX_STACKS        16384  /* distinct creating stacks */
#define SL_MAX_STACK_DEPTH   32
#define SL_MAX_CLOSE_WAIT    65536  /* sockets sitting in CLOSE_WAIT */

/* What an fd is. Sockets only by default; every kind with --all-fds. */
#define FDK_SOCKET   0
#define FDK_FILE     1
#define FDK_PIPE     2
#define FDK_EVENTFD  3
#define FDK_EPOLL    4
#define FDK_TIMERFD  5
#define FDK_SIGNALFD 6
#define FDK_INOTIFY  7
#define FDK_MEMFD    8
#define FDK_PIDFD    9
#define FDK_OTHER    10
#define FDK_MAX      11

/* How the fd came to exist. */
#define HOW_CREATE   0  /* socket, socketpair, open, pipe, ... */
#define HOW_ACCEPT   1
#define HOW_DUP      2  /* dup, dup2, dup3, fcntl F_DUPFD */
#define HOW_INHERIT  3  /* copied to a child at fork */
#define HOW_BASELINE 4  /* in /proc before the trace started */
#define HOW_FOUND    5  /* found in /proc later: made by a path not hooked */
/* A closed fd's entry, kept for the next fd of that number: a process
 * reuses its lowest free numbers, so a socket/close loop rewrites one
 * entry in place instead of inserting and deleting one per socket (a hash
 * insert or delete takes the bucket lock and the free list: most of the
 * tracer's cost per socket). Not an fd: every reader skips it. User space
 * deletes them with their process, or when they crowd the map. */
#define HOW_FREE     6
/* state with how set to HOW_FREE (how is its top 16 bits: little-endian) */
#define FD_STATE_FREE(state) (((state) & 0xffffffffffffULL) | ((__u64)HOW_FREE << 48))

struct fd_key {
	__u32 tgid;
	__u32 fd;
};

struct fd_info {
	__u64 ts_ns;      /* creation (bpf_ktime_get_ns); 0 = unknown (baseline) */
	__u64 ino;        /* inode of the open file (socket:[ino] in /proc) */
	__u64 sk;         /* struct sock *, sockets only: matches CLOSE_WAIT */
	__u64 caller;     /* return address found at the user sp (see bpf) */
	__u64 site;       /* the creating call site (cs_val.site) */
	__u64 interp;     /* interpreter stack in interp_stacks, 0 if none */
	union {
		struct {
			__s32 stack_id; /* user stack in `stacks`, <0 when none */
			__u16 kind;     /* FDK_* */
			__u16 how;      /* HOW_*; HOW_FREE: no fd (see there) */
		};
		/* The three as one word: a close takes the entry with one
		 * compare-and-swap, so two threads closing the same fd count
		 * one close. */
		__u64 state;
	};
};

/* Per process (tgid). Counters only grow; user space diffs them. */
struct proc_stats {
	__u64 created[FDK_MAX];
	__u64 closed[FDK_MAX];   /* close, close_range, dup2 over, reuse */
	__u64 closed_baseline;   /* ... of those, fds open before the trace */
	__u64 inherited;         /* fds copied from the parent at fork */
	__u64 reused;            /* fd reappeared while tracked: released unseen */
	__u64 exit_ns;           /* whole thread group exited (0: alive) */
	struct proc_ending ending; /* how it ended, set with exit_ns */
	__u64 last_new_ns;       /* its newest fd made (not inherited) */
	/* Tracked fds created minus closed since the trace began, and its
	 * highest value: the peak is the start count plus net_peak. */
	__s64 net, net_peak;
	/* The cgroups (struct cgroup_ids), read in the kernel at the first
	 * tracked fd of the process and again at each exec, so that an exited
	 * process still shows them; user space maps them to paths. */
	__u64 cg_v2;
	__u64 cg_v1_memory;
	__u32 execs;             /* exec count: close-on-exec fds went away */
	__u32 pad;
	char comm[TASK_COMM_LEN];
	/* --kernel-sockets: inet sockets this process created with socket(),
	 * followed by cgroup/sock_create and sock_release whoever ends them. */
	__u64 sk_born;
	__u64 sk_released;       /* last file reference gone (close, exit, ...) */
	__u64 sk_released_other; /* ... dropped by another process (fd passed) */
	__u64 sk_freed;          /* the kernel let go of it as well */
};

/* Socket-local storage (sk_storage) of a socket created under
 * --kernel-sockets: its owner, stamped in process context at creation.
 * The owner's comm and cgroups sit once in its proc_stats. */
struct sk_owner {
	__u64 ts_ns;
	__u64 cg_v2;
	__u32 tgid;
	__u32 flags;             /* SKO_* */
};
#define SKO_RELEASED 1
#define SKO_FREED    2

/* A socket still open when its process exited (the exit closed it), as
 * the kernel had it at the exit: the state and addresses that /proc no
 * longer shows once the process is gone. Kept in `at_exit` by fd. */
struct fd_exit {
	__u64 cw_ns;             /* entered CLOSE_WAIT (0: before the trace, or not) */
	__u16 lport, rport;      /* host order */
	__u8 state;              /* TCP state (TCP_ST_* numbering); 0 not TCP */
	__u8 family;             /* AF_INET, AF_INET6 */
	__u8 proto;              /* IPPROTO_* */
	__u8 pad;
	__u8 laddr[16], raddr[16];
};
#define SL_MAX_AT_EXIT 65536

/* A socket closed after sitting in CLOSE_WAIT for --older-than (at least
 * SL_LATE_MIN_NS): the peer had hung up long before. A pooled worker that
 * keeps such sockets and closes them at its shutdown (php-fpm's
 * persistent sockets at pm.max_requests) leaves this trace of its leak.
 * Keyed by owner, fd and close time; user space takes them at each report. */
#define SL_LATE_MIN_NS 1000000000ULL
#define SL_MAX_LATE    16384
/* Closes after a shorter CLOSE_WAIT go to the LRU map `short_cw`: most are
 * a server's prompt close after the peer's FIN, but a worker recycled soon
 * after it started closes its persistent CLOSE_WAIT sockets at shutdown
 * within that second. User space keeps those of a process that then exits
 * (closed after its last new fd: at shutdown) and lets the LRU forget the
 * rest; the least recently closed go first when the map is full. */
#define SL_MAX_SHORT_CW 16384
struct late_key {
	__u32 tgid;
	__u32 fd;
	__u64 close_ns;
};
struct late_close {
	struct fd_info v;
	struct fd_exit x;        /* the socket just before the close */
};

/* Ring-buffer record: the call-site service's snapshots (struct
 * cs_snap_event, callsite.h), so that user space symbolizes a new site's
 * stack while the process is alive and verifies cached ones. */
#define SL_EV_SITE CS_EV_SNAP
/* Ring-buffer record: struct module_record (modrec.h), code a new call
 * site runs in, sent just before its SL_EV_SITE. */
#define SL_EV_MODULE 2

/* A TCP socket entering CLOSE_WAIT (peer closed, we did not). */
struct cw_info {
	__u64 ts_ns;
	__u64 ino;               /* 0 if not yet accepted when it happened */
};

#endif
