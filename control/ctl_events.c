/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ctl_alert_app.h"
#include "ctl_events.h"
#include "dp_flow.h"
#include "dp_tcp.h"
#include "vg_addr.h"

#define DRAIN_BURST	256
#define MAX_SUBSCRIBERS 8

#define STAGE_LEN 64

/* Events taken off one worker's ring, not yet handled. */
struct ctl_event_stage {
	struct dp_event ev[STAGE_LEN];
	unsigned head, len;
};

struct ctl_events {
	const struct dp *dp;
	FILE *dump;
	uint32_t next_seq[VG_MAX_WORKERS];
	struct {
		ctl_event_fn fn;
		void *arg;
	} sub[MAX_SUBSCRIBERS];
	unsigned n_sub;
	struct ctl_events_counters ctr;
	struct dp_event buf[DRAIN_BURST];
	struct ctl_event_stage *stage; /* several workers: their events merged by time */
};

static const char *const verdict_names[] = {
	[DP_VERDICT_NONE] = "none",
	[DP_VERDICT_ALLOW] = "allow",
	[DP_VERDICT_DROP] = "drop",
	[DP_VERDICT_REJECT] = "reject",
	[DP_VERDICT_RATE_LIMIT] = "rate-limit",
};

/* ctl_event_type_name() is in ctl_ctr.c, with the table of these counters that names by it. */

struct ctl_events *
ctl_events_create(const struct dp *dp, FILE *dump)
{
	struct ctl_events *ce = calloc(1, sizeof(*ce));

	if (ce == NULL)
		return NULL;
	ce->dp = dp;
	ce->dump = dump;
	if (dp_n_workers(dp) > 1) {
		ce->stage = calloc(dp_n_workers(dp), sizeof(*ce->stage));
		if (ce->stage == NULL) {
			free(ce);
			return NULL;
		}
	}
	return ce;
}

void
ctl_events_free(struct ctl_events *ce)
{
	if (ce != NULL)
		free(ce->stage);
	free(ce);
}

int
ctl_events_subscribe(struct ctl_events *ce, ctl_event_fn fn, void *arg)
{
	if (ce->n_sub == MAX_SUBSCRIBERS)
		return -ENOSPC;
	ce->sub[ce->n_sub].fn = fn;
	ce->sub[ce->n_sub].arg = arg;
	ce->n_sub++;
	return 0;
}

static const char *
proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	default:
		snprintf(buf, len, "%u", p);
		return buf;
	}
}

static void
tcp_flags_text(uint8_t f, char *out)
{
	static const char letters[] = "FSRPAUEC";
	unsigned n = 0;

	for (unsigned i = 0; i < 8; i++)
		if (f & (1u << i))
			out[n++] = letters[i];
	out[n] = '\0';
}

