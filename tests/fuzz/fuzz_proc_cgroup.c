/* /proc/PID/cgroup: a process's cgroup2 path and v1 memory cgroup. */
#include "cgroup.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *v2, *v1;

	proc_cgroup_parse(s, &v2, &v1);
	free(v2);
	free(v1);
	free(s);
	return 0;
}
