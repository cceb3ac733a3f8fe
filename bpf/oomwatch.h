/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* oomwatch: what the kernel side sends for every oom:mark_victim. */
#ifndef MEMSCOPE_OOMWATCH_H
#define MEMSCOPE_OOMWATCH_H

#include "common.h"

/* Memory cgroups recorded from the victim's (or, on the classic
 * tracepoint, the trigger's) memcg up towards the root. Kubernetes nests
 * five deep; deeper trees lose their top levels, which is flagged. */
#define OOM_MAX_DEPTH     12
/* Levels (from the victim's memcg up) whose memory.stat counters are
 * copied at the kill: a limit is on the container or the pod. */
#define OOM_STAT_LEVELS   4
/* Longs copied from the kernel's memcg_vmstats state[] (58 on 6.18 with
 * direct indexing, 40 with the compact one). */
#define OOM_STATE_MAX     96
/* NUMA nodes whose per-memcg LRU sizes are summed. */
#define OOM_MAX_NODES     64
#define OOM_NR_LRU        5 /* inactive/active anon, inactive/active file, unevictable */
/* The victim's command line copied in the kernel: up to this - 1 bytes
 * (a power of 2, for the verifier's bounds). */
#define OOM_CMDLINE_MAX   256
/* Room for the events of a storm while user space reads /proc. */
#define OOM_RINGBUF_BYTES (1024 * 1024)

/* Record kinds in the ring buffer (the first field of each). */
#define OOM_EV_MARK_VICTIM 1 /* struct oom_event */
#define OOM_EV_CMDLINE     2 /* struct oom_cmdline_event */
/* Victims whose cmdline is awaited at their SIGKILL delivery. */
#define OOM_CMDLINE_WAIT_MAX 256

/* oom_event.flags */
#define OOM_F_TP_BTF        (1u << 0) /* victim task_struct was at hand */
#define OOM_F_TP_FIELDS     (1u << 1) /* sizes from the classic tracepoint (6.9+): *_pages hold kB */
#define OOM_F_VICTIM_IS_CUR (1u << 2) /* victim == current (classic tp: read from current) */
#define OOM_F_CHAIN_OF_TRIG (1u << 3) /* memcg chain walked from the trigger, not the victim */
#define OOM_F_CHAIN_CUT     (1u << 4) /* more than OOM_MAX_DEPTH levels */
#define OOM_F_NO_MM         (1u << 5) /* victim had no mm left: sizes are 0 */
#define OOM_F_PF_EXITING    (1u << 6) /* victim already in do_exit */
#define OOM_F_GROUP_EXIT    (1u << 7) /* victim's thread group is exiting */
#define OOM_F_RSS_OLD       (1u << 8) /* pre-6.2 atomic rss counters */
#define OOM_F_CMDLINE       (1u << 9) /* cmdline[] copied from the victim's memory */
#define OOM_F_CMDLINE_CUT   (1u << 10) /* ... and its argv was longer */
#define OOM_F_CMDLINE_LATER (1u << 11) /* an OOM_EV_CMDLINE follows from the victim itself */
#define OOM_F_LRU           (1u << 12) /* lru_pages[] read from the victim's memcg */

/* A cgroup level's directory name copied at the kill, NUL included: its
 * path survives the cgroup (systemd removes a dead unit's within
 * milliseconds, before user space can look its id up). Longer names
 * (rare: systemd's and Kubernetes' run to ~90) leave the path unknown. */
#define OOM_CGROUP_NAME_MAX 128

/* One memory cgroup level. Sizes in pages, as the kernel's page_counter. */
struct oom_memcg_level {
	__u64 id;             /* kernfs id (inode) of the cgroup directory */
	__u64 usage_pages;    /* memory page_counter usage */
	__u64 max_pages;      /* its limit (memory.max / limit_in_bytes) */
	__u64 failcnt;        /* v1 failcnt of the memory counter */
	__u64 memsw_usage_pages; /* v1 memory+swap (v2: swap) counter */
	__u64 memsw_max_pages;
	/* memory_events_local[MEMCG_OOM_KILL]: __oom_kill_process() counts
	 * it just before mark_oom_victim(), the exiting-task shortcut does
	 * not, so user space tells a real kill by this moving. */
	__u64 oom_kill_local;
	__u32 oom_group;      /* memory.oom.group set */
	__u32 pad;
	char name[OOM_CGROUP_NAME_MAX]; /* its kernfs name ("" at the root) */
};

struct oom_event {
	__u32 type;           /* OOM_EV_MARK_VICTIM */
	__u32 flags;          /* OOM_F_* */
	__u64 ts_ns;          /* bpf_ktime_get_ns */
	__u32 victim_pid;     /* thread id, as the kernel's report prints it */
	__u32 victim_tgid;
	__u32 victim_uid;
	__s32 oom_score_adj;
	char victim_comm[TASK_COMM_LEN];
	__u32 trigger_pid;
	__u32 trigger_tgid;
	char trigger_comm[TASK_COMM_LEN];
	/* The victim's parent at the kill: read later from /proc, it races
	 * the victim's exit (and a pool master replaces its worker at once). */
	__u32 parent_tgid;
	__u32 pad1;
	char parent_comm[TASK_COMM_LEN];
	/* Victim's mm, in pages except pgtables. RSS counters are the
	 * percpu_counter's folded count: approximate by up to the per-CPU
	 * batch, exactly what the kernel's own OOM report prints. */
	__u64 total_vm_pages;
	__u64 anon_pages;
	__u64 file_pages;
	__u64 shmem_pages;
	__u64 swap_ents;
	__u64 pgtables_bytes;
	__u64 victim_v2_cgid;     /* cgroup2 id of the victim */
	__u64 trigger_memcg_id;   /* trigger's memory cgroup */
	__u32 depth;              /* valid entries in chain[] */
	__u32 pad;
	struct oom_memcg_level chain[OOM_MAX_DEPTH]; /* [0] = the task's own memcg */
	/* The memcg's memory.stat counters as the kernel holds them
	 * (memcg->vmstats->state[], hierarchical, as of its last stats
	 * flush), raw: user space maps indexes to names with the running
	 * kernel's BTF. state_len is the kernel's array length (0: layout
	 * unknown), state_levels the chain levels copied. */
	__u32 state_len;
	__u32 state_levels;
	__s64 state[OOM_STAT_LEVELS][OOM_STATE_MAX];
	/* The LRU list sizes of chain[0] (its own pages, pages): kept
	 * exact as pages move (mem_cgroup_update_lru_size), where state[]
	 * waits for a stats flush; not kept with the multi-gen LRU. */
	__u64 lru_pages[OOM_NR_LRU];
	/* The victim's argv (NUL-separated), when it could be read. */
	__u32 cmdline_len;
	__u32 pad2;
	char cmdline[OOM_CMDLINE_MAX];
};

/* The cmdline of a victim that was not the current task at the kill,
 * copied when it takes its SIGKILL (signal_deliver runs in its context,
 * before do_exit drops its memory). */
struct oom_cmdline_event {
	__u32 type;           /* OOM_EV_CMDLINE */
	__u32 flags;          /* OOM_F_CMDLINE, OOM_F_CMDLINE_CUT */
	__u32 pid;            /* thread that took the signal */
	__u32 tgid;
	__u32 cmdline_len;
	__u32 pad;
	char cmdline[OOM_CMDLINE_MAX];
};

#endif
