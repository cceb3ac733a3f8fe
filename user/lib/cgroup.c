// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "array.h"
#include "cgroup.h"
#include "procfs.h"

static struct cgroup_layout layout;
static bool layout_read;

/* mountinfo: "id parent maj:min root mountpoint opts [optional...] - fstype source superopts" */
static void layout_parse_line(char *line, struct cgroup_layout *l)
{
	char *sep = strstr(line, " - "), *f[6] = {}, *save = NULL;
	char fstype[32] = "", superopts[512] = "";
	int i = 0;

	if (!sep)
		return;
	*sep = '\0';
	for (char *t = strtok_r(line, " ", &save); t && i < 6; t = strtok_r(NULL, " ", &save))
		f[i++] = t;
	if (i < 5 || sscanf(sep + 3, "%31s %*s %511s", fstype, superopts) < 1)
		return;
	if (!strcmp(fstype, "cgroup2") && !l->v2_mount[0])
		snprintf(l->v2_mount, sizeof(l->v2_mount), "%s", f[4]);
	if (!strcmp(fstype, "cgroup") && !l->v1_memory[0]) {
		char *opt, *s2 = NULL;
		for (opt = strtok_r(superopts, ",", &s2); opt; opt = strtok_r(NULL, ",", &s2))
			if (!strcmp(opt, "memory"))
				snprintf(l->v1_memory, sizeof(l->v1_memory), "%s", f[4]);
	}
}

static bool v2_has_memory(void)
{
	char path[300], *buf = NULL;
	bool yes;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", layout.v2_mount);
	if (read_file(path, &buf) < 0)
		return false;
	yes = strstr(buf, "memory") != NULL;
	free(buf);
	return yes;
}

void mountinfo_parse(char *buf, struct cgroup_layout *l)
{
	char *line, *save = NULL;
	bool any_v1 = strstr(buf, " - cgroup ") != NULL;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		layout_parse_line(line, l);
	l->mode = l->v2_mount[0] ? (any_v1 ? CG_MODE_HYBRID : CG_MODE_V2)
				 : (any_v1 ? CG_MODE_V1 : CG_MODE_NONE);
}

const struct cgroup_layout *cgroup_layout(void)
{
	char *buf = NULL;

	if (layout_read)
		return &layout;
	layout_read = true;
	if (proc_read(0, "self/mountinfo", &buf) < 0)
		return &layout;
	mountinfo_parse(buf, &layout);
	free(buf);
	if (layout.v2_mount[0])
		layout.memory_on_v2 = !layout.v1_memory[0] && v2_has_memory();
	return &layout;
}

const char *cgroup_mode_name(enum cgroup_mode m)
{
	static const char *n[] = { "none", "v1", "v2", "hybrid" };

	return m <= CG_MODE_HYBRID ? n[m] : "?";
}

static const char *memory_mount(void)
{
	const struct cgroup_layout *l = cgroup_layout();

	return l->v1_memory[0] ? l->v1_memory : l->v2_mount;
}

char *cgroup_memory_dir(const char *rel)
{
	char *dir;

	if (asprintf(&dir, "%s%s%s", memory_mount(), rel[0] == '/' ? "" : "/",
		     strcmp(rel, "/") ? rel : "") < 0)
		abort();
	return dir;
}

int cgroup_id_of_dir(const char *dir, uint64_t *id)
{
	struct stat st;

	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

/* id -> path cache, one per hierarchy: open addressing on the inode id. */
struct id_cache {
	uint64_t *ids;
	char **paths;
	size_t cap, len;
	bool walked;
};
static struct id_cache caches[2];
static struct id_cache *walking;
static size_t walk_prefix;

static void cache_put(struct id_cache *c, uint64_t id, const char *path);

static void cache_grow(struct id_cache *c)
{
	struct id_cache old = *c;

	c->cap = old.cap ? old.cap * 2 : 256;
	c->ids = calloc(c->cap, sizeof(*c->ids));
	c->paths = calloc(c->cap, sizeof(*c->paths));
	if (!c->ids || !c->paths)
		abort();
	c->len = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.ids[i])
			cache_put(c, old.ids[i], old.paths[i]), free(old.paths[i]);
	free(old.ids);
	free(old.paths);
}

