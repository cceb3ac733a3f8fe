/* Names of JIT-compiled code from the perf map a runtime publishes,
 * /tmp/perf-PID.map ("START SIZE name" per line, hex; node
 * --perf-basic-prof, python3.12 -X perf, the JVM's perf-map-agent).
 * Read through /proc/PID/root with the pid as the process sees it
 * (containers); the file only grows, and later lines win. */
#ifndef MEMSCOPE_PERFMAP_H
#define MEMSCOPE_PERFMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

struct perfmap;

/* Never NULL (aborts on out of memory); empty until the file exists. */
struct perfmap *perfmap__new(pid_t pid);
/* The name of the code at addr, and its start in *start; NULL if the map
 * has none (the file is read again when it has grown). Owned by pm. */
const char *perfmap__lookup(struct perfmap *pm, uint64_t addr, uint64_t *start);
/* The runtime rewrites the map whole at each dump (the JVM's jcmd PID
 * Compiler.perfmap): only the newest dump is used, read again whole when
 * its size or time changes. */
void perfmap__set_snapshots(struct perfmap *pm);
/* The map exists and is trusted (read now if it was not). */
bool perfmap__found(struct perfmap *pm);
/* With snapshots: when the dump read was written (0 before one). */
time_t perfmap__mtime(const struct perfmap *pm);
void perfmap__free(struct perfmap *pm);

#endif
