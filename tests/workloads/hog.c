/* A memory hog for oomwatch's tests and demo: allocates and touches
 * anonymous memory in steps until it has TOTAL MiB (or is OOM-killed),
 * then optionally holds it.
 *
 *   hog [-t TOTAL_MIB] [-s STEP_MIB] [-w STEP_DELAY_MS] [-a OOM_SCORE_ADJ]
 *       [-H] (hold: sleep forever once done) [-r FILE] (touch FILE when done)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void set_adj(const char *adj)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY);

	if (fd < 0 || write(fd, adj, strlen(adj)) < 0) {
		perror("hog: oom_score_adj");
		exit(1);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	long total = 200, step = 8, delay_ms = 0;
	const char *ready = NULL;
	int hold = 0, c;

	while ((c = getopt(argc, argv, "t:s:w:a:Hr:")) != -1) {
		switch (c) {
		case 't': total = atol(optarg); break;
		case 's': step = atol(optarg); break;
		case 'w': delay_ms = atol(optarg); break;
		case 'a': set_adj(optarg); break;
		case 'H': hold = 1; break;
		case 'r': ready = optarg; break;
		default:
			fprintf(stderr, "usage: hog [-t MiB] [-s MiB] [-w ms] [-a adj] [-H] [-r file]\n");
			return 2;
		}
	}
	if (step <= 0 || total <= 0)
		return 2;
	for (long done = 0; done < total; done += step) {
		size_t len = (size_t)step << 20;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("hog: mmap");
			return 1;
		}
		/* Touch every page so it is charged to the cgroup. */
		for (size_t off = 0; off < len; off += 4096)
			p[off] = 1;
		if (delay_ms)
			usleep(delay_ms * 1000);
	}
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT, 0600);

		if (fd >= 0)
			close(fd);
	}
	while (hold)
		pause();
	return 0;
}
