/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-worker flow table: rte_hash keyed by a canonical 5-tuple plus VLAN, so that both
 * directions of a connection meet in one entry, and an array of entries indexed by the hash's
 * key position. One worker owns one table; nothing here is shared or locked.
 *
 * Entries carry the TCP state, per-direction counters, first/last seen, flags seen, payload
 * size statistics, the initiator, and the policy's verdict with its rule and epoch. Aging
 * visits a few slots per call so that expiry costs a little every loop iteration instead of a
 * pause; flows past their timeout end with a reason (FIN, RST, timeout), others are evicted
 * when the table is full, and every end becomes an event for control.
 */
#ifndef DP_FLOW_H
#define DP_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_hash.h>

#include "dp_clock.h"
#include "dp_event.h"
#include "dp_evq.h"
#include "dp_pkt.h"
#include "dp_tcp.h"

struct al_flow;

struct dp_flow_key {
	uint8_t a[16]; /* the lower (address, port) endpoint */
	uint8_t b[16];
	uint16_t a_port;
	uint16_t b_port;
	uint32_t vlan; /* outer id | inner id << 12 */
	uint8_t proto;
	uint8_t family;
	uint16_t vlan3; /* third id (QinQinQ) */
	uint8_t pad[4]; /* zero: the key is compared as 48 bytes */
};

enum dp_flow_flag {
	DP_FF_MIDSTREAM = 0x01,	   /* TCP picked up without a handshake */
	DP_FF_WOULD_DROP = 0x02,   /* dry-run: the verdict would have dropped */
	DP_FF_LOG = 0x04,	   /* the deciding rule asks for logging */
	DP_FF_RULE_DRY_RUN = 0x08, /* the deciding rule is dry_run: count, forward */
	DP_FF_STARTED = 0x10,	   /* the start event has been sent */
	DP_FF_CLASSIFY = 0x20,	   /* queued for classification in the current burst */
	DP_FF_INSPECT = 0x40,	   /* payloads are scanned with the signatures */
};

struct dp_flow {
	uint8_t live;	   /* slot in use */
	uint8_t verdict;   /* enum dp_verdict */
	uint8_t init_is_b; /* the initiator is endpoint b of the key */
	uint8_t flags;	   /* enum dp_flow_flag */
	struct dp_tcp_track tcp;
	uint8_t tcp_flags[2]; /* union of flags seen, [0] from the initiator */
	uint16_t in_port;     /* where the initiator's packets arrive */
	uint8_t icmp_type;    /* of the initiator's first packet (ICMP, ICMPv6) */
	uint8_t icmp_code;
	uint32_t id;
	uint32_t rule_id;
	uint32_t epoch;
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t next_update_ns;
	uint64_t pkts[2];
	uint64_t bytes[2];
	/* Signature inspection: a slot of the worker's pool (streams and flowbits), its pool
	 * generation, the next expected TCP sequence number per direction, DP_DET_* flags. */
	uint32_t det_slot;
	uint16_t det_gen;
	uint8_t det_flags;
	uint8_t app_proto; /* enum al_proto, as the application layer detected it */
	uint32_t next_seq[2];
	/* Sum and sum of squares of payload sizes (n = pkts[0] + pkts[1]): additions only on
	 * the packet path; mean and variance are derived when the flow is described. */
	double pl_sum;
	double pl_sq;
	struct al_flow *al; /* application-layer parser state (dp_inspect), NULL when none */
} __rte_cache_aligned;

enum dp_det_flag {
	DP_DET_PASS = 0x01,  /* a pass signature stopped inspection */
	DP_DET_OPEN0 = 0x02, /* stream of direction 0 opened */
	DP_DET_OPEN1 = 0x04,
	DP_DET_SEQ0 = 0x08, /* next_seq[0] known */
	DP_DET_SEQ1 = 0x10,
	DP_DET_NOSLOT = 0x20, /* no stream slot was free: block scans only */
	DP_DET_NOAL = 0x40,   /* no application-layer state could be had: not parsed */
};

