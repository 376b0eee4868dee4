/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-worker flow table, made for the packet path: both directions of a connection meet in
 * one entry under a canonical key, and an established flow's packet reads and writes one
 * 64-byte line. One worker owns one table; nothing here is shared or locked.
 *
 * Keys are per address family: 16 bytes for IPv4 (addresses, ports, protocol, two VLAN ids),
 * 44 for everything else (IPv6, or a third VLAN tag). A key's hash (a seeded multiply mix,
 * computed while the burst is parsed) chooses a primary and a secondary bucket of 8
 * (signature, index) slots in one cache line; a key lives in its primary unless that was full
 * (cuckoo placement), and a bucket counts the keys that had to move out, so that a miss needs
 * no second bucket unless one did.
 *
 * An index names a hot line and a cold record. The hot line (struct dp_flow_hot) holds the key
 * and everything an established flow's packet reads or writes: last seen, per-direction packet
 * and byte counts, payload sums, TCP state and flags, verdict, rule, policy epoch, the next
 * periodic update. The cold record (struct dp_flow) holds what only creation, the end,
 * inspection and reports touch: first seen, id, ingress port, ICMP type, the counters' high
 * halves, inspection and application-layer state. A long key takes two indices: its head and
 * state in the first hot line, the rest of the key in the second.
 *
 * No expiry time is stored: a flow is due when the clock passes last seen plus the timeout of
 * its protocol and TCP state. Aging visits a few entries per call, so expiry costs a little
 * every loop instead of a pause; flows past their timeout end with a reason (FIN, RST,
 * timeout). A full table evicts flows that are closed, never answered or idle, never an
 * answered flow that is active (enum dp_flow_evict_class); every end becomes an event for
 * control.
 */
#ifndef DP_FLOW_H
#define DP_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_prefetch.h>

#include "dp_clock.h"
#include "dp_event.h"
#include "dp_evq.h"
#include "dp_pkt.h"
#include "dp_tcp.h"

struct al_flow;

/*
 * A flow's key as slow paths and tests see it: the lower (address, port) endpoint first.
 * dp_flow_key_make() builds it from a packet and dp_flow_key_get() from an entry.
 */
struct dp_flow_key {
	uint8_t a[16]; /* the lower (address, port) endpoint */
	uint8_t b[16];
	uint16_t a_port;
	uint16_t b_port;
	uint32_t vlan; /* outer id | inner id << 12 */
	uint8_t proto;
	uint8_t family;
	uint16_t vlan3; /* third id (QinQinQ) */
	uint8_t pad[4]; /* zero */
};

/*
 * The stored keys, with pv = protocol | outer VLAN id << 8 | inner VLAN id << 20 and the lower
 * (address, port) endpoint first. An IPv4 key is two words: a_port | a << 16 | b_port << 48
 * and b | pv << 32 (addresses as they lie in the packet), so that the lower endpoint is the
 * lesser of two 48-bit numbers (address << 16 | port). Any other key (IPv6, or a third VLAN
 * tag) is a struct dp_flow_key6.
 */
struct dp_flow_key6 {
	uint8_t a[16]; /* IPv4 (with a third VLAN tag) in the first four bytes */
	uint8_t b[16];
	uint16_t a_port;
	uint16_t b_port;
	uint32_t pv;
	uint32_t xv; /* third VLAN id | family << 16 */
};

/* A packet's key ready for the table: the stored key, its hash and where to look. */
struct dp_flow_lkey {
	union {
		struct dp_flow_key6 k6; /* is_long */
		uint64_t w[6];		/* the key as words (w[0], w[1]: an IPv4 key) */
	};
	uint64_t hash;
	uint32_t bucket; /* primary */
	uint16_t sig;	 /* never 0: an empty slot */
	uint8_t is_long;
	uint8_t src_is_b; /* the packet's source is endpoint b */
};

