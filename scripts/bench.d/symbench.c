/* The symbolizer on a big set of distinct addresses: one every STEP bytes
 * of this process's own code (itself, libc, libdw, libelf, ...), resolved
 * as a report resolves its stacks (prefetched, then one by one). With the
 * symbolizer worker, or in-process under MEMSCOPE_SYMWORKER=0.
 * usage: symbench [STEP]   (and symbench refresh|refresh-unwinder N: below)
 * prints: ADDRESSES ELAPSED_S CPU_S FRAMES_NAMED, CPU_S being this
 * process's and its children's (the worker's) user+system time: on a
 * loaded machine the elapsed time is mostly waiting for a CPU. */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "symbolize.h"

#define MAX_ADDRS 200000

static size_t code_addrs(uint64_t *v, uint64_t step)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4096], perms[8];
	uint64_t lo, hi;
	size_t n = 0;

	if (!f)
		exit(1);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &lo, &hi, perms) == 3 &&
		    perms[2] == 'x' && strchr(line, '/'))
			for (uint64_t a = lo; a < hi && n < MAX_ADDRS; a += step)
				v[n++] = a;
	fclose(f);
	return n;
}

/* CPU seconds of this process and of its live children (/proc's
 * children list: the worker is not reaped until exit). */
static double cpu_s(void)
{
	long tick = sysconf(_SC_CLK_TCK);
	struct rusage ru;
	char path[64];
	double t;
	FILE *f;
	int pid;

	getrusage(RUSAGE_SELF, &ru);
	t = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	    ru.ru_stime.tv_usec / 1e6;
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", getpid());
	f = fopen(path, "re");
	while (f && fscanf(f, "%d", &pid) == 1) {
		unsigned long ut = 0, st = 0;
		FILE *p;

		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		p = fopen(path, "re");
		if (p && fscanf(p, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&ut, &st) == 2)
			t += (double)(ut + st) / (double)tick;
		if (p)
			fclose(p);
	}
	if (f)
		fclose(f);
	return t;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define LIB_DIR "/usr/lib/x86_64-linux-gnu"

/* The bytes an ELF file's PT_LOAD segments span from its start; 0 if
 * it is not a 64-bit ELF file. */
static uint64_t load_span(int fd)
{
	Elf64_Ehdr eh;
	uint64_t end = 0;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		return 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
			return 0;
		if (ph.p_type == PT_LOAD && ph.p_vaddr + ph.p_memsz > end)
			end = ph.p_vaddr + ph.p_memsz;
	}
	return end;
}

/* An ELF shared library of LIB_DIR mapped read-only over the span of its
 * segments: to the symbolizer a module as a library dlopen'ed is, with
 * none of its code run. */
static bool map_library(const char *name)
{
	char path[512];
	uint64_t span;
	void *p = MAP_FAILED;
	int fd;

	if (!strstr(name, ".so") || snprintf(path, sizeof(path), LIB_DIR "/%s", name) >= (int)sizeof(path))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if ((span = load_span(fd)))
		p = mmap(NULL, span, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	return p != MAP_FAILED;
}

/* symbench refresh|refresh-unwinder N: N libraries mapped one by one,
 * the symbolizer refreshed after each, as a tracer draining the records
 * of a starting program does (the plain one, or the DWARF unwinder's).
 * prints: LIBRARIES ELAPSED_S CPU_S */
static int refresh_bench(bool unwinder, int want)
{
	struct dirent **ents;
	int n = scandir(LIB_DIR, &ents, NULL, alphasort), mapped = 0;
	struct symbolizer *s = unwinder ? symbolizer__new_local(getpid(), NULL) : symbolizer__new(getpid());
	double t0 = now(), c0 = cpu_s();

	if (n < 0 || !s)
		return 1;
	for (int i = 0; i < n && mapped < want; i++)
		if (ents[i]->d_type == DT_REG && map_library(ents[i]->d_name)) {
			mapped++;
			symbolizer__refresh(s);
		}
	printf("%d %.3f %.3f\n", mapped, now() - t0, cpu_s() - c0);
	symbolizer__free(s);
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strncmp(argv[1], "refresh", 7))
		return refresh_bench(!strcmp(argv[1], "refresh-unwinder"), atoi(argv[2]));
	uint64_t step = argc > 1 ? strtoull(argv[1], NULL, 0) : 64;
	uint64_t *v = calloc(MAX_ADDRS, sizeof(*v));
	size_t n, named = 0;
	struct symbolizer *s;
	double t0, c0;

	if (!v || !step)
		return 2;
	n = code_addrs(v, step);
	t0 = now();
	c0 = cpu_s();
	s = symbolizer__new(getpid());
	if (!s)
		return 1;
	symbolizer__prefetch(s, v, (int)n);
	for (size_t i = 0; i < n; i++) {
		struct frame fr[16];
		int k = symbolizer__resolve(s, v[i], fr, 16);

		named += fr[k - 1].symbol != NULL;
		for (int j = 0; j < k; j++)
			frame_clear(&fr[j]);
	}
	symbolizer__free(s);
	printf("%zu %.3f %.3f %zu\n", n, now() - t0, cpu_s() - c0, named);
	return 0;
}
