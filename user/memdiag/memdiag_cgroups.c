// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memdiag --all-cgroups: the table of memory cgroups, text or JSON. */
#include <stdio.h>
#include <string.h>

#include "memdiag_fmt.h"
#include "memdiag_report.h"
#include "output.h"

void md_print_cgroups(const struct md_cg_list *l, enum md_sort sort, size_t top, bool json)
{
	size_t shown = top && top < l->n ? top : l->n;

	if (json) {
		struct jw w;
		jw_init(&w, stdout);
		jw_obj_begin(&w, NULL);
		jw_str(&w, "tool", "memdiag");
		jw_str(&w, "target", "all_cgroups");
		jw_str(&w, "mount", l->mount);
		jw_str(&w, "sort", sort == MD_SORT_LIMIT ? "limit_share" : "working_set");
		jw_u64(&w, "cgroups_total", l->n);
		jw_arr_begin(&w, "cgroups");
		for (size_t i = 0; i < shown; i++) {
			const struct md_cg_row *c = &l->v[i];
			jw_obj_begin(&w, NULL);
			jw_str(&w, "path", c->rel);
			jw_i64(&w, "version", c->version);
			jw_u64(&w, "working_set_bytes", c->ws.working_set);
			jw_u64(&w, "usage_bytes", c->ws.usage);
			jw_str(&w, "usage_source", c->usage_src);
			jw_u64(&w, "rss_bytes", c->anon);
			jw_u64(&w, "cache_bytes", c->ws.cache);
			jw_u64(&w, "inactive_anon_bytes", c->inactive_anon);
			md_jw_limit(&w, "limit_bytes", c->ws.limit);
			if (c->ws_pct >= 0)
				jw_double(&w, "working_set_pct_of_limit", c->ws_pct);
			else
				jw_null(&w, "working_set_pct_of_limit");
			jw_u64(&w, "oom_kills", c->oom_kills);
			if (c->procs >= 0)
				jw_i64(&w, "processes", c->procs);
			else
				jw_null(&w, "processes");
			jw_str(&w, "top_finding", strcmp(c->top_code, "-") ? c->top_code : NULL);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
	} else {
		printf("memdiag: %zu memory cgroups under %s, by %s (top %zu)\n", l->n, l->mount,
		       sort == MD_SORT_LIMIT ? "share of limit" : "working set", shown);
		printf("%10s %7s %10s %10s %10s %10s %5s %6s  %-16s %s\n", "WSET", "%LIMIT", "USAGE", "RSS",
		       "INACT_ANON", "LIMIT", "OOMS", "PROCS", "TOP FINDING", "CGROUP");
		for (size_t i = 0; i < shown; i++) {
			const struct md_cg_row *c = &l->v[i];
			char pct[16];
			if (c->ws_pct >= 0)
				snprintf(pct, sizeof(pct), "%.1f%%", c->ws_pct);
			else
				snprintf(pct, sizeof(pct), "-");
			char procs[16] = "?";
			if (c->procs >= 0)
				snprintf(procs, sizeof(procs), "%d", c->procs);
			printf("%10s %7s %10s %10s %10s %10s %5llu %6s  %-16s ", md_size(c->ws.working_set), pct, md_size(c->ws.usage),
			       md_size(c->anon), md_size(c->inactive_anon), c->ws.limit == MEM_UNLIMITED ? "none" : md_size(c->ws.limit),
			       (unsigned long long)c->oom_kills, procs, c->top_code);
			print_term(stdout, c->rel, 0);
			printf("\n");
		}
		for (size_t i = 0; i < shown; i++)
			if (l->v[i].root)
				printf("/: usage is %s%s\n", l->v[i].usage_src, ROOT_USAGE_WHY);
	}
}
