/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_ctr.h"
#include "mg_api_ctr.h"
#include "mg_prom.h"

/*
 * One row: the value at path becomes a sample of family name. Path segments are separated by
 * '.'; "seg[]" walks an array and "*" the members of an object (either may be followed by a
 * path inside each element). With label set, each element
 * (or member) is a sample labelled with the element's field label_from (or the member's name);
 * with label NULL, the elements are summed into one sample. "obj.*.*" walks the members of
 * each member: a sample per inner member, labelled label (the outer member's name) and label2
 * (the inner one's). "arr[].sub[].rest" walks the array sub of each element: a sample per
 * inner element, labelled label (the outer element's label_from) and by each inner field that
 * label2 lists (comma-separated; each label is named as its field). const_label adds a fixed label
 * pair ("reason=\"parse\"") to tell rows of one family apart. The first row of a family gives its
 * help and type.
 *
 * The counters of the dataplane's tables are not here: their rows are made from the tables
 * (table_rows(), ctl_ctr.h) and may join a family of this table (vigil_dropped_packets_total).
 */
struct prom_row {
	const char *name;
	const char *type; /* counter, gauge */
	const char *help;
	const char *path;
	const char *label;
	const char *label_from; /* element field for [] ("name", "id"); NULL for * */
	const char *const_label;
	double scale;	    /* multiply the value (Mb/s to byte/s, ms to s); 0 means 1 */
	const char *label2; /* "obj.*.*": the inner member's label; "a[].b[]": the inner fields */
};

