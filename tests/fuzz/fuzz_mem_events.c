/* v2 memory.events(.local), v1 memory.oom_control. */
#include "fuzz.h"
#include "memstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct mem_events ev;

	mem_events_parse(s, &ev);
	free(s);
	return 0;
}
