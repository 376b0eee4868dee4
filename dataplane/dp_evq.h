/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's outgoing event queue: events are written into a small local batch and pushed to
 * the worker's SP/SC ring to control in bulk. A full ring never stalls the worker: the events
 * that do not fit are counted as lost and dropped.
 */
#ifndef DP_EVQ_H
#define DP_EVQ_H

#include <stdbool.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dp_event.h"

#define DP_EVQ_BATCH 32

struct dp_evq {
	struct rte_ring *ring; /* NULL: events are counted and discarded */
	unsigned n;
	uint32_t seq;
	uint8_t worker;
	/* The report's workers[].events and events (dp_evq_ctr_set, dataplane/dp_stats.c). */
	struct dp_evq_counters {
		uint64_t sent; /* events put on the ring */
		uint64_t lost; /* events the full ring had no room for */
	} ctr;
	struct dp_event buf[DP_EVQ_BATCH];
};

struct vg_ctr_set;
extern const struct vg_ctr_set dp_evq_ctr_set;

static inline void
dp_evq_flush(struct dp_evq *q)
{
	unsigned done = 0;

	if (q->n == 0)
		return;
	if (q->ring != NULL)
		done = rte_ring_sp_enqueue_burst_elem(
				q->ring, q->buf, sizeof(struct dp_event), q->n, NULL);
	q->ctr.sent += done;
	q->ctr.lost += q->n - done;
	q->n = 0;
}

/*
 * Flush, waiting until control has made room or until the TSC passes deadline. Only for
 * shutdown and flushes, never on the packet path.
 */
static inline void
dp_evq_flush_wait(struct dp_evq *q, uint64_t deadline_tsc)
{
	while (q->ring != NULL && q->n > 0 && rte_ring_free_count(q->ring) < q->n &&
			rte_get_tsc_cycles() < deadline_tsc)
		rte_pause();
	dp_evq_flush(q);
}

/*
 * Would k more events fit on the ring now, after those waiting in the batch? (Control may make
 * room before the next flush: a no is a forecast.) Without a ring events are discarded by
 * design: yes.
 */
static inline bool
dp_evq_room(const struct dp_evq *q, unsigned k)
{
	return q->ring == NULL || rte_ring_free_count(q->ring) >= q->n + k;
}

/* Clear an event with 16-byte stores (a memset of this size becomes a string store, slow to
 * start on every event). */
static inline void
dp_evq_clear(struct dp_event *e)
{
#ifdef __SSE2__
	const __m128i z = _mm_setzero_si128();
	__m128i *v = (__m128i *)e;

	_Static_assert(sizeof(*e) == 256, "an event is 16 vectors");
	_mm_storeu_si128(v + 0, z);
	_mm_storeu_si128(v + 1, z);
	_mm_storeu_si128(v + 2, z);
	_mm_storeu_si128(v + 3, z);
	_mm_storeu_si128(v + 4, z);
	_mm_storeu_si128(v + 5, z);
	_mm_storeu_si128(v + 6, z);
	_mm_storeu_si128(v + 7, z);
	_mm_storeu_si128(v + 8, z);
	_mm_storeu_si128(v + 9, z);
	_mm_storeu_si128(v + 10, z);
	_mm_storeu_si128(v + 11, z);
	_mm_storeu_si128(v + 12, z);
	_mm_storeu_si128(v + 13, z);
	_mm_storeu_si128(v + 14, z);
	_mm_storeu_si128(v + 15, z);
#else
	memset(e, 0, sizeof(*e));
#endif
}

/* A zeroed event slot with type, worker, sequence and time filled in. */
static inline struct dp_event *
dp_evq_next(struct dp_evq *q, uint8_t type, uint64_t now)
{
	struct dp_event *e;

	if (q->n == DP_EVQ_BATCH)
		dp_evq_flush(q);
	e = &q->buf[q->n++];
	dp_evq_clear(e);
	e->type = type;
	e->worker = q->worker;
	e->seq = q->seq++;
	e->time_ns = now;
	return e;
}

#endif /* DP_EVQ_H */