static const struct prom_row rows[] = {
	{ "vigil_info", "gauge", "Build and running state of the appliance (value 1).", "", NULL,
			NULL, NULL },
	{ "vigil_uptime_seconds", "gauge", "Seconds since vigild started.", "uptime_s", NULL, NULL,
			NULL },
	{ "vigil_dry_run", "gauge", "1 in dry-run mode (verdicts counted, not applied), else 0.",
			"", NULL, NULL, NULL },

	/* Ports. */
	{ "vigil_port_up", "gauge", "1 when the port has link.", "ports[].link.up", "port", "name",
			NULL },
	/* Base units as Prometheus names them (bytes, seconds): promtool check metrics wants
	 * them, and tests/api/test_prometheus.py runs it on this output. */
	{ "vigil_port_link_speed_bytes_per_second", "gauge", "Link speed of the port.",
			"ports[].link.speed_mbps", "port", "name", NULL, 1e6 / 8 },
	{ "vigil_port_link_changes_total", "counter",
			"Changes of the port's link state seen since start (docs/OPERATIONS.md, Link "
			"state).",
			"ports[].link.changes", "port", "name", NULL },
	{ "vigil_port_link_interrupts_total", "counter",
			"Link-state-change interrupts the port's driver raised since start (0 where "
			"the link is polled only: docs/OPERATIONS.md, Link state).",
			"ports[].link.interrupts", "port", "name", NULL },
	{ "vigil_port_link_held_down", "gauge",
			"1 while link propagation holds the port down because its peer lost its link.",
			"ports[].link.held_down", "port", "name", NULL },
	{ "vigil_port_rx_missed_packets_total", "counter",
			"Packets the NIC dropped because RX descriptors ran out.",
			"ports[].rx_missed", "port", "name", NULL },
	{ "vigil_port_rx_nombuf_total", "counter", "RX mbuf allocation failures of the port.",
			"ports[].rx_nombuf", "port", "name", NULL },

	/* Drops by reason, over every port and worker. */
	/* With the rows of the policy table's dropped and l2_dropped and the parser's dropped
	 * (dataplane/dp_stats.c). The parser's errors, anomalies and packets by kind are its
	 * table's too. */
	{ "vigil_dropped_packets_total", "counter", "Packets dropped, by reason.",
			"ports[].tx_full", NULL, NULL, "reason=\"tx_full\"" },
	{ "vigil_dropped_packets_total", NULL, NULL, "ports[].rx_missed", NULL, NULL,
			"reason=\"rx_missed\"" },

	/* Policy. */
	{ "vigil_rule_packets_total", "counter", "Packets that matched the rule.",
			"rules[].packets", "rule", "name", NULL },
	{ "vigil_rule_bytes_total", "counter", "Bytes of packets that matched the rule.",
			"rules[].bytes", "rule", "name", NULL },
	{ "vigil_rule_flows_total", "counter", "Flows classified by the rule.", "rules[].flows",
			"rule", "name", NULL },
	{ "vigil_rule_would_drop_packets_total", "counter",
			"Packets of the rule a dry-run verdict would have dropped.",
			"rules[].would_drop", "rule", "name", NULL },

	/* eBPF programs of policy rules (docs/BPF.md). */
	{ "vigil_bpf_runs_total", "counter", "Runs of the rule's eBPF program.", "bpf[].runs",
			"rule", "name", NULL },
	{ "vigil_bpf_verdicts_total", "counter", "Verdicts of the rule's eBPF program.",
			"bpf[].pass", "rule", "name", "verdict=\"pass\"" },
	{ "vigil_bpf_verdicts_total", NULL, NULL, "bpf[].drop", "rule", "name",
			"verdict=\"drop\"" },
	{ "vigil_bpf_verdicts_total", NULL, NULL, "bpf[].reject", "rule", "name",
			"verdict=\"reject\"" },
	{ "vigil_bpf_verdicts_total", NULL, NULL, "bpf[].allow", "rule", "name",
			"verdict=\"allow\"" },
	{ "vigil_bpf_verdicts_total", NULL, NULL, "bpf[].invalid", "rule", "name",
			"verdict=\"invalid\"" },
	{ "vigil_bpf_cached_total", "counter",
			"Runs whose answer the program made the flow's (later packets skip it).",
			"bpf[].cached", "rule", "name", NULL },
	{ "vigil_bpf_alerts_total", "counter", "Alerts the rule's eBPF program raised.",
			"bpf[].alerts", "rule", "name", NULL },
	{ "vigil_bpf_cycles_per_run", "gauge",
			"TSC cycles per run of the rule's eBPF program (one run in 64 timed).",
			"bpf[].cycles_per_run", "rule", "name", NULL },
	{ "vigil_bpf_map_lookups_total", "counter",
			"Lookups of the map by the rule's eBPF program (docs/BPF.md, Maps).",
			"bpf[].maps[].lookups", "rule", "name", NULL, 0, "map" },
	{ "vigil_bpf_map_hits_total", "counter",
			"Lookups of the map by the rule's eBPF program that found a value.",
			"bpf[].maps[].hits", "rule", "name", NULL, 0, "map" },
	{ "vigil_bpf_map_updates_total", "counter",
			"Entries the rule's eBPF program put in the map.", "bpf[].maps[].updates",
			"rule", "name", NULL, 0, "map" },
	{ "vigil_bpf_map_deletes_total", "counter",
			"Entries the rule's eBPF program removed from the map.",
			"bpf[].maps[].deletes", "rule", "name", NULL, 0, "map" },

	/* eBPF pre-filters (docs/BPF.md). */
	{ "vigil_bpf_prefilter_runs_total", "counter", "Runs of the port's eBPF pre-filter.",
			"bpf_prefilters[].runs", "prefilter", "name", NULL },
	{ "vigil_bpf_prefilter_verdicts_total", "counter",
			"Verdicts of the port's eBPF pre-filter.", "bpf_prefilters[].pass",
			"prefilter", "name", "verdict=\"pass\"" },
	{ "vigil_bpf_prefilter_verdicts_total", NULL, NULL, "bpf_prefilters[].drop", "prefilter",
			"name", "verdict=\"drop\"" },
	{ "vigil_bpf_prefilter_verdicts_total", NULL, NULL, "bpf_prefilters[].reject", "prefilter",
			"name", "verdict=\"reject\"" },
	{ "vigil_bpf_prefilter_verdicts_total", NULL, NULL, "bpf_prefilters[].allow", "prefilter",
			"name", "verdict=\"allow\"" },
	{ "vigil_bpf_prefilter_verdicts_total", NULL, NULL, "bpf_prefilters[].invalid", "prefilter",
			"name", "verdict=\"invalid\"" },
	{ "vigil_bpf_prefilter_alerts_total", "counter",
			"Alerts the port's eBPF pre-filter raised.", "bpf_prefilters[].alerts",
			"prefilter", "name", NULL },
	{ "vigil_bpf_prefilter_cycles_per_run", "gauge",
			"TSC cycles per run of the port's eBPF pre-filter (one run in 64 timed).",
			"bpf_prefilters[].cycles_per_run", "prefilter", "name", NULL },
	{ "vigil_bpf_prefilter_map_lookups_total", "counter",
			"Lookups of the map by the port's eBPF pre-filter.",
			"bpf_prefilters[].maps[].lookups", "prefilter", "name", NULL, 0, "map" },
	{ "vigil_bpf_prefilter_map_hits_total", "counter",
			"Lookups of the map by the port's eBPF pre-filter that found a value.",
			"bpf_prefilters[].maps[].hits", "prefilter", "name", NULL, 0, "map" },
	{ "vigil_bpf_prefilter_map_updates_total", "counter",
			"Entries the port's eBPF pre-filter put in the map.",
			"bpf_prefilters[].maps[].updates", "prefilter", "name", NULL, 0, "map" },
	{ "vigil_bpf_prefilter_map_deletes_total", "counter",
			"Entries the port's eBPF pre-filter removed from the map.",
			"bpf_prefilters[].maps[].deletes", "prefilter", "name", NULL, 0, "map" },

	/* Workers. */
	{ "vigil_worker_stalled", "gauge",
			"1 while the watchdog finds the worker's loop stopped for longer than "
			"watchdog.timeout.",
			"workers[].watchdog.stalled", "worker", "id", NULL },
	{ "vigil_worker_failed_over", "gauge",
			"1 while the stalled worker's queues are forwarded unchanged by the control "
			"lcore (watchdog.failure: open).",
			"workers[].watchdog.failed_over", "worker", "id", NULL },
	/* Workers' traffic and queues (docs/OPERATIONS.md, Workers and queues). */
	{ "vigil_worker_rx_packets_total", "counter",
			"Packets the worker received, over its queues.", "workers[].rx_packets",
			"worker", "id", NULL },
	{ "vigil_worker_rx_bytes_total", "counter", "Bytes the worker received, over its queues.",
			"workers[].rx_bytes", "worker", "id", NULL },
	{ "vigil_worker_tx_packets_total", "counter", "Packets the worker sent, over its queues.",
			"workers[].tx_packets", "worker", "id", NULL },
	{ "vigil_worker_tx_bytes_total", "counter", "Bytes the worker sent, over its queues.",
			"workers[].tx_bytes", "worker", "id", NULL },
	{ "vigil_worker_dropped_packets_total", "counter",
			"Packets the worker received that a verdict dropped.", "workers[].dropped",
			"worker", "id", NULL },
	{ "vigil_worker_tx_full_packets_total", "counter",
			"Packets the worker was to send that its TX queues had no room for.",
			"workers[].tx_full", "worker", "id", NULL },
	{ "vigil_worker_flows_active", "gauge", "Flows in the worker's flow table.",
			"workers[].flows.active", "worker", "id", NULL },
	{ "vigil_queue_rx_packets_total", "counter",
			"Packets received on the queue (the port's queue the worker polls).",
			"workers[].queues[].rx_packets", "worker", "id", NULL, 0, "port,queue" },
	{ "vigil_queue_rx_bytes_total", "counter", "Bytes received on the queue.",
			"workers[].queues[].rx_bytes", "worker", "id", NULL, 0, "port,queue" },
	{ "vigil_queue_tx_packets_total", "counter",
			"Packets the worker sent on its TX queue of the port (the same index).",
			"workers[].queues[].tx_packets", "worker", "id", NULL, 0, "port,queue" },
	{ "vigil_queue_tx_bytes_total", "counter",
			"Bytes the worker sent on its TX queue of the port.",
			"workers[].queues[].tx_bytes", "worker", "id", NULL, 0, "port,queue" },
	{ "vigil_queue_dropped_packets_total", "counter",
			"Packets received on the queue that a verdict dropped.",
			"workers[].queues[].dropped", "worker", "id", NULL, 0, "port,queue" },
	{ "vigil_queue_tx_full_packets_total", "counter",
			"Packets the worker was to send on its TX queue of the port that had no room.",
			"workers[].queues[].tx_full", "worker", "id", NULL, 0, "port,queue" },
	{ "vigil_tsc_hertz", "gauge", "TSC frequency (to turn cycles into seconds).", "tsc_hz",
			NULL, NULL, NULL },

	/* Flows. */
	{ "vigil_flows_capacity", "gauge", "Flows the flow tables can hold.", "flows.capacity",
			NULL, NULL, NULL },
	{ "vigil_flows_memory_bytes", "gauge", "Memory of the flow tables.", "flows.memory_bytes",
			NULL, NULL, NULL },

	/* Control. */
	{ "vigil_events_lost_total", "counter", "Events lost on the rings from workers to control.",
			"events.lost", NULL, NULL, NULL },
	{ "vigil_alerts_total", "counter", "Alerts raised, by severity.",
			"analysis.alerts.by_severity.*", "severity", NULL, NULL },
	{ "vigil_alerts_by_kind_total", "counter", "Alerts raised, by kind.",
			"analysis.alerts.signature", NULL, NULL, "kind=\"signature\"" },
	{ "vigil_alerts_by_kind_total", NULL, NULL, "analysis.alerts.anomaly", NULL, NULL,
			"kind=\"anomaly\"" },
	{ "vigil_anomaly_findings_total", "counter", "Findings of each anomaly detector.",
			"analysis.detectors.*.findings", "detector", NULL, NULL },
	{ "vigil_blocklist_entries", "gauge", "Addresses on the blocklist.",
			"analysis.blocklist.entries", NULL, NULL, NULL },
	{ "vigil_alert_app_facts_total", "counter",
			"Signature alerts of an application-layer transaction: given the "
			"transaction's facts (attached), without them because its TXMETA event was "
			"lost (missing); TXMETA events whose alert was lost (unpaired).",
			"inspection.app_alerts.*", "result", NULL, NULL },
	{ "vigil_signature_pcre_limit_hits_total", "counter",
			"Signature pcres that reached PCRE2's match or recursion limit "
			"(signatures.pcre_match_limit, pcre_recursion_limit) and were taken as not "
			"matching; per signature in /api/v1/rules/counters.",
			"inspection.pcre_limit_hits", NULL, NULL, NULL },

	/* The application layer (parsers on inspected flows), over every worker. */
	{ "vigil_applayer_anomalies_total", "counter",
			"Anomalies the application-layer parsers found, by protocol and name "
			"(Suricata's app-layer event names where Suricata has the event).",
			"applayer.anomalies.*.*", "proto", NULL, NULL, 0, "name" },
	{ "vigil_applayer_memory_bytes", "gauge", "Parser arena bytes in use.",
			"applayer.memory_bytes", NULL, NULL, NULL },

	{ "vigil_store_pending_rows", "gauge",
			"Rows on control waiting for the store's next batch (how far the store lags).",
			"store.pending", NULL, NULL, NULL },
	{ "vigil_store_queued_rows", "gauge",
			"Rows handed to the store's writer thread and not written yet.",
			"store.queued", NULL, NULL, NULL },
	{ "vigil_store_durable_pending_rows", "gauge",
			"Durable rows (API blocks, versions) not written yet; kept and retried.",
			"store.durable_pending", NULL, NULL, NULL },
	{ "vigil_store_failing", "gauge", "1 while the store's last write attempt failed.",
			"store.failing", NULL, NULL, NULL },
	{ "vigil_store_writer_busy_seconds", "gauge",
			"How long the store's writer has been in its current write (a stalled disk).",
			"store.writer_busy_ms", NULL, NULL, NULL, 1e-3 },
	{ "vigil_eve_lines_queued", "gauge", "EVE lines waiting to be written.", "eve.queued", NULL,
			NULL, NULL },
	{ "vigil_eve_failing", "gauge", "1 while the EVE log's last write failed.", "eve.failing",
			NULL, NULL, NULL },
	{ "vigil_eve_output_queued", "gauge", "EVE messages waiting to be sent to a receiver.",
			"eve_syslog.queued", NULL, NULL, "output=\"eve_syslog\"" },
	{ "vigil_eve_output_queued", NULL, NULL, "eve_socket.queued", NULL, NULL,
			"output=\"eve_socket\"" },
	{ "vigil_eve_output_connected", "gauge", "1 while the output has a socket to its receiver.",
			"eve_syslog.connected", NULL, NULL, "output=\"eve_syslog\"" },
	{ "vigil_eve_output_connected", NULL, NULL, "eve_socket.connected", NULL, NULL,
			"output=\"eve_socket\"" },
	{ "vigil_eve_output_failing", "gauge", "1 while the output's last connect or send failed.",
			"eve_syslog.failing", NULL, NULL, "output=\"eve_syslog\"" },
	{ "vigil_eve_output_failing", NULL, NULL, "eve_socket.failing", NULL, NULL,
			"output=\"eve_socket\"" },
	{ "vigil_ipfix_records_queued", "gauge", "IPFIX records waiting to be sent.",
			"ipfix.queued", NULL, NULL, NULL },
	{ "vigil_ipfix_connected", "gauge", "1 while the exporter has a socket to its collector.",
			"ipfix.connected", NULL, NULL, NULL },
	{ "vigil_ipfix_failing", "gauge",
			"1 while the last connect or send to the collector failed.",
			"ipfix.failing", NULL, NULL, NULL },

};

