/* Stacks that read the same to a person are one group. Kernel-side keys
 * (stack ids, call-site caches) split one call site into many when a
 * frame-pointer walk through code built without frame pointers yields
 * junk past the real frames; the symbolized frames do not. Reports
 * (memleak-trace rows, sockleak stack groups) merge by this group. */
#ifndef MEMSCOPE_STACKGROUP_H
#define MEMSCOPE_STACKGROUP_H

#include <stdint.h>

struct stack_groups;

struct stack_groups *stack_groups__new(void);
/* The group of a stack given as its frames' text, innermost first (e.g.
 * frame_format plus the module): equal lists of frames get the same
 * number, numbered from 0 in order of first appearance. tag separates
 * stacks that must stay apart even when their frames are equal (a kind). */
uint32_t stack_groups__id(struct stack_groups *g, uint32_t tag, const char *const *frames, int n);
/* Groups seen so far. */
uint32_t stack_groups__count(const struct stack_groups *g);
void stack_groups__free(struct stack_groups *g);

#endif
