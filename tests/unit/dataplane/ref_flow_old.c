/* SPDX-License-Identifier: BSD-3-Clause */
/* The flow table before dp_flow.c's: see ref_flow_old.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "ref_flow_old.h"

/* Slots sampled when the table is full, looking for the stalest flow to evict. */
#define EVICT_SAMPLE 8

/* Aging visits every slot at least once per this much dataplane time. */
#define AGE_SWEEP_NS 1000000000ULL

/* How long a flush waits for control to drain the event ring. */
#define FLUSH_WAIT_S 2

struct ref_flow_table {
	/*
	 * First: the entries, and when each flow times out (last packet + the timeout of its
	 * state, 0 for a free slot), kept apart from the entries so that aging scans 8 slots per
	 * cache line. The inline accessors of ref_flow.h read these two.
	 */
	struct ref_flow *flows;
	uint64_t *expire;
	struct rte_hash *hash;
	struct ref_flow_params p;
	struct dp_evq *evq;
	ref_flow_end_hook end_hook;
	void *end_hook_arg;
	uint32_t age_cursor;
	uint64_t last_age_ns;
	uint64_t sweep_rate; /* slots per ns of the clock-paced sweep, 32.32 fixed point */
	uint64_t sweep_frac; /* the fraction of a slot carried to the next call */
	uint32_t next_id;
	struct ref_flow_counters ctr;
};

_Static_assert(sizeof(struct ref_flow_key) == 48, "flow keys are compared as 48 bytes");
_Static_assert(sizeof(struct ref_flow) == 128, "a flow entry is two cache lines");

static const char *const end_names[] = {
	[DP_END_NONE] = "none",
	[DP_END_FIN] = "fin",
	[DP_END_RST] = "rst",
	[DP_END_TIMEOUT] = "timeout",
	[DP_END_EVICTED] = "evicted",
	[DP_END_SHUTDOWN] = "shutdown",
	[DP_END_FLUSHED] = "flushed",
};

const char *
ref_end_reason_name(enum dp_end_reason r)
{
	return (unsigned)r <= DP_END_FLUSHED ? end_names[r] : "?";
}

struct ref_flow_table *
ref_flow_table_create(const struct ref_flow_params *p)
{
	struct ref_flow_table *t;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = p->max_flows < 8 ? 8 : p->max_flows,
		.key_len = sizeof(struct ref_flow_key),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = 0,
		.socket_id = p->socket,
		/* Extendable buckets: the table holds max_flows whatever the key distribution. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	t = rte_zmalloc_socket("ref_flow_table", sizeof(*t), RTE_CACHE_LINE_SIZE, p->socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->p = *p;
	t->p.max_flows = hp.entries;
	if (t->p.aging_batch == 0)
		t->p.aging_batch = 8;
	t->sweep_rate = ((uint64_t)t->p.max_flows << 32) / AGE_SWEEP_NS;
	snprintf(name, sizeof(name), "vg_rflows_%u", p->worker);
	t->hash = rte_hash_create(&hp);
	if (t->hash == NULL) {
		rte_free(t);
		return NULL;
	}
	t->flows = rte_zmalloc_socket("ref_flows", (size_t)t->p.max_flows * sizeof(struct ref_flow),
			RTE_CACHE_LINE_SIZE, p->socket);
	t->expire = rte_zmalloc_socket("ref_flow_expire", (size_t)t->p.max_flows * sizeof(uint64_t),
			RTE_CACHE_LINE_SIZE, p->socket);
	if (t->flows == NULL || t->expire == NULL) {
		ref_flow_table_free(t);
		rte_errno = ENOMEM;
		return NULL;
	}
	return t;
}

void
ref_flow_table_free(struct ref_flow_table *t)
{
	if (t == NULL)
		return;
	rte_hash_free(t->hash);
	rte_free(t->flows);
	rte_free(t->expire);
	rte_free(t);
}

size_t
ref_flow_table_memory(const struct ref_flow_table *t)
{
	/*
	 * rte_hash: a key slot (key + data pointer) per entry plus the spare slot, and the
	 * primary and extendable bucket arrays (8 entries per 64-byte bucket, rounded up to a
	 * power of two); our entries on top.
	 */
	size_t n = t->p.max_flows;
	size_t buckets = rte_align32pow2((uint32_t)n) / 8;
	size_t keys = (n + 1) * (sizeof(struct ref_flow_key) + sizeof(void *));

	return keys + 2 * buckets * 64 + n * (sizeof(struct ref_flow) + sizeof(uint64_t));
}