struct out {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = true;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = (o->cap + (size_t)n + 1) * 2;
		char *b = realloc(o->buf, cap);

		if (b == NULL) {
			o->failed = true;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
}

/* A label value with \, " and newline escaped as the format asks. */
static void
put_label_value(struct out *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			put(o, "\\\\");
		else if (*v == '"')
			put(o, "\\\"");
		else if (*v == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *v);
	}
}

/* A number sample; booleans are 0/1; anything else is not a sample. */
static bool
sample_value(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%d", json_is_true(v) ? 1 : 0);
	else
		return false;
	return true;
}

/* The row's value: sample_value, then multiplied by the row's scale. %.15g prints the products
 * of a decimal scale as the short numbers they are (1500 ms: 1.5, not 1.5000000000000002). */
static bool
row_value(const struct prom_row *row, const json_t *v, char *buf, size_t len)
{
	if (!sample_value(v, buf, len))
		return false;
	if (row->scale != 0 && json_is_number(v))
		snprintf(buf, len, "%.15g", json_number_value(v) * row->scale);
	return true;
}

static void
put_sample2(struct out *o, const struct prom_row *row, const char *label, const char *lv,
		const char *lv2, const char *value)
{
	bool any = label != NULL || row->const_label != NULL;

	put(o, "%s", row->name);
	if (any)
		put(o, "{");
	if (label != NULL) {
		put(o, "%s=\"", label);
		put_label_value(o, lv);
		put(o, "\"");
	}
	if (label != NULL && lv2 != NULL && row->label2 != NULL) {
		put(o, ",%s=\"", row->label2);
		put_label_value(o, lv2);
		put(o, "\"");
	}
	if (row->const_label != NULL)
		put(o, "%s%s", label != NULL ? "," : "", row->const_label);
	if (any)
		put(o, "}");
	put(o, " %s\n", value);
}

