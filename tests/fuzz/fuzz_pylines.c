/* CPython's line tables (co_lnotab, 3.10's co_linetable, the 3.11+
 * location table) as BPF copied them from the process, decoded for every
 * version and a spread of instructions. The input: a version selector,
 * the claimed length, the first line, then the table. */
#include "fuzz.h"
#include "pylines.h"

static const unsigned versions[] = { 0x308, 0x309, 0x30a, 0x30b, 0x30c, 0x30d, 0x30e };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned version;
	uint32_t len;
	int32_t first;

	if (size < 9)
		return 0;
	version = versions[data[0] % (sizeof(versions) / sizeof(versions[0]))];
	memcpy(&len, data + 1, 4);
	memcpy(&first, data + 5, 4);
	data += 9;
	size -= 9;
	/* The table as the BPF side keeps it: a copy of its first bytes, the
	 * length the code object claims (any, lying or not). */
	uint8_t *tab = malloc(size ? size : 1);

	if (!tab)
		abort();
	memcpy(tab, data, size);
	for (int32_t instr = -2; instr < 4096; instr += 7)
		py_addr2line(version, tab, size, len, first, instr);
	py_addr2line(version, tab, size, len, first, INT32_MAX);
	py_addr2line(version, tab, size, len, first, INT32_MIN);
	free(tab);
	return 0;
}
