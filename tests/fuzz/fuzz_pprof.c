/* memleak-trace --pprof over frames whose names are the traced process's
 * bytes (invalid UTF-8, control bytes, very long): the profile must be
 * written, read back by protobuf-c, and keep every name byte for byte.
 * The input: a flags byte, then NUL-separated strings taken in turn as
 * symbol, file and module of each frame and as the sample's kind. */
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz.h"
#include "memleak_pprof.h"
#include "proto/profile.pb-c.h"

#define MAX_FRAMES 12
#define HUGE_NAME (256u << 10)

struct strings {
	const char *s[3 * MAX_FRAMES + 1];
	int n;
};

static void split(char *buf, size_t size, struct strings *out)
{
	out->n = 0;
	for (size_t i = 0; i < size && out->n < (int)(sizeof(out->s) / sizeof(out->s[0]));
	     i += strlen(buf + i) + 1)
		out->s[out->n++] = buf + i;
}

static const char *nth(const struct strings *st, int i)
{
	return st->n ? st->s[i % st->n] : NULL;
}

static uint8_t *read_gz(const char *path, size_t *len)
{
	size_t cap = 1 << 16;
	uint8_t *buf = malloc(cap);
	gzFile gz = gzopen(path, "rb");
	int n;

	if (!buf || !gz)
		abort();
	*len = 0;
	while ((n = gzread(gz, buf + *len, (unsigned)(cap - *len))) > 0) {
		*len += (size_t)n;
		if (*len == cap && !(buf = realloc(buf, cap *= 2)))
			abort();
	}
	if (n < 0)
		abort();
	gzclose(gz);
	return buf;
}

static bool in_table(const Perftools__Profiles__Profile *p, const char *s)
{
	for (size_t i = 0; i < p->n_string_table; i++)
		if (!strcmp(p->string_table[i], s))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct frame fr[MAX_FRAMES] = {};
	struct pprof_values v = { 1, 100, 1, 100 };
	struct strings st;
	char *buf, *huge = NULL;
	int nf;

	if (size < 1)
		return 0;
	if (!path[0])
		snprintf(path, sizeof(path), "/dev/shm/memscope-fuzz-%d.pb.gz", getpid());
	buf = fuzz_str(data + 1, size - 1);
	split(buf, size - 1, &st);
	nf = data[0] % (MAX_FRAMES + 1);
	/* A name of a quarter MiB: a process may name a function so. */
	if ((data[0] & 0x80) && st.n) {
		huge = malloc(HUGE_NAME + 1);
		if (!huge)
			abort();
		for (size_t i = 0; i < HUGE_NAME; i++)
			huge[i] = st.s[0][i % (strlen(st.s[0]) + 1)] | 1;
		huge[HUGE_NAME] = 0;
		st.s[0] = huge;
	}
	for (int i = 0; i < nf; i++) {
		fr[i].addr = 0x400000 + (uint64_t)i * 0x40;  /* one location each */
		fr[i].symbol = (char *)nth(&st, 3 * i);
		fr[i].file = (char *)nth(&st, 3 * i + 1);
		fr[i].module = (char *)nth(&st, 3 * i + 2);
		fr[i].line = i * 7;
		fr[i].inlined = i + 1 < nf && (data[0] >> (i % 7)) & 1;
	}
	struct pprof *pp = pprof__new(nth(&st, 1) ? nth(&st, 1) : "");

	pprof__add(pp, 4242, NULL, fr, nf, nth(&st, 2) ? nth(&st, 2) : "anon", &v);
	pprof__add(pp, 4243, NULL, fr, nf, "malloc", &v);
	if (pprof__write(pp, path, 1.5))
		abort();
	pprof__free(pp);

	size_t len;
	uint8_t *pb = read_gz(path, &len);
	Perftools__Profiles__Profile *p = perftools__profiles__profile__unpack(NULL, len, pb);

	if (!p || p->n_sample != 2)
		abort();
	for (int i = 0; i < nf; i++)
		if (fr[i].symbol && !in_table(p, fr[i].symbol))
			abort();
	perftools__profiles__profile__free_unpacked(p, NULL);
	unlink(path);
	free(pb);
	free(huge);
	free(buf);
	return 0;
}
