/* Interpreter stacks as BPF copied them from a PHP or CPython process:
 * every byte (names, scopes, files, counts, the CPython code object's
 * line table) is the process's. The input is one struct interp_stack,
 * then the line table every CPython frame of it gets. The decoded frames
 * must be C strings the terminal escaper can read whole. */
#include "fuzz.h"
#include "interpreters.h"
#include "output.h"

struct lines_input {
	const uint8_t *data;
	size_t size;
};

static bool fuzz_lines(const struct py_lines_key *k, struct py_lines *out, void *ctx)
{
	const struct lines_input *in = ctx;

	(void)k;
	memset(out, 0, sizeof(*out));
	memcpy(out, in->data, in->size < sizeof(*out) ? in->size : sizeof(*out));
	return in->size > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct interp_stack st = {};
	struct frame fr[INTERP_MAX_FRAMES + 2];
	size_t head = size < sizeof(st) ? size : sizeof(st);
	struct lines_input in = { data + head, size - head };
	int n;

	memcpy(&st, data, head);
	n = interp_stack_decode(&st, fuzz_lines, &in, fr, INTERP_MAX_FRAMES + 2);
	for (int i = 0; i < n; i++) {
		char *s = term_escape(fr[i].symbol ? fr[i].symbol : ""), *f = term_escape(fr[i].file ? fr[i].file : "");

		if (!fr[i].symbol || !fr[i].module)
			abort();
		free(s);
		free(f);
		frame_clear(&fr[i]);
	}
	return 0;
}