enum dp_flow_flag {
	DP_FF_MIDSTREAM = 0x01,	   /* TCP picked up without a handshake */
	DP_FF_WOULD_DROP = 0x02,   /* dry-run: the verdict would have dropped */
	DP_FF_LOG = 0x04,	   /* the deciding rule asks for logging */
	DP_FF_RULE_DRY_RUN = 0x08, /* the deciding rule is dry_run: count, forward */
	DP_FF_STARTED = 0x10,	   /* the start event has been sent */
	DP_FF_CLASSIFY = 0x20,	   /* queued for classification in the current burst */
	DP_FF_INSPECT = 0x40,	   /* payloads are scanned with the signatures */
	DP_FF_BPF = 0x80,	   /* the rule's eBPF program runs on its packets (dp_bpf.c) */
};

/* Which timeouts apply to a flow (with the TCP state for TCP). */
enum dp_flow_kind {
	DP_FK_TCP = 0,
	DP_FK_UDP = 1,
	DP_FK_ICMP = 2, /* ICMP and ICMPv6 */
	DP_FK_OTHER = 3,
};

/* The rule_id of a flow the policy has not classified, or classified by its default. */
#define DP_FLOW_RULE_NONE 0xffffffu

/*
 * The hot line: the key (or a long key's first 16 bytes) and what an established flow's
 * packet reads and writes. Counters are the low 32 bits; the cold record has the rest.
 */
struct dp_flow_hot {
	union {
		uint64_t kw[2];	  /* an IPv4 key (struct dp_flow_lkey's w[0], w[1]) */
		uint8_t head[16]; /* a long key's first 16 bytes */
		struct {
			uint32_t next, prev;
		} fl; /* a free entry: its free list */
	};
	uint64_t last_ns;
	uint32_t pkts[2]; /* [0] from the initiator */
	uint32_t bytes[2];
	uint32_t pl_sum; /* payload bytes, both directions (n = pkts[0] + pkts[1]) */
	uint32_t pl_sq;	 /* sum of squared payload sizes */
	uint32_t epoch;	 /* of the policy that gave the verdict */
	/* When the next periodic update is due, in units of 2^20 ns (modulo 2^32): a packet at
	 * or after it checks the exact time (cold). */
	uint32_t next_update;
	uint32_t rule_id : 24; /* DP_FLOW_RULE_NONE: the default (RL_RULE_DEFAULT) */
	uint32_t flags : 8;    /* enum dp_flow_flag */
	uint8_t tcp_state : 4; /* enum dp_tcp_state */
	uint8_t fin_dir : 1;
	uint8_t simopen : 1;
	uint8_t kind : 2;    /* enum dp_flow_kind */
	uint8_t verdict : 3; /* enum dp_verdict */
	uint8_t init_is_b : 1;
	uint8_t live : 1;    /* a flow starts here */
	uint8_t is_long : 1; /* the key goes on in the next line */
	uint8_t tail : 1;    /* this line is the rest of the previous line's key */
	uint8_t spare : 1;
	uint8_t tcp_flags[2]; /* union of flags seen, [0] from the initiator */
} __rte_aligned(64);

/*
 * The cold record: what creation, the end, inspection and reports touch. The name is the one
 * inspection and the end hook have always used; its hot line is dp_flow_hot(f).
 */
/*
 * What an echo flow's payloads say (dp_flow_echo): its latest request's sequence number and
 * data hash (0: none yet), and counts since the flow's previous event (saturating): requests
 * compared with the one before and those whose data differed, replies to the latest request
 * and those that did not carry its data back. The data is the payload after its first 16
 * bytes (where ping puts the time it sent), or the whole payload when it is no longer.
 */
struct dp_flow_echo {
	uint16_t seq;
	uint16_t hash;
	uint8_t req_compared;
	uint8_t req_changed;
	uint8_t rep_compared;
	uint8_t rep_mismatched;
};