json_t *
ctl_event_json(const struct dp_event *ev)
{
	const struct dp_event_flow *f = &ev->flow;
	char src[VG_ADDR_STRLEN], dst[VG_ADDR_STRLEN], pbuf[8], fl0[9], fl1[9];
	uint8_t fam = f->family == 6 ? 6 : 4;
	json_t *j;

	if (ev->type == DP_EV_TXMETA) {
		const char *name = NULL;
		json_t *app = ctl_app_json(&ev->txmeta, &name, NULL);

		j = json_pack("{s:s, s:i, s:I, s:I, s:I, s:s?, s:i}", "type",
				ctl_event_type_name(ev->type), "worker", ev->worker, "seq",
				(json_int_t)ev->seq, "time_ns", (json_int_t)ev->time_ns, "flow_id",
				(json_int_t)ev->txmeta.flow_id, "app_proto",
				ctl_app_proto_name(ev->txmeta.proto), "bytes", ev->txmeta.len);
		if (j != NULL && app != NULL)
			json_object_set(j, name, app);
		json_decref(app);
		return j;
	}
	vg_addr_format_bytes(fam, f->src, src, sizeof(src));
	vg_addr_format_bytes(fam, f->dst, dst, sizeof(dst));
	tcp_flags_text(f->tcp_flags[0], fl0);
	tcp_flags_text(f->tcp_flags[1], fl1);
	j = json_pack("{s:s, s:i, s:i, s:I, s:s, s:s, s:i, s:s, s:i, s:i, s:s, s:i, s:I, s:I,"
		      " s:[I,I], s:[I,I], s:f, s:f, s:i}",
			"type", ctl_event_type_name(ev->type), "worker", ev->worker, "seq",
			(json_int_t)ev->seq, "time_ns", (json_int_t)ev->time_ns, "proto",
			proto_name(f->proto, pbuf, sizeof(pbuf)), "src", src, "sport", f->sport,
			"dst", dst, "dport", f->dport, "vlan", f->vlan, "verdict",
			f->verdict < sizeof(verdict_names) / sizeof(verdict_names[0])
					? verdict_names[f->verdict]
					: "?",
			"in_port", f->in_port, "first_ns", (json_int_t)f->first_ns, "last_ns",
			(json_int_t)f->last_ns, "packets", (json_int_t)f->pkts[0],
			(json_int_t)f->pkts[1], "bytes", (json_int_t)f->bytes[0],
			(json_int_t)f->bytes[1], "payload_mean", (double)f->payload_mean,
			"payload_var", (double)f->payload_var, "flow_id", (int)f->flow_id);
	if (j == NULL)
		return NULL;
	if (f->proto == IPPROTO_TCP) {
		json_object_set_new(j, "state", json_string(dp_tcp_state_name(f->state)));
		json_object_set_new(j, "tcp_flags", json_pack("[s,s]", fl0, fl1));
	}
	if (f->rule_id != UINT32_MAX)
		json_object_set_new(j, "rule_id", json_integer(f->rule_id));
	if (f->would_drop)
		json_object_set_new(j, "would_drop", json_true());
	if (f->mark != 0)
		json_object_set_new(j, "bpf_mark", json_integer(f->mark));
	if (ev->type == DP_EV_FLOW_END)
		json_object_set_new(j, "reason", json_string(dp_end_reason_name(ev->reason)));
	if (ctl_app_proto_name(f->app_proto) != NULL)
		json_object_set_new(j, "app_proto", json_string(ctl_app_proto_name(f->app_proto)));
	if (ev->type != DP_EV_ALERT && (f->proto == 1 || f->proto == 58) &&
			(ev->app.echo.req_compared || ev->app.echo.rep_compared))
		json_object_set_new(j, "echo",
				json_pack("{s:i, s:i, s:i, s:i}", "req_compared",
						ev->app.echo.req_compared, "req_changed",
						ev->app.echo.req_changed, "rep_compared",
						ev->app.echo.rep_compared, "rep_mismatched",
						ev->app.echo.rep_mismatched));
	if (dp_event_has_dns(ev))
		json_object_set_new(j, "dns",
				json_pack("{s:s, s:i, s:i, s:b}", "qname", ev->app.dns_qname,
						"qtype", ev->app.dns_qtype, "rcode",
						ev->app.dns_rcode, "response",
						ev->app.dns_response));
	if (ev->type == DP_EV_ALERT)
		json_object_set_new(j, "alert",
				json_pack("{s:I, s:I, s:I, s:b, s:b}", "sid",
						(json_int_t)ev->alert.sid, "gid",
						(json_int_t)ev->alert.gid, "rev",
						(json_int_t)ev->alert.rev, "dropped",
						ev->alert.dropped, "to_server",
						ev->alert.to_server));
	return j;
}

