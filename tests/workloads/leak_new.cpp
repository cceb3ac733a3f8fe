// Leaks COUNT objects of BYTES bytes through operator new[] from
// Cache::leak_entry(), and news/deletes as many again (balanced).
// usage: leak_new COUNT BYTES [-w] [-x] (see leak_mmap.c)
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <vector>

static volatile sig_atomic_t go;
// Where the newest leaked block escapes to: without it -O2 drops the
// unused allocation altogether.
static char *volatile last_leaked;
static void on_usr1(int) { go = 1; }

struct Cache {
	// Updated after each allocation: built without frame pointers, the
	// method keeps `this` in rbp across the call, and a frame-pointer
	// walk reads these fields as a return address that changes per call.
	size_t entries = 0, bytes = 0;
	std::vector<char *> kept;
	__attribute__((noinline)) char *leak_entry(size_t n)
	{
		char *p = new char[n];
		memset(p, 1, n);
		last_leaked = p;
		entries++;
		bytes += n;
		return p;       // dropped by the caller: leaked
	}
	__attribute__((noinline)) void balanced(size_t n)
	{
		char *p = new char[n];
		memset(p, 2, n);
		delete[] p;
	}
};

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int count = atoi(argv[1]);
	size_t n = strtoul(argv[2], nullptr, 10);
	bool wait = false, quit = false;
	for (int i = 3; i < argc; i++) {
		wait |= !strcmp(argv[i], "-w");
		quit |= !strcmp(argv[i], "-x");
	}
	signal(SIGUSR1, on_usr1);
	while (wait && !go)
		pause();
	Cache c;
	for (int i = 0; i < count; i++) {
		c.leak_entry(n);
		c.balanced(n);
	}
	if (write(1, "leaked\n", 7) < 0)
		return 1;
	if (quit)
		return 0;
	for (;;)
		pause();
}
