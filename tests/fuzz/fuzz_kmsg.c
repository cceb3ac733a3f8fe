/* /dev/kmsg records ("pri,seq,ts;text", one a line) and the kernel's OOM
 * report matched to every pid a "Killed process" line names, and taken a
 * kill at a time while the log is fed (--since); the same bytes as the
 * journal's export format. */
#include <stdio.h>
#include "fuzz.h"
#include "oom_kmsg.h"

static void journal_rec(const struct journal_kernel_rec *rec, void *ctx)
{
	struct kmsg *k = ctx;
	struct kernel_report r;

	kmsg_feed_text(k, rec->mono_usec, rec->message);
	if (kmsg_newest_kill(k, &r))
		kernel_report_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *text = fuzz_str(data, size), *save = NULL;
	struct kmsg *k = kmsg_new(), *j = kmsg_new();
	struct kernel_report r;
	int pid;

	for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		kmsg_feed(k, l);
		if (kmsg_newest_kill(k, &r))
			kernel_report_free(&r);
	}
	for (const char *p = strstr(text, "Killed process "); p; p = strstr(p + 1, "Killed process ")) {
		if (sscanf(p, "Killed process %d", &pid) == 1 && kmsg_match(k, pid, &r)) {
			kmsg_constraint_name(r.constraint);
			kernel_report_free(&r);
		}
	}
	if (kmsg_match(k, 1, &r))
		kernel_report_free(&r);
	journal_export_parse((const char *)data, size, journal_rec, j);
	kmsg_free(j);
	kmsg_free(k);
	free(text);
	free(s);
	return 0;
}
