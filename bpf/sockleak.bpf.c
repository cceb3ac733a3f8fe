// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sockleak: exact per-process accounting of socket fds (every fd with
 * --all-fds). The live fds sit in a (tgid, fd) hash filled at creation and
 * emptied at close; close() of anything that is not tracked costs one hash
 * miss and nothing reaches user space. User space walks the maps at each
 * report, so a socket that lives a few microseconds costs two hash ops. */
#include "vmlinux.h"
#include "common.bpf.h"
#include "sockleak.h"
#include "interp.bpf.h"
#include "callsite.bpf.h"
#include "modrec.bpf.h"
#include "compat.bpf.h"
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_tgid = 0;     /* -p: only this process */
const volatile __u32 self_tgid = 0;     /* sockleak itself: never tracked */
const volatile bool want_stacks = true; /* capture the creating stack */
const volatile bool all_fds = false;    /* --all-fds: kinds other than sockets */
const volatile bool have_bpf_loop = false;  /* Linux 5.17+ */
/* Keep sockets closed late in CLOSE_WAIT as leak evidence (sockleak's
 * report; the exporter shows none): each new socket's sock is read at its
 * creation and its state at its close only then. */
const volatile bool late_closes = true;
/* A close after this long in CLOSE_WAIT is kept as evidence (`late`). */
const volatile __u64 late_ns = SL_LATE_MIN_NS;
/* -c: only processes in this cgroup or below it, decided once per process
 * (at its first fd): on cgroup2 by ancestor id at a depth, or in the v1
 * memory hierarchy by walking up from the task's memory cgroup. */
const volatile __u64 targ_cg2_id = 0;
const volatile __u32 targ_cg2_level = 0;
const volatile __u64 targ_memcg_id = 0;

#define TCP_CLOSE_WAIT_STATE 8
#define AF_INET6_NR 10
#define EEXIST_ERR 17
#define CLOSE_RANGE_CLOEXEC_FLAG (1U << 2)
#define F_DUPFD_CMD 0
#define F_DUPFD_CLOEXEC_CMD 1030
#define CLOSE_RANGE_MAX_LOOP (1U << 20)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_MAX_FDS_DEFAULT);
	__type(key, struct fd_key);
	__type(value, struct fd_info);
} fds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct proc_stats);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, SL_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, SL_MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* Call-site snapshots for user space (cs_snap_event, 8 KiB each with a
 * stack copy). A full ring costs nothing but a retry: the site is not
 * cached and its next call sends again. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 2 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_MAX_LATE);
	__type(key, struct late_key);
	__type(value, struct late_close);
} late SEC(".maps");

/* Closes after a short CLOSE_WAIT: evidence only if the process exits
 * right after (sockleak.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SL_MAX_SHORT_CW);
	__type(key, struct late_key);
	__type(value, struct late_close);
} short_cw SEC(".maps");

/* Sockets open at their process's exit, with what the kernel knew of
 * them then (user space takes them at its next report). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_MAX_AT_EXIT);
	__type(key, struct fd_key);
	__type(value, struct fd_exit);
} at_exit SEC(".maps");

/* Syscall arguments kept from entry to exit, per thread. */
struct pending {
	__u64 a0, a1, a2;
};
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SL_MAX_CLOSE_WAIT);
	__type(key, __u64);
	__type(value, struct cw_info);
} closewait SEC(".maps");

/* -c: processes found outside the cgroup, so the check is made once per
 * process, not per call (LRU: an evicted one is only checked again). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SL_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u8);
} outside SEC(".maps");

/* Zeroed template for a new procs entry (keeps it off the BPF stack). */
const struct proc_stats zero_proc = {};

static __always_inline bool skip_tgid(__u32 tgid)
{
	return (targ_tgid && tgid != targ_tgid) || tgid == self_tgid;
}

/* -c: is the current process in the target cgroup (or below)? Asked only
 * for a process the maps do not know yet. */
static __always_inline bool in_target_cgroup(__u32 tgid)
{
	__u8 one = 1;
	bool in;

	if (!targ_cg2_id && !targ_memcg_id)
		return true;
	if (bpf_map_lookup_elem(&outside, &tgid))
		return false;
	in = current_in_cgroup(targ_cg2_id, targ_cg2_level, targ_memcg_id);
	if (!in)
		bpf_map_update_elem(&outside, &tgid, &one, BPF_ANY);
	return in;
}

static __always_inline struct proc_stats *proc_get(__u32 tgid)
{
	struct proc_stats *p = bpf_map_lookup_elem(&procs, &tgid);
	struct cgroup_ids ids;

	if (p)
		return p;
	if (!in_target_cgroup(tgid))
		return NULL;
	if (bpf_map_update_elem(&procs, &tgid, &zero_proc, BPF_NOEXIST) &&
	    !(p = bpf_map_lookup_elem(&procs, &tgid))) {
		count_drop(DROP_MAP_FULL);
		return NULL;
	}
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p)
		return NULL;
	/* Only the first fd of a process pays for its identity. */
	bpf_get_current_comm(p->comm, sizeof(p->comm));
	current_cgroup_ids(&ids);
	p->cg_v2 = ids.v2_id;
	p->cg_v1_memory = ids.v1_memcg_id;
	return p;
}

