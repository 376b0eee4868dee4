/* SPDX-License-Identifier: BSD-3-Clause */
/* The workers' watchdog (ctl_watchdog.h). */
#include "ctl_watchdog.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ctr.h"
#include "ctl_ctx.h"
#include "ctl_store.h"
#include "dp.h"
#include "dp_failopen.h"
#include "dp_stats.h"
#include "vg_log.h"

struct wd_worker {
	uint64_t loops;	    /* the counter at the last change */
	uint64_t change_ms; /* when it last moved */
	bool stalled;
	bool failed_over;      /* failure open: control polls its queues */
	bool this_failed_over; /* the stall in course was failed over */
	struct ctl_watchdog_counters ctr;
	uint64_t longest_ms;
	uint64_t fo_packets; /* the fallback's count when this failover began */
	char last[400];	     /* the last stall or recovery, as logged */
};

struct ctl_watchdog {
	struct ctl_ctx *ctx;
	struct ctl_watchdog_opts o;
	unsigned n;
	pthread_mutex_t mu; /* workers: control writes, API threads read */
	uint64_t now_ms;
	uint64_t next_ms;	/* the next check: a tenth of the timeout apart, at most 100 ms */
	unsigned n_failed_over; /* control only */
	struct wd_worker *w;
};

static const char *const failure_names[] = { "closed", "open", NULL };

/* Bursts of a failed-over worker's queues per pass of control's loop, while they come. */
#define FAILOVER_BURSTS 16

void
ctl_watchdog_opts_defaults(struct ctl_watchdog_opts *o)
{
	o->timeout_ms = 2000;
	o->failure = CTL_WD_FAILURE_CLOSED;
}

static const struct vg_yaml_field wd_fields[] = {
	{ .name = "timeout",
			.type = VG_YT_MS,
			.off = offsetof(struct ctl_watchdog_opts, timeout_ms),
			.max = 3600 * 1000 },
	{ .name = "failure",
			.type = VG_YT_ENUM,
			.off = offsetof(struct ctl_watchdog_opts, failure),
			.names = failure_names },
	{ 0 },
};

int
ctl_watchdog_parse(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	struct ctl_watchdog_opts *o = obj;

	if (!vg_yaml_expect_map(y, n, "watchdog"))
		return -EINVAL;
	if (vg_yaml_map(y, n, "watchdog", wd_fields, obj) != 0)
		return -EINVAL;
	if (o->timeout_ms != 0 && o->timeout_ms < 100) {
		vg_yaml_err(y, n, "watchdog.timeout: at least 100ms (or 0 to turn it off)");
		return -EINVAL;
	}
	if (o->timeout_ms == 0 && o->failure == CTL_WD_FAILURE_OPEN) {
		vg_yaml_err(y, n,
				"watchdog.failure: open needs the watchdog (a timeout, not 0): "
				"nothing would tell that a worker stalled");
		return -EINVAL;
	}
	return 0;
}

struct ctl_watchdog *
ctl_watchdog_create(struct ctl_ctx *ctx, const struct ctl_watchdog_opts *o)
{
	struct ctl_watchdog *wd = calloc(1, sizeof(*wd));
	unsigned n = dp_n_workers(ctx->dp);

	if (wd == NULL || (wd->w = calloc(n ? n : 1, sizeof(*wd->w))) == NULL) {
		free(wd);
		errno = ENOMEM;
		return NULL;
	}
	if (o->failure == CTL_WD_FAILURE_OPEN && o->timeout_ms > 0) {
		int rc = dp_failopen_enable(ctx->dp);

		if (rc != 0) {
			CTL_LOG(ERR, "watchdog.failure open: cannot set up the queue locks: %s",
					strerror(-rc));
			free(wd->w);
			free(wd);
			errno = -rc;
			return NULL;
		}
		CTL_LOG(INFO, "watchdog: failure open: a stalled worker's queues are forwarded "
			      "unchanged by the control lcore until it comes back");
	}
	wd->ctx = ctx;
	wd->o = *o;
	wd->n = n;
	pthread_mutex_init(&wd->mu, NULL);
	return wd;
}