struct dp_flow {
	uint64_t first_ns;
	uint64_t next_update_ns; /* UINT64_MAX: no periodic updates */
	struct al_flow *al;	 /* application-layer parser state (dp_inspect), NULL when none */
	uint32_t id;
	/* Signature inspection: a slot of the worker's pool (streams and flowbits), its pool
	 * generation, the next expected TCP sequence number per direction, DP_DET_* flags. */
	uint32_t det_slot;
	union {
		uint32_t next_seq[2];	  /* TCP */
		struct dp_flow_echo echo; /* ICMP and ICMPv6 echo */
	};
	uint32_t pl_sq_hi; /* high halves of the hot line's counters */
	uint16_t pkts_hi[2];
	uint16_t bytes_hi[2];
	uint16_t pl_sum_hi;
	uint16_t det_gen;
	uint16_t in_port;  /* where the initiator's packets arrive */
	uint8_t icmp_type; /* of the initiator's first packet (ICMP, ICMPv6) */
	uint8_t icmp_code;
	uint8_t det_flags;
	uint8_t app_proto; /* enum al_proto, as the application layer detected it */
	uint16_t mark;	   /* set by the rule's eBPF program (dp_bpf.c) */
} __rte_aligned(64);

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
	uint32_t max_flows;   /* entries: an IPv4 flow takes one, a long key two */
	bool overflow_open;   /* table full and nothing evictable: forward untracked (or drop) */
	bool evict;	      /* when full, evict a sampled flow that is not protected */
	bool midstream;	      /* accept TCP flows first seen without a handshake */
	bool tcp_strict;      /* drop segments that are invalid for the state */
	uint32_t aging_batch; /* slots visited per aging call */
	uint64_t update_interval_ns; /* 0: no periodic updates */
	/* An answered flow seen within this long is protected from eviction; 0: the default,
	 * DP_FLOW_EVICT_IDLE_NS. */
	uint64_t evict_idle_ns;
	struct dp_flow_timeouts timeouts;
	uint64_t seed; /* hash seed; 0: a random one */
	unsigned worker;
	int socket;
};

/* An answered flow not seen for this long may be evicted (dp_flow_params.evict_idle_ns). */
#define DP_FLOW_EVICT_IDLE_NS (10ULL * 1000 * 1000 * 1000)

/*
 * What a full table evicts, first to last: closed or expired flows, flows never answered (TCP
 * before ESTABLISHED, or any flow whose responder has sent nothing), answered flows idle for
 * evict_idle_ns. An answered flow seen more recently is protected: it is never evicted, and a
 * new flow that finds only protected ones overflows.
 */
enum dp_flow_evict_class {
	DP_EVICT_CLOSED = 0,
	DP_EVICT_UNANSWERED,
	DP_EVICT_IDLE,
	DP_EVICT_PROTECTED, /* not evicted */
	DP_EVICT__COUNT,
};

/* Why a new flow was not tracked (then flows.overflow says whether its packet passes). */
enum dp_flow_overflow {
	DP_OVERFLOW_NO_EVICT = 0, /* table full, eviction disabled */
	DP_OVERFLOW_PROTECTED,	  /* every flow sampled for eviction was protected */
	DP_OVERFLOW_BUCKETS,	  /* no room in the key's two buckets, nothing there evictable */
	DP_OVERFLOW__COUNT,
};

struct dp_flow_counters {
	uint64_t active;
	uint64_t created;
	uint64_t ended[DP_END_FLUSHED + 1]; /* by enum dp_end_reason */
	uint64_t overflow;		    /* new flows not tracked because the table was full */
	uint64_t overflow_by[DP_OVERFLOW__COUNT]; /* the same by enum dp_flow_overflow */
	uint64_t evicted_by[DP_EVICT_PROTECTED];  /* ended[DP_END_EVICTED] by eviction class */
	uint64_t tcp_invalid;			  /* segments invalid for the connection's state */
	uint64_t tcp_invalid_dropped;
	uint64_t midstream;	    /* TCP flows picked up without a handshake */
	uint64_t midstream_refused; /* first segments not picked up: no ACK, or not allowed */
	uint64_t port_reuse;	    /* SYN on a closed flow's tuple started a new flow */
	uint64_t per_state[DP_TCP__COUNT]; /* active TCP flows per state */
	uint64_t long_keys;		   /* active flows with a long key (two entries each) */
	uint64_t bucket_moves;		   /* keys moved to their other bucket to make room */
	/* The table's bookkeeping, not in the report (dp_flow_ctr_set ends before it). */
	uint64_t removed;  /* every end, whatever its reason */
	uint64_t released; /* ends that freed their entry (not restarts in place) */
};

