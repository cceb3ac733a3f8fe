/* /proc/meminfo and its memory.stat view. */
#include "fuzz.h"
#include "memstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct meminfo mi;
	struct memstat ms;
	struct working_set ws;

	if (meminfo_parse(s, &mi) == 0) {
		meminfo_to_memstat(&mi, &ms);
		working_set_compute(&ms, mi.mem_total - mi.mem_free, true, mi.mem_total, &ws);
		memstat_free(&ms);
	}
	free(s);
	return 0;
}
