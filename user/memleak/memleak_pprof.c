/* memleak-trace --pprof: the report's stacks as a pprof profile. The
 * message types come from pprof's profile.proto, compiled by protoc-c at
 * build time; the file is gzipped as pprof requires.
 *
 * Each traced stack is one sample with four values: alloc_objects and
 * alloc_space (everything the stack mapped or allocated while traced),
 * inuse_objects and inuse_space (what it still holds). Locations are
 * instruction addresses of one process with their lines (inlined frames
 * first, as in profile.proto); each lies in a mapping that carries the
 * binary's path and build id, so that pprof can symbolize further what
 * had no debug info here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <elf.h>
#include <gelf.h>
#include <elfutils/libdwfl.h>
#include <zlib.h>

#include "memleak_pprof.h"
#include "proto/profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__ValueType ValueType;

/* Interned things, found again through a tree (search.h). */
struct str_key {
	const char *s;
	int64_t idx;
};

struct loc_key {
	pid_t pid;
	uint64_t addr;
	Location *loc;
};

struct map_key {
	pid_t pid;
	uint64_t start;
	Mapping *map;
};

struct fn_key {
	int64_t name, file;
	Function *fn;
};

struct pprof {
	char **strs;
	size_t nstrs, capstrs;
	void *str_tree, *loc_tree, *map_tree, *fn_tree;
	Sample **samples;
	size_t nsamples, capsamples;
	Location **locs;
	size_t nlocs, caplocs;
	Mapping **maps;
	size_t nmaps, capmaps;
	/* The traced executable's mapping, which pprof takes for the main
	 * binary (mapping[0]: "File:"); 0 until found. */
	uint64_t main_map;
	pid_t main_tried;       /* the last process searched for it */
	Function **fns;
	size_t nfns, capfns;
	int64_t unit, comment;
	int64_t t0_ns;          /* wall clock when the profile was made */
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();
	return p;
}

/* Room for one more element in *v (n used of *cap). */
static void grow(void *v, size_t *cap, size_t n, size_t elem)
{
	void **pv = v;
	size_t c = *cap ? *cap * 2 : 64;

	if (n < *cap)
		return;
	*pv = realloc(*pv, c * elem);
	if (!*pv)
		abort();
	*cap = c;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(((const struct str_key *)a)->s, ((const struct str_key *)b)->s);
}

/* The string's index in the string table (0 is ""). */
static int64_t str_id(struct pprof *pp, const char *s)
{
	struct str_key k = { .s = s ? s : "" }, *n, **found;

	found = tfind(&k, &pp->str_tree, cmp_str);
	if (found)
		return (*found)->idx;
	grow(&pp->strs, &pp->capstrs, pp->nstrs, sizeof(*pp->strs));
	n = xcalloc(1, sizeof(*n));
	n->s = pp->strs[pp->nstrs] = strdup(k.s);
	if (!n->s)
		abort();
	n->idx = (int64_t)pp->nstrs++;
	if (!tsearch(n, &pp->str_tree, cmp_str))
		abort();
	return n->idx;
}

struct pprof *pprof__new(const char *comment)
{
	struct pprof *pp = xcalloc(1, sizeof(*pp));
	struct timespec ts;

	str_id(pp, "");
	pp->unit = str_id(pp, "count");
	pp->comment = str_id(pp, comment);
	clock_gettime(CLOCK_REALTIME, &ts);
	pp->t0_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return pp;
}

static int cmp_map(const void *a, const void *b)
{
	const struct map_key *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* The path the process sees: the symbolizer opens a container's binaries
 * through /proc/PID/root. */
static const char *process_path(const char *open)
{
	const char *p;

	if (!open || strncmp(open, "/proc/", 6))
		return open;
	p = strchr(open + 6, '/');
	if (p && !strncmp(p, "/root/", 6))
		return p + 5;
	return open;
}

static void hex_build_id(Dwfl_Module *mod, char *out, size_t size)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &bits, &vaddr);

	out[0] = 0;
	for (int i = 0; i < n && (size_t)(2 * i + 2) < size; i++)
		snprintf(out + 2 * i, 3, "%02x", bits[i]);
}