/* The counter table of the fields above `removed` (dataplane/dp_stats.c): the report's
 * flows and workers[].flows. */
struct vg_ctr_set;
extern const struct vg_ctr_set dp_flow_ctr_set;

struct dp_flow_table;

/* Create a table for one worker. Returns NULL with rte_errno set. */
struct dp_flow_table *dp_flow_table_create(const struct dp_flow_params *p);

/* Free the table; NULL is a no-op. Does not emit events (see dp_flow_flush_all). */
void dp_flow_table_free(struct dp_flow_table *t);

/* Bytes the table uses (hot lines, cold records and buckets), for docs and the API. */
size_t dp_flow_table_memory(const struct dp_flow_table *t);

/* Entries the table has (an IPv4 flow takes one, a long key two). */
uint32_t dp_flow_table_entries(const struct dp_flow_table *t);

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

/* Entries per block: a block is that many hot lines followed by as many cold records. */
#define DP_FLOW_BLOCK_SHIFT 6
#define DP_FLOW_COLD_OFF    (64u << DP_FLOW_BLOCK_SHIFT)

/* A bucket: 8 slots of (signature, entry index), in one cache line. */
#define DP_FLOW_BUCKET_SLOTS 8
struct dp_flow_bucket {
	uint16_t sig[DP_FLOW_BUCKET_SLOTS]; /* 0: empty */
	uint32_t idx[DP_FLOW_BUCKET_SLOTS];
	uint16_t moved; /* keys of this primary bucket living in their secondary (saturates) */
	uint16_t pad[7];
} __rte_aligned(64);

/*
 * The part of the table the inline functions below read, first in struct dp_flow_table
 * (which is otherwise private to dp_flow.c), so that they inline into the worker's loop.
 */
struct dp_flow_table_head {
	uint8_t *mem; /* blocks of hot lines and cold records */
	struct dp_flow_bucket *buckets;
	uint32_t n_buckets;
	uint32_t n_entries;
	uint64_t seed[6];
	/* Timeout by kind << 4 | TCP state. */
	uint64_t timeout[4 << 4];
};

/* The hot line at an index. */
static inline struct dp_flow_hot *
dp_flow_hot_at(const struct dp_flow_table *t, int32_t pos)
{
	const struct dp_flow_table_head *th = (const struct dp_flow_table_head *)t;
	uint32_t i = (uint32_t)pos;

	return (struct dp_flow_hot *)(th->mem +
				      ((size_t)(i >> DP_FLOW_BLOCK_SHIFT)
						      << (DP_FLOW_BLOCK_SHIFT + 7)) +
				      ((size_t)(i & ((1u << DP_FLOW_BLOCK_SHIFT) - 1)) << 6));
}

/* The cold record at an index. */
static inline struct dp_flow *
dp_flow_at(const struct dp_flow_table *t, int32_t pos)
{
	return (struct dp_flow *)((uint8_t *)dp_flow_hot_at(t, pos) + DP_FLOW_COLD_OFF);
}

/* A cold record's hot line (same block, fixed distance). */
static inline struct dp_flow_hot *
dp_flow_hot(const struct dp_flow *f)
{
	return (struct dp_flow_hot *)((uintptr_t)f - DP_FLOW_COLD_OFF);
}

