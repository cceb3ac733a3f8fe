/* Allocation wrappers in a shared library built as distributions build
 * theirs (-O2 -fomit-frame-pointer), for two_paths: each keeps a 512-byte
 * scratch buffer live across the call it wraps, so the return address into
 * its caller lies beyond the words a tracer reads at the stack pointer to
 * key a call site, and no frame pointer leads there. Every caller of one
 * wrapper then looks the same from the wrapper's call. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define KEEP __attribute__((noipa))
#define SCRATCH 512

static volatile unsigned long sink;

/* Zeroed, so no stale word of an earlier call tells callers apart. */
KEEP static void scratch_fill(char *b)
{
	memset(b, 0, SCRATCH);
}

KEEP static void scratch_use(const char *b, const void *p)
{
	sink += (unsigned long)b[SCRATCH - 1] + (unsigned long)p;
}

KEEP void *xalloc(size_t n)
{
	char scratch[SCRATCH];
	void *p;

	scratch_fill(scratch);
	p = malloc(n);
	if (!p)
		abort();
	scratch_use(scratch, p);
	return p;
}

KEEP void *xmap(size_t len)
{
	char scratch[SCRATCH];
	void *p;

	scratch_fill(scratch);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	scratch_use(scratch, p);
	return p;
}

KEEP int xsocket(void)
{
	char scratch[SCRATCH];
	int fd;

	scratch_fill(scratch);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		abort();
	scratch_use(scratch, &fd);
	return fd;
}
