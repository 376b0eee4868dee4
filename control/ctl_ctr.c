/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "al.h"
#include "ctl_ctr.h"
#include "ctl_events.h"
#include "ctl_ipfix.h"
#include "ctl_store.h"
#include "ctl_watchdog.h"
#include "dp_evq.h"
#include "dp_failopen.h"
#include "dp_flow.h"
#include "dp_frag.h"
#include "dp_inspect.h"
#include "dp_parse.h"
#include "dp_reasm.h"
#include "dp_stats.h"

static const char *const type_names[] = {
	[0] = "?",
	[DP_EV_FLOW_START] = "flow_start",
	[DP_EV_FLOW_UPDATE] = "flow_update",
	[DP_EV_FLOW_END] = "flow_end",
	[DP_EV_ALERT] = "alert",
	[DP_EV_TXMETA] = "txmeta",
};

const char *
ctl_event_type_name(uint8_t type)
{
	return type <= DP_EV_TXMETA ? type_names[type] : "?";
}

static const char *
end_name(unsigned i)
{
	return dp_end_reason_name((enum dp_end_reason)i);
}

/* Element 0 of by_type and ends is no type and no reason: never counted. */
static const struct vg_ctr events_rows[] = {
	VG_CTR(struct ctl_events_counters, drained, "drained", COUNTER, "events",
			.prom = "vigil_control_events_drained_total",
			.help = "Events control took off the workers' rings."),
	VG_CTR_ARRAY_FN(struct ctl_events_counters, by_type, DP_EV_FLOW_START, "by_type", COUNTER,
			"events", NULL, "type", .names = type_names, .head_unused = true,
			.prom = "vigil_control_events_by_type_total",
			.help = "Events control took off the workers' rings, by type."),
	VG_CTR_ARRAY_FN(struct ctl_events_counters, ends, DP_END_FIN, "flow_ends", COUNTER, "flows",
			end_name, "reason", .head_unused = true,
			.prom = "vigil_control_flow_ends_total",
			.help = "Flow end events control took off the workers' rings, by reason."),
	VG_CTR(struct ctl_events_counters, seq_gaps, "seq_gaps", COUNTER, "gaps",
			.prom = "vigil_control_event_seq_gaps_total",
			.help = "Gaps in event sequence numbers seen by control."),
	VG_CTR(struct ctl_events_counters, out_of_order, "out_of_order", COUNTER, "events",
			.prom = "vigil_control_events_out_of_order_total",
			.help = "Events handled before an earlier one of another worker could be "
				"ruled out (several workers, one far behind)."),
};
const struct vg_ctr_set ctl_events_ctr_set =
		VG_CTR_SET("control", struct ctl_events_counters, events_rows);

/* The watchdog's (ctl_watchdog.h), here for the same reason. */
static const struct vg_ctr watchdog_rows[] = {
	VG_CTR(struct ctl_watchdog_counters, stalls, "stalls", COUNTER, "stalls",
			.prom = "vigil_worker_stalls_total",
			.help = "Times the watchdog found the worker's loop stopped for longer than "
				"watchdog.timeout."),
	VG_CTR(struct ctl_watchdog_counters, failovers, "failovers", COUNTER, "failovers",
			.prom = "vigil_worker_failovers_total",
			.help = "Times the worker's queues were failed over to the control lcore."),
};
const struct vg_ctr_set ctl_watchdog_ctr_set =
		VG_CTR_SET("watchdog", struct ctl_watchdog_counters, watchdog_rows);