/* The policy rule of a flow, RL_RULE_DEFAULT (UINT32_MAX) for none or the default. */
static inline uint32_t
dp_flow_rule(const struct dp_flow_hot *h)
{
	return h->rule_id == DP_FLOW_RULE_NONE ? UINT32_MAX : h->rule_id;
}

static inline void
dp_flow_set_rule(struct dp_flow_hot *h, uint32_t rule)
{
	h->rule_id = rule >= DP_FLOW_RULE_NONE ? DP_FLOW_RULE_NONE : rule;
}

/* The counters, whole. */
static inline uint64_t
dp_flow_pkts(const struct dp_flow *f, unsigned dir)
{
	return (uint64_t)f->pkts_hi[dir] << 32 | dp_flow_hot(f)->pkts[dir];
}

static inline uint64_t
dp_flow_bytes(const struct dp_flow *f, unsigned dir)
{
	return (uint64_t)f->bytes_hi[dir] << 32 | dp_flow_hot(f)->bytes[dir];
}

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

/*
 * Build the canonical key of a parsed packet (slow paths and tests); returns 1 if the packet's
 * source is endpoint b.
 */
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

static inline uint64_t
dp_flow_mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * The hash of a stored key: a seeded 64x64->128 multiply folded to 64 bits per 16 bytes. CRC32C
 * would cost about the same, but its collisions do not depend on any seed (it is linear), so
 * whoever chooses addresses and ports could aim many flows at one pair of buckets; with a
 * random seed per table, that takes knowing the seed.
 */
static inline uint64_t
dp_flow_hash(const struct dp_flow_table *t, const uint64_t *w, bool is_long)
{
	const uint64_t *s = ((const struct dp_flow_table_head *)t)->seed;
	uint64_t h = dp_flow_mum(w[0] ^ s[0], w[1] ^ s[1]);

	if (unlikely(is_long)) {
		h = dp_flow_mum(h ^ w[2] ^ s[2], w[3] ^ s[3]);
		h = dp_flow_mum(h ^ w[4] ^ s[4], w[5] ^ s[5]);
	}
	return h;
}

/* Buckets from the hash's two halves (multiply-shift: any bucket count), signature from its
 * low bits, which neither bucket depends on much. */
static inline uint32_t
dp_flow_bucket1(const struct dp_flow_table *t, uint64_t h)
{
	return (uint32_t)(((h >> 32) * ((const struct dp_flow_table_head *)t)->n_buckets) >> 32);
}

static inline uint32_t
dp_flow_bucket2(const struct dp_flow_table *t, uint64_t h)
{
	return (uint32_t)(((h & 0xffffffffu) * ((const struct dp_flow_table_head *)t)->n_buckets) >>
			  32);
}

static inline void
dp_flow_lkey_finish(const struct dp_flow_table *t, struct dp_flow_lkey *k)
{
	uint64_t h = dp_flow_hash(t, k->w, k->is_long);
	uint16_t sig = (uint16_t)h;

	k->hash = h;
	k->bucket = dp_flow_bucket1(t, h);
	k->sig = (uint16_t)(sig + (sig == 0));
}

/* The key's hash, primary bucket and signature; its bucket prefetched. */
static __rte_always_inline void
dp_flow_lkey_hashed(const struct dp_flow_table *t, struct dp_flow_lkey *k, uint64_t h, unsigned lng,
		unsigned swap)
{
	const struct dp_flow_table_head *th = (const struct dp_flow_table_head *)t;
	uint32_t bucket = (uint32_t)(((h >> 32) * th->n_buckets) >> 32);
	uint16_t sig = (uint16_t)h;

	sig = (uint16_t)(sig + (sig == 0));
	k->hash = h;
	/* bucket, sig, is_long and src_is_b: one store */
	k->bucket = bucket;
	k->sig = sig;
	k->is_long = (uint8_t)lng;
	k->src_is_b = (uint8_t)swap;
	rte_prefetch0(&th->buckets[bucket]);
}