static void cache_put(struct id_cache *c, uint64_t id, const char *path)
{
	size_t i;

	if ((c->len + 1) * 2 > c->cap)
		cache_grow(c);
	for (i = id % c->cap; c->ids[i] && c->ids[i] != id; i = (i + 1) % c->cap)
		;
	if (c->ids[i] == id) {
		free(c->paths[i]);
	} else {
		c->ids[i] = id;
		c->len++;
	}
	c->paths[i] = strdup(path);
}

static const char *cache_get(struct id_cache *c, uint64_t id)
{
	if (!c->cap)
		return NULL;
	for (size_t i = id % c->cap; c->ids[i]; i = (i + 1) % c->cap)
		if (c->ids[i] == id)
			return c->paths[i];
	return NULL;
}

static int walk_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D) {
		const char *rel = path + walk_prefix;
		cache_put(walking, st->st_ino, *rel ? rel : "/");
	}
	return 0;
}

static void cache_walk(struct id_cache *c, const char *mount)
{
	if (!mount[0])
		return;
	walking = c;
	walk_prefix = strlen(mount);
	nftw(mount, walk_cb, 16, FTW_PHYS | FTW_MOUNT);
	c->walked = true;
}

const char *cgroup_path_by_id(uint64_t id, bool v1)
{
	const struct cgroup_layout *l = cgroup_layout();
	struct id_cache *c = &caches[v1];
	const char *mount = v1 ? l->v1_memory : l->v2_mount;
	const char *p;

	if (!id)
		return NULL;
	p = cache_get(c, id);
	if (p)
		return p;
	/* A miss means a cgroup created since the last walk (or one already
	 * gone): walk again, once per miss. */
	cache_walk(c, mount);
	return cache_get(c, id);
}

void cgroup_cache_flush(void)
{
	for (int i = 0; i < 2; i++) {
		for (size_t j = 0; j < caches[i].cap; j++)
			free(caches[i].paths[j]);
		free(caches[i].ids);
		free(caches[i].paths);
		memset(&caches[i], 0, sizeof(caches[i]));
	}
}

/* /proc/PID/cgroup: "hierarchy-id:controllers:path" per line. */
void proc_cgroup_parse(char *buf, char **v2_path, char **v1_memory_path)
{
	char *line, *save = NULL;

	*v2_path = *v1_memory_path = NULL;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		if (c1 == line + 1 && line[0] == '0' && c2 == c1 + 1 && !*v2_path) {
			*v2_path = strdup(c2 + 1);
			continue;
		}
		char *ctl, *s2 = NULL;
		for (ctl = strtok_r(c1 + 1, ",", &s2); ctl; ctl = strtok_r(NULL, ",", &s2))
			if (!strcmp(ctl, "memory") && !*v1_memory_path)
				*v1_memory_path = strdup(c2 + 1);
	}
}

int cgroup_of_pid(pid_t pid, char **v2_out, char **v1_out)
{
	char *buf = NULL, *v2, *v1;
	ssize_t n = proc_read(pid, "cgroup", &buf);

	if (v2_out)
		*v2_out = NULL;
	if (v1_out)
		*v1_out = NULL;
	if (n < 0)
		return (int)n;
	proc_cgroup_parse(buf, &v2, &v1);
	free(buf);
	if (v2_out)
		*v2_out = v2;
	else
		free(v2);
	if (v1_out)
		*v1_out = v1;
	else
		free(v1);
	return 0;
}

