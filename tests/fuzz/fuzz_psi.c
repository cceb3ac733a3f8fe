/* PSI: /proc/pressure/memory, a v2 cgroup's memory.pressure. */
#include "fuzz.h"
#include "memstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct psi p;

	psi_parse(s, &p);
	free(s);
	return 0;
}
