/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "ctl_analysis.h"
#include "ctl_call.h"
#include "ctl_loop.h"
#include "ctl_link.h"
#include "ctl_watchdog.h"
#include "ctl_policy.h"
#include "ctl_rates.h"
#include "ctl_sigs.h"
#include "ctl_store.h"
#include "dp_flow.h"
#include "dp_parse.h"
#include "vg_log.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct rate_state {
	uint64_t at_ms;
	struct ctl_reading *ports[2]; /* the last line's reading and this one's */
	uint64_t loops[VG_MAX_WORKERS];
	uint64_t busy[VG_MAX_WORKERS];
	uint64_t wrx[VG_MAX_WORKERS];
	uint64_t stage[VG_MAX_WORKERS][DP_ST__COUNT];
};

/* Bench mode: worker w's packet rate and cycles per packet by stage since the last line. */
static void
print_stages(const struct dp *dp, unsigned w, double secs, struct rate_state *st)
{
	const struct dp_worker_counters *c = dp_worker_counters(dp, w);
	uint64_t rx = dp_worker_rx(dp, w), dp_pkts = rx - st->wrx[w], total = 0;
	char line[512];
	int n = 0;

	for (unsigned k = 0; k < DP_ST__COUNT; k++) {
		uint64_t v = dp_read_u64(&c->stage_cycles[k]), d = v - st->stage[w][k];

		total += d;
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %.1f", dp_stage_name(k),
				dp_pkts ? (double)d / (double)dp_pkts : 0.0);
		st->stage[w][k] = v;
	}
	CTL_LOG(INFO, "worker %u: %.2f Mpps, cycles/packet%s = %.1f", w,
			secs > 0 ? (double)dp_pkts / secs / 1e6 : 0.0, line,
			dp_pkts ? (double)total / (double)dp_pkts : 0.0);
	st->wrx[w] = rx;
}

/* One testpmd-like block: per port rates and totals, per worker load. */
static void
print_stats_line(const struct dp *dp, struct rate_state *st)
{
	uint64_t t = now_ms();
	double secs = st->at_ms ? (double)(t - st->at_ms) / 1000.0 : 0;
	struct ctl_reading *r;

	ctl_reading_take(st->ports[1], dp, t);
	for (unsigned i = 0; i < dp_n_ports(dp); i++) {
		const struct dp_port *p = dp_port(dp, i);
		struct dp_port_counters c;
		struct rte_eth_stats hw;
		struct ctl_rate rt;

		dp_port_counters(dp, i, &c);
		memset(&hw, 0, sizeof(hw));
		rte_eth_stats_get(p->port_id, &hw);
		ctl_reading_rate(st->ports[0], st->ports[1], CTL_RATES_ALL, i, &rt);
		/* The port table's rows that have a name in this line (dp_stats.c). */
		char line[256];

		CTL_LOG(INFO, "port %-10s rx %10.0f pps tx %10.0f pps |%s missed %" PRIu64,
				p->cfg->name, rt.rx_pps, rt.tx_pps,
				vg_ctr_stat_line(&dp_port_ctr_set, &c, line, sizeof(line)),
				hw.imissed);
	}
	r = st->ports[0];
	st->ports[0] = st->ports[1];
	st->ports[1] = r;
	for (unsigned w = 0; w < dp_n_workers(dp); w++) {
		const struct dp_worker_counters *c = dp_worker_counters(dp, w);
		uint64_t loops = dp_read_u64(&c->loops), busy = dp_read_u64(&c->busy_loops);
		uint64_t dl = loops - st->loops[w], db = busy - st->busy[w];

		CTL_LOG(INFO, "worker %u (lcore %u): %.1f%% of loops busy", w,
				dp_worker_lcore(dp, w), dl ? 100.0 * (double)db / (double)dl : 0.0);
		st->loops[w] = loops;
		st->busy[w] = busy;
		if (dp_stages_enabled(dp))
			print_stages(dp, w, secs, st);
	}
	st->at_ms = t;
}

/* Events drained per loop at most, so that the mailbox and ticks keep their pace. */
#define DRAIN_MAX 4096

static int
run_loop(struct ctl_ctx *ctx, const struct ctl_opts *opts, struct rate_state *st)
{
	struct dp *dp = ctx->dp;
	uint64_t next_stats, last_rx = 0, last_rx_change;

	st->at_ms = now_ms();
	ctl_reading_take(st->ports[0], dp, st->at_ms);
	next_stats = st->at_ms + opts->stats_interval_ms;
	last_rx_change = st->at_ms;

	while (!*opts->quit) {
		uint64_t t = now_ms();

		if (opts->reload != NULL && *opts->reload) {
			*opts->reload = 0;
			ctl_policy_reload_async(ctx->policy);
			if (ctx->sigs != NULL)
				ctl_sigs_reload_async(ctx->sigs);
		}
		if (opts->tick != NULL)
			opts->tick(opts->tick_arg, t);

		if (opts->stats_interval_ms > 0 && t >= next_stats) {
			print_stats_line(dp, st);
			next_stats = t + opts->stats_interval_ms;
		}
		if (opts->stop_after_idle_ms > 0) {
			uint64_t rx = dp_total_rx(dp);

			if (rx != last_rx) {
				last_rx = rx;
				last_rx_change = t;
			} else if (t - last_rx_change >= opts->stop_after_idle_ms) {
				CTL_LOG(INFO, "no packet for %" PRIu64 " ms; stopping",
						opts->stop_after_idle_ms);
				return 1;
			}
		}
		/*
		 * The dataplane clock is read before the rings are drained: when they come out
		 * empty, every event up to that time has been seen, and the detectors may close
		 * their intervals up to it even if no event arrives (a flood followed by silence).
		 */
		uint64_t clock_ns = dp_clock_settled(dp);
		unsigned drained = ctl_events_drain(ctx->events, DRAIN_MAX);
		unsigned work = drained;

		work += ctl_mailbox_run(ctx->mailbox, ctx, 16);
		if (ctx->analysis != NULL)
			ctl_analysis_tick(ctx->analysis, t, drained < DRAIN_MAX ? clock_ns : 0);
		if (ctx->store != NULL)
			ctl_store_tick(ctx->store, t);
		if (ctx->link != NULL)
			ctl_link_tick(ctx->link, t);
		if (ctx->watchdog != NULL)
			ctl_watchdog_tick(ctx->watchdog, t);
		if (ctx->rates != NULL)
			ctl_rates_tick(ctx->rates, t);
		/* Failure open: a stalled worker's queues are polled on every pass, with no wait
		 * for work in between (docs/OPERATIONS.md, Watchdog). */
		bool failover = ctl_watchdog_failover_poll(ctx->watchdog);

		if (work == 0 && !failover)
			ctl_mailbox_wait(ctx->mailbox, 1000);
	}
	return 0;
}