void
ref_flow_set_evq(struct ref_flow_table *t, struct dp_evq *q)
{
	t->evq = q;
}

void
ref_flow_set_end_hook(struct ref_flow_table *t, ref_flow_end_hook fn, void *arg)
{
	t->end_hook = fn;
	t->end_hook_arg = arg;
}

const struct ref_flow_counters *
ref_flow_counters(const struct ref_flow_table *t)
{
	return &t->ctr;
}

void
ref_flow_lookup_bulk(struct ref_flow_table *t, const struct ref_flow_key *const *keys, unsigned n,
		int32_t *pos)
{
	rte_hash_lookup_bulk(t->hash, (const void **)(uintptr_t)keys, n, pos);
	/* The burst's entries and expiry times are read next, one packet after another: ask for
	 * them all now, so that their cache misses overlap instead of adding up. */
	for (unsigned i = 0; i < n; i++)
		if (pos[i] >= 0) {
			const char *f = (const char *)&t->flows[pos[i]];

			rte_prefetch0(f);
			rte_prefetch0(f + RTE_CACHE_LINE_SIZE);
			rte_prefetch0(&t->expire[pos[i]]);
		}
}

int32_t
ref_flow_lookup(struct ref_flow_table *t, const struct ref_flow_key *k)
{
	int32_t pos = rte_hash_lookup(t->hash, k);

	return pos < 0 ? -1 : pos;
}

const struct ref_flow_key *
ref_flow_key_at(const struct ref_flow_table *t, int32_t pos)
{
	const struct ref_flow_key *k = NULL;

	rte_hash_get_key_with_position(t->hash, pos, (void **)(uintptr_t)&k);
	return k;
}

static inline bool
is_tcp(const struct ref_flow_table *t, int32_t pos)
{
	const struct ref_flow_key *k;

	rte_hash_get_key_with_position(t->hash, pos, (void **)(uintptr_t)&k);
	return k->proto == IPPROTO_TCP;
}

static uint64_t
timeout_of(const struct ref_flow_table *t, const struct ref_flow *f, uint8_t proto)
{
	const struct ref_flow_timeouts *to = &t->p.timeouts;

	switch (proto) {
	case IPPROTO_TCP:
		switch (f->tcp.state) {
		case DP_TCP_ESTABLISHED:
			return to->tcp_established;
		case DP_TCP_FIN_WAIT:
		case DP_TCP_CLOSE_WAIT:
		case DP_TCP_LAST_ACK:
			return to->tcp_closing;
		case DP_TCP_TIME_WAIT:
			return to->tcp_time_wait;
		case DP_TCP_CLOSED:
			return to->tcp_closed;
		default:
			return to->tcp_syn;
		}
	case IPPROTO_UDP:
		return to->udp;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return to->icmp;
	default:
		return to->other;
	}
}

void
ref_flow_describe(struct ref_flow_table *t, int32_t pos, struct dp_event_flow *out)
{
	const struct ref_flow *f = &t->flows[pos];
	const struct ref_flow_key *k;
	uint64_t n = f->pkts[0] + f->pkts[1];

	rte_hash_get_key_with_position(t->hash, pos, (void **)(uintptr_t)&k);
	out->family = k->family;
	out->proto = k->proto;
	out->state = k->proto == IPPROTO_TCP ? f->tcp.state : 0;
	out->verdict = f->verdict;
	out->vlan = (uint16_t)(k->vlan & 0xfff);
	out->in_port = f->in_port;
	if (f->init_is_b) {
		memcpy(out->src, k->b, 16);
		memcpy(out->dst, k->a, 16);
		out->sport = k->b_port;
		out->dport = k->a_port;
	} else {
		memcpy(out->src, k->a, 16);
		memcpy(out->dst, k->b, 16);
		out->sport = k->a_port;
		out->dport = k->b_port;
	}
	out->tcp_flags[0] = f->tcp_flags[0];
	out->tcp_flags[1] = f->tcp_flags[1];
	out->would_drop = (f->flags & REF_FF_WOULD_DROP) != 0;
	out->app_proto = f->app_proto;
	out->rule_id = f->rule_id;
	out->epoch = f->epoch;
	out->first_ns = f->first_ns;
	out->last_ns = f->last_ns;
	out->pkts[0] = f->pkts[0];
	out->pkts[1] = f->pkts[1];
	out->bytes[0] = f->bytes[0];
	out->bytes[1] = f->bytes[1];
	out->payload_mean = n ? (float)(f->pl_sum / (double)n) : 0.0f;
	out->payload_var = n > 1 ? (float)((f->pl_sq - f->pl_sum * f->pl_sum / (double)n) /
						   (double)(n - 1))
				 : 0.0f;
	out->flow_id = f->id;
}

