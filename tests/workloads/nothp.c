/* Runs a command with transparent huge pages off for it: the setting
 * (PR_SET_THP_DISABLE) is inherited across exec, so its faults bring
 * small pages whatever the host's THP mode, and tests that count pages
 * first touched are exact on every kernel.
 * usage: nothp CMD [ARGS...] */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: nothp CMD [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)) {
		fprintf(stderr, "nothp: prctl(PR_SET_THP_DISABLE): %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "nothp: cannot run %s: %s\n", argv[1], strerror(errno));
	return 127;
}
