/* SPDX-License-Identifier: BSD-3-Clause */
/* The workers' watchdog (ctl_watchdog.h). */
#include "ctl_watchdog.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ctx.h"
#include "ctl_store.h"
#include "dp.h"
#include "dp_stats.h"
#include "vg_log.h"

struct wd_worker {
	uint64_t loops;	    /* the counter at the last change */
	uint64_t change_ms; /* when it last moved */
	bool stalled;
	uint64_t stalls;
	uint64_t longest_ms;
};

struct ctl_watchdog {
	struct ctl_ctx *ctx;
	struct ctl_watchdog_opts o;
	unsigned n;
	pthread_mutex_t mu; /* workers: control writes, API threads read */
	uint64_t now_ms;
	uint64_t next_ms; /* the next check: a tenth of the timeout apart, at most 100 ms */
	struct wd_worker *w;
};

void
ctl_watchdog_opts_defaults(struct ctl_watchdog_opts *o)
{
	o->timeout_ms = 2000;
}

static const struct vg_yaml_field wd_fields[] = {
	{ .name = "timeout",
			.type = VG_YT_MS,
			.off = offsetof(struct ctl_watchdog_opts, timeout_ms),
			.max = 3600 * 1000 },
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
	return 0;
}

struct ctl_watchdog *
ctl_watchdog_create(struct ctl_ctx *ctx, const struct ctl_watchdog_opts *o)
{
	struct ctl_watchdog *wd = calloc(1, sizeof(*wd));
	unsigned n = dp_n_workers(ctx->dp);

	if (wd == NULL || (wd->w = calloc(n ? n : 1, sizeof(*wd->w))) == NULL) {
		free(wd);
		return NULL;
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

void
ctl_watchdog_tick(struct ctl_watchdog *wd, uint64_t now_ms)
{
	char detail[160];

	if (wd == NULL || wd->o.timeout_ms == 0 || now_ms < wd->next_ms)
		return;
	wd->next_ms = now_ms + (wd->o.timeout_ms / 10 < 100 ? wd->o.timeout_ms / 10 : 100);
	pthread_mutex_lock(&wd->mu);
	wd->now_ms = now_ms;
	for (unsigned i = 0; i < wd->n; i++) {
		struct wd_worker *w = &wd->w[i];
		uint64_t loops = dp_read_u64(&dp_worker_counters(wd->ctx->dp, i)->loops);
		unsigned lcore = dp_worker_lcore(wd->ctx->dp, i);

		if (w->change_ms == 0 || loops != w->loops) {
			if (w->stalled) {
				uint64_t ms = now_ms - w->change_ms;

				w->stalled = false;
				snprintf(detail, sizeof(detail),
						"worker %u (lcore %u) runs again after %" PRIu64
						" ms without a loop",
						i, lcore, ms);
				CTL_LOG(NOTICE, "watchdog: %s", detail);
				audit(wd, "worker resumed", i, detail);
			}
			w->loops = loops;
			w->change_ms = now_ms;
			continue;
		}
		uint64_t ms = now_ms - w->change_ms;

		if (ms > w->longest_ms)
			w->longest_ms = ms;
		if (!w->stalled && ms >= wd->o.timeout_ms) {
			w->stalled = true;
			w->stalls++;
			snprintf(detail, sizeof(detail),
					"worker %u (lcore %u) has not run its loop for %" PRIu64
					" ms: its queues are not served, nothing crosses them",
					i, lcore, ms);
			CTL_LOG(WARNING, "watchdog: %s", detail);
			audit(wd, "worker stalled", i, detail);
		}
	}
	pthread_mutex_unlock(&wd->mu);
}

json_t *
ctl_watchdog_worker_json(struct ctl_watchdog *wd, unsigned i)
{
	json_t *j;

	if (wd == NULL || i >= wd->n)
		return json_null();
	pthread_mutex_lock(&wd->mu);
	const struct wd_worker *w = &wd->w[i];
	j = json_pack("{s:b, s:I, s:I, s:I, s:I}", "stalled", w->stalled, "stalled_ms",
			(json_int_t)(w->stalled ? wd->now_ms - w->change_ms : 0), "stalls",
			(json_int_t)w->stalls, "longest_stall_ms", (json_int_t)w->longest_ms,
			"timeout_ms", (json_int_t)wd->o.timeout_ms);
	pthread_mutex_unlock(&wd->mu);
	return j;
}
