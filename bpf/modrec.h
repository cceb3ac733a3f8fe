/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A file-backed executable mapping of a traced process, sent by the BPF
 * side of a tool (modrec.bpf.h) when the process maps code (mmap with
 * PROT_EXEC) and, at exec, for the two images the kernel maps itself (the
 * program and its ELF interpreter). User space keeps them per process
 * (user/lib/modtab.h) so that stacks are symbolized and unwound after the
 * process is gone, when /proc/PID/maps is empty. */
#ifndef MEMSCOPE_MODREC_H
#define MEMSCOPE_MODREC_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* The path's components are copied leaf first, each NUL-terminated
 * ("libc.so.6\0x86_64-linux-gnu\0lib\0usr\0"): the dentry walk goes
 * upwards. Components start below MODREC_PATH_SPAN; each one is at most
 * MODREC_NAME_MAX bytes (NAME_MAX + 1). */
#define MODREC_PATH_SPAN  1024
#define MODREC_NAME_MAX   256
#define MODREC_PATH_BUF   (MODREC_PATH_SPAN + MODREC_NAME_MAX)
#define MODREC_DEPTH      32   /* dentries and mount crossings walked */

/* flags */
#define MODREC_TRUNCATED  0x1  /* the path was longer than the walk: unusable */
#define MODREC_EXEC_IMAGE 0x2  /* mapped by exec (program or interpreter) */

struct module_record {
	__u32 type;       /* the tool's tag for this record */
	__u32 tgid;
	__u64 start, end; /* the mapping */
	__u64 pgoff;      /* file offset of start, in bytes */
	__u64 ino;
	__u32 dev;        /* the kernel's dev_t: major << 20 | minor */
	__u32 flags;
	__u32 path_len;   /* bytes of path[] filled */
	__u32 pad;
	char path[MODREC_PATH_BUF];
};

#endif