static void
put_sample(struct out *o, const struct prom_row *row, const char *label, const char *lv,
		const char *value)
{
	put_sample2(o, row, label, lv, NULL, value);
}

/* Follow a plain dotted path (no [] or *) from v. */
static const json_t *
get_path(const json_t *v, const char *path)
{
	char key[64];

	while (v != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		path += n;
		if (*path == '.')
			path++;
	}
	return v;
}

/* The text of an element's label field (string or integer). */
static bool
label_text(const json_t *el, const char *field, char *buf, size_t len)
{
	const json_t *v = json_object_get(el, field);

	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		return false;
	return true;
}

/*
 * "arr[].sub[].rest" (br points at the first "[]"): a sample per element of each element's sub,
 * labelled by the outer element (label, label_from) and the inner one's fields named in label2.
 */
static unsigned
emit_nested(struct out *o, const struct prom_row *row, const json_t *doc, const char *br)
{
	char head[64], sub[64], value[64], lv[128], iv[128], name[64];
	const char *rest = br + 3, *br2;
	size_t hl = (size_t)(br - row->path), sl;
	const json_t *el, *in;
	size_t i, k;
	unsigned n = 0;

	if (br[2] != '.' || (br2 = strstr(rest, "[]")) == NULL || br2[2] != '.' ||
			row->label == NULL || row->label2 == NULL)
		return 0;
	sl = (size_t)(br2 - rest);
	if (hl >= sizeof(head) || sl >= sizeof(sub))
		return 0;
	memcpy(head, row->path, hl);
	head[hl] = '\0';
	memcpy(sub, rest, sl);
	sub[sl] = '\0';
	json_array_foreach(get_path(doc, head), i, el)
	{
		if (!label_text(el, row->label_from, lv, sizeof(lv)))
			continue;
		json_array_foreach(get_path(el, sub), k, in)
		{
			const char *f = row->label2;

			if (!row_value(row, get_path(in, br2 + 3), value, sizeof(value)))
				continue;
			put(o, "%s{%s=\"", row->name, row->label);
			put_label_value(o, lv);
			put(o, "\"");
			while (*f != '\0') {
				size_t fl = strcspn(f, ",");

				if (fl < sizeof(name)) {
					memcpy(name, f, fl);
					name[fl] = '\0';
					if (label_text(in, name, iv, sizeof(iv))) {
						put(o, ",%s=\"", name);
						put_label_value(o, iv);
						put(o, "\"");
					}
				}
				f += fl;
				if (*f == ',')
					f++;
			}
			if (row->const_label != NULL)
				put(o, ",%s", row->const_label);
			put(o, "} %s\n", value);
			n++;
		}
	}
	return n;
}

