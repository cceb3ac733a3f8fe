/* A long-lived worker that misbehaves the way the memory fault guide's
 * PHP-FPM case does: it reads a data file (page cache, reclaimable) and
 * keeps the anonymous memory of every "request" (a leak only the process
 * can give back). leaky_worker FILE START_MIB LEAK_MIB_PER_S */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *leak(size_t bytes)
{
	char *p = malloc(bytes);
	if (!p) {
		perror("malloc");
		exit(1);
	}
	memset(p, 0x5a, bytes);     /* touched: resident, charged as anon */
	return p;
}

static long long read_file(const char *path)
{
	static char buf[1 << 20];
	long long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		perror(path);
		exit(1);
	}
	/* Drop what is cached elsewhere so the pages are charged to us. */
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	close(fd);
	return total;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: leaky_worker FILE START_MIB LEAK_MIB_PER_S\n");
		return 2;
	}
	size_t start = strtoul(argv[2], NULL, 10), rate = strtoul(argv[3], NULL, 10);
	long long cached = read_file(argv[1]);
	leak(start << 20);
	printf("ready: %lld bytes cached, %zu MiB held, leaking %zu MiB/s\n", cached, start, rate);
	fflush(stdout);
	for (;;) {
		usleep(250000);
		leak((rate << 20) / 4);  /* each "request" keeps a little */
	}
}
