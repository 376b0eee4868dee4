/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "al_mem.h"

#define ORDERS	  (AL_MEM_MAX_SHIFT - AL_MEM_MIN_SHIFT + 1)
#define HDR	  16
#define MAGIC	  0xa1b2c3d4u
#define FREE_FLAG 0x80

/* A free block holds its list links; an allocated one a header before the caller's bytes. */
struct free_block {
	struct free_block *next, *prev;
};

struct hdr {
	uint32_t magic;
	uint32_t order;
	uint64_t pad;
};

struct al_mem {
	uint8_t *base;
	size_t size;  /* multiple of the largest block */
	size_t used;  /* bytes of allocated blocks */
	uint8_t *map; /* per smallest block: FREE_FLAG | order at the start of a free block */
	struct free_block *free[ORDERS];
};

static inline size_t
idx_of(const struct al_mem *m, const void *p)
{
	return (size_t)((const uint8_t *)p - m->base) >> AL_MEM_MIN_SHIFT;
}

static void
push(struct al_mem *m, void *p, unsigned order)
{
	struct free_block *b = p;

	b->prev = NULL;
	b->next = m->free[order];
	if (b->next != NULL)
		b->next->prev = b;
	m->free[order] = b;
	m->map[idx_of(m, p)] = (uint8_t)(FREE_FLAG | order);
}

static void
unlink_block(struct al_mem *m, struct free_block *b, unsigned order)
{
	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		m->free[order] = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	m->map[idx_of(m, b)] = 0;
}

struct al_mem *
al_mem_create(size_t size)
{
	const size_t max = (size_t)1 << AL_MEM_MAX_SHIFT;
	struct al_mem *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	size -= size % max;
	if (size == 0)
		size = max;
	m->size = size;
	m->base = aligned_alloc(max, size);
	m->map = calloc(size >> AL_MEM_MIN_SHIFT, 1);
	if (m->base == NULL || m->map == NULL) {
		al_mem_free_all(m);
		errno = ENOMEM;
		return NULL;
	}
	/* Push from the end so that the first allocations come from the start. */
	for (size_t off = size; off > 0; off -= max)
		push(m, m->base + off - max, ORDERS - 1);
	return m;
}

void
al_mem_free_all(struct al_mem *m)
{
	if (m == NULL)
		return;
	free(m->base);
	free(m->map);
	free(m);
}

static int
order_for(size_t n)
{
	size_t need = n + HDR;

	for (unsigned o = 0; o < ORDERS; o++)
		if (need <= (size_t)1 << (o + AL_MEM_MIN_SHIFT))
			return (int)o;
	return -1;
}

void *
al_mem_alloc(struct al_mem *m, size_t n)
{
	int want = order_for(n);
	unsigned o;

	if (want < 0)
		return NULL;
	for (o = (unsigned)want; o < ORDERS && m->free[o] == NULL; o++)
		;
	if (o == ORDERS)
		return NULL;
	struct free_block *b = m->free[o];
	unlink_block(m, b, o);
	/* Split down to the order wanted; each upper half goes back free. */
	while (o > (unsigned)want) {
		o--;
		push(m, (uint8_t *)b + ((size_t)1 << (o + AL_MEM_MIN_SHIFT)), o);
	}
	struct hdr *h = (struct hdr *)b;
	h->magic = MAGIC;
	h->order = o;
	m->used += (size_t)1 << (o + AL_MEM_MIN_SHIFT);
	return (uint8_t *)b + HDR;
}

void
al_mem_release(struct al_mem *m, void *p)
{
	struct hdr *h;
	uint8_t *b;
	unsigned o;

	if (p == NULL)
		return;
	b = (uint8_t *)p - HDR;
	h = (struct hdr *)b;
	if (h->magic != MAGIC || h->order >= ORDERS)
		abort(); /* not ours, or freed twice: corrupt state must not go on */
	o = h->order;
	h->magic = 0;
	m->used -= (size_t)1 << (o + AL_MEM_MIN_SHIFT);
	/* Merge with the buddy while it is free and whole. */
	while (o < ORDERS - 1) {
		size_t bsize = (size_t)1 << (o + AL_MEM_MIN_SHIFT);
		size_t off = (size_t)(b - m->base);
		uint8_t *buddy = m->base + (off ^ bsize);

		if (m->map[idx_of(m, buddy)] != (FREE_FLAG | o))
			break;
		unlink_block(m, (struct free_block *)buddy, o);
		if (buddy < b)
			b = buddy;
		o++;
	}
	push(m, b, o);
}

void *
al_mem_realloc(struct al_mem *m, void *p, size_t n)
{
	struct hdr *h;
	size_t cap;
	void *q;

	if (p == NULL)
		return al_mem_alloc(m, n);
	h = (struct hdr *)((uint8_t *)p - HDR);
	cap = ((size_t)1 << (h->order + AL_MEM_MIN_SHIFT)) - HDR;
	if (n <= cap && (h->order == 0 || n > cap / 2 - HDR))
		return p;
	q = al_mem_alloc(m, n);
	if (q == NULL)
		return n <= cap ? p : NULL;
	memcpy(q, p, n < cap ? n : cap);
	al_mem_release(m, p);
	return q;
}

size_t
al_mem_used(const struct al_mem *m)
{
	return m->used;
}

size_t
al_mem_capacity(const struct al_mem *m)
{
	return m->size;
}
