/* The perf map a JIT runtime writes (/tmp/perf-PID.map): any bytes, read
 * in two steps as a growing file is, then looked up at addresses the
 * input also picks; each name found is classified as the symbolizer does
 * a JVM's (a Java method, one of the JDK's). */
#include <stdio.h>
#include <unistd.h>
#include "fuzz.h"
#include "jvm.h"
#include "perfmap.h"

static void write_map(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct perfmap *pm;
	uint64_t start, addr = 0;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	write_map(path, data, size / 2);
	pm = perfmap__new(getpid());
	for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
		memcpy(&addr, data + i, 8);
		const char *name = perfmap__lookup(pm, addr, &start);

		if (jvm_jdk_method(name) && !jvm_method_name(name))
			abort();
		if (i == 8)
			write_map(path, data, size);
		perfmap__lookup(pm, addr & 0xffffffff, &start);
	}
	perfmap__free(pm);
	unlink(path);
	return 0;
}