int
ctl_run(struct ctl_ctx *ctx, const struct ctl_opts *opts)
{
	struct rate_state st;
	int rc = -ENOMEM;

	memset(&st, 0, sizeof(st));
	st.ports[0] = ctl_reading_create(ctx->dp);
	st.ports[1] = ctl_reading_create(ctx->dp);
	if (st.ports[0] != NULL && st.ports[1] != NULL)
		rc = run_loop(ctx, opts, &st);
	else
		CTL_LOG(ERR, "no memory for the stats line's counters");
	ctl_reading_free(st.ports[0]);
	ctl_reading_free(st.ports[1]);
	return rc;
}

void
ctl_stop_dataplane(struct ctl_ctx *ctx)
{
	struct dp *dp = ctx->dp;
	struct ctl_events *events = ctx->events;

	/* A reload in flight publishes through the mailbox: let it finish first. */
	while ((ctx->policy != NULL && ctl_policy_reloading(ctx->policy)) ||
			(ctx->sigs != NULL && ctl_sigs_reloading(ctx->sigs))) {
		ctl_mailbox_run(ctx->mailbox, ctx, 16);
		usleep(1000);
	}
	/*
	 * Workers stop polling and queue their last events; the traffic is judged as it stood
	 * (detectors close their intervals) before the workers end the open flows, whose end
	 * events would otherwise tell the detectors that the half-open flood just closed.
	 */
	dp_request_stop(dp);
	while (!dp_workers_stopped(dp))
		if (ctl_events_drain(events, DRAIN_MAX) == 0)
			usleep(100);
	while (ctl_events_drain(events, DRAIN_MAX) > 0)
		;
	if (ctx->analysis != NULL)
		ctl_analysis_judge(ctx->analysis, dp_clock_now(dp));
	dp_release_flush(dp);
	while (!dp_workers_done(dp))
		if (ctl_events_drain(events, DRAIN_MAX) == 0)
			usleep(100);
	dp_stop(dp);
	while (ctl_events_drain(events, DRAIN_MAX) > 0)
		;
	if (ctx->analysis != NULL)
		ctl_analysis_finish(ctx->analysis);
}

static int
column_width(const struct vg_ctr *c)
{
	size_t n = strlen(c->name);

	return strcmp(c->unit, "bytes") == 0 || (n > 8 && strcmp(c->name + n - 8, "_packets") == 0)
			       ? 14
			       : 10;
}

void
ctl_print_counters(const struct dp *dp, FILE *out)
{
	const struct vg_ctr_set *s = &dp_port_ctr_set;

	/* A column per row of the port table (dp_stats.c), headed by its JSON key with '-' for
	 * '_'; the traffic's packets and bytes are wider than the drops. */
	fprintf(out, "%-12s", "port");
	for (unsigned r = 0; r < s->n; r++) {
		char head[32];

		snprintf(head, sizeof(head), "%s", s->ctr[r].name);
		for (char *q = head; *q; q++)
			*q = *q == '_' ? '-' : *q;
		fprintf(out, " %*s", column_width(&s->ctr[r]), head);
	}
	fprintf(out, " %10s\n", "missed");
	for (unsigned i = 0; i < dp_n_ports(dp); i++) {
		const struct dp_port *p = dp_port(dp, i);
		struct dp_port_counters c;
		struct rte_eth_stats hw;

		dp_port_counters(dp, i, &c);
		memset(&hw, 0, sizeof(hw));
		rte_eth_stats_get(p->port_id, &hw);
		fprintf(out, "%-12s", p->cfg->name);
		for (unsigned r = 0; r < s->n; r++)
			fprintf(out, " %*" PRIu64, column_width(&s->ctr[r]),
					vg_ctr_read(&c, &s->ctr[r], 0));
		fprintf(out, " %10" PRIu64 "\n", hw.imissed + hw.rx_nombuf);
	}
	/* The worker table's rows that have a name in the stats line (dp_stats.c). */
	for (unsigned w = 0; w < dp_n_workers(dp); w++) {
		char line[256];

		fprintf(out, "worker %u (lcore %u):%s\n", w, dp_worker_lcore(dp, w),
				vg_ctr_stat_line(&dp_worker_ctr_set, dp_worker_counters(dp, w),
						line, sizeof(line)));
	}
}
