/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* BPF-only helpers shared by memscope's programs. Include after vmlinux.h. */
#ifndef MEMSCOPE_COMMON_BPF_H
#define MEMSCOPE_COMMON_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "common.h"

/* Loss counters read by user space through the skeleton's .bss. */
__u64 drops[DROP_KINDS] = {};

static __always_inline void count_drop(int kind)
{
	if (kind >= 0 && kind < DROP_KINDS)
		__sync_fetch_and_add(&drops[kind], 1);
}

/* The v1 memory cgroup of a task, as the kernfs id of its directory.
 * memory_cgrp_id is an enum whose value depends on the kernel config, hence
 * the CO-RE enum relocation; on a v2-only host the subsystem's cgroup is the
 * v2 one, and the id is still a valid directory inode there. */
static __always_inline __u64 task_memcg_id(struct task_struct *task)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;

	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return 0;
	css = BPF_CORE_READ(task, cgroups, subsys[id]);
	if (!css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id);
}

static __always_inline void current_cgroup_ids(struct cgroup_ids *ids)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	ids->v2_id = bpf_get_current_cgroup_id();
	ids->v1_memcg_id = task_memcg_id(task);
}

#endif
