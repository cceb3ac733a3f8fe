/* ELF symbol, DWARF line and inline lookups of one address (dwlookup.h). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dwlookup.h"
#include "golines.h"
#include "symbolize.h"

/* C++ names: libstdc++'s demangler, looked up at run time so that the C
 * tools need not link libstdc++; without it names stay mangled. */
typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);
static char *demangle(const char *name)
{
	static demangle_fn fn;
	static int tried;

	if (!name)
		return NULL;
	if (!tried) {
		void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);

		tried = 1;
		if (h)
			fn = (demangle_fn)dlsym(h, "__cxa_demangle");
	}
	if (fn && name[0] == '_' && name[1] == 'Z') {
		int status = 0;
		char *d = fn(name, NULL, NULL, &status);

		if (d && status == 0)
			return d;
		free(d);
	}
	/* "__libc_start_main@@GLIBC_2.34": the symbol version is linker
	 * bookkeeping, not part of the name a reader looks for. */
	return strndup(name, strcspn(name, "@"));
}

/* The name of a subprogram or inlined instance, following
 * abstract_origin/specification; the linkage name demangles best. */
static char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *n = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		n = dwarf_formstring(&attr);
	if (!n)
		n = dwarf_diename(die);
	if (!n && dwarf_attr_integrate(die, DW_AT_name, &attr))
		n = dwarf_formstring(&attr);
	return n ? demangle(n) : NULL;
}

static char *call_site(Dwarf_Die *cudie, Dwarf_Die *inl, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word fidx = 0, lno = 0;
	Dwarf_Files *files;
	size_t nfiles;
	const char *name;

	*line = 0;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &lno) == 0)
		*line = (int)lno;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &fidx) != 0)
		return NULL;
	if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0 || fidx >= nfiles)
		return NULL;
	name = dwarf_filesrc(files, fidx, NULL, NULL);
	return name ? strdup(name) : NULL;
}

/* Inlined frames from debug info: scopes[] runs from the innermost
 * scope outwards; each inlined_subroutine is one frame whose caller's
 * position is that scope's call_file/call_line. Returns frames filled
 * (the outermost function is left for the caller to fill). */
static int inline_frames(Dwfl_Module *mod, uint64_t addr, struct frame *out, int max,
			 char **file, int *line)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cudie = dwfl_module_addrdie(mod, addr, &bias);
	Dwarf_Die *scopes = NULL;
	int n, filled = 0;

	if (!cudie)
		return 0;
	n = dwarf_getscopes(cudie, addr - bias, &scopes);
	for (int i = 0; i < n && filled < max - 1; i++) {
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		out[filled].addr = addr;
		out[filled].symbol = die_name(&scopes[i]);
		out[filled].file = *file;
		out[filled].line = *line;
		out[filled].inlined = true;
		filled++;
		/* The enclosing scope is positioned at this call site. */
		*file = call_site(cudie, &scopes[i], line);
	}
	free(scopes);
	return filled;
}

int dwlookup_addr(Dwfl *dwfl, struct golines **go, uint64_t addr, struct frame *out, int max)
{
	Dwfl_Module *mod = dwfl ? dwfl_addrmodule(dwfl, addr) : NULL;
	Dwarf_Addr bias = 0;
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name;
	Dwfl_Line *dl;
	char *file = NULL;
	int line = 0, n;
	struct frame *last;

	if (max < 1)
		return 0;
	memset(out, 0, sizeof(*out) * max);
	if (!mod || !dwfl_module_getelf(mod, &bias))
		return 0;
	name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
	dl = dwfl_module_getsrc(mod, addr);
	if (dl) {
		const char *src = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);

		file = src ? strdup(src) : NULL;
	}
	n = inline_frames(mod, addr, out, max, &file, &line);
	last = &out[n];
	last->addr = addr;
	if (name) {
		last->symbol = demangle(name);
		last->offset = off;
	} else {
		/* The ELF address, what addr2line -e MODULE takes. */
		last->offset = addr - bias;
	}
	last->file = file;
	last->line = line;
	/* Go: names of a stripped binary, and lines libdw cannot find. */
	golines_fill(go, mod, addr, last);
	return n + 1;
}

bool dwlookup_elf_bias(int fd, uint64_t start, uint64_t pgoff, uint64_t *bias)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	size_t n = 0;
	bool found = false;

	if (!elf || elf_getphdrnum(elf, &n) != 0)
		n = 0;
	for (size_t i = 0; i < n && !found; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* The kernel maps a segment from its offset rounded down to a page. */
		if (pgoff + page > ph.p_offset && pgoff < ph.p_offset + ph.p_filesz) {
			*bias = start - (ph.p_vaddr - ph.p_offset + pgoff);
			found = true;
		}
	}
	if (elf)
		elf_end(elf);
	return found;
}

void dwlookup_prepare(void)
{
	free(demangle("_Z1fv"));
}
