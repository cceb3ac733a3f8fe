/* Brings a file into the page cache and stays alive: hold_cache FILE.
 * The file's cached pages are dropped first (fdatasync + POSIX_FADV_DONTNEED)
 * so that reading it charges them to OUR memory cgroup: page cache is
 * charged to whoever reads it in, and pages already cached elsewhere would
 * stay charged there. Prints "ready BYTES" after the read. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	long long total = 0;
	ssize_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: hold_cache FILE\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0) {
		perror("read");
		return 1;
	}
	printf("ready %lld\n", total);
	fflush(stdout);
	for (;;)
		pause();
}