/* Timeouts, in nanoseconds. */
struct dp_flow_timeouts {
	uint64_t tcp_syn; /* SYN_SENT, SYN_RECV */
	uint64_t tcp_established;
	uint64_t tcp_closing; /* FIN_WAIT, CLOSE_WAIT, LAST_ACK */
	uint64_t tcp_time_wait;
	uint64_t tcp_closed; /* after RST */
	uint64_t udp;
	uint64_t icmp;
	uint64_t other;
};

struct dp_flow_params {
	uint32_t max_flows;
	bool overflow_open;   /* table full and nothing evictable: forward untracked (or drop) */
	bool evict;	      /* when full, evict the stalest of a few sampled flows */
	bool midstream;	      /* accept TCP flows first seen without a handshake */
	bool tcp_strict;      /* drop segments that are invalid for the state */
	uint32_t aging_batch; /* slots visited per aging call */
	uint64_t update_interval_ns; /* 0: no periodic updates */
	struct dp_flow_timeouts timeouts;
	unsigned worker;
	int socket;
};

struct dp_flow_counters {
	uint64_t active;
	uint64_t created;
	uint64_t ended[DP_END_FLUSHED + 1]; /* by enum dp_end_reason */
	uint64_t removed;		    /* every end, whatever its reason */
	uint64_t overflow;		    /* new flows not tracked because the table was full */
	uint64_t tcp_invalid;		    /* segments invalid for the connection's state */
	uint64_t tcp_invalid_dropped;
	uint64_t midstream;	    /* TCP flows picked up without a handshake */
	uint64_t midstream_refused; /* first segments not picked up: no ACK, or not allowed */
	uint64_t port_reuse;	    /* SYN on a closed flow's tuple started a new flow */
	uint64_t per_state[DP_TCP__COUNT]; /* active TCP flows per state */
};

struct dp_flow_table;

/* Create a table for one worker. Returns NULL with rte_errno set. */
struct dp_flow_table *dp_flow_table_create(const struct dp_flow_params *p);

/* Free the table; NULL is a no-op. Does not emit events (see dp_flow_flush_all). */
void dp_flow_table_free(struct dp_flow_table *t);

/* Bytes the table uses (hash, keys and entries), for docs and the API. */
size_t dp_flow_table_memory(const struct dp_flow_table *t);

/*
 * Called when a flow ends, before its end event and before its slot is freed: the worker
 * finishes what it attached (application-layer transactions still pending are inspected; their
 * alerts come before the end event) and releases it. pos is the flow's position (its key and
 * description are still there); now the time it ends.
 */
typedef void (*dp_flow_end_hook)(void *arg, int32_t pos, struct dp_flow *f, uint64_t now);
void dp_flow_set_end_hook(struct dp_flow_table *t, dp_flow_end_hook fn, void *arg);

/* Where the table's flow events go (the worker's queue to control). */
void dp_flow_set_evq(struct dp_flow_table *t, struct dp_evq *q);

/*
 * The part of the table the per-packet accessors below read, first in struct dp_flow_table
 * (which is otherwise private to dp_flow.c), so that they inline into the worker's loop.
 */
struct dp_flow_table_head {
	struct dp_flow *flows;
	uint64_t *expire; /* per slot: when the flow times out; 0 for a free slot */
};

/*
 * -1, 0 or 1 as source (address, port) orders before, equal to or after destination. Any total
 * order will do, as long as both directions agree: compare the addresses as native words.
 */
static inline int
dp_flow_endpoint_order(const struct dp_pkt *p)
{
	uint64_t s0, s1, d0, d1;

	memcpy(&s0, p->src, 8);
	memcpy(&s1, p->src + 8, 8);
	memcpy(&d0, p->dst, 8);
	memcpy(&d1, p->dst + 8, 8);
	if (s0 != d0)
		return s0 < d0 ? -1 : 1;
	if (s1 != d1)
		return s1 < d1 ? -1 : 1;
	if (p->sport != p->dport)
		return p->sport < p->dport ? -1 : 1;
	return 0;
}