int cgroup_memory_of_pid(pid_t pid, char **path)
{
	const struct cgroup_layout *l = cgroup_layout();
	char *v2 = NULL, *v1 = NULL;
	int err = cgroup_of_pid(pid, &v2, &v1);

	*path = NULL;
	if (err)
		return err;
	/* v1's memory hierarchy when the controller is there (hybrid), else cgroup2. */
	const char *rel = !l->memory_on_v2 && l->v1_memory[0] && v1 ? v1 : v2 ? v2 : "/";
	*path = strdup(rel);
	free(v2);
	free(v1);
	return *path ? 0 : -ENOMEM;
}

static size_t hex_run(const char *s)
{
	size_t n = 0;

	while (isxdigit((unsigned char)s[n]) && !isupper((unsigned char)s[n]))
		n++;
	return n;
}

static const char *runtime_of(const char *comp, size_t off)
{
	static const struct { const char *prefix; const char *runtime; } known[] = {
		{ "cri-containerd-", "containerd" }, { "crio-", "cri-o" }, { "docker-", "docker" },
		{ "libpod-", "podman" },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		size_t pl = strlen(known[i].prefix);
		if (off >= pl && !strncmp(comp + off - pl, known[i].prefix, pl))
			return known[i].runtime;
	}
	return "";
}

/* "pod" followed by a UUID, with dashes (cgroupfs driver) or underscores
 * (systemd driver, which cannot put '-' inside a slice name component). */
static bool pod_uid_at(const char *s, char out[37])
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	int k = 0;

	for (int g = 0; g < 5; g++) {
		for (int j = 0; j < groups[g]; j++, k++)
			if (!isxdigit((unsigned char)s[k]))
				return false;
		if (g < 4) {
			if (s[k] != '-' && s[k] != '_')
				return false;
			k++;
		}
	}
	memcpy(out, s, 36);
	out[36] = '\0';
	for (int i = 0; i < 36; i++)
		if (out[i] == '_')
			out[i] = '-';
	return true;
}

bool container_from_path(const char *path, struct container_ref *ref)
{
	const char *p;

	memset(ref, 0, sizeof(*ref));
	if (!path)
		return false;
	for (p = path; (p = strstr(p, "pod")); p += 3)
		if (pod_uid_at(p + 3, ref->pod_uid))
			break;
	/* The innermost 64-hex run is the container id. */
	for (p = path; *p; p++) {
		size_t n = hex_run(p);
		if (n == 64) {
			const char *comp = p;
			while (comp > path && comp[-1] != '/')
				comp--;
			memcpy(ref->id, p, 64);
			ref->id[64] = '\0';
			snprintf(ref->runtime, sizeof(ref->runtime), "%s", runtime_of(comp, p - comp));
			if (!ref->runtime[0] && strstr(path, "/docker/"))
				snprintf(ref->runtime, sizeof(ref->runtime), "docker");
			p += n - 1;
		} else if (n) {
			p += n - 1;
		}
	}
	return ref->id[0] || ref->pod_uid[0];
}

static bool under(const char *path, const char *mount)
{
	size_t n = strlen(mount);

	return n && !strncmp(path, mount, n) && (path[n] == '/' || path[n] == '\0');
}

static char *search_name;
static bool search_exact;
static char *search_found;

static int search_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base;

	(void)st;
	if (type == FTW_D && ftw->level > 0 &&
	    (search_exact ? !strcmp(base, search_name) : strstr(base, search_name) != NULL)) {
		search_found = strdup(path);
		return 1;
	}
	return 0;
}

/* The first directory under mount named exactly name (nftw's order). */
static char *find_named(const char *mount, const char *name, bool exact)
{
	search_found = NULL;
	search_name = (char *)name;
	search_exact = exact;
	nftw(mount, search_cb, 16, FTW_PHYS | FTW_MOUNT);
	return search_found;
}

/* A systemd unit or slice by its name alone (php8.2-fpm.service,
 * system.slice): unit names are unique on a host, wherever the unit's
 * slice puts it. */
static char *find_by_unit_name(const char *mount, const char *arg)
{
	static const char *const kinds[] = { ".service", ".scope", ".slice" };
	size_t n = strlen(arg);

	if (strchr(arg, '/'))
		return NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t k = strlen(kinds[i]);
		if (n > k && !strcmp(arg + n - k, kinds[i]))
			return find_named(mount, arg, true);
	}
	return NULL;
}