static __always_inline struct file *fd_file(__u32 fd)
{
#ifdef MEMSCOPE_COMPAT /* compat.bpf.h: no BTF task pointer */
	struct fdtable *fdt = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), files, fdt);
	struct file **arr;
	struct file *f = NULL;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	arr = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return f;
#else
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct file *f = NULL;

	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]);
	return f;
#endif
}

/* The inode (matches socket:[ino] in /proc) and, for a socket whose late
 * close is kept, its sock.
 * Probe reads, not bpf_rdonly_cast's direct loads: that kfunc is 6.2+,
 * and where the kernel's BTF lacks it libbpf (1.1) looks for it in the
 * modules' BTF, which needs CAP_SYS_ADMIN: the exporter's unit, with four
 * capabilities, could not load on 6.1. */
static __always_inline void file_ids(struct file *f, __u16 kind, struct fd_info *v)
{
	struct socket *so;

	v->ino = BPF_CORE_READ(f, f_inode, i_ino);
	if (kind == FDK_SOCKET && late_closes) {
		so = BPF_CORE_READ(f, private_data);
		v->sk = (__u64)BPF_CORE_READ(so, sk);
	}
}

/* The code a new call site runs in, so that it is symbolized after the
 * process exits (a client gone in milliseconds): the program and its ELF
 * interpreter, the syscall wrapper's library (ip) and the caller's module.
 * A subprogram: verified once, not in every hook. Returns the records
 * the ring buffer had no room for. */
static __noinline int send_site_modules(__u32 tgid, __u64 ip, __u64 caller)
{
	int lost = modrec_send_exec_images(&events, SL_EV_MODULE, tgid);

	if (!modrec_send(&events, SL_EV_MODULE, tgid, ip, 0))
		lost++;
	if (caller && !modrec_send(&events, SL_EV_MODULE, tgid, caller, 0))
		lost++;
	return lost;
}

/* The creating stack and caller, through the call-site service
 * (callsite.bpf.h). glibc's syscall wrappers (socket, accept when
 * single-threaded, ...) are leaf functions that keep no frame, so a frame
 * pointer walk skips the function that called them: its return address
 * is the word at the user sp, or a few words above it when the wrapper
 * spilled registers. The key's caller is the first word there pointing
 * into the main executable's code; user space adds it when the walk
 * lacks it. */
static __always_inline void user_stack(void *ctx, __u32 tgid, struct fd_info *v)
{
	struct pt_regs *regs = current_user_regs();
	struct cs_call c;

	if (!regs) {
		count_drop(DROP_STACK); /* the user registers unreadable */
		return;
	}
	if (!cs_key_read(regs, tgid, true, &c))
		return;
	/* Sockets of a key's first hits stay under the key's site: a site
	 * of their own would be a new stack to symbolize for every site. */
	if (!cs_hit(regs, &events, &c, false)) {
		/* A new site: the code it runs in first, then its snapshot. */
		for (int lost = send_site_modules(tgid, PT_REGS_IP(regs), c.k.ret); lost > 0; lost--)
			count_drop(DROP_RINGBUF);
		cs_new(ctx, regs, &stacks, &events, &c);
	}
	v->caller = c.k.ret;
	v->stack_id = c.stack_id < 0 ? -1 : c.stack_id;
	v->site = c.site;
}

/* A tracked fd went away. Closes of fds that were open before the trace
 * are counted apart: they are not among the ones created. */
/* The net count of tracked fds and its peak (threads race on the peak:
 * at worst it misses an increment). */
static __always_inline void count_net(struct proc_stats *p, __s64 d)
{
#ifdef MEMSCOPE_COMPAT /* no atomic fetch before 5.12: the peak reads the sum back */
	__sync_fetch_and_add(&p->net, d);
	__s64 n = p->net;
#else
	__s64 n = __sync_fetch_and_add(&p->net, d) + d;
#endif

	if (n > p->net_peak)
		p->net_peak = n;
}

static __always_inline void count_closed(struct proc_stats *p, const struct fd_info *v)
{
	count_net(p, -1);
	if (v->how == HOW_BASELINE)
		__sync_fetch_and_add(&p->closed_baseline, 1);
	else
		__sync_fetch_and_add(&p->closed[v->kind < FDK_MAX ? v->kind : FDK_OTHER], 1);
}

static __always_inline void count_new(struct proc_stats *p, const struct fd_info *v)
{
	count_net(p, 1);
	if (v->how == HOW_INHERIT) {
		__sync_fetch_and_add(&p->inherited, 1);
	} else {
		__sync_fetch_and_add(&p->created[v->kind < FDK_MAX ? v->kind : FDK_OTHER], 1);
		if (v->ts_ns > p->last_new_ns)
			p->last_new_ns = v->ts_ns;
	}
}

/* Rewrite an entry in place, its state word last: a reader that sees the
 * new kind and how sees the rest (user space skips HOW_FREE entries). */
static __always_inline void fd_info_store(struct fd_info *dst, const struct fd_info *v)
{
	dst->state = FD_STATE_FREE(dst->state);
	dst->ts_ns = v->ts_ns;
	dst->ino = v->ino;
	dst->sk = v->sk;
	dst->caller = v->caller;
	dst->site = v->site;
	dst->interp = v->interp;
	asm volatile("" ::: "memory");
	dst->state = v->state;
}