/*
 * The table key of a parsed packet, hashed, with its primary bucket prefetched. The lower
 * (address, port) endpoint comes first, chosen with compares and selects, not branches.
 * Returns 1 if the packet's source is endpoint b.
 */
static inline unsigned
dp_flow_lkey_make(const struct dp_flow_table *t, const struct dp_pkt *p, struct dp_flow_lkey *k)
{
	const uint64_t *sd = ((const struct dp_flow_table_head *)t)->seed;
	uint32_t v01, ports;
	unsigned swap;

	memcpy(&v01, p->vlan, 4);
	/* protocol | outer id << 8 | inner id << 20 (ids are 12 bits) */
	const uint32_t pv = (uint32_t)p->proto | (v01 & 0xfff) << 8 | (v01 >> 4 & 0xfff000) << 8;

	memcpy(&ports, &p->sport, 4); /* sport | dport << 16 */
	if (likely(p->l3 == DP_L3_IPV4 && p->vlan[2] == 0)) {
		uint32_t s, d;

		memcpy(&s, p->src, 4);
		memcpy(&d, p->dst, 4);
		uint64_t se = (uint64_t)s << 16 | (ports & 0xffff),
			 de = (uint64_t)d << 16 | ports >> 16;
		swap = se > de;
		uint64_t lo = swap ? de : se, hi = swap ? se : de;
		uint64_t w0 = lo | hi << 48, w1 = hi >> 16 | (uint64_t)pv << 32;

		k->w[0] = w0;
		k->w[1] = w1;
		dp_flow_lkey_hashed(t, k, dp_flow_mum(w0 ^ sd[0], w1 ^ sd[1]), 0, swap);
		return swap;
	}

	uint64_t s0, s1, d0, d1;

	memcpy(&s0, p->src, 8);
	memcpy(&s1, p->src + 8, 8);
	memcpy(&d0, p->dst, 8);
	memcpy(&d1, p->dst + 8, 8);
	swap = (s0 > d0) | ((s0 == d0) & ((s1 > d1) | ((s1 == d1) & (p->sport > p->dport))));
	k->w[0] = swap ? d0 : s0;
	k->w[1] = swap ? d1 : s1;
	k->w[2] = swap ? s0 : d0;
	k->w[3] = swap ? s1 : d1;
	uint32_t ap = swap ? p->dport : p->sport, bp = swap ? p->sport : p->dport;
	k->w[4] = ap | bp << 16 | (uint64_t)pv << 32;
	k->w[5] = (uint64_t)p->vlan[2] | (uint64_t)p->l3 << 16;
	dp_flow_lkey_hashed(t, k, dp_flow_hash(t, k->w, true), 1, swap);
	return swap;
}

/* The table key of a wide key (slow paths, tests). */
void dp_flow_lkey_from_key(const struct dp_flow_table *t, const struct dp_flow_key *k,
		struct dp_flow_lkey *out);

/*
 * Look up n keys: pos[i] is the entry, or -1 on a miss, and hot[i] its hot line (NULL on a
 * miss). Buckets were prefetched when the keys were made; the candidates' hot lines are
 * prefetched together, then compared.
 */
void dp_flow_lookup_burst(struct dp_flow_table *t, const struct dp_flow_lkey *keys, unsigned n,
		int32_t *pos, struct dp_flow_hot **hot);

/* Look up one key: the position, or -1. */
int32_t dp_flow_find(const struct dp_flow_table *t, const struct dp_flow_lkey *k);
int32_t dp_flow_lookup(struct dp_flow_table *t, const struct dp_flow_key *k);

/*
 * Entries freed so far. Positions from a lookup stay valid only while this does not change: a
 * freed entry may be reused by a later creation for another key. (A flow that restarts in
 * place, after its expiry or a port reuse, keeps its entry.)
 */
static inline uint64_t
dp_flow_removals(const struct dp_flow_counters *c)
{
	return c->released;
}