void
ctl_watchdog_free(struct ctl_watchdog *wd)
{
	if (wd == NULL)
		return;
	pthread_mutex_destroy(&wd->mu);
	free(wd->w);
	free(wd);
}

static void
audit(struct ctl_watchdog *wd, const char *action, unsigned w, const char *detail)
{
	char target[32];
	struct ctl_audit a = {
		.ts_ms = ctl_wall_ns() / 1000000ULL,
		.actor = "watchdog",
		.action = action,
		.target = target,
		.detail = detail,
		.result = "ok",
	};

	if (wd->ctx->store == NULL)
		return;
	snprintf(target, sizeof(target), "worker %u", w);
	(void)ctl_store_audit(wd->ctx->store, &a);
}

/* "in queue 0, out queue 0": the RX queues worker i polls. */
static void
queues_text(const struct ctl_watchdog *wd, unsigned i, char *buf, size_t len)
{
	uint16_t port[VG_MAX_PORTS], queue[VG_MAX_PORTS];
	unsigned n = dp_worker_queues(wd->ctx->dp, i, port, queue, VG_MAX_PORTS);
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned k = 0; k < n && k < VG_MAX_PORTS && o < len; k++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s queue %u", k ? ", " : "",
				dp_port(wd->ctx->dp, port[k])->cfg->name, queue[k]);
}

static uint64_t
fo_packets(const struct ctl_watchdog *wd, unsigned i)
{
	const struct dp_failopen_counters *c = dp_failopen_counters(wd->ctx->dp, i);

	return c != NULL ? dp_read_u64(&c->packets) : 0;
}

/* A stall found: say what becomes of the worker's queues, and fail over under failure open. */
static void
stalled(struct ctl_watchdog *wd, unsigned i, uint64_t ms)
{
	struct wd_worker *w = &wd->w[i];
	unsigned lcore = dp_worker_lcore(wd->ctx->dp, i);
	char queues[160], detail[400];
	const char *action = "worker stalled";

	queues_text(wd, i, queues, sizeof(queues));
	w->stalled = true;
	w->ctr.stalls++;
	if (wd->o.failure != CTL_WD_FAILURE_OPEN) {
		snprintf(detail, sizeof(detail),
				"worker %u (lcore %u) has not run its loop for %" PRIu64
				" ms: failure closed: queues of worker %u not forwarded (%s)",
				i, lcore, ms, i, queues[0] ? queues : "none");
	} else if (queues[0] == '\0') {
		snprintf(detail, sizeof(detail),
				"worker %u (lcore %u) has not run its loop for %" PRIu64
				" ms: failure open, but it polls no queue: the frames the dispatch "
				"hands it wait in its rings (lost when they are full)",
				i, lcore, ms);
	} else {
		w->failed_over = w->this_failed_over = true;
		w->ctr.failovers++;
		w->fo_packets = fo_packets(wd, i);
		wd->n_failed_over++;
		action = "worker failed over";
		snprintf(detail, sizeof(detail),
				"worker %u (lcore %u) has not run its loop for %" PRIu64
				" ms: failure open: queues of worker %u (%s) failed over: the "
				"control lcore forwards them unchanged, without inspection",
				i, lcore, ms, i, queues);
	}
	snprintf(w->last, sizeof(w->last), "%s", detail);
	CTL_LOG(WARNING, "watchdog: %s", detail);
	audit(wd, action, i, detail);
}

static void
resumed(struct ctl_watchdog *wd, unsigned i, uint64_t ms)
{
	struct wd_worker *w = &wd->w[i];
	unsigned lcore = dp_worker_lcore(wd->ctx->dp, i);
	char detail[400];

	w->stalled = false;
	if (w->failed_over) {
		/* The poll hands the queues back as soon as it sees the loop move; this is the
		 * check that found the stall over first. */
		w->failed_over = false;
		wd->n_failed_over--;
	}
	if (w->this_failed_over)
		snprintf(detail, sizeof(detail),
				"worker %u (lcore %u) runs again after %" PRIu64
				" ms without a loop: fail-open ends, its queues are handed back "
				"(%" PRIu64 " frames forwarded unchanged meanwhile)",
				i, lcore, ms, fo_packets(wd, i) - w->fo_packets);
	else
		snprintf(detail, sizeof(detail),
				"worker %u (lcore %u) runs again after %" PRIu64
				" ms without a loop: %s",
				i, lcore, ms,
				dp_worker_queues(wd->ctx->dp, i, NULL, NULL, 0) > 0
						? "it serves its queues again"
						: "it takes the frames handed to it again");
	w->this_failed_over = false;
	snprintf(w->last, sizeof(w->last), "%s", detail);
	CTL_LOG(NOTICE, "watchdog: %s", detail);
	audit(wd, "worker resumed", i, detail);
}