/* Store a new fd's entry: into the free entry its number left (the common
 * case), else a new one. A live entry at that number means its file was
 * released by a path we do not hook: count that one as closed. */
static __always_inline void put_fd(__u32 tgid, __u32 fd, struct fd_info *v,
				   struct proc_stats *p)
{
	struct fd_key k = { .tgid = tgid, .fd = fd };
	struct fd_info *old = bpf_map_lookup_elem(&fds, &k);

	if (!old) {
		if (!bpf_map_update_elem(&fds, &k, v, BPF_NOEXIST)) {
			count_new(p, v);
			return;
		}
		old = bpf_map_lookup_elem(&fds, &k); /* user space's scan put it in */
		if (!old) {
			count_drop(DROP_MAP_FULL);
			return;
		}
	}
	if (old->how != HOW_FREE) {
		/* User space's /proc scan can see a new fd before its syscall
		 * returns here: an entry it put in for this same file (no
		 * timestamp) is this file, already counted by the scan. */
		if (old->ts_ns == 0 && old->ino && old->ino == v->ino) {
			fd_info_store(old, v);
			return;
		}
		count_closed(p, old);
		__sync_fetch_and_add(&p->reused, 1);
	}
	fd_info_store(old, v);
	count_new(p, v);
}

/* A new fd made by the current task: socket, accept, open, pipe, ... */
static __always_inline void new_fd(void *ctx, long fd, __u16 kind, __u16 how)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct fd_info v = {};
	struct proc_stats *p;
	struct file *f;

	if (fd < 0 || skip_tgid(tgid))
		return;
	p = proc_get(tgid);
	if (!p)
		return;
	v.ts_ns = bpf_ktime_get_ns();
	v.kind = kind;
	v.how = how;
	f = fd_file(fd);
	if (f)
		file_ids(f, kind, &v);
	v.stack_id = -1;
	if (want_stacks) {
		user_stack(ctx, tgid, &v);
		v.interp = interp_stack(tgid);
	}
	put_fd(tgid, fd, &v, p);
}

/* What the kernel knows of a socket now (at its process's exit, or just
 * before a close). */
static __always_inline void sock_at_exit(struct sock *sk, struct fd_exit *x)
{
	__u64 key = (__u64)sk;
	struct cw_info *cw;

	x->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	x->proto = BPF_CORE_READ(sk, sk_protocol);
	if (x->proto == IPPROTO_TCP)
		x->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	x->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	x->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (x->family == AF_INET6_NR) {
		BPF_CORE_READ_INTO(&x->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&x->raddr, sk, __sk_common.skc_v6_daddr);
	} else {
		BPF_CORE_READ_INTO((__u32 *)x->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)x->raddr, sk, __sk_common.skc_daddr);
	}
	cw = bpf_map_lookup_elem(&closewait, &key);
	if (cw)
		x->cw_ns = cw->ts_ns;
}

/* The TCP state (read at every close of a tracked socket). */
static __always_inline int sk_state(struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_state);
}

/* A socket closed after a long time in CLOSE_WAIT (or one in CLOSE_WAIT
 * since before the trace): keep it, with its state and addresses. */
static __always_inline void note_late_close(const struct fd_key *k, const struct fd_info *v)
{
	struct sock *sk = (struct sock *)v->sk;
	struct late_key lk = { .tgid = k->tgid, .fd = k->fd };
	struct late_close lc = {};
	struct socket *so;
	struct file *f;

	if (v->kind != FDK_SOCKET)
		return;
	if (!sk) {
		/* Found in /proc (before the trace): the fd is still open here. */
		f = fd_file(k->fd);
		if (!f || (v->ino && BPF_CORE_READ(f, f_inode, i_ino) != v->ino))
			return;
		so = BPF_CORE_READ(f, private_data);
		sk = BPF_CORE_READ(so, sk);
	}
	if (!sk || sk_state(sk) != TCP_CLOSE_WAIT_STATE)
		return;
	lk.close_ns = bpf_ktime_get_ns();
	sock_at_exit(sk, &lc.x);
	lc.v = *v;
	if (lc.x.cw_ns && lk.close_ns - lc.x.cw_ns < late_ns) {
		/* Soon after the peer: the normal case, unless it is a shutdown. */
		bpf_map_update_elem(&short_cw, &lk, &lc, BPF_ANY);
		return;
	}
	if (bpf_map_update_elem(&late, &lk, &lc, BPF_ANY))
		count_drop(DROP_MAP_FULL);
}

/* The fd went away (close, dup2 over it, close_range). The close of an
 * untracked fd (the common case) costs one hash miss. */
static __always_inline void drop_fd(__u32 tgid, __u32 fd)
{
	struct fd_key k = { .tgid = tgid, .fd = fd };
	struct fd_info *v, old;
	struct proc_stats *p;
	__u64 freed;

	v = bpf_map_lookup_elem(&fds, &k);
	if (!v || v->how == HOW_FREE)
		return;
	old = *v;
	freed = FD_STATE_FREE(old.state);
#ifdef MEMSCOPE_COMPAT
	/* No compare-and-exchange before 5.12: two threads closing one fd at
	 * the same instant may both count the close. */
	if (v->state != old.state)
		return;
	v->state = freed;
#else
	if (__sync_val_compare_and_swap(&v->state, old.state, freed) != old.state)
		return; /* another thread's close of the same fd won */
#endif
	if (late_closes)
		note_late_close(&k, &old);
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p)
		count_closed(p, &old);
}

