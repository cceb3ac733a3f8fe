/* Limit and usage files (memory.max, memory.current, limit_in_bytes...)
 * and /proc/PID/limits. A usage is a number or an error, never unlimited. */
#include "fuzz.h"
#include "memstat.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	uint64_t v;

	if (mem_number_parse(s, &v) == 0 && strstr(s, "max"))
		abort(); /* "max" is a limit's word, never a usage */
	mem_limit_parse(s, &v);
	limits_nofile_parse(s);
	free(s);
	return 0;
}