/* The mapping of the binary holding addr, 0 if none (JIT code, or the
 * process's binaries were never read). */
static uint64_t mapping_id(struct pprof *pp, pid_t pid, struct symbolizer *sym, uint64_t addr)
{
	Dwfl *dwfl = sym ? symbolizer__dwfl(sym) : NULL;
	Dwfl_Module *mod = dwfl ? dwfl_addrmodule(dwfl, addr) : NULL;
	Dwarf_Addr low, high;
	const char *name;
	struct map_key k = { .pid = pid }, *n, **found;
	char build_id[130];
	Mapping *m;

	if (!mod)
		return 0;
	name = dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	k.start = low;
	found = tfind(&k, &pp->map_tree, cmp_map);
	if (found)
		return (*found)->map->id;
	m = xcalloc(1, sizeof(*m));
	perftools__profiles__mapping__init(m);
	m->id = pp->nmaps + 1;
	m->memory_start = low;
	m->memory_limit = high;
	/* The module starts where the binary's first segment (file offset 0)
	 * is loaded. */
	m->file_offset = 0;
	m->filename = str_id(pp, process_path(name));
	hex_build_id(mod, build_id, sizeof(build_id));
	m->build_id = str_id(pp, build_id);
	m->has_functions = m->has_filenames = m->has_line_numbers = m->has_inline_frames = true;
	grow(&pp->maps, &pp->capmaps, pp->nmaps, sizeof(*pp->maps));
	pp->maps[pp->nmaps++] = m;
	n = xcalloc(1, sizeof(*n));
	*n = k;
	n->map = m;
	if (!tsearch(n, &pp->map_tree, cmp_map))
		abort();
	return m->id;
}

/* The program rather than a library: an executable (ET_EXEC), or a
 * position-independent one (ET_DYN flagged DF_1_PIE; libc.so.6 and ld.so
 * are ET_DYN too, and libc even has an interpreter). */
static bool executable_elf(Elf *elf)
{
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;

	if (!elf || !gelf_getehdr(elf, &eh))
		return false;
	if (eh.e_type == ET_EXEC)
		return true;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Dyn dyn;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++)
			if (gelf_getdyn(d, (int)i, &dyn) && dyn.d_tag == DT_FLAGS_1)
				return dyn.d_un.d_val & DF_1_PIE;
	}
	return false;
}

struct main_find {
	Dwarf_Addr low;
	bool found;
};

static int find_executable(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr low,
			   void *arg)
{
	struct main_find *m = arg;
	Dwarf_Addr bias;

	(void)userdata, (void)name;
	if (!executable_elf(dwfl_module_getelf(mod, &bias)))
		return DWARF_CB_OK;
	m->low = low;
	m->found = true;
	return DWARF_CB_ABORT;
}

/* The first process's executable becomes the main mapping, whether or
 * not a sample's frame lies in it (a profile whose frames all lie in
 * libraries still says which program it is). */
static void note_main(struct pprof *pp, pid_t pid, struct symbolizer *sym)
{
	Dwfl *dwfl = sym ? symbolizer__dwfl(sym) : NULL;
	struct main_find m = {};

	if (pp->main_map || !dwfl || pp->main_tried == pid)
		return;
	pp->main_tried = pid;
	dwfl_getmodules(dwfl, find_executable, &m, 0);
	if (m.found)
		pp->main_map = mapping_id(pp, pid, sym, m.low);
}

/* mapping[0] is the main binary to pprof: the executable's moves there,
 * the others keep their order (ids do not change). */
static void main_first(struct pprof *pp)
{
	size_t i = 0;
	Mapping *m;

	while (pp->main_map && i < pp->nmaps && pp->maps[i]->id != pp->main_map)
		i++;
	if (!pp->main_map || i == 0 || i == pp->nmaps)
		return;
	m = pp->maps[i];
	memmove(&pp->maps[1], &pp->maps[0], i * sizeof(*pp->maps));
	pp->maps[0] = m;
}

static int cmp_fn(const void *a, const void *b)
{
	const struct fn_key *x = a, *y = b;

	if (x->name != y->name)
		return x->name < y->name ? -1 : 1;
	return x->file < y->file ? -1 : x->file > y->file;
}