/* Emit the samples of one row. Returns how many. */
static unsigned
emit_row(struct out *o, const struct prom_row *row, const json_t *doc)
{
	char head[64], value[64], lv[128];
	const char *br = strstr(row->path, "[]");
	const char *star = strstr(row->path, "*");
	unsigned n = 0;

	if (br != NULL && strstr(br + 2, "[]") != NULL)
		return emit_nested(o, row, doc, br);
	if (br != NULL) {
		/* "arr[].rest": each element, rest inside it. */
		size_t hl = (size_t)(br - row->path);
		const char *rest = br[2] == '.' ? br + 3 : br + 2;
		const json_t *arr, *el;
		size_t i;
		double sum = 0;
		bool summed = false;

		if (hl >= sizeof(head))
			return 0;
		memcpy(head, row->path, hl);
		head[hl] = '\0';
		arr = get_path(doc, head);
		json_array_foreach(arr, i, el)
		{
			const json_t *v = get_path(el, rest);

			if (!row_value(row, v, value, sizeof(value)))
				continue;
			if (row->label == NULL) {
				sum += json_is_boolean(v) ? json_is_true(v) : json_number_value(v);
				summed = true;
				continue;
			}
			if (!label_text(el, row->label_from, lv, sizeof(lv)))
				continue;
			put_sample(o, row, row->label, lv, value);
			n++;
		}
		if (summed) {
			snprintf(value, sizeof(value), "%.0f", sum);
			put_sample(o, row, NULL, NULL, value);
			n++;
		}
		return n;
	}
	if (star != NULL) {
		/* "obj.*" or "obj.*.rest": each member (or the rest inside each member). */
		size_t hl = (size_t)(star - row->path);
		const char *rest = star[1] == '.' ? star + 2 : star + 1;
		const json_t *obj, *m, *v;
		const char *k;

		if (hl == 0 || hl >= sizeof(head))
			return 0;
		memcpy(head, row->path, hl - 1); /* without the '.' */
		head[hl - 1] = '\0';
		obj = get_path(doc, head);
		if (strcmp(rest, "*") == 0) {
			/* "obj.*.*": every member of every member, two labels. */
			json_object_foreach((json_t *)obj, k, m)
			{
				const char *k2;
				json_t *m2;

				json_object_foreach((json_t *)m, k2, m2)
				{
					if (!row_value(row, m2, value, sizeof(value)))
						continue;
					put_sample2(o, row, row->label, k, k2, value);
					n++;
				}
			}
			return n;
		}
		json_object_foreach((json_t *)obj, k, m)
		{
			v = get_path(m, rest);
			if (!row_value(row, v, value, sizeof(value)))
				continue;
			put_sample(o, row, row->label, k, value);
			n++;
		}
		return n;
	}
	/* The two rows made from the document's strings rather than a number. */
	if (strcmp(row->name, "vigil_info") == 0) {
		const char *ver = json_string_value(json_object_get(doc, "version"));
		const char *mode = json_string_value(json_object_get(doc, "mode"));

		put(o, "vigil_info{version=\"");
		put_label_value(o, ver ? ver : "unknown");
		put(o, "\",mode=\"");
		put_label_value(o, mode ? mode : "unknown");
		put(o, "\"} 1\n");
		return 1;
	}
	if (strcmp(row->name, "vigil_dry_run") == 0) {
		const char *mode = json_string_value(json_object_get(doc, "mode"));

		if (mode == NULL)
			return 0;
		put(o, "vigil_dry_run %d\n", strcmp(mode, "dry-run") == 0);
		return 1;
	}
	if (!row_value(row, get_path(doc, row->path), value, sizeof(value)))
		return 0;
	put_sample(o, row, NULL, NULL, value);
	return 1;
}

