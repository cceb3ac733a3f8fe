/* /proc/net/sockstat and sockstat6. */
#include "fuzz.h"
#include "proc_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct sockstat ss = { 0 };

	sockstat_parse(s, &ss);
	free(s);
	return 0;
}