static uint64_t function_id(struct pprof *pp, const struct frame *f)
{
	struct fn_key k = { .name = str_id(pp, f->symbol), .file = str_id(pp, f->file) };
	struct fn_key *n, **found = tfind(&k, &pp->fn_tree, cmp_fn);
	Function *fn;

	if (found)
		return (*found)->fn->id;
	fn = xcalloc(1, sizeof(*fn));
	perftools__profiles__function__init(fn);
	fn->id = pp->nfns + 1;
	fn->name = fn->system_name = k.name;
	fn->filename = k.file;
	grow(&pp->fns, &pp->capfns, pp->nfns, sizeof(*pp->fns));
	pp->fns[pp->nfns++] = fn;
	n = xcalloc(1, sizeof(*n));
	*n = k;
	n->fn = fn;
	if (!tsearch(n, &pp->fn_tree, cmp_fn))
		abort();
	return fn->id;
}

static int cmp_loc(const void *a, const void *b)
{
	const struct loc_key *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The location of one address: frames f[0..n), the inlined ones first and
 * the function they are in last. Frames without a symbol give no line:
 * pprof shows the address in its mapping and can symbolize it. */
static uint64_t location_id(struct pprof *pp, pid_t pid, struct symbolizer *sym,
			    const struct frame *f, int n)
{
	struct loc_key k = { .pid = pid, .addr = f[n - 1].addr }, *key, **found;
	Location *loc;

	found = tfind(&k, &pp->loc_tree, cmp_loc);
	if (found)
		return (*found)->loc->id;
	loc = xcalloc(1, sizeof(*loc));
	perftools__profiles__location__init(loc);
	loc->id = pp->nlocs + 1;
	loc->address = k.addr;
	loc->mapping_id = mapping_id(pp, pid, sym, k.addr);
	loc->line = xcalloc(n, sizeof(*loc->line));
	for (int i = 0; i < n; i++) {
		Line *l;

		if (!f[i].symbol)
			continue;
		l = xcalloc(1, sizeof(*l));
		perftools__profiles__line__init(l);
		l->function_id = function_id(pp, &f[i]);
		l->line = f[i].line;
		loc->line[loc->n_line++] = l;
	}
	grow(&pp->locs, &pp->caplocs, pp->nlocs, sizeof(*pp->locs));
	pp->locs[pp->nlocs++] = loc;
	key = xcalloc(1, sizeof(*key));
	*key = k;
	key->loc = loc;
	if (!tsearch(key, &pp->loc_tree, cmp_loc))
		abort();
	return loc->id;
}

static Label *label_str(struct pprof *pp, const char *key, const char *val)
{
	Label *l = xcalloc(1, sizeof(*l));

	perftools__profiles__label__init(l);
	l->key = str_id(pp, key);
	l->str = str_id(pp, val);
	return l;
}

static Label *label_num(struct pprof *pp, const char *key, int64_t val)
{
	Label *l = xcalloc(1, sizeof(*l));

	perftools__profiles__label__init(l);
	l->key = str_id(pp, key);
	l->num = val;
	return l;
}

void pprof__add(struct pprof *pp, pid_t pid, struct symbolizer *sym, const struct frame *frames,
		int nframes, const char *kind, const struct pprof_values *v)
{
	Sample *s = xcalloc(1, sizeof(*s));
	int start = 0;

	note_main(pp, pid, sym);
	perftools__profiles__sample__init(s);
	s->location_id = xcalloc(nframes, sizeof(*s->location_id));
	for (int i = 0; i < nframes; i++) {
		if (frames[i].inlined && i + 1 < nframes)
			continue;
		s->location_id[s->n_location_id++] = location_id(pp, pid, sym, &frames[start],
								 i - start + 1);
		start = i + 1;
	}
	s->n_value = 4;
	s->value = xcalloc(4, sizeof(*s->value));
	s->value[0] = v->alloc_objects;
	s->value[1] = v->alloc_space;
	s->value[2] = v->inuse_objects;
	s->value[3] = v->inuse_space;
	s->n_label = 2;
	s->label = xcalloc(2, sizeof(*s->label));
	s->label[0] = label_str(pp, "kind", kind);
	s->label[1] = label_num(pp, "pid", pid);
	grow(&pp->samples, &pp->capsamples, pp->nsamples, sizeof(*pp->samples));
	pp->samples[pp->nsamples++] = s;
}

static ValueType *value_type(struct pprof *pp, const char *type, int64_t unit)
{
	ValueType *vt = xcalloc(1, sizeof(*vt));

	perftools__profiles__value_type__init(vt);
	vt->type = str_id(pp, type);
	vt->unit = unit;
	return vt;
}

/* Gzip buf into path.tmp, then rename it over path: a reader (a profiler
 * agent polling the file, -i reports) never sees half a profile. */
static int write_gz(const char *path, const uint8_t *buf, size_t len)
{
	char *tmp;
	gzFile gz;
	int fd, ok;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	gz = fd >= 0 ? gzdopen(fd, "wb") : NULL;
	if (!gz) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		free(tmp);
		errno = e ? e : ENOMEM;
		return -1;
	}
	ok = len == 0 || gzwrite(gz, buf, (unsigned)len) == (int)len;
	ok &= gzclose(gz) == Z_OK;
	if (!ok || rename(tmp, path)) {
		int e = ok ? errno : EIO;

		unlink(tmp);
		free(tmp);
		errno = e;
		return -1;
	}
	free(tmp);
	return 0;
}