/* A container or pod id: at least 12 hex chars, or a pod UID. */
static char *find_by_container_id(const char *mount, const char *arg)
{
	char uscore[64];

	if (strlen(arg) < 12 || strlen(arg) > 64 || hex_run(arg) != strlen(arg)) {
		char tmp[37];
		if (strlen(arg) != 36 || !pod_uid_at(arg, tmp))
			return NULL;
	}
	if (!find_named(mount, arg, false) && strchr(arg, '-')) {
		/* systemd-driver pod slices spell the UID with underscores */
		snprintf(uscore, sizeof(uscore), "%s", arg);
		for (char *c = uscore; *c; c++)
			if (*c == '-')
				*c = '_';
		find_named(mount, uscore, false);
	}
	return search_found;
}

int cgroup_resolve(const char *arg, struct cgroup_target *t)
{
	const struct cgroup_layout *l = cgroup_layout();
	const char *mount = memory_mount();
	struct stat st;
	char *dir = NULL;

	memset(t, 0, sizeof(*t));
	if (!mount[0])
		return -ENOENT;
	if (arg[0] == '/' && (under(arg, l->v1_memory) || under(arg, l->v2_mount)) &&
	    !stat(arg, &st) && S_ISDIR(st.st_mode)) {
		dir = realpath(arg, NULL);
	} else {
		char *cand;
		if (asprintf(&cand, "%s/%s", mount, arg[0] == '/' ? arg + 1 : arg) < 0)
			abort();
		if (!stat(cand, &st) && S_ISDIR(st.st_mode))
			dir = realpath(cand, NULL);
		free(cand);
		if (!dir)
			dir = find_by_container_id(mount, arg);
		if (!dir)
			dir = find_by_unit_name(mount, arg);
	}
	if (!dir)
		return -ENOENT;
	t->dir = dir;
	t->v1 = under(dir, l->v1_memory);
	const char *m = t->v1 ? l->v1_memory : under(dir, l->v2_mount) ? l->v2_mount : mount;
	t->rel = strdup(dir[strlen(m)] ? dir + strlen(m) : "/");
	cgroup_id_of_dir(dir, &t->id);
	if (t->v1) {
		char *v2 = NULL;
		if (l->v2_mount[0] && asprintf(&v2, "%s%s", l->v2_mount, strcmp(t->rel, "/") ? t->rel : "") >= 0) {
			cgroup_id_of_dir(v2, &t->v2_id);
			free(v2);
		}
	} else {
		t->v2_id = t->id;
	}
	return 0;
}

void cgroup_target_free(struct cgroup_target *t)
{
	if (!t)
		return;
	free(t->dir);
	free(t->rel);
	memset(t, 0, sizeof(*t));
}

int cgroup_pids(const char *dir, pid_t **pids)
{
	char path[4096], *buf = NULL, *line, *save = NULL;
	size_t n = 0, cap = 16;
	pid_t *out;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	ssize_t r = read_file_max(path, &buf, PROC_READ_MAX);
	if (r < 0)
		return (int)r;
	out = malloc(cap * sizeof(*out));
	if (!out)
		abort();
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		ARRAY_GROW(out, n, cap, 16);
		out[n++] = atoi(line);
	}
	free(buf);
	*pids = out;
	return n;
}

static void walk_at(const char *dir, int depth, int max_depth, cgroup_visit_fn fn, void *ctx)
{
	struct dirent *de;
	DIR *d;

	fn(dir, depth, ctx);
	if (depth >= max_depth || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		char sub[PATH_MAX];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) < (int)sizeof(sub))
			walk_at(sub, depth + 1, max_depth, fn, ctx);
	}
	closedir(d);
}

void cgroup_walk(const char *dir, int max_depth, cgroup_visit_fn fn, void *ctx)
{
	walk_at(dir, 0, max_depth, fn, ctx);
}
