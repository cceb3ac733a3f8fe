/* /proc/PID/smaps_rollup. */
#include "fuzz.h"
#include "memstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct smaps_rollup sr;

	smaps_rollup_parse(s, &sr);
	free(s);
	return 0;
}