/* The API's own counters (mg_api_ctr.h), after control's sections. */
static const struct ctl_ctr_section api_section = { "api", &mg_api_ctr_set, NULL, NULL,
	CTL_PROM_TABLE };

const struct ctl_ctr_section *
mg_prom_section(unsigned i)
{
	unsigned n;
	const struct ctl_ctr_section *sec = ctl_ctr_sections(&n);

	return i < n ? &sec[i] : i == n ? &api_section : NULL;
}

/* A row made from a counter table (ctl_ctr.h), with the storage of its strings. */
struct table_row {
	struct prom_row row;
	char name[96];
	char path[96];
	char label[32];
	char const_label[96]; /* the section's and the row's fixed labels */
};

/*
 * The rows of the counters of the dataplane's tables, in the sections ctl_ctr_sections() marks
 * for the exposition: the value at the section's path and the row's key (an array row: each
 * element, at json_at or under the key), in the row's family. A family two sections share
 * (exceptions.packets) is made once. Returns a malloc'd array of *n rows, or NULL.
 */
static struct table_row *
table_rows(size_t *n)
{
	const struct ctl_ctr_section *sec;
	size_t max = 0, k = 0;
	struct table_row *t;

	for (unsigned i = 0; (sec = mg_prom_section(i)) != NULL; i++)
		max += sec->prom == CTL_PROM_TABLE ? sec->set->n : 0;
	t = calloc(max ? max : 1, sizeof(*t));
	if (t == NULL)
		return NULL;
	for (unsigned i = 0; (sec = mg_prom_section(i)) != NULL; i++) {
		for (unsigned r = 0; sec->prom == CTL_PROM_TABLE && r < sec->set->n; r++) {
			const struct vg_ctr *c = &sec->set->ctr[r];
			struct table_row *tr = &t[k];
			bool dup = false;

			if (c->no_prom)
				continue;
			vg_ctr_prom_name(sec->set, c, tr->name, sizeof(tr->name));
			if (c->n > 0 && c->json_at != NULL)
				snprintf(tr->path, sizeof(tr->path), "%s.*", c->json_at);
			else if (c->n > 0)
				snprintf(tr->path, sizeof(tr->path), "%s.%s.*", sec->path, c->name);
			else
				snprintf(tr->path, sizeof(tr->path), "%s.%s", sec->path, c->name);
			/* An array row names its elements by its own label; a labelled section's
			 * arrays would need two labels, which no table has. */
			if (c->n > 0 && sec->label != NULL)
				continue;
			snprintf(tr->label, sizeof(tr->label), "%s",
					c->n > 0     ? c->label
					: sec->label ? sec->label
						     : "");
			snprintf(tr->const_label, sizeof(tr->const_label), "%s%s%s",
					sec->prom_label != NULL ? sec->prom_label : "",
					sec->prom_label != NULL && c->prom_label != NULL ? "," : "",
					c->prom_label != NULL ? c->prom_label : "");
			tr->row = (struct prom_row){
				.name = tr->name,
				.type = c->type == VG_CTR_COUNTER ? "counter" : "gauge",
				.help = c->help,
				.path = tr->path,
				.label = tr->label[0] != '\0' ? tr->label : NULL,
				.label_from = c->n > 0 ? NULL : sec->label_from,
				.const_label = tr->const_label[0] != '\0' ? tr->const_label : NULL,
			};
			for (size_t j = 0; j < k && !dup; j++)
				dup = strcmp(t[j].name, tr->name) == 0 &&
				      strcmp(t[j].path, tr->path) == 0;
			if (!dup)
				k++;
		}
	}
	*n = k;
	return t;
}