int pprof__write(struct pprof *pp, const char *path, double duration_s)
{
	Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
	int64_t bytes = str_id(pp, "bytes");
	ValueType *types[4];
	size_t len;
	uint8_t *buf;
	int ret;

	types[0] = value_type(pp, "alloc_objects", pp->unit);
	types[1] = value_type(pp, "alloc_space", bytes);
	types[2] = value_type(pp, "inuse_objects", pp->unit);
	types[3] = value_type(pp, "inuse_space", bytes);
	p.n_sample_type = 4;
	p.sample_type = types;
	p.default_sample_type = types[3]->type;
	p.period_type = value_type(pp, "space", bytes);
	p.period = 1;
	p.n_sample = pp->nsamples;
	p.sample = pp->samples;
	main_first(pp);
	p.n_mapping = pp->nmaps;
	p.mapping = pp->maps;
	p.n_location = pp->nlocs;
	p.location = pp->locs;
	p.n_function = pp->nfns;
	p.function = pp->fns;
	p.n_comment = 1;
	p.comment = &pp->comment;
	p.time_nanos = pp->t0_ns;
	p.duration_nanos = (int64_t)(duration_s * 1e9);
	/* Last: the value types above add strings. */
	p.n_string_table = pp->nstrs;
	p.string_table = pp->strs;
	len = perftools__profiles__profile__get_packed_size(&p);
	buf = xcalloc(len, 1);
	perftools__profiles__profile__pack(&p, buf);
	ret = write_gz(path, buf, len);
	free(buf);
	for (int i = 0; i < 4; i++)
		free(types[i]);
	free(p.period_type);
	return ret;
}

static void free_node(void *n)
{
	free(n);
}

void pprof__free(struct pprof *pp)
{
	if (!pp)
		return;
	for (size_t i = 0; i < pp->nsamples; i++)
		perftools__profiles__sample__free_unpacked(pp->samples[i], NULL);
	for (size_t i = 0; i < pp->nlocs; i++)
		perftools__profiles__location__free_unpacked(pp->locs[i], NULL);
	for (size_t i = 0; i < pp->nmaps; i++)
		free(pp->maps[i]);
	for (size_t i = 0; i < pp->nfns; i++)
		free(pp->fns[i]);
	for (size_t i = 0; i < pp->nstrs; i++)
		free(pp->strs[i]);
	tdestroy(pp->str_tree, free_node);
	tdestroy(pp->loc_tree, free_node);
	tdestroy(pp->map_tree, free_node);
	tdestroy(pp->fn_tree, free_node);
	free(pp->samples);
	free(pp->locs);
	free(pp->maps);
	free(pp->fns);
	free(pp->strs);
	free(pp);
}
