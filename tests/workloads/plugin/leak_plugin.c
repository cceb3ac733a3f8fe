/* A library that leak_kinds loads with dlopen: leaks COUNT 300-byte
 * blocks from plugin_leak_block(), so that the tracer must name frames of
 * a library mapped late by a process that exits right after. */
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void *plugin_leak_block(void)
{
	char *p = malloc(300);

	if (p)
		memset(p, 1, 300);
	return p;
}

void plugin_leak(int n)
{
	for (int i = 0; i < n; i++)
		__asm__ volatile("" : : "r"(plugin_leak_block()) : "memory");
}
