/* Demo: a "session cache" that maps 256 KiB per request and forgets to
 * unmap it, next to request handling that cleans up properly. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__attribute__((noinline)) static void *session_cache_grow(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, 0x5a, len);   /* make it resident, like real data */
	return p;
}

__attribute__((noinline)) static void handle_request(void)
{
	size_t len = 64 * 1024;
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf != MAP_FAILED) {
		memset(buf, 1, len);
		munmap(buf, len);
	}
	session_cache_grow(256 * 1024);  /* never released: the leak */
}

int main(int argc, char **argv)
{
	int seconds = argc > 1 ? atoi(argv[1]) : 30;

	for (int i = 0; i < seconds * 20; i++) {
		handle_request();
		usleep(50 * 1000);
	}
	return 0;
}
