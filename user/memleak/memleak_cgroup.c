// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memleak-trace -c: the cgroup's own lines, text and JSON, of its
 * snapshot (memleak_cgroup.h). */
#include <stdlib.h>

#include "memleak_cgroup.h"
#include "output.h"

void leak_print_cgroup(FILE *out, const struct leak_cgroup *c)
{
	char *path = term_escape(c->path), b[2][HUMAN_LEN];

	if (c->pid) {
		char *comm = term_escape(c->comm ? c->comm : "?");

		fprintf(out, "GROWING: pid %d (%s) in cgroup %s: %s, +%s/s\n", c->pid, comm, path,
			c->who, fmt_bytes(b[0], (uint64_t)c->rate));
		free(comm);
	} else {
		fprintf(out, "Nothing grows in cgroup %s\n", path);
	}
	fprintf(out, "memleak-trace: cgroup %s%s: %zu process%s hold %s mapped while traced "
		"(%zu seen, %zu exited, %zu by an OOM kill)\n",
		path, c->v1 ? " (v1 memory)" : "", c->holding, c->holding == 1 ? "" : "es",
		fmt_bytes(b[1], c->bytes), c->seen, c->exited, c->oom_kills);
	if (c->exited_kept)
		fprintf(out, "%zu exited process%s kept below with what %s held at the exit\n",
			c->exited_kept, c->exited_kept == 1 ? "" : "es",
			c->exited_kept == 1 ? "it" : "each");
	if (c->exited_not_kept)
		fprintf(out, "%zu more exited holding memory, not kept (only the %zu holding most are)\n",
			c->exited_not_kept, c->max_kept);
	if (c->removed)
		fprintf(out, "the cgroup was removed\n");
	free(path);
}

void leak_print_cgroup_json(FILE *out, const struct leak_cgroup *c, bool final)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "event", final ? "cgroup_final_report" : "cgroup_report");
	jw_str(&w, "cgroup", c->path);
	jw_u64(&w, "processes_holding", c->holding);
	jw_u64(&w, "processes_seen", c->seen);
	jw_u64(&w, "processes_exited", c->exited);
	jw_u64(&w, "processes_exited_kept", c->exited_kept);
	jw_u64(&w, "processes_exited_not_kept", c->exited_not_kept);
	jw_u64(&w, "oom_kills", c->oom_kills);
	jw_u64(&w, "bytes", c->bytes);
	jw_bool(&w, "cgroup_removed", c->removed);
	jw_obj_end(&w);
}