static const struct ctl_ctr_section sections[CTL_CTR__COUNT] = {
	[CTL_CTR_PORTS] = { "ports[]", &dp_port_ctr_set, "port", "name", CTL_PROM_TABLE },
	[CTL_CTR_WORKERS] = { "workers[]", &dp_worker_ctr_set, "worker", "id", CTL_PROM_TABLE },
	[CTL_CTR_WORKER_TRAFFIC] = { "workers[]", &dp_port_ctr_set, "worker", "id", CTL_PROM_ROWS },
	[CTL_CTR_QUEUES] = { "workers[].queues[]", &dp_port_ctr_set, "worker", "id",
			CTL_PROM_ROWS },
	[CTL_CTR_HANDOFF] = { "workers[].handoff", &dp_handoff_ctr_set, "worker", "id",
			CTL_PROM_TABLE },
	[CTL_CTR_POLICY] = { "policy", &dp_policy_ctr_set, NULL, NULL, CTL_PROM_TABLE },
	[CTL_CTR_WORKER_POLICY] = { "workers[].policy", &dp_policy_ctr_set, "worker", "id",
			CTL_PROM_NONE },
	[CTL_CTR_INSPECTION] = { "inspection", &dp_inspect_ctr_set, NULL, NULL, CTL_PROM_TABLE },
	[CTL_CTR_FRAGMENTS] = { "fragments", &dp_frag_ctr_set, NULL, NULL, CTL_PROM_TABLE },
	[CTL_CTR_REASSEMBLY] = { "fragments.reassembly", &dp_reasm_ctr_set, NULL, NULL,
			CTL_PROM_TABLE },
	[CTL_CTR_WORKER_FRAGMENTS] = { "workers[].fragments", &dp_frag_ctr_set, "worker", "id",
			CTL_PROM_NONE },
	[CTL_CTR_WORKER_REASSEMBLY] = { "workers[].fragments.reassembly", &dp_reasm_ctr_set,
			"worker", "id", CTL_PROM_NONE },
	[CTL_CTR_PARSE] = { "parse", &dp_parse_ctr_set, NULL, NULL, CTL_PROM_TABLE },
	[CTL_CTR_WORKER_PARSE] = { "workers[].parse", &dp_parse_ctr_set, "worker", "id",
			CTL_PROM_NONE },
	[CTL_CTR_EVENTS] = { "control.events", &ctl_events_ctr_set, NULL, NULL, CTL_PROM_TABLE },
	[CTL_CTR_FLOWS] = { "flows", &dp_flow_ctr_set, NULL, NULL, CTL_PROM_TABLE },
	[CTL_CTR_WORKER_FLOWS] = { "workers[].flows", &dp_flow_ctr_set, "worker", "id",
			CTL_PROM_NONE },
	[CTL_CTR_WORKER_EVENTS] = { "workers[].events", &dp_evq_ctr_set, "worker", "id",
			CTL_PROM_TABLE },
	[CTL_CTR_WORKER_EVENTS_SUM] = { "events", &dp_evq_ctr_set, NULL, NULL, CTL_PROM_NONE },
	[CTL_CTR_WATCHDOG] = { "workers[].watchdog", &ctl_watchdog_ctr_set, "worker", "id",
			CTL_PROM_TABLE },
	[CTL_CTR_FAILOPEN] = { "workers[].watchdog.failopen", &dp_failopen_ctr_set, "worker", "id",
			CTL_PROM_TABLE },
	[CTL_CTR_APPLAYER] = { "applayer", &al_ctr_set, NULL, NULL, CTL_PROM_TABLE },
	[CTL_CTR_STORE] = { "store", &ctl_store_ctr_set, NULL, NULL, CTL_PROM_TABLE },
	[CTL_CTR_EVE] = { "eve", &ctl_eve_ctr_set, NULL, NULL, CTL_PROM_TABLE },
	[CTL_CTR_EVE_SYSLOG] = { CTL_EVE_OUT_KEY_SYSLOG, &ctl_eve_out_ctr_set, NULL, NULL,
			CTL_PROM_TABLE, "output=\"" CTL_EVE_OUT_KEY_SYSLOG "\"" },
	[CTL_CTR_EVE_SOCKET] = { CTL_EVE_OUT_KEY_SOCKET, &ctl_eve_out_ctr_set, NULL, NULL,
			CTL_PROM_TABLE, "output=\"" CTL_EVE_OUT_KEY_SOCKET "\"" },
	[CTL_CTR_IPFIX] = { "ipfix", &ctl_ipfix_ctr_set, NULL, NULL, CTL_PROM_TABLE },
};

const struct ctl_ctr_section *
ctl_ctr_sections(unsigned *n)
{
	*n = CTL_CTR__COUNT;
	return sections;
}

/* root's object at the dotted path, made when missing; NULL on allocation failure. */
static json_t *
object_at(json_t *root, const char *path)
{
	char key[64];

	while (*path != '\0') {
		size_t n = strcspn(path, ".");
		json_t *o;

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(root, key);
		if (o == NULL) {
			o = json_object();
			if (o == NULL || json_object_set_new(root, key, o) != 0)
				return NULL;
		}
		root = o;
		path += n;
		if (*path == '.')
			path++;
	}
	return root;
}

/* obj[key] += v (obj[key] made when missing). */
static int
add_int(json_t *obj, const char *key, uint64_t v)
{
	json_t *cur = json_object_get(obj, key);

	v += cur != NULL ? (uint64_t)json_integer_value(cur) : 0;
	return json_object_set_new(obj, key, json_integer((json_int_t)v));
}

json_t *
ctl_ctr_with(json_t *obj, const struct vg_ctr_set *s, const void *base)
{
	if (obj != NULL && ctl_ctr_json(s, base, obj, NULL) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

int
ctl_ctr_json(const struct vg_ctr_set *s, const void *base, json_t *obj, json_t *root)
{
	int rc = 0;

	for (unsigned r = 0; r < s->n; r++) {
		const struct vg_ctr *c = &s->ctr[r];
		json_t *to;

		if (c->n == 0) {
			rc |= add_int(obj, c->name, vg_ctr_read(base, c, 0));
			continue;
		}
		if (c->json_at != NULL && root == NULL)
			continue;
		to = c->json_at != NULL ? object_at(root, c->json_at) : object_at(obj, c->name);
		if (to == NULL)
			return -ENOMEM;
		for (unsigned i = 0; i < c->n; i++) {
			uint64_t v = vg_ctr_read(base, c, i);

			if (v != 0 || !c->json_nonzero)
				rc |= add_int(to, vg_ctr_elem_name(c, i), v);
		}
	}
	return rc != 0 ? -ENOMEM : 0;
}