static struct dp_event *
emit(struct ref_flow_table *t, int32_t pos, uint8_t type, uint8_t reason, uint64_t now)
{
	struct dp_event *e;

	if (t->evq == NULL)
		return NULL;
	e = dp_evq_next(t->evq, type, now);
	e->reason = reason;
	ref_flow_describe(t, pos, &e->flow);
	return e;
}

static enum dp_end_reason
natural_end(const struct ref_flow *f, bool tcp)
{
	if (tcp && f->tcp.state == DP_TCP_TIME_WAIT)
		return DP_END_FIN;
	if (tcp && f->tcp.state == DP_TCP_CLOSED)
		return DP_END_RST;
	return DP_END_TIMEOUT;
}

/* Emit the end event, update counters, and free the slot (and its key, unless keep_key). */
static void
end_flow(struct ref_flow_table *t, int32_t pos, enum dp_end_reason reason, uint64_t now,
		bool keep_key)
{
	struct ref_flow *f = &t->flows[pos];
	const struct ref_flow_key *k;
	bool tcp;

	rte_hash_get_key_with_position(t->hash, pos, (void **)(uintptr_t)&k);
	tcp = k->proto == IPPROTO_TCP;
	/* Every end has its start, even for a flow that ends in the burst that created it. */
	if (!(f->flags & REF_FF_STARTED))
		emit(t, pos, DP_EV_FLOW_START, DP_END_NONE, now);
	if (t->end_hook != NULL)
		t->end_hook(t->end_hook_arg, pos, f, now);
	emit(t, pos, DP_EV_FLOW_END, (uint8_t)reason, now);
	t->ctr.active--;
	t->ctr.ended[reason]++;
	t->ctr.removed++;
	if (tcp)
		t->ctr.per_state[f->tcp.state]--;
	f->live = 0;
	t->expire[pos] = 0;
	if (!keep_key) {
		struct ref_flow_key copy = *k;

		rte_hash_del_key(t->hash, &copy);
	}
}

static void
init_flow(struct ref_flow_table *t, int32_t pos, unsigned src_is_b, uint16_t in_port, uint64_t now,
		bool tcp)
{
	struct ref_flow *f = &t->flows[pos];

	memset(f, 0, sizeof(*f));
	f->live = 1;
	f->init_is_b = (uint8_t)src_is_b;
	f->in_port = in_port;
	f->id = t->next_id++;
	f->rule_id = UINT32_MAX;
	f->det_slot = UINT32_MAX;
	f->first_ns = now;
	f->last_ns = now;
	f->next_update_ns = t->p.update_interval_ns ? now + t->p.update_interval_ns : UINT64_MAX;
	/* Until its first packet sets it: never 0, which marks a free slot. */
	t->expire[pos] = now + t->p.timeouts.tcp_syn + 1;
	t->ctr.active++;
	t->ctr.created++;
	if (tcp)
		t->ctr.per_state[DP_TCP_NONE]++;
}

/* The table is full: end the stalest of a few sampled flows to make room. */
static bool
evict_one(struct ref_flow_table *t, uint64_t now)
{
	int32_t victim = -1;
	uint64_t oldest = UINT64_MAX;

	for (unsigned i = 0; i < EVICT_SAMPLE; i++) {
		uint32_t pos = t->age_cursor++;
		const struct ref_flow *f;

		if (t->age_cursor >= t->p.max_flows)
			t->age_cursor = 0;
		f = &t->flows[pos];
		if (!f->live)
			return true; /* a free slot after all: the add may have failed on buckets */
		/* Prefer flows that are already closed. */
		uint64_t age = f->last_ns;
		if (f->tcp.state == DP_TCP_TIME_WAIT || f->tcp.state == DP_TCP_CLOSED)
			age = 0;
		if (age < oldest) {
			oldest = age;
			victim = (int32_t)pos;
		}
	}
	if (victim < 0)
		return false;
	end_flow(t, victim, DP_END_EVICTED, now, false);
	return true;
}

