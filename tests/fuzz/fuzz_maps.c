/* /proc/PID/maps and smaps lines. */
#include "fuzz.h"
#include "procfs.h"

static int on_map(const struct map_entry *m, void *ctx)
{
	(*(size_t *)ctx) += strlen(m->path) + strnlen(m->perms, sizeof(m->perms));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	size_t sum = 0;

	maps_parse(s, on_map, &sum);
	free(s);
	return 0;
}
