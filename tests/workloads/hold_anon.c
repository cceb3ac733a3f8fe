/* Holds a known amount of anonymous memory: hold_anon MIB [GROW_MIB_PER_S].
 * Every page is written so it is resident (and charged to our memory
 * cgroup). With a growth rate it keeps adding (a leak for memdiag -i to
 * measure). Prints "ready" once the first MIB are touched, then sleeps
 * until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void *touch(size_t bytes)
{
	/* Private anonymous mapping, no THP games: pages are charged as anon. */
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (size_t off = 0; off < bytes; off += 4096)
		p[off] = (char)(off / 4096 + 1);
	return p;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hold_anon MIB [GROW_MIB_PER_S]\n");
		return 2;
	}
	size_t mib = strtoul(argv[1], NULL, 10);
	size_t grow = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
	touch(mib << 20);
	printf("ready %zu MiB\n", mib);
	fflush(stdout);
	for (;;) {
		sleep(1);
		if (grow)
			touch(grow << 20);
	}
}
