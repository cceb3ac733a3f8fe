/* memory.stat, v1 and v2, and the working set computed from it. */
#include "fuzz.h"
#include "memstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int (*parse[])(const char *, struct memstat *) = { memstat_parse, memstat_parse_v1, memstat_parse_v2 };
	char *s = fuzz_str(data, size);
	struct working_set ws;
	struct memstat ms;

	for (size_t i = 0; i < sizeof(parse) / sizeof(parse[0]); i++) {
		if (parse[i](s, &ms) == 0) {
			working_set_compute(&ms, ms.anon, i == 0, ms.hier_limit, &ws);
			for (int f = 0; f < MS_NFIELDS; f++)
				memstat_get(&ms, f);
			memstat_raw(&ms, "total_rss", NULL);
		}
		memstat_free(&ms);
	}
	free(s);
	return 0;
}