/* newfd is a copy of oldfd (dup family): same file, same kind. */
static __always_inline void dup_fd(void *ctx, __u32 oldfd, long newfd)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct fd_key k = { .tgid = tgid, .fd = oldfd };
	struct fd_info *src, v;
	struct proc_stats *p;

	if (newfd < 0 || (__u32)newfd == oldfd)
		return;
	src = bpf_map_lookup_elem(&fds, &k);
	if (!src || src->how == HOW_FREE)
		return;
	v = *src;
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p)
		return;
	v.ts_ns = bpf_ktime_get_ns();
	v.how = HOW_DUP;
	if (want_stacks) {
		user_stack(ctx, tgid, &v);
		v.interp = interp_stack(tgid);
	}
	put_fd(tgid, newfd, &v, p);
}

static __always_inline void save_args(__u64 a0, __u64 a1, __u64 a2)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending v = { a0, a1, a2 };

	if (skip_tgid(id >> 32))
		return;
	if (bpf_map_update_elem(&pending, &id, &v, BPF_ANY))
		count_drop(DROP_MAP_FULL);
}

/* Arguments saved at entry; deleted from the map, copied to *out. */
static __always_inline bool take_args(struct pending *out)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pending *v;

	if (skip_tgid(id >> 32))
		return false;
	v = bpf_map_lookup_elem(&pending, &id);
	if (!v)
		return false;
	*out = *v;
	bpf_map_delete_elem(&pending, &id);
	return true;
}

#define ARG(ctx, i) (((struct trace_event_raw_sys_enter *)(ctx))->args[i])
#define RET(ctx) (((struct trace_event_raw_sys_exit *)(ctx))->ret)

/* ---- sockets ---- */

SEC("tracepoint/syscalls/sys_exit_socket")
int exit_socket(void *ctx) { new_fd(ctx, RET(ctx), FDK_SOCKET, HOW_CREATE); return 0; }

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(void *ctx) { new_fd(ctx, RET(ctx), FDK_SOCKET, HOW_ACCEPT); return 0; }

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(void *ctx) { new_fd(ctx, RET(ctx), FDK_SOCKET, HOW_ACCEPT); return 0; }

/* socketpair and pipe write two fds to user memory. */
static __always_inline void exit_fd_pair(void *ctx, __u16 kind)
{
	struct pending a;
	int pair[2];

	if (!take_args(&a) || RET(ctx) != 0)
		return;
	if (bpf_probe_read_user(pair, sizeof(pair), (void *)a.a0))
		return;
	new_fd(ctx, pair[0], kind, HOW_CREATE);
	new_fd(ctx, pair[1], kind, HOW_CREATE);
}

SEC("tracepoint/syscalls/sys_enter_socketpair")
int enter_socketpair(void *ctx) { save_args(ARG(ctx, 3), 0, 0); return 0; }

SEC("tracepoint/syscalls/sys_exit_socketpair")
int exit_socketpair(void *ctx) { exit_fd_pair(ctx, FDK_SOCKET); return 0; }

/* ---- release ---- */

SEC("tracepoint/syscalls/sys_enter_close")
int enter_close(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	/* The fd is gone even if close() then reports EINTR or EIO. */
	if (!skip_tgid(tgid))
		drop_fd(tgid, ARG(ctx, 0));
	return 0;
}

struct range_ctx {
	__u32 tgid, first;
};

