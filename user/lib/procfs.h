/* /proc readers that survive the process exiting under them: every reader
 * returns -ESRCH (never crashes, never half-fills silently) when it goes. */
#ifndef MEMSCOPE_PROCFS_H
#define MEMSCOPE_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The files read whole are the kernel's (cgroup, /proc) or copies of
 * them (memdiag --snapshot): a few KiB. A bigger one is not what it claims
 * to be, and reading it would grow a tool on a host short of memory. */
#define READ_FILE_MAX (4u << 20)
/* /proc files that grow with the host (maps and smaps of a process with
 * many mappings, net/tcp with many sockets, cgroup.procs) get more room. */
#define PROC_READ_MAX (512u << 20)

/* Whole file /proc/<pid>/<name> (pid 0: /proc/<name>) into a malloc'd,
 * NUL-terminated buffer, at most PROC_READ_MAX. Returns length or -errno
 * (-ESRCH when gone). */
ssize_t proc_read(pid_t pid, const char *name, char **buf);
/* Any file, at most READ_FILE_MAX bytes. Only a regular file is read,
 * never through a symlink as its last component, never blocking (a FIFO):
 * refusals are -ELOOP (symlink), -EINVAL (not a regular file), -EFBIG
 * (too big), each with one warning naming the file. */
ssize_t read_file(const char *path, char **buf);
ssize_t read_file_max(const char *path, char **buf, size_t max);
/* "key: value" or "key value" line lookup in a buffer; true if found. */
bool kv_u64(const char *buf, const char *key, uint64_t *val);

bool proc_exists(pid_t pid);
/* The process runs: it exists and is not a zombie (or dead), whose memory
 * and files are gone already. */
bool proc_alive(pid_t pid);
/* A kernel thread (PF_KTHREAD): no user memory, no fds of its own. */
bool proc_is_kthread(pid_t pid);
/* A pid a tool can follow: it exists and is not a kernel thread. Says
 * which in one line (die_msg) and returns -1 otherwise. */
int proc_target_check(pid_t pid);

struct proc_status {
	char name[64];          /* raw comm: escape before printing */
	pid_t tgid, ppid;
	uid_t uid;
	uint64_t vm_size, vm_rss, rss_anon, rss_file, rss_shmem, vm_swap, vm_pte;
	uint64_t threads;
};
int proc_status(pid_t pid, struct proc_status *st); /* sizes in bytes */

/* argv joined by spaces, raw bytes (escape before printing). NULL when
 * gone or a kernel thread. Caller frees. */
char *proc_cmdline(pid_t pid);
/* argv as the kernel keeps it (NUL-separated, n bytes) joined by spaces. */
char *argv_join(const char *argv, size_t n);
char *proc_comm(pid_t pid);     /* caller frees; NULL when gone */
char *proc_exe(pid_t pid);      /* readlink of exe; caller frees */

/* Open fds: calls cb for each with the fd number and its link target
 * ("socket:[123]", "/path", "pipe:[..]", "anon_inode:[eventfd]"). Returns
 * count visited or -errno. */
typedef int (*proc_fd_cb)(int fd, const char *target, void *ctx);
int proc_fds(pid_t pid, proc_fd_cb cb, void *ctx);
int proc_fd_count(pid_t pid);
/* Soft RLIMIT_NOFILE from /proc/<pid>/limits; 0 if unknown. */
uint64_t proc_nofile_limit(pid_t pid);
/* The soft "Max open files" of a limits buffer; 0 if unknown. */
uint64_t limits_nofile_parse(const char *buf);

struct map_entry {
	uint64_t start, end, offset;
	char perms[5];
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	const char *path;       /* "" for anonymous; valid during the callback */
	/* smaps only (zero with proc_maps): */
	uint64_t rss, pss, anon, swap, shared_dirty, private_dirty;
};
typedef int (*proc_map_cb)(const struct map_entry *m, void *ctx);
/* /proc/PID/map_files/START-END: the very file a mapping maps, while the
 * process lives and whatever has become of its path (opening it takes
 * CAP_SYS_ADMIN). PROC_MAP_FILES_LEN holds any. */
#define PROC_MAP_FILES_LEN 64
void proc_map_files_path(pid_t pid, uint64_t start, uint64_t end, char buf[PROC_MAP_FILES_LEN]);
/* Is fd the mapped file of device dev_major:dev_minor and inode ino, as
 * maps gives them? On overlayfs maps names the layer's device and stat
 * the overlay's (a container's root, the test guest's): there only the
 * inode compares. */
bool same_mapped_file(int fd, uint64_t ino, unsigned int dev_major, unsigned int dev_minor);
bool on_overlayfs(int fd);
/* The file behind a mapping opened read-only, only if it is the one
 * mapped (same_mapped_file): through map_files, else by its path inside
 * the process's root (a chroot or a container's mount namespace, where
 * the path in maps means nothing here; no link may lead out of it). -1
 * if neither is. */
int proc_map_open(pid_t pid, const struct map_entry *m);
/* The same as a path, for a caller that must name the file (a uprobe):
 * map_files, else the path under /proc/PID/root if the file there is the
 * one mapped when checked. False if neither, or it does not fit in size. */
bool proc_map_file(pid_t pid, const struct map_entry *m, char *buf, size_t size);
int proc_maps(pid_t pid, proc_map_cb cb, void *ctx);
int proc_smaps(pid_t pid, proc_map_cb cb, void *ctx);
/* maps or smaps text already read (modified: tokenised); count visited. */
int maps_parse(char *buf, proc_map_cb cb, void *ctx);

/* Thread ids of a process; returns count or -errno. Caller frees. */
int proc_tids(pid_t pid, pid_t **tids);
/* Every process (the numeric entries of /proc); count or -errno. Caller frees. */
int proc_pids(pid_t **pids);
/* Children (by ppid) of a process among all processes. */
int proc_children(pid_t pid, pid_t **kids);

/* CLOCK_MONOTONIC in ns (the clock of bpf_ktime_get_ns, so kernel
 * timestamps and user-space ages compare), and the wall clock in seconds. */
uint64_t mono_ns(void);
double wall_time(void);

#endif
