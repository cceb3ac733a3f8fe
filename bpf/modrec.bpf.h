/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BPF half of modrec.h: a record for the file-backed mapping at an
 * address of the current process, read with bpf_find_vma (5.17), its path
 * rebuilt from the dentry chain (bpf_d_path is not allowed in tracepoints).
 * Include after vmlinux.h and bpf_core_read.h. */
#ifndef MEMSCOPE_MODREC_BPF_H
#define MEMSCOPE_MODREC_BPF_H

#include "modrec.h"

/* Set by user space where bpf_find_vma and bpf_loop exist (5.17): off,
 * the verifier drops this code and nothing is sent. */
const volatile bool module_records = false;

#define MODREC_AT_BASE  7   /* auxv: the interpreter's load address */
#define MODREC_AT_ENTRY 9   /* auxv: the program's entry point */
#define MODREC_AUXV_PAIRS 24 /* the kernel writes AT_BASE and AT_ENTRY early */

struct modrec_vma {
	__u64 start, end, pgoff;
	__u64 file;       /* struct file *, read with probe reads after the lock */
};

static long modrec_grab_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct modrec_vma *v = data;

	v->start = vma->vm_start;
	v->end = vma->vm_end;
	v->pgoff = (__u64)vma->vm_pgoff << 12;
	v->file = (__u64)vma->vm_file;
	return 0;
}

/* The path is built here, then copied into the record: one buffer per
 * CPU (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[MODREC_PATH_BUF]);
} modrec_scratch SEC(".maps");

struct modrec_walk {
	__u64 dentry, mnt;  /* struct dentry *, struct mount * */
	__u32 off;          /* bytes of components written */
	__u32 done;         /* reached the root */
};

/* One step up: a component, or a crossing into the parent mount. Run by
 * bpf_loop (5.17), which the verifier checks once whatever the depth. */
static long modrec_step(__u32 i, void *data)
{
	struct modrec_walk *w = data;
	struct dentry *d = (void *)w->dentry, *parent = BPF_CORE_READ(d, d_parent);
	struct mount *mnt = (void *)w->mnt;
	struct vfsmount *vm = (void *)mnt + bpf_core_field_offset(struct mount, mnt);
	__u32 zero = 0;
	char *buf;
	long n;

	if (d == BPF_CORE_READ(vm, mnt_root) || d == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt) {
			w->done = 1;
			return 1;
		}
		w->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = (__u64)up;
		return 0;
	}
	buf = bpf_map_lookup_elem(&modrec_scratch, &zero);
	if (!buf || w->off >= MODREC_PATH_SPAN)
		return 1;
	n = bpf_probe_read_kernel_str(buf + (w->off & (MODREC_PATH_SPAN - 1)), MODREC_NAME_MAX,
				      BPF_CORE_READ(d, d_name.name));
	if (n <= 0)
		return 1;
	w->off += n;
	w->dentry = (__u64)parent;
	return 0;
}

/* Components from the file upwards, crossing mounts, up to the root of
 * the process's mount namespace: the path as /proc/PID/maps shows it. */
static __always_inline void modrec_path(struct module_record *r, struct file *f)
{
	struct vfsmount *vm = BPF_CORE_READ(f, f_path.mnt);
	struct modrec_walk w = {
		.dentry = (__u64)BPF_CORE_READ(f, f_path.dentry),
		.mnt = (__u64)((void *)vm - bpf_core_field_offset(struct mount, mnt)),
	};
	__u32 zero = 0;
	char *buf;

	bpf_loop(MODREC_DEPTH, modrec_step, &w, 0);
	buf = bpf_map_lookup_elem(&modrec_scratch, &zero);
	if (!w.done || !buf || bpf_probe_read_kernel(r->path, sizeof(r->path), buf))
		r->flags |= MODREC_TRUNCATED;
	r->path_len = w.off;
}

/* Send the record of the file mapping at addr of the current process;
 * nothing for an anonymous one. False if the ring buffer was full. */
static __always_inline bool modrec_send(void *ringbuf, __u32 type, __u32 tgid, __u64 addr,
					__u32 flags)
{
	struct modrec_vma v = {};
	struct module_record *r;
	struct file *f;

#ifdef MEMSCOPE_COMPAT
	return true; /* compat.bpf.h: needs bpf_find_vma and bpf_loop (5.17) */
#endif
	if (!module_records)
		return true;
	if (bpf_find_vma(bpf_get_current_task_btf(), addr, modrec_grab_vma, &v, 0) || !v.file)
		return true;
	r = bpf_ringbuf_reserve(ringbuf, sizeof(*r), 0);
	if (!r)
		return false;
	f = (struct file *)v.file;
	r->type = type;
	r->tgid = tgid;
	r->start = v.start;
	r->end = v.end;
	r->pgoff = v.pgoff;
	r->ino = BPF_CORE_READ(f, f_inode, i_ino);
	r->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	r->flags = flags;
	r->pad = 0;
	modrec_path(r, f);
	/* Urgent: user space opens the file while the process lives. */
	bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
	return true;
}

/* At exec: the program (at its entry point) and its ELF interpreter (at
 * AT_BASE), which the kernel maps without an mmap syscall. Returns the
 * number of records the ring buffer had no room for. */
static __always_inline int modrec_send_exec_images(void *ringbuf, __u32 type, __u32 tgid)
{
	__u64 base = 0, entry = 0, pair[2];
	struct mm_struct *mm;
	int lost = 0;

#ifdef MEMSCOPE_COMPAT
	return 0; /* compat.bpf.h: modrec_send needs bpf_find_vma (5.17) */
#endif
	if (!module_records)
		return 0;
	mm = BPF_CORE_READ(bpf_get_current_task_btf(), mm);
	for (int i = 0; i < MODREC_AUXV_PAIRS; i++) {
		if (bpf_probe_read_kernel(pair, sizeof(pair), &mm->saved_auxv[2 * i]) || !pair[0])
			break;
		if (pair[0] == MODREC_AT_BASE)
			base = pair[1];
		else if (pair[0] == MODREC_AT_ENTRY)
			entry = pair[1];
	}
	if (entry && !modrec_send(ringbuf, type, tgid, entry, MODREC_EXEC_IMAGE))
		lost++;
	if (base && !modrec_send(ringbuf, type, tgid, base, MODREC_EXEC_IMAGE))
		lost++;
	return lost;
}

#endif
