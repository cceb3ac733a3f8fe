/* How a process ended (see ending.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "ending.h"
#include "output.h"

struct ending_view ending_decode(const struct proc_ending *e)
{
	struct ending_view v = {};
	int code = e ? (int)e->code : 0;

	if (!e || !(e->flags & ENDING_SEEN))
		return v;
	if (WIFSIGNALED(code)) {
		v.signal = WTERMSIG(code);
		v.core = WCOREDUMP(code);
		/* oom_mm marks a victim the killer chose: its SIGKILL is the
		 * kill. Another fatal signal that came first is its ending. */
		v.kind = (e->flags & ENDING_OOM) && v.signal == SIGKILL ? ENDING_OOM_KILL : ENDING_SIGNAL;
	} else {
		v.kind = ENDING_EXIT;
		v.status = WEXITSTATUS(code);
	}
	return v;
}

struct proc_ending ending_from_wait(int status)
{
	return (struct proc_ending){ .code = (__u32)status, .flags = ENDING_SEEN };
}

static const char *signal_name(int sig, char buf[16])
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, 16, "SIG%s", abbrev);
	else
		snprintf(buf, 16, "SIG%d", sig);
	return buf;
}

const char *ending_text(char buf[ENDING_TEXT_LEN], const struct proc_ending *e)
{
	struct ending_view v = ending_decode(e);
	char name[16];

	switch (v.kind) {
	case ENDING_OOM_KILL:
		snprintf(buf, ENDING_TEXT_LEN, "OOM kill");
		break;
	case ENDING_SIGNAL:
		snprintf(buf, ENDING_TEXT_LEN, "signal %d (%s%s)", v.signal, signal_name(v.signal, name),
			 v.core ? ", core dumped" : "");
		break;
	case ENDING_EXIT:
		snprintf(buf, ENDING_TEXT_LEN, "exit %d", v.status);
		break;
	default:
		snprintf(buf, ENDING_TEXT_LEN, "unknown");
	}
	return buf;
}

static const char *const kind_names[] = {
	[ENDING_OOM_KILL] = "oom_kill", [ENDING_SIGNAL] = "signal", [ENDING_EXIT] = "exit",
};

void ending_json(struct jw *w, const char *key, const struct proc_ending *e)
{
	struct ending_view v = ending_decode(e);
	char name[16];

	if (v.kind == ENDING_UNKNOWN) {
		jw_null(w, key);
		return;
	}
	jw_obj_begin(w, key);
	jw_str(w, "kind", kind_names[v.kind]);
	if (v.kind == ENDING_EXIT) {
		jw_null(w, "signal");
		jw_null(w, "signal_name");
		jw_u64(w, "status", (uint64_t)v.status);
	} else {
		jw_u64(w, "signal", (uint64_t)v.signal);
		jw_str(w, "signal_name", signal_name(v.signal, name));
		jw_null(w, "status");
	}
	jw_obj_end(w);
}
