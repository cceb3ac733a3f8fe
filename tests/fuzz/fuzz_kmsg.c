/* /dev/kmsg records ("pri,seq,ts;text", one a line) and the kernel's OOM
 * report matched to every pid a "Killed process" line names. */
#include <stdio.h>
#include "fuzz.h"
#include "oom_kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *text = fuzz_str(data, size), *save = NULL;
	struct kmsg *k = kmsg_new();
	struct kernel_report r;
	int pid;

	for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		kmsg_feed(k, l);
	for (const char *p = strstr(text, "Killed process "); p; p = strstr(p + 1, "Killed process ")) {
		if (sscanf(p, "Killed process %d", &pid) == 1 && kmsg_match(k, pid, &r)) {
			kmsg_constraint_name(r.constraint);
			kernel_report_free(&r);
		}
	}
	if (kmsg_match(k, 1, &r))
		kernel_report_free(&r);
	kmsg_free(k);
	free(text);
	free(s);
	return 0;
}
