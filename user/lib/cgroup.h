/* Cgroup identity on v1, v2 and hybrid hosts: where the hierarchies are
 * mounted, id <-> path, a process's cgroups, and container/pod ids found
 * in a path. */
#ifndef MEMSCOPE_CGROUP_H
#define MEMSCOPE_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum cgroup_mode { CG_MODE_NONE, CG_MODE_V1, CG_MODE_V2, CG_MODE_HYBRID };

struct cgroup_layout {
	enum cgroup_mode mode;
	char v2_mount[256];     /* "" when there is no cgroup2 mount */
	char v1_memory[256];    /* v1 memory controller mount, "" if none */
	bool memory_on_v2;      /* the memory controller lives on cgroup2 */
};

/* The cgroup mounts in a mountinfo buffer (modified: tokenised); the
 * caller decides memory_on_v2. */
void mountinfo_parse(char *buf, struct cgroup_layout *l);
/* Read /proc/self/mountinfo once; later calls return the cached result. */
const struct cgroup_layout *cgroup_layout(void);
const char *cgroup_mode_name(enum cgroup_mode m);

/* Where memory accounting lives: the directory in which memory.* files of
 * a cgroup path (relative, "/" for root) are found. Caller frees. */
char *cgroup_memory_dir(const char *rel_path);

/* The cgroup's id (the inode of its directory, as the kernel reports it). */
int cgroup_id_of_dir(const char *dir, uint64_t *id);

/* Map an id seen in the kernel to a path relative to its hierarchy's
 * mount ("/system.slice/x.service"). v1 == true looks in the v1 memory
 * hierarchy. The result is cached; NULL if the cgroup is gone. Do not free. */
const char *cgroup_path_by_id(uint64_t id, bool v1);
/* Forget cached paths (for cgroups created after the first lookup). */
void cgroup_cache_flush(void);

/* The process's cgroup2 path and its v1 memory cgroup path, relative to
 * the mounts (either may come back NULL). Caller frees both. -ESRCH if the
 * process is gone. */
int cgroup_of_pid(pid_t pid, char **v2_path, char **v1_memory_path);
/* The path of the process's memory cgroup relative to the mount of the
 * hierarchy that has the memory controller (v1 on a hybrid host, else
 * cgroup2; "/" when it is in neither). Caller frees *path. */
int cgroup_memory_of_pid(pid_t pid, char **path);
/* The same from a /proc/PID/cgroup buffer (modified: tokenised). */
void proc_cgroup_parse(char *buf, char **v2_path, char **v1_memory_path);

/* Container identity recognised in a cgroup path: docker, containerd,
 * cri-o, podman, and Kubernetes pod UIDs (kubepods...pod<uid>). */
struct container_ref {
	char runtime[16];       /* "docker", "cri-o", "containerd", "podman", "" */
	char id[65];            /* 64-hex container id, "" if none */
	char pod_uid[37];       /* Kubernetes pod UID with dashes, "" if none */
};
bool container_from_path(const char *path, struct container_ref *ref);

/* Resolve the -c argument: an absolute directory under a cgroup mount, a
 * path relative to the memory (or v2) hierarchy (system.slice/x.service),
 * a container/pod id (prefix of at least 12 hex chars), or a systemd
 * unit or slice name alone (x.service, x.scope, x.slice). Fills the absolute directory of the
 * memory cgroup and the cgroup2 id when the cgroup exists on v2. Returns
 * -ENOENT with nothing printed when it cannot be found. */
struct cgroup_target {
	char *dir;              /* absolute directory (memory hierarchy) */
	char *rel;              /* path relative to that mount */
	bool v1;                /* dir is in the v1 memory hierarchy */
	uint64_t id;            /* inode id of dir */
	uint64_t v2_id;         /* id on cgroup2, 0 if none */
};
int cgroup_resolve(const char *arg, struct cgroup_target *t);
void cgroup_target_free(struct cgroup_target *t);

/* Pids listed in cgroup.procs of dir; returns count, -errno on error.
 * Caller frees *pids. */
int cgroup_pids(const char *dir, pid_t **pids);

/* Called for dir and every cgroup below it, parents first; depth 0 is dir. */
typedef void (*cgroup_visit_fn)(const char *dir, int depth, void *ctx);
/* Walk the cgroup directory tree under dir (readdir order), descending
 * below a directory only while its depth is under max_depth: a bound on
 * a pathological tree. */
void cgroup_walk(const char *dir, int max_depth, cgroup_visit_fn fn, void *ctx);

#endif