int32_t
ref_flow_create(struct ref_flow_table *t, const struct ref_flow_key *k, unsigned src_is_b,
		uint16_t in_port, uint64_t now, bool *created)
{
	int32_t pos = rte_hash_add_key(t->hash, k);

	if (pos == -ENOSPC && t->p.evict && evict_one(t, now))
		pos = rte_hash_add_key(t->hash, k);
	if (pos < 0) {
		t->ctr.overflow++;
		*created = false;
		return -1;
	}
	/* An earlier packet of the same burst may have created it already: then it is found.
	 * Whether it has expired is for the packet's own turn to judge (ref_flow_restart). */
	*created = !t->flows[pos].live;
	if (*created)
		init_flow(t, pos, src_is_b, in_port, now, k->proto == IPPROTO_TCP);
	return pos;
}

void
ref_flow_restart(struct ref_flow_table *t, int32_t pos, unsigned src_is_b, uint16_t in_port,
		uint64_t now)
{
	bool tcp = is_tcp(t, pos);
	uint64_t ran_out = t->expire[pos] < now ? t->expire[pos] : now;

	end_flow(t, pos, natural_end(&t->flows[pos], tcp), ran_out, true);
	init_flow(t, pos, src_is_b, in_port, now, tcp);
}

void
ref_flow_started(
		struct ref_flow_table *t, int32_t pos, uint64_t now, const struct dp_event_app *app)
{
	struct dp_event *e;

	t->flows[pos].flags |= REF_FF_STARTED;
	e = emit(t, pos, DP_EV_FLOW_START, DP_END_NONE, now);
	if (e != NULL && app != NULL)
		e->app = *app;
}

void
ref_flow_updated(
		struct ref_flow_table *t, int32_t pos, uint64_t now, const struct dp_event_app *app)
{
	struct dp_event *e = emit(t, pos, DP_EV_FLOW_UPDATE, DP_END_NONE, now);

	if (e != NULL && app != NULL)
		e->app = *app;
}

bool
ref_flow_packet(struct ref_flow_table *t, int32_t pos, const struct dp_pkt *p, unsigned src_is_b,
		uint32_t wire_len, uint64_t now)
{
	struct ref_flow *f = &t->flows[pos];
	unsigned dir = src_is_b != f->init_is_b;
	bool ok = true;
	bool tell_after = false;

	if (p->proto == IPPROTO_TCP) {
		uint8_t before = f->tcp.state;

		/* A new SYN on a finished connection's tuple: the old flow ends, a new one starts.
		 */
		if ((before == DP_TCP_TIME_WAIT || before == DP_TCP_CLOSED) &&
				(p->tcp_flags & (DP_TCPF_SYN | DP_TCPF_ACK)) == DP_TCPF_SYN) {
			uint16_t in_port = f->in_port;

			end_flow(t, pos, natural_end(f, true), now, true);
			init_flow(t, pos, src_is_b, in_port, now, true);
			t->ctr.port_reuse++;
			dir = 0;
			before = DP_TCP_NONE;
		}
		if (!dp_tcp_step(&f->tcp, p->tcp_flags, dir, t->p.midstream)) {
			t->ctr.tcp_invalid++;
			if (before == DP_TCP_NONE)
				t->ctr.midstream_refused++;
			if (t->p.tcp_strict) {
				t->ctr.tcp_invalid_dropped++;
				ok = false;
			}
		} else if (before == DP_TCP_NONE &&
				(f->tcp.state >= DP_TCP_ESTABLISHED ||
						f->tcp.state == DP_TCP_SYN_RECV)) {
			/* picked up without its SYN */
			f->flags |= REF_FF_MIDSTREAM;
			t->ctr.midstream++;
		}
		if (f->tcp.state != before) {
			t->ctr.per_state[before]--;
			t->ctr.per_state[f->tcp.state]++;
			/*
			 * Control hears when a handshake completes (a connection that did is not
			 * half-open: the SYN flood detector counts on it) and when a connection
			 * closes (its bytes belong to now, not to the end of TIME_WAIT).
			 */
			bool tell = (f->tcp.state == DP_TCP_ESTABLISHED &&
						    before == DP_TCP_SYN_RECV) ||
				    f->tcp.state == DP_TCP_TIME_WAIT ||
				    f->tcp.state == DP_TCP_CLOSED;
			if (tell && (f->flags & REF_FF_STARTED))
				tell_after = true;
		}
		f->tcp_flags[dir] |= p->tcp_flags;
	}

	f->pkts[dir]++;
	f->bytes[dir] += wire_len;
	f->last_ns = now;
	t->expire[pos] = now + timeout_of(t, f, p->proto);

	double x = (double)p->payload_len;
	f->pl_sum += x;
	f->pl_sq += x * x;

	if (unlikely(tell_after || now >= f->next_update_ns)) {
		emit(t, pos, DP_EV_FLOW_UPDATE, DP_END_NONE, now);
		if (t->p.update_interval_ns)
			f->next_update_ns = now + t->p.update_interval_ns;
	}
	return ok;
}

