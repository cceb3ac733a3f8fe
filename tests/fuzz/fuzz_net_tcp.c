/* /proc/net/tcp and tcp6. */
#include "fuzz.h"
#include "proc_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct tcp_table t = { 0 };
	size_t cap = 0;

	tcp_table_parse(&t, s, &cap);
	for (size_t i = 0; i < t.n; i++)
		if (!memchr(t.rows[i].local, 0, ADDR_LEN) || !memchr(t.rows[i].remote, 0, ADDR_LEN) ||
		    !tcp_state_name(t.rows[i].state))
			abort();
	tcp_table_free(&t);
	free(s);
	return 0;
}
