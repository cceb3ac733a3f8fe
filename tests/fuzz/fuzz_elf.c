/* A binary a traced process maps, as the tools read it: the input is the
 * file. It is given to the symbolizer as the one module of an exited
 * process (the module table's held descriptor, as memleak-trace keeps
 * it), so that our own code runs over it: the load bias from its program
 * headers, libdwfl's symbol table and DWARF lines with our handling of
 * what it returns (names demangled, inlined frames, Go's .gopclntab), the
 * CFI unwinder over a made-up stack, and the interpreter probe (dynamic
 * symbols, CPython's debug offsets, PHP's version string). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fuzz.h"
#include "interpreters.h"
#include "modtab.h"
#include "symbolize.h"
#include "unwind.h"

#define BASE 0x555555554000ull
/* No process has this pid (above PID_MAX_LIMIT): /proc/PID/maps is
 * missing, so the module table is what the symbolizer reports. */
#define GONE_PID 0x7ffffff0
#define LOOKUPS 192
#define STACK_WORDS 64

static int file_fd = -1;
static char probe_dir[64];
static const char *const probe_names[] = { "python3.11", "python3.12", "python3.13",
					   "libphp8.2.so" };
#define NPROBES (sizeof(probe_names) / sizeof(probe_names[0]))

static void remove_links(void)
{
	char link[128];

	for (size_t i = 0; i < NPROBES; i++) {
		snprintf(link, sizeof(link), "%s/%s", probe_dir, probe_names[i]);
		unlink(link);
	}
	rmdir(probe_dir);
}

/* The memfd every input is written to, and names the interpreter probe
 * knows it by (links to it: the probe goes by the file's name). */
static void setup(void)
{
	char target[64], link[128];

	/* The lookups run here, not in the symbolizer worker (symworker.h):
	 * where the sanitizers and the fuzzer see what they do. */
	if (setenv("MEMSCOPE_SYMWORKER", "0", 1))
		abort();
	file_fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
	snprintf(probe_dir, sizeof(probe_dir), "/dev/shm/memscope-fuzz-%d", getpid());
	if (file_fd < 0 || (mkdir(probe_dir, 0700) && errno != EEXIST))
		abort();
	snprintf(target, sizeof(target), "/proc/%d/fd/%d", getpid(), file_fd);
	for (size_t i = 0; i < NPROBES; i++) {
		snprintf(link, sizeof(link), "%s/%s", probe_dir, probe_names[i]);
		unlink(link);
		if (symlink(target, link))
			abort();
	}
	atexit(remove_links);
}

static void write_input(const uint8_t *data, size_t size)
{
	if (ftruncate(file_fd, 0) || (size && pwrite(file_fd, data, size, 0) != (ssize_t)size))
		abort();
}

static void resolve_all(struct symbolizer *s, uint64_t end)
{
	uint64_t step = (end - BASE) / LOOKUPS + 1;
	struct frame fr[8];

	for (uint64_t a = BASE; a < end; a += step) {
		int n = symbolizer__resolve(s, a, fr, 8);

		for (int i = 0; i < n; i++) {
			char *line = frame_format(&fr[i]);

			free(line);
			frame_clear(&fr[i]);
		}
	}
}

/* A stack whose words all point into the module: every frame's CFI is
 * looked up and run. */
static void unwind(struct unwinder *u, uint64_t end)
{
	uint64_t stack[STACK_WORDS], ips[32];
	struct unwind_regs regs = { .valid = UNW_REGS_MIN | 1u << UNW_RBP };

	for (int i = 0; i < STACK_WORDS; i++)
		stack[i] = BASE + ((uint64_t)i * 4099) % (end - BASE);
	regs.r[UNW_RSP] = 0x7ffc00000000ull;
	regs.r[UNW_RBP] = regs.r[UNW_RSP] + 64;
	for (uint64_t rip = BASE; rip < end; rip += (end - BASE) / 8 + 1) {
		regs.r[UNW_RIP] = rip;
		unwinder__unwind(u, &regs, stack, sizeof(stack), ips, 32);
	}
}

static void probe_interpreters(void)
{
	struct interp_bin b;
	char path[128], why[160];

	for (size_t i = 0; i < NPROBES; i++) {
		snprintf(path, sizeof(path), "%s/%s", probe_dir, probe_names[i]);
		interp_probe_file(path, &b, why, sizeof(why));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stat st;
	struct unwinder *u;

	if (file_fd < 0)
		setup();
	write_input(data, size);
	if (fstat(file_fd, &st))
		abort();
	struct modtab_ent e = {
		.start = BASE, .end = BASE + ((size + 4095) & ~4095ull) + 4096, .pgoff = 0,
		.ino = st.st_ino, .dev_major = major(st.st_dev), .dev_minor = minor(st.st_dev),
		.path = "/usr/bin/fuzzed", .fd = file_fd,
	};
	struct modtab mt = { .v = &e, .n = 1, .cap = 1, .gen = 1 };

	u = unwinder__new_with(GONE_PID, &mt);
	if (u) {
		resolve_all(unwinder__symbolizer(u), e.end);
		unwind(u, e.end);
		unwinder__free(u);
	}
	probe_interpreters();
	return 0;
}
