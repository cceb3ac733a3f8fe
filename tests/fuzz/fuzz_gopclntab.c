/* Go's pc-line table (.gopclntab), as read from any binary a traced
 * process maps: parsed, then looked up across its text. */
#include "fuzz.h"
#include "gopclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;
	struct gopcln *t = gopcln__parse(data, size, 0x401000, &why);
	struct gopcln_pos p;
	uint64_t text = 0x401000;

	if (!t)
		return 0;
	/* The text start the header gives (pointer size 8 or 4). */
	if (size >= 32 && data[7] == 8)
		memcpy(&text, data + 24, 8);
	else if (size >= 20 && data[7] == 4)
		text = (uint64_t)data[16] | (uint64_t)data[17] << 8 | (uint64_t)data[18] << 16 |
		       (uint64_t)data[19] << 24;
	for (uint64_t off = 0; off < 1u << 16; off += 61)
		if (!gopcln__lookup(t, text + off, &p))
			gopcln_pos_clear(&p);
	gopcln__free(t);
	return 0;
}