/*
 * Create the flow of a packet that missed. Finds the flow instead if an earlier packet of the
 * same burst created it (its expiry is not judged here: see dp_flow_restart). Returns the
 * position, or -1 when the table is full and nothing could be evicted (counted as overflow).
 * *created tells whether the flow is new. init_is_b: the initiator is endpoint b.
 */
int32_t dp_flow_create_lk(struct dp_flow_table *t, const struct dp_flow_lkey *k, unsigned init_is_b,
		uint16_t in_port, uint64_t now, bool *created);
int32_t dp_flow_create(struct dp_flow_table *t, const struct dp_flow_key *k, unsigned init_is_b,
		uint16_t in_port, uint64_t now, bool *created);

/*
 * The flow at pos has expired (dp_flow_expired) when a packet of its tuple arrives: it ends
 * now with the reason aging would have given it, and a new flow of the packet starts in the
 * same slot (same key, position unchanged; verdict to be classified).
 */
void dp_flow_restart(struct dp_flow_table *t, int32_t pos, unsigned src_is_b, uint16_t in_port,
		uint64_t now);

/* The key of the flow at a position. */
void dp_flow_key_get(const struct dp_flow_table *t, int32_t pos, struct dp_flow_key *out);

/*
 * An ICMP or ICMPv6 echo request (or reply) of the flow at pos: its payload (data, len: what
 * of it lies in the first segment) and sequence number, compared with the flow's latest
 * request; the counts go with the flow's next event (struct dp_event_echo).
 */
void dp_flow_echo(struct dp_flow_table *t, int32_t pos, const uint8_t *data, uint32_t len,
		uint16_t seq, bool request);
/* Send an update event for the flow now (its verdict changed, a DNS query...); app may be NULL. */
void dp_flow_updated(
		struct dp_flow_table *t, int32_t pos, uint64_t now, const struct dp_event_app *app);

/* When the flow's timeout runs out. */
static inline uint64_t
dp_flow_expiry(const struct dp_flow_table *t, const struct dp_flow_hot *h)
{
	return h->last_ns +
	       ((const struct dp_flow_table_head *)t)->timeout[h->kind << 4 | h->tcp_state];
}

/* True when a lookup found a flow whose time is up but which aging has not ended yet. */
static inline bool
dp_flow_expired(const struct dp_flow_table *t, int32_t pos, uint64_t now)
{
	return now >= dp_flow_expiry(t, dp_flow_hot_at(t, pos));
}

/* The same for a hot line the caller has at hand. */
static inline bool
dp_flow_expired_h(const struct dp_flow_table *t, const struct dp_flow_hot *h, uint64_t now)
{
	return now >= dp_flow_expiry(t, h);
}

/*
 * Will a packet of this flow read its cold record in decide? The handshake's last ACK (from
 * SYN_RECV) and a closing connection's packets tell control (an update or end event,
 * dp_flow_describe()), and a rule's eBPF program may read the flow's mark and age: bpf_flag is
 * DP_FF_BPF when one of the policy's programs does (rl_snapshot_bpf_cold), else 0. The flow
 * stage fetches that line early for them, from what the hot line says alone (an RST that
 * closes an established connection is not foreseen); an established flow's packet is none of
 * these, nor a UDP flow's (its state is DP_TCP_NONE).
 */
static inline bool
dp_flow_cold_soon(const struct dp_flow_hot *h, uint8_t bpf_flag)
{
	return (h->flags & bpf_flag) | (h->tcp_state == DP_TCP_SYN_RECV) |
	       (h->tcp_state >= DP_TCP_FIN_WAIT);
}

/* The out-of-line parts of dp_flow_packet: TCP state changes, and periodic updates. */
bool dp_flow_packet_tcp(struct dp_flow_table *t, int32_t pos, const struct dp_pkt *p,
		unsigned src_is_b, uint32_t wire_len, uint64_t now);
void dp_flow_update_due(struct dp_flow_table *t, int32_t pos, uint64_t now);

