/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A buddy allocator over one fixed region: the arena an application-layer context draws every
 * parser byte from. Blocks are powers of two from AL_MEM_MIN to AL_MEM_MAX bytes; a freed
 * block merges with its free buddy, so memory freed by large bodies serves small headers and
 * back. Allocation and free are O(log(MAX/MIN)); the region is allocated once, at creation.
 * One thread.
 */
#ifndef AL_MEM_H
#define AL_MEM_H

#include <stddef.h>
#include <stdint.h>

#define AL_MEM_MIN_SHIFT 6  /* 64-byte blocks (16 of them a header) */
#define AL_MEM_MAX_SHIFT 20 /* 1 MiB: the largest single allocation, header included */

struct al_mem;

/* An arena of about size bytes (rounded down to whole AL_MEM_MAX blocks, at least one). */
struct al_mem *al_mem_create(size_t size);
void al_mem_free_all(struct al_mem *m);

/* n bytes, 16-byte aligned, or NULL (no block free, or n too large). */
void *al_mem_alloc(struct al_mem *m, size_t n);
/* Grow or shrink in place when the block allows, else move. NULL: p is unchanged. */
void *al_mem_realloc(struct al_mem *m, void *p, size_t n);
void al_mem_release(struct al_mem *m, void *p);

size_t al_mem_used(const struct al_mem *m);	/* bytes of blocks handed out */
size_t al_mem_capacity(const struct al_mem *m); /* bytes of the region */

#endif /* AL_MEM_H */