static long close_one(__u32 i, struct range_ctx *c)
{
	drop_fd(c->tgid, c->first + i);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close_range")
int enter_close_range(void *ctx) { save_args(ARG(ctx, 0), ARG(ctx, 1), ARG(ctx, 2)); return 0; }

SEC("tracepoint/syscalls/sys_exit_close_range")
int exit_close_range(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct range_ctx c;
	struct pending a;
	__u64 last, max;

	if (!take_args(&a) || RET(ctx) != 0 || (a.a2 & CLOSE_RANGE_CLOEXEC_FLAG))
		return 0;
	c.tgid = bpf_get_current_pid_tgid() >> 32;
	c.first = a.a0;
	if (!bpf_map_lookup_elem(&procs, &c.tgid))
		return 0;       /* nothing tracked in this process */
	/* Only fds below the table size can have been open. */
	max = BPF_CORE_READ(t, files, fdt, max_fds);
	last = (__u32)a.a1;
	if (last >= max)
		last = max ? max - 1 : 0;
	if (last < c.first)
		return 0;
#ifdef MEMSCOPE_COMPAT
	/* No bpf_loop (5.17): the fds are left to the /proc reconcile, which
	 * finds them closed at the next report. */
	return 0;
#endif
	if (last - c.first + 1 > CLOSE_RANGE_MAX_LOOP) {
		count_drop(DROP_MISSED); /* the rest is left to the /proc reconcile */
		last = c.first + CLOSE_RANGE_MAX_LOOP - 1;
	}
	bpf_loop(last - c.first + 1, close_one, &c, 0);
	return 0;
}

/* ---- copies ---- */

SEC("tracepoint/syscalls/sys_enter_dup")
int enter_dup(void *ctx) { save_args(ARG(ctx, 0), 0, 0); return 0; }

SEC("tracepoint/syscalls/sys_exit_dup")
int exit_dup(void *ctx)
{
	struct pending a;

	if (take_args(&a))
		dup_fd(ctx, a.a0, RET(ctx));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup2")
int enter_dup2(void *ctx) { save_args(ARG(ctx, 0), ARG(ctx, 1), 0); return 0; }

SEC("tracepoint/syscalls/sys_enter_dup3")
int enter_dup3(void *ctx) { save_args(ARG(ctx, 0), ARG(ctx, 1), 0); return 0; }

/* dup2/dup3 silently close newfd when it was open. */
static __always_inline void exit_dup2x(void *ctx)
{
	struct pending a;

	if (!take_args(&a) || RET(ctx) < 0 || a.a0 == a.a1)
		return;
	drop_fd(bpf_get_current_pid_tgid() >> 32, a.a1);
	dup_fd(ctx, a.a0, RET(ctx));
}

SEC("tracepoint/syscalls/sys_exit_dup2")
int exit_dup2(void *ctx) { exit_dup2x(ctx); return 0; }

SEC("tracepoint/syscalls/sys_exit_dup3")
int exit_dup3(void *ctx) { exit_dup2x(ctx); return 0; }

SEC("tracepoint/syscalls/sys_enter_fcntl")
int enter_fcntl(void *ctx)
{
	__u64 cmd = ARG(ctx, 1);

	/* Only the duplicating commands matter; every other fcntl is free. */
	if (cmd == F_DUPFD_CMD || cmd == F_DUPFD_CLOEXEC_CMD)
		save_args(ARG(ctx, 0), 0, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_fcntl")
int exit_fcntl(void *ctx)
{
	struct pending a;

	if (take_args(&a))
		dup_fd(ctx, a.a0, RET(ctx));
	return 0;
}

/* ---- processes ---- */

/* A fork, exec or exit visits the process's own entries, not the map: at
 * fork and exit by the kernel's open_fds bitmap (a word per 64 fds, a
 * lookup per open one), so a process with four fds costs four lookups
 * whatever the map's size; a pass over the default map (131,072 buckets)
 * cost ~0.6 ms at every exit of a process that ever had a socket. Without
 * bpf_loop (before 5.17) the whole-map pass remains. */

static __always_inline __u32 fd_words(struct fdtable *fdt)
{
	__u32 n = BPF_CORE_READ(fdt, max_fds);

	return n / 64 + (n % 64 != 0);
}

static __always_inline __u64 open_word(unsigned long *open_fds, __u64 i)
{
	__u64 w = 0;

	if (bpf_probe_read_kernel(&w, sizeof(w), open_fds + i))
		return 0;
	return w;
}

/* The live entry of (tgid, fd) into *k, or NULL. */
static __always_inline struct fd_info *fd_entry(__u32 tgid, __u32 fd, struct fd_key *k)
{
	struct fd_info *v;

	k->tgid = tgid;
	k->fd = fd;
	v = bpf_map_lookup_elem(&fds, k);
	return v && v->how != HOW_FREE ? v : NULL;
}

/* A fork's or an exit's visit of a process's entries. */
struct proc_walk {
	__u32 tgid;               /* whose entries (the parent's at a fork) */
	__u32 child;              /* a fork: who gets copies (0 at an exit) */
	struct proc_stats *p;     /* a fork: the child's */
	struct fdtable *fdt;      /* an exit: the table about to be closed */
	unsigned long *open_fds;  /* the visited process's bitmap */
	__u64 word;               /* the bitmap word being visited, */
	__u64 bits;               /* and its bits not yet visited */
};

static long copy_one(struct bpf_map *map, struct fd_key *k, struct fd_info *v,
		     struct proc_walk *c)
{
	struct fd_key nk;
	struct fd_info nv;

	if (k->tgid != c->tgid || v->how == HOW_FREE)
		return 0;
	nk.tgid = c->child;
	nk.fd = k->fd;
	nv = *v;
	nv.how = HOW_INHERIT;
	put_fd(c->child, k->fd, &nv, c->p);
	return 0;
}

static long copy_word(__u64 i, struct proc_walk *c);

/* A new process gets a copy of its parent's fd table; threads (and
 * CLONE_FILES children) share it, and tracking is per tgid already. */
static __always_inline void on_fork(struct task_struct *parent, struct task_struct *child)
{
	struct proc_walk c = {};
	struct proc_stats *pp, *cp;
	struct fdtable *fdt;

	c.tgid = BPF_CORE_READ(parent, tgid);
	c.child = BPF_CORE_READ(child, tgid);
	if (c.tgid == c.child || skip_tgid(c.tgid))
		return;
	if (BPF_CORE_READ(parent, files) == BPF_CORE_READ(child, files))
		return;
	pp = bpf_map_lookup_elem(&procs, &c.tgid);
	if (!pp)
		return;         /* no tracked fds to inherit: the common case */
	if (bpf_map_update_elem(&procs, &c.child, &zero_proc, BPF_ANY)) {
		count_drop(DROP_MAP_FULL);
		return;
	}
	cp = bpf_map_lookup_elem(&procs, &c.child);
	if (!cp)
		return;
	__builtin_memcpy(cp->comm, pp->comm, sizeof(cp->comm));
	/* The child's own (clone3 can start it in another cgroup). */
	cp->cg_v2 = BPF_CORE_READ(child, cgroups, dfl_cgrp, kn, id);
	cp->cg_v1_memory = task_memcg_id(child);
	c.p = cp;
	fdt = BPF_CORE_READ(parent, files, fdt);
	if (!fdt)
		return;
#ifdef MEMSCOPE_COMPAT
	/* No callbacks (5.13): the child's inherited fds are found in its
	 * /proc/PID/fd at the next reconcile (its entry above asks for it). */
	return;
#endif
	if (have_bpf_loop) {
		c.open_fds = BPF_CORE_READ(fdt, open_fds);
		bpf_loop(fd_words(fdt), copy_word, &c, 0);
	} else {
		bpf_for_each_map_elem(&fds, copy_one, &c, 0);
	}
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_btf, struct task_struct *parent, struct task_struct *child)
{
	on_fork(parent, child);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(fork_raw, struct task_struct *parent, struct task_struct *child)
{
	on_fork(parent, child);
	return 0;
}

static long exit_one(struct bpf_map *map, struct fd_key *k, struct fd_info *v, struct proc_walk *c)
{
	struct fdtable *fdt = c->fdt; /* a local: CO-RE must not relocate exit_ctx */
	struct fd_exit x = {};
	struct file **arr, *f = NULL;
	struct socket *so;
	struct sock *sk;

	if (k->tgid != c->tgid || v->kind != FDK_SOCKET || v->how == HOW_FREE)
		return 0;
	if (k->fd < BPF_CORE_READ(fdt, max_fds)) {
		arr = BPF_CORE_READ(fdt, fd);
		bpf_probe_read_kernel(&f, sizeof(f), &arr[k->fd]);
	}
	if (!f || (v->ino && BPF_CORE_READ(f, f_inode, i_ino) != v->ino))
		return 0;
	so = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(so, sk);
	if (sk)
		sock_at_exit(sk, &x);
	if (bpf_map_update_elem(&at_exit, k, &x, BPF_ANY))
		count_drop(DROP_MAP_FULL);
	return 0;
}

/* One bit of the bitmap word being visited: its fd, if open and
 * tracked, copied to the child at a fork, its socket kept at an exit.
 * Inlined into one callback each: the verifier must see only the fork's
 * walk touch the child's stats. Stops past the word's last open fd. */
static __always_inline long walk_bit(__u64 b, struct proc_walk *c, bool fork)
{
	__u64 w = c->bits;
	struct fd_key k;
	struct fd_info *v;

	if (!w)
		return 1;
	c->bits = w >> 1;
	if (!(w & 1) || !(v = fd_entry(c->tgid, c->word * 64 + b, &k)))
		return 0;
	if (fork)
		copy_one(NULL, &k, v, c);
	else
		exit_one(NULL, &k, v, c);
	return 0;
}

static long copy_bit(__u64 b, struct proc_walk *c)
{
	return walk_bit(b, c, true);
}

static long exit_bit(__u64 b, struct proc_walk *c)
{
	return walk_bit(b, c, false);
}

/* The open fds of one word of the bitmap, a callback per bit: the
 * verifier checks a callback once, where an unrolled loop of 64 made it
 * keep ~18,000 states for the exit's walk (~150 MiB of kernel memory,
 * charged to the loader's cgroup, while it loaded). */
static long copy_word(__u64 i, struct proc_walk *c)
{
	c->word = i;
	c->bits = open_word(c->open_fds, i);
	bpf_loop(64, copy_bit, c, 0);
	return 0;
}

static long exit_word(__u64 i, struct proc_walk *c)
{
	c->word = i;
	c->bits = open_word(c->open_fds, i);
	bpf_loop(64, exit_bit, c, 0);
	return 0;
}

/* The fd table goes with the last thread, right after this tracepoint
 * (exit_files follows it): mark the process and how it ended, and keep
 * what its sockets were (state, addresses) for the report, since the exit
 * is about to close them and /proc forgets them with the process. */
SEC("tracepoint/sched/sched_process_exit")
int proc_exit(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct proc_walk c = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct proc_stats *p;
	struct fdtable *fdt;

	if (skip_tgid(c.tgid))
		return 0;
	if (!exiting_last_thread(t))
		return 0;
	p = bpf_map_lookup_elem(&procs, &c.tgid);
	if (!p)
		return 0;
	fdt = BPF_CORE_READ(t, files, fdt);
	c.fdt = fdt; /* not BPF_CORE_READ(c.fdt, ...): CO-RE would relocate exit_ctx */
#ifdef MEMSCOPE_COMPAT
	/* No callbacks (5.13): the sockets' state at the exit is not kept;
	 * the entries are retired as closed by the exit. */
	fdt = NULL;
#endif
	if (fdt && have_bpf_loop) {
		c.open_fds = BPF_CORE_READ(fdt, open_fds);
		bpf_loop(fd_words(fdt), exit_word, &c, 0);
	} else if (fdt) {
		bpf_for_each_map_elem(&fds, exit_one, &c, 0);
	}
	task_ending(t, &p->ending);
	p->exit_ns = bpf_ktime_get_ns();
	return 0;
}

struct exec_ctx {
	__u32 tgid;
	struct fdtable *fdt;
};

static long check_one(struct bpf_map *map, struct fd_key *k, struct fd_info *v,
		      struct exec_ctx *c)
{
	struct fdtable *fdt = c->fdt;
	struct file **arr, *f = NULL;
	__u64 ino = 0;

	if (k->tgid != c->tgid || v->how == HOW_FREE)
		return 0;
	if (k->fd < BPF_CORE_READ(fdt, max_fds)) {
		arr = BPF_CORE_READ(fdt, fd);
		bpf_probe_read_kernel(&f, sizeof(f), &arr[k->fd]);
		if (f)
			ino = BPF_CORE_READ(f, f_inode, i_ino);
	}
	if (f && (!v->ino || ino == v->ino))
		return 0;
	drop_fd(k->tgid, k->fd);
	return 0;
}

/* At exec the close-on-exec fds are already gone from open_fds: every
 * number below the table's size is looked up (64 or 256 for most
 * processes; no fd is ever at or above it, the table only grows). */
#define SL_EXEC_BY_NUMBER_MAX 4096

static long check_nth(__u64 fd, struct exec_ctx *c)
{
	struct fd_key k;
	struct fd_info *v = fd_entry(c->tgid, fd, &k);

	if (v)
		check_one(NULL, &k, v, c);
	return 0;
}

/* exec closed the close-on-exec fds: drop the entries whose fd no longer
 * holds the same file (the new image may reuse the numbers at once). */
SEC("tracepoint/sched/sched_process_exec")
int proc_exec(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct exec_ctx c = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct cgroup_ids ids;
	struct proc_stats *p;
	struct fdtable *fdt;
	__u32 max;

	if (skip_tgid(c.tgid))
		return 0;
	p = bpf_map_lookup_elem(&procs, &c.tgid);
	if (!p) {
		/* -c: it may have joined the cgroup before this exec. */
		if (targ_cg2_id || targ_memcg_id)
			bpf_map_delete_elem(&outside, &c.tgid);
		return 0;
	}
	__sync_fetch_and_add(&p->execs, 1);
	bpf_get_current_comm(p->comm, sizeof(p->comm));
	/* A process moved to a cgroup usually execs next (a launcher's
	 * "join the cgroup, exec" pattern): take the cgroups again. */
	current_cgroup_ids(&ids);
	p->cg_v2 = ids.v2_id;
	p->cg_v1_memory = ids.v1_memcg_id;
	fdt = BPF_CORE_READ(t, files, fdt);
	c.fdt = fdt; /* a local for CO-RE, as at exit */
	if (!fdt)
		return 0;
#ifdef MEMSCOPE_COMPAT
	/* No callbacks (5.13): the /proc reconcile drops what exec closed. */
	return 0;
#endif
	max = BPF_CORE_READ(fdt, max_fds);
	if (have_bpf_loop && max <= SL_EXEC_BY_NUMBER_MAX)
		bpf_loop(max, check_nth, &c, 0);
	else
		bpf_for_each_map_elem(&fds, check_one, &c, 0);
	return 0;
}

/* ---- TCP state: runs in softirq, so no owner lookup here: the sock
 * pointer (and inode when the socket has a file) is matched with the fd
 * entries in user space. ---- */

SEC("tracepoint/sock/inet_sock_set_state")
int sock_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	struct cw_info v;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	if (ctx->newstate == TCP_CLOSE_WAIT_STATE) {
		struct sock *s = (struct sock *)ctx->skaddr;

		v.ts_ns = bpf_ktime_get_ns();
		v.ino = BPF_CORE_READ(s, sk_socket, file, f_inode, i_ino);
		if (bpf_map_update_elem(&closewait, &sk, &v, BPF_ANY))
			count_drop(DROP_MAP_FULL);
	} else if (ctx->oldstate == TCP_CLOSE_WAIT_STATE) {
		bpf_map_delete_elem(&closewait, &sk);
	}
	return 0;
}

/* ---- --kernel-sockets: the socket's life in the kernel, whatever ends
 * it. cgroup/sock_create runs inside socket() (process context: current
 * is the creator) for every inet socket of every cgroup below the cgroup2
 * root where it is attached; sock_release when the last file reference
 * goes, in whichever process drops it (an fd passed over SCM_RIGHTS, an
 * exit). A TCP socket can outlive that as an orphan (FIN_WAIT, LAST_ACK,
 * closing): it is freed when it then reaches TCP_CLOSE. ---- */

#define TCP_CLOSE_STATE 7

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_owner);
} owners SEC(".maps");

SEC("cgroup/sock_create")
int sk_create(struct bpf_sock *sk)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct proc_stats *p;
	struct sk_owner *o;

	if (skip_tgid(tgid))
		return 1;
	p = proc_get(tgid);
	if (!p)
		return 1;
	o = bpf_sk_storage_get(&owners, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o) {
		count_drop(DROP_MAP_FULL);
		return 1;
	}
	o->tgid = tgid;
	o->ts_ns = bpf_ktime_get_ns();
	o->cg_v2 = bpf_get_current_cgroup_id();
	__sync_fetch_and_add(&p->sk_born, 1);
	return 1;
}

static __always_inline void count_freed(struct sk_owner *o, struct proc_stats *p)
{
	o->flags |= SKO_FREED;
	if (p)
		__sync_fetch_and_add(&p->sk_freed, 1);
}

SEC("cgroup/sock_release")
int sk_release(struct bpf_sock *sk)
{
	struct proc_stats *p;
	struct sk_owner *o;

	o = bpf_sk_storage_get(&owners, sk, NULL, 0);
	if (!o || (o->flags & SKO_RELEASED))
		return 1;
	o->flags |= SKO_RELEASED;
	p = bpf_map_lookup_elem(&procs, &o->tgid);
	if (p) {
		__sync_fetch_and_add(&p->sk_released, 1);
		if ((bpf_get_current_pid_tgid() >> 32) != o->tgid)
			__sync_fetch_and_add(&p->sk_released_other, 1);
	}
	/* Anything but TCP goes with its last reference; so does a TCP socket
	 * that never connected or is already closed. */
	if (sk->protocol != IPPROTO_TCP || sk->state == TCP_CLOSE_STATE)
		count_freed(o, p);
	return 1;
}

/* A released TCP socket reaching TCP_CLOSE is freed (a TIME_WAIT leaves a
 * small timewait socket of its own behind, counted by the host line). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sk_state_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	struct sk_owner *o;

	if (newstate != TCP_CLOSE_STATE || sk->sk_protocol != IPPROTO_TCP)
		return 0;
	o = bpf_sk_storage_get(&owners, (struct sock *)sk, NULL, 0);
	if (!o || (o->flags & (SKO_RELEASED | SKO_FREED)) != SKO_RELEASED)
		return 0;
	count_freed(o, bpf_map_lookup_elem(&procs, &o->tgid));
	return 0;
}

/* ---- --all-fds: every other fd-creating call ---- */

#define FD_EXIT(name, kind) \
SEC("tracepoint/syscalls/sys_exit_" #name) \
int all_exit_##name(void *ctx) { if (all_fds) new_fd(ctx, RET(ctx), kind, HOW_CREATE); return 0; }

FD_EXIT(open, FDK_FILE)
FD_EXIT(openat, FDK_FILE)
FD_EXIT(openat2, FDK_FILE)
FD_EXIT(creat, FDK_FILE)
FD_EXIT(open_by_handle_at, FDK_FILE)
FD_EXIT(eventfd, FDK_EVENTFD)
FD_EXIT(eventfd2, FDK_EVENTFD)
FD_EXIT(epoll_create, FDK_EPOLL)
FD_EXIT(epoll_create1, FDK_EPOLL)
FD_EXIT(timerfd_create, FDK_TIMERFD)
FD_EXIT(inotify_init, FDK_INOTIFY)
FD_EXIT(inotify_init1, FDK_INOTIFY)
FD_EXIT(memfd_create, FDK_MEMFD)
FD_EXIT(pidfd_open, FDK_PIDFD)
FD_EXIT(pidfd_getfd, FDK_OTHER)
FD_EXIT(fanotify_init, FDK_OTHER)
FD_EXIT(perf_event_open, FDK_OTHER)
FD_EXIT(userfaultfd, FDK_OTHER)
FD_EXIT(io_uring_setup, FDK_OTHER)

/* signalfd(fd, ...) with fd != -1 updates that fd and makes none. */
static __always_inline void exit_signalfd(void *ctx)
{
	struct pending a;

	if (take_args(&a) && (int)a.a0 == -1)
		new_fd(ctx, RET(ctx), FDK_SIGNALFD, HOW_CREATE);
}

SEC("tracepoint/syscalls/sys_enter_signalfd")
int all_enter_signalfd(void *ctx) { if (all_fds) save_args(ARG(ctx, 0), 0, 0); return 0; }
SEC("tracepoint/syscalls/sys_exit_signalfd")
int all_exit_signalfd(void *ctx) { if (all_fds) exit_signalfd(ctx); return 0; }
SEC("tracepoint/syscalls/sys_enter_signalfd4")
int all_enter_signalfd4(void *ctx) { if (all_fds) save_args(ARG(ctx, 0), 0, 0); return 0; }
SEC("tracepoint/syscalls/sys_exit_signalfd4")
int all_exit_signalfd4(void *ctx) { if (all_fds) exit_signalfd(ctx); return 0; }

SEC("tracepoint/syscalls/sys_enter_pipe")
int all_enter_pipe(void *ctx) { if (all_fds) save_args(ARG(ctx, 0), 0, 0); return 0; }
SEC("tracepoint/syscalls/sys_exit_pipe")
int all_exit_pipe(void *ctx) { if (all_fds) exit_fd_pair(ctx, FDK_PIPE); return 0; }
SEC("tracepoint/syscalls/sys_enter_pipe2")
int all_enter_pipe2(void *ctx) { if (all_fds) save_args(ARG(ctx, 0), 0, 0); return 0; }
SEC("tracepoint/syscalls/sys_exit_pipe2")
int all_exit_pipe2(void *ctx) { if (all_fds) exit_fd_pair(ctx, FDK_PIPE); return 0; }