void
ctl_watchdog_tick(struct ctl_watchdog *wd, uint64_t now_ms)
{
	if (wd == NULL || wd->o.timeout_ms == 0 || now_ms < wd->next_ms)
		return;
	wd->next_ms = now_ms + (wd->o.timeout_ms / 10 < 100 ? wd->o.timeout_ms / 10 : 100);
	pthread_mutex_lock(&wd->mu);
	wd->now_ms = now_ms;
	for (unsigned i = 0; i < wd->n; i++) {
		struct wd_worker *w = &wd->w[i];
		uint64_t loops = dp_read_u64(&dp_worker_counters(wd->ctx->dp, i)->loops);

		if (w->change_ms == 0 || loops != w->loops) {
			if (w->stalled)
				resumed(wd, i, now_ms - w->change_ms);
			w->loops = loops;
			w->change_ms = now_ms;
			continue;
		}
		uint64_t ms = now_ms - w->change_ms;

		if (ms > w->longest_ms)
			w->longest_ms = ms;
		if (!w->stalled && ms >= wd->o.timeout_ms)
			stalled(wd, i, ms);
	}
	pthread_mutex_unlock(&wd->mu);
}

bool
ctl_watchdog_failover_poll(struct ctl_watchdog *wd)
{
	if (wd == NULL || wd->n_failed_over == 0)
		return false;
	for (unsigned i = 0; i < wd->n; i++) {
		struct wd_worker *w = &wd->w[i];

		if (!w->failed_over)
			continue;
		/* The worker's loop moved: it polls its queues again (under the same locks), so
		 * the fallback stops here; the next check reports the recovery. */
		if (dp_read_u64(&dp_worker_counters(wd->ctx->dp, i)->loops) != w->loops) {
			pthread_mutex_lock(&wd->mu);
			w->failed_over = false;
			wd->n_failed_over--;
			pthread_mutex_unlock(&wd->mu);
			continue;
		}
		for (unsigned b = 0; b < FAILOVER_BURSTS; b++)
			if (dp_failopen_poll(wd->ctx->dp, i) == 0)
				break;
	}
	return wd->n_failed_over > 0;
}

json_t *
ctl_watchdog_worker_json(struct ctl_watchdog *wd, unsigned i)
{
	static const struct dp_failopen_counters none; /* a worker without the fallback */
	const struct dp_failopen_counters *c;
	json_t *j;

	if (wd == NULL || i >= wd->n)
		return json_null();
	c = dp_failopen_counters(wd->ctx->dp, i);
	pthread_mutex_lock(&wd->mu);
	const struct wd_worker *w = &wd->w[i];
	j = json_pack("{s:b, s:I, s:I, s:I, s:s, s:b, s:o, s:s?}", "stalled", w->stalled,
			"stalled_ms", (json_int_t)(w->stalled ? wd->now_ms - w->change_ms : 0),
			"longest_stall_ms", (json_int_t)w->longest_ms, "timeout_ms",
			(json_int_t)wd->o.timeout_ms, "failure", failure_names[wd->o.failure],
			"failed_over", w->failed_over, "failopen", json_object(), "last_event",
			w->last[0] ? w->last : NULL);
	if (j != NULL)
		ctl_ctr_json(&ctl_watchdog_ctr_set, &w->ctr, j, NULL);
	pthread_mutex_unlock(&wd->mu);
	if (j != NULL)
		ctl_ctr_json(&dp_failopen_ctr_set, c != NULL ? c : &none,
				json_object_get(j, "failopen"), NULL);
	return j;
}