static void
handle(struct ctl_events *ce, const struct dp_event *ev)
{
	ce->ctr.drained++;
	if (ev->type <= DP_EV_TXMETA)
		ce->ctr.by_type[ev->type]++;
	if (ev->type == DP_EV_FLOW_END && ev->reason <= DP_END_FLUSHED)
		ce->ctr.ends[ev->reason]++;
	if (ev->worker < VG_MAX_WORKERS) {
		uint32_t want = ce->next_seq[ev->worker];

		if (ev->seq != want)
			ce->ctr.seq_gaps += (uint32_t)(ev->seq - want);
		ce->next_seq[ev->worker] = ev->seq + 1;
	}
	if (ce->dump != NULL) {
		json_t *j = ctl_event_json(ev);

		if (j != NULL) {
			json_dumpf(j, ce->dump, JSON_COMPACT | JSON_SORT_KEYS);
			fputc('\n', ce->dump);
			json_decref(j);
		}
	}
	for (unsigned i = 0; i < ce->n_sub; i++)
		ce->sub[i].fn(ce->sub[i].arg, ev);
}

/*
 * Several workers: their events in time order, as one worker would have made them. A flow's
 * events all come from one worker, but a detector's host or service sees flows of every
 * worker, and its intervals must get each event in its own. The earliest staged event goes
 * next when no worker with nothing staged could still make an earlier one (its bound, read
 * before its ring came out empty, says so). A worker that falls behind the others (its input
 * has run dry on the capture's clock) holds the others' events back until its ring fills past
 * half: then they go anyway, out of order rather than lost.
 */
static unsigned
drain_merged(struct ctl_events *ce, unsigned max)
{
	const unsigned nw = dp_n_workers(ce->dp);
	uint64_t bound[VG_MAX_WORKERS];
	unsigned done = 0;

	while (done < max) {
		unsigned best = UINT32_MAX;
		uint64_t best_t = UINT64_MAX;
		bool ok = true;

		for (unsigned w = 0; w < nw; w++) {
			struct ctl_event_stage *s = &ce->stage[w];

			if (s->head == s->len) {
				bound[w] = dp_worker_event_bound(ce->dp, w);
				s->head = 0;
				s->len = rte_ring_sc_dequeue_burst_elem(dp_worker_events(ce->dp, w),
						s->ev, sizeof(struct dp_event), STAGE_LEN, NULL);
			}
			if (s->head < s->len && s->ev[s->head].time_ns < best_t) {
				best_t = s->ev[s->head].time_ns;
				best = w;
			}
		}
		if (best == UINT32_MAX)
			break;
		for (unsigned w = 0; w < nw; w++)
			if (ce->stage[w].head == ce->stage[w].len && bound[w] < best_t)
				ok = false;
		if (!ok) {
			struct rte_ring *r = dp_worker_events(ce->dp, best);

			if (rte_ring_count(r) < rte_ring_get_capacity(r) / 2)
				break;
			ce->ctr.out_of_order++;
		}
		handle(ce, &ce->stage[best].ev[ce->stage[best].head++]);
		done++;
	}
	if (done > 0 && ce->dump != NULL)
		fflush(ce->dump);
	return done;
}

unsigned
ctl_events_drain(struct ctl_events *ce, unsigned max)
{
	unsigned total = 0;

	if (ce->stage != NULL)
		return drain_merged(ce, max);

	for (unsigned w = 0; w < dp_n_workers(ce->dp); w++) {
		struct rte_ring *r = dp_worker_events(ce->dp, w);
		unsigned done = 0;

		while (done < max) {
			unsigned want = RTE_MIN(max - done, (unsigned)DRAIN_BURST);
			unsigned n = rte_ring_sc_dequeue_burst_elem(
					r, ce->buf, sizeof(struct dp_event), want, NULL);

			for (unsigned i = 0; i < n; i++)
				handle(ce, &ce->buf[i]);
			done += n;
			if (n < want)
				break;
		}
		total += done;
	}
	if (total > 0 && ce->dump != NULL)
		fflush(ce->dump);
	return total;
}

const struct ctl_events_counters *
ctl_events_counters(const struct ctl_events *ce)
{
	return &ce->ctr;
}