/* A hot line's cold record (same block, fixed distance). */
static inline struct dp_flow *
dp_flow_cold(const struct dp_flow_hot *h)
{
	return (struct dp_flow *)((uintptr_t)h + DP_FLOW_COLD_OFF);
}

/* Count a packet of dir (wire_len bytes, pl of payload) and its time. */
static __rte_always_inline void
dp_flow_account(struct dp_flow_hot *h, unsigned dir, uint32_t wire_len, uint32_t pl, uint64_t now)
{
	uint32_t x;
	uint64_t sq;

	/* The high halves live in the cold record: touched once every 2^32. */
	x = h->pkts[dir] + 1;
	h->pkts[dir] = x;
	if (unlikely(x == 0))
		dp_flow_cold(h)->pkts_hi[dir]++;
	x = h->bytes[dir] + wire_len;
	h->bytes[dir] = x;
	if (unlikely(x < wire_len))
		dp_flow_cold(h)->bytes_hi[dir]++;
	x = h->pl_sum + pl;
	h->pl_sum = x;
	if (unlikely(x < pl))
		dp_flow_cold(h)->pl_sum_hi++;
	sq = (uint64_t)h->pl_sq + (uint64_t)pl * pl;
	h->pl_sq = (uint32_t)sq;
	if (unlikely(sq >> 32))
		dp_flow_cold(h)->pl_sq_hi += (uint32_t)(sq >> 32);
	h->last_ns = now;
}

/*
 * Account one packet to its flow and run the TCP machine. src_is_b as from dp_flow_key_make.
 * Returns false when the packet must be dropped by the TCP policy (tcp_strict). A SYN on a
 * flow in TIME_WAIT or CLOSED ends it and starts it afresh (port reuse).
 *
 * An established TCP segment without SYN, FIN or RST, and any other protocol's packet, touches
 * only the hot line: counters, flags it adds, last seen.
 */
static __rte_always_inline bool
dp_flow_packet_h(struct dp_flow_table *t, int32_t pos, struct dp_flow_hot *h,
		const struct dp_pkt *p, unsigned src_is_b, uint32_t wire_len, uint64_t now)
{
	unsigned dir = src_is_b ^ h->init_is_b;

	if (p->proto == IPPROTO_TCP) {
		uint8_t fl = p->tcp_flags;

		if (unlikely(h->tcp_state != DP_TCP_ESTABLISHED ||
				    (fl & (DP_TCPF_SYN | DP_TCPF_FIN | DP_TCPF_RST))))
			return dp_flow_packet_tcp(t, pos, p, src_is_b, wire_len, now);
		if ((h->tcp_flags[dir] | fl) != h->tcp_flags[dir])
			h->tcp_flags[dir] |= fl;
	}
	dp_flow_account(h, dir, wire_len, p->payload_len, now);
	if (unlikely((int32_t)((uint32_t)(now >> 20) - h->next_update) >= 0))
		dp_flow_update_due(t, pos, now);
	return true;
}

static inline bool
dp_flow_packet(struct dp_flow_table *t, int32_t pos, const struct dp_pkt *p, unsigned src_is_b,
		uint32_t wire_len, uint64_t now)
{
	return dp_flow_packet_h(t, pos, dp_flow_hot_at(t, pos), p, src_is_b, wire_len, now);
}

/* A later fragment: counted with the initiator's direction (it has no ports), no payload. */
static inline void
dp_flow_fragment(struct dp_flow_table *t, int32_t pos, uint32_t wire_len, uint64_t now)
{
	dp_flow_account(dp_flow_hot_at(t, pos), 0, wire_len, 0, now);
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
void dp_flow_describe(const struct dp_flow_table *t, int32_t pos, struct dp_event_flow *out);

const char *dp_end_reason_name(enum dp_end_reason r);
const char *dp_flow_overflow_name(enum dp_flow_overflow r);
const char *dp_flow_evict_class_name(enum dp_flow_evict_class c);

#endif /* DP_FLOW_H */
