/* Go lines for the symbolizer: see golines.h. One table per ELF file of
 * the process, found once by the section's name. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>

#include "array.h"
#include "gopclntab.h"
#include "golines.h"

struct go_bin {
	Elf *elf;
	struct gopcln *tab;     /* NULL: not Go, or a table not read */
};

struct golines {
	struct go_bin *v;
	size_t n, cap;
};

/* The section's bytes and the address of .text. */
static struct gopcln *table_of(Elf *elf)
{
	size_t shstr;
	Elf_Scn *scn = NULL, *pcln = NULL;
	uint64_t text = 0;
	Elf_Data *d;
	const char *why;
	GElf_Ehdr eh;

	if (!gelf_getehdr(elf, &eh) || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    elf_getshdrstrndx(elf, &shstr))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstr, sh.sh_name)))
			continue;
		if (!strcmp(name, ".gopclntab") && sh.sh_type == SHT_PROGBITS)
			pcln = scn;
		else if (!strcmp(name, ".text"))
			text = sh.sh_addr;
	}
	d = pcln ? elf_getdata(pcln, NULL) : NULL;
	if (!d || !d->d_buf)
		return NULL;
	return gopcln__parse(d->d_buf, d->d_size, text, &why);
}

static struct gopcln *lookup_bin(struct golines *g, Elf *elf)
{
	struct go_bin *b;

	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].elf == elf)
			return g->v[i].tab;
	b = ARRAY_GROW(g->v, g->n, g->cap, 8);
	b[g->n].elf = elf;
	b[g->n].tab = table_of(elf);
	return b[g->n++].tab;
}

void golines_fill(struct golines **g, struct Dwfl_Module *mod, uint64_t addr, struct frame *f)
{
	struct gopcln_pos pos;
	struct gopcln *tab;
	Dwarf_Addr bias = 0;
	Elf *elf;

	if (!mod || (f->symbol && f->file) || !(elf = dwfl_module_getelf(mod, &bias)))
		return;
	if (!*g && !(*g = calloc(1, sizeof(**g))))
		return;
	tab = lookup_bin(*g, elf);
	if (!tab || gopcln__lookup(tab, addr - bias, &pos))
		return;
	if (!f->symbol && pos.func) {
		f->symbol = pos.func;
		f->offset = pos.offset;
		pos.func = NULL;
	}
	if (!f->file && pos.file) {
		f->file = pos.file;
		f->line = pos.line;
		pos.file = NULL;
	}
	gopcln_pos_clear(&pos);
}

void golines__free(struct golines *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		gopcln__free(g->v[i].tab);
	free(g->v);
	free(g);
}
