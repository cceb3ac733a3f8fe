/* /proc/self/mountinfo: where the cgroup hierarchies are. */
#include "cgroup.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct cgroup_layout l = { 0 };

	mountinfo_parse(s, &l);
	if (memchr(l.v2_mount, 0, sizeof(l.v2_mount)) == NULL || memchr(l.v1_memory, 0, sizeof(l.v1_memory)) == NULL)
		abort();
	free(s);
	return 0;
}