/* Build the canonical key of a parsed packet; returns 1 if the packet's source is endpoint b. */
static inline unsigned
dp_flow_key_make(const struct dp_pkt *p, struct dp_flow_key *k)
{
	unsigned swap = dp_flow_endpoint_order(p) > 0;
	const uint8_t *lo = swap ? p->dst : p->src, *hi = swap ? p->src : p->dst;

	memcpy(k->a, lo, 16);
	memcpy(k->b, hi, 16);
	k->a_port = swap ? p->dport : p->sport;
	k->b_port = swap ? p->sport : p->dport;
	k->vlan = (uint32_t)p->vlan[0] | (uint32_t)p->vlan[1] << 12;
	k->proto = p->proto;
	k->family = p->l3;
	k->vlan3 = p->vlan[2];
	memset(k->pad, 0, sizeof(k->pad));
	return swap;
}

/*
 * Look up n keys at once. pos[i] is the entry position, or -1 on a miss.
 */
void dp_flow_lookup_bulk(struct dp_flow_table *t, const struct dp_flow_key *const *keys, unsigned n,
		int32_t *pos);

/* Look up one key: the position, or -1. */
int32_t dp_flow_lookup(struct dp_flow_table *t, const struct dp_flow_key *k);

/*
 * Flows removed so far. Positions from a lookup stay valid only while this does not change:
 * a removal frees a slot that a later creation may reuse for another key.
 */
static inline uint64_t
dp_flow_removals(const struct dp_flow_counters *c)
{
	return c->removed;
}

/*
 * Create the flow of a packet that missed. Finds the flow instead if an earlier packet of the
 * same burst created it (its expiry is not judged here: see dp_flow_restart). Returns the
 * position, or -1 when the table is full and nothing could be evicted (counted as overflow).
 * *created tells whether the flow is new.
 */
int32_t dp_flow_create(struct dp_flow_table *t, const struct dp_flow_key *k, unsigned src_is_b,
		uint16_t in_port, uint64_t now, bool *created);

/*
 * The flow at pos has expired (dp_flow_expired) when a packet of its tuple arrives: it ends
 * now with the reason aging would have given it, and a new flow of the packet starts in the
 * same slot (same key, position unchanged; verdict to be classified).
 */
void dp_flow_restart(struct dp_flow_table *t, int32_t pos, unsigned src_is_b, uint16_t in_port,
		uint64_t now);

/* The entry at a position. */
static inline struct dp_flow *
dp_flow_at(struct dp_flow_table *t, int32_t pos)
{
	return &((struct dp_flow_table_head *)t)->flows[pos];
}

/* The key of the flow at a position. */
const struct dp_flow_key *dp_flow_key_at(const struct dp_flow_table *t, int32_t pos);

/* Send an update event for the flow now (its verdict changed, a DNS query...); app may be NULL. */
void dp_flow_updated(
		struct dp_flow_table *t, int32_t pos, uint64_t now, const struct dp_event_app *app);

/*
 * Account one packet to its flow and run the TCP machine. src_is_b as from dp_flow_key_make.
 * Returns false when the packet must be dropped by the TCP policy (tcp_strict). A SYN on a
 * flow in TIME_WAIT or CLOSED ends it and starts it afresh (port reuse).
 */
bool dp_flow_packet(struct dp_flow_table *t, int32_t pos, const struct dp_pkt *p, unsigned src_is_b,
		uint32_t wire_len, uint64_t now);

/* True when a lookup found a flow whose time is up but which aging has not ended yet. */
static inline bool
dp_flow_expired(const struct dp_flow_table *t, int32_t pos, uint64_t now)
{
	return now >= ((const struct dp_flow_table_head *)t)->expire[pos];
}

/* Emit the start event of a new flow (after its verdict is known); app may be NULL. */
void dp_flow_started(
		struct dp_flow_table *t, int32_t pos, uint64_t now, const struct dp_event_app *app);

/* Visit the next aging_batch slots and end the flows whose time is up. */
void dp_flow_age(struct dp_flow_table *t, uint64_t now);

/* End every flow with the given reason (shutdown, flush). */
void dp_flow_flush_all(struct dp_flow_table *t, enum dp_end_reason reason, uint64_t now);

const struct dp_flow_counters *dp_flow_counters(const struct dp_flow_table *t);

/* Fill the flow part of an event from an entry. */
void dp_flow_describe(struct dp_flow_table *t, int32_t pos, struct dp_event_flow *out);

const char *dp_end_reason_name(enum dp_end_reason r);

#endif /* DP_FLOW_H */