/* Visit slots [from, to): end the flows whose time is up. */
static inline void
age_range(struct ref_flow_table *t, uint32_t from, uint32_t to, uint64_t now)
{
	const uint64_t *x = t->expire;

	/* expire is 0 for a free slot, so e - 1 < now is "live and due" in one comparison. */
	/* A flow ends when its time ran out, not when the sweep came by: the same record
	 * whatever the sweep's pace or the bursts' sizes. */
	for (uint32_t i = from; i < to; i++)
		if (unlikely(x[i] - 1 < now))
			end_flow(t, (int32_t)i, natural_end(&t->flows[i], is_tcp(t, (int32_t)i)),
					x[i], false);
}

void
ref_flow_age(struct ref_flow_table *t, uint64_t now)
{
	uint32_t cur = t->age_cursor;
	uint64_t budget = t->p.aging_batch;

	/*
	 * Besides aging_batch slots per call, the sweep keeps pace with the clock: every slot at
	 * least once per AGE_SWEEP_NS of dataplane time (slots per ns in 32.32 fixed point, the
	 * fraction carried over). Live, that adds a slot or so per call; in a replay, where one
	 * loop may cover seconds of capture, it ends flows when their time is up rather than
	 * when the capture runs out.
	 */
	if (now > t->last_age_ns && t->last_age_ns != 0) {
		uint64_t dt = now - t->last_age_ns;

		if (dt >= AGE_SWEEP_NS) {
			budget = t->p.max_flows;
		} else {
			uint64_t q = dt * t->sweep_rate + t->sweep_frac;

			budget += q >> 32;
			t->sweep_frac = q & 0xffffffffu;
		}
	}
	t->last_age_ns = now;
	if (budget > t->p.max_flows)
		budget = t->p.max_flows;
	while (budget > 0) {
		uint32_t n = t->p.max_flows - cur < budget ? t->p.max_flows - cur
							   : (uint32_t)budget;

		age_range(t, cur, cur + n, now);
		budget -= n;
		cur += n;
		if (cur >= t->p.max_flows)
			cur = 0;
	}
	t->age_cursor = cur;
}

void
ref_flow_flush_all(struct ref_flow_table *t, enum dp_end_reason reason, uint64_t now)
{
	uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() * FLUSH_WAIT_S;

	for (uint32_t pos = 0; pos < t->p.max_flows; pos++) {
		const struct ref_flow *f = &t->flows[pos];
		enum dp_end_reason why = reason;
		uint64_t when = now;

		if (!f->live)
			continue;
		/* A connection that already closed ended by FIN or RST, whatever stops it now. */
		if (f->tcp.state == DP_TCP_TIME_WAIT || f->tcp.state == DP_TCP_CLOSED)
			why = natural_end(f, true);
		/* One whose time ran out ends as aging would have ended it, at its expiry. */
		if (t->expire[pos] - 1 < now) {
			why = natural_end(f, is_tcp(t, (int32_t)pos));
			when = t->expire[pos];
		}
		if (t->evq != NULL && t->evq->n == DP_EVQ_BATCH)
			dp_evq_flush_wait(t->evq, deadline);
		end_flow(t, (int32_t)pos, why, when, false);
	}
	if (t->evq != NULL)
		dp_evq_flush_wait(t->evq, deadline);
}

void
ref_flow_end(struct ref_flow_table *t, int32_t pos, enum dp_end_reason reason, uint64_t now)
{
	end_flow(t, pos, reason, now, false);
}
