/* Container and pod ids recognised in cgroup paths, one path a line. */
#include <stdio.h>
#include "cgroup.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *save = NULL;

	for (char *p = strtok_r(s, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		struct container_ref r;

		if (container_from_path(p, &r) &&
		    (strnlen(r.id, sizeof(r.id)) == sizeof(r.id) || strnlen(r.pod_uid, sizeof(r.pod_uid)) == sizeof(r.pod_uid) ||
		     strnlen(r.runtime, sizeof(r.runtime)) == sizeof(r.runtime)))
			abort(); /* an unterminated field */
	}
	free(s);
	return 0;
}