/* Row i of the exposition: the static rows, then the tables'. */
static const struct prom_row *
row_at(const struct table_row *t, size_t i)
{
	size_t ns = sizeof(rows) / sizeof(rows[0]);

	return i < ns ? &rows[i] : &t[i - ns].row;
}

void
mg_prom_rows(void (*fn)(void *arg, const struct mg_prom_row_info *r), void *arg)
{
	size_t nt = 0, ns = sizeof(rows) / sizeof(rows[0]);
	struct table_row *t = table_rows(&nt);

	if (t == NULL)
		return;
	for (size_t i = 0; i < ns + nt; i++) {
		const struct prom_row *r = row_at(t, i);
		struct mg_prom_row_info info = { r->name, r->path, r->const_label, i >= ns };

		fn(arg, &info);
	}
	free(t);
}

char *
mg_prom_format(const json_t *doc, size_t *len)
{
	struct out o = { .buf = NULL, .len = 0, .cap = 0, .failed = false };
	size_t nt = 0, n = sizeof(rows) / sizeof(rows[0]);
	struct table_row *t = table_rows(&nt);

	if (t == NULL)
		return NULL;
	n += nt;
	o.cap = 16384;
	o.buf = malloc(o.cap);
	if (o.buf == NULL) {
		free(t);
		return NULL;
	}
	o.buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		/* A family: every row with this name (the first row of a family carries its help
		 * and type; a table's row may join a family of static rows). */
		const struct prom_row *first = row_at(t, i);
		size_t mark = o.len;
		unsigned samples = 0;
		bool done = false;

		for (size_t k = 0; k < i && !done; k++)
			done = strcmp(row_at(t, k)->name, first->name) == 0;
		if (done)
			continue;
		put(&o, "# HELP %s %s\n# TYPE %s %s\n", first->name, first->help, first->name,
				first->type);
		for (size_t k = i; k < n; k++)
			if (strcmp(row_at(t, k)->name, first->name) == 0)
				samples += emit_row(&o, row_at(t, k), doc);
		if (samples == 0 && !o.failed) {
			/* Nothing in the document for this family: no HELP/TYPE either. */
			o.len = mark;
			o.buf[mark] = '\0';
		}
	}
	free(t);
	if (o.failed) {
		free(o.buf);
		errno = ENOMEM;
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
