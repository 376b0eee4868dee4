/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text format of the metrics document: names, labels, escaping, HELP and TYPE
 * once per family, sums, and families left out when the document lacks them.
 */
#include <ctype.h>

#include "vg_test.h"

#include "ctl_ctr.h"
#include "mg_prom.h"

static const char *doc_text =
		"{\"version\": \"0.1.0\", \"mode\": \"dry-run\", \"uptime_s\": 42, \"tsc_hz\": 2000000000,"
		" \"ports\": ["
		"  {\"name\": \"outside\", \"rx_packets\": 1000, \"rx_bytes\": 64000, \"tx_packets\": 10,"
		"   \"tx_bytes\": 640, \"dropped\": 5, \"tx_full\": 1, \"rx_missed\": 0, \"rx_nombuf\": 0,"
		"   \"link\": {\"up\": true, \"speed_mbps\": 10000}},"
		"  {\"name\": \"in\\\"si\\\\de\\n\", \"rx_packets\": 10, \"rx_bytes\": 640,"
		"   \"tx_packets\": 995, \"tx_bytes\": 63680, \"dropped\": 0, \"tx_full\": 2,"
		"   \"rx_missed\": 3, \"rx_nombuf\": 0, \"link\": {\"up\": false, \"speed_mbps\": 0}}],"
		" \"workers\": [{\"id\": 0, \"loops\": 7, \"busy_loops\": 1, \"busy_cycles\": 99,"
		"   \"rx_bursts\": 1, \"events\": {\"sent\": 7, \"lost\": 3},"
		"   \"rx_packets\": 610, \"rx_bytes\": 39040, \"tx_packets\": 600, \"tx_bytes\": 38400,"
		"   \"dropped\": 5, \"flows\": {\"active\": 2},"
		"   \"handoff\": {\"out\": 40, \"in\": 30, \"lost\": 2},"
		"   \"queues\": [{\"port\": \"outside\", \"queue\": 0, \"rx_packets\": 600,"
		"     \"rx_bytes\": 38400, \"tx_packets\": 0, \"tx_bytes\": 0, \"dropped\": 5},"
		"    {\"port\": \"in\\\"si\\\\de\\n\", \"queue\": 1, \"rx_packets\": 10,"
		"     \"rx_bytes\": 640, \"tx_packets\": 600, \"tx_bytes\": 38400, \"dropped\": 0}]},"
		"  {\"id\": 1, \"loops\": 8, \"busy_loops\": 2, \"busy_cycles\": 100, \"rx_bursts\": 2,"
		"   \"events\": {\"sent\": 1, \"lost\": 0},"
		"   \"rx_packets\": 400, \"rx_bytes\": 25600, \"tx_packets\": 405, \"tx_bytes\": 25920,"
		"   \"dropped\": 0, \"flows\": {\"active\": 1},"
		"   \"handoff\": {\"out\": 30, \"in\": 40, \"lost\": 0},"
		"   \"queues\": [{\"port\": \"outside\", \"queue\": 1, \"rx_packets\": 400,"
		"     \"rx_bytes\": 25600, \"tx_packets\": 10, \"tx_bytes\": 640, \"dropped\": 0}]}],"
		" \"flows\": {\"active\": 3, \"capacity\": 1024, \"fill\": 0.0029296875, \"created\": 9,"
		"   \"ended\": {\"fin\": 2, \"timeout\": 1}, \"overflow\": 0, \"tcp_invalid_dropped\": 6,"
		"   \"tcp_states\": {\"established\": 2}, \"memory_bytes\": 1048576},"
		" \"parse\": {\"dropped\": 4, \"errors\": {\"ipv4_bad_checksum\": 4}, \"ipv4\": 900},"
		" \"policy\": {\"dropped\": 5, \"would_drop\": 11, \"l2_dropped\": 0},"
		" \"rules\": [{\"name\": \"web-in\", \"packets\": 900, \"bytes\": 57600, \"flows\": 3,"
		"   \"would_drop\": 0}, {\"name\": \"(default)\", \"packets\": 100, \"bytes\": 6400,"
		"   \"flows\": 6, \"would_drop\": 11}],"
		" \"events\": {\"sent\": 8, \"lost\": 3},"
		" \"analysis\": {\"alerts\": {\"signature\": 4, \"anomaly\": 2, \"by_severity\":"
		"   {\"low\": 1, \"high\": 5}}, \"detectors\": {\"port_scan\": {\"findings\": 2,"
		"   \"entries\": 9}, \"syn_flood\": {\"findings\": 0}}, \"blocklist\": {\"entries\": 1}},"
		" \"store\": {\"pending\": 12, \"rows_written\": 300, \"failures\": 0,"
		"   \"writer_busy_ms\": 1500},"
		" \"eve_socket\": {\"sent\": 9, \"dropped\": 2, \"errors\": 1, \"queued\": 0,"
		"   \"connected\": true, \"failing\": false},"
		" \"inspection\": {\"alerts\": 7, \"app_alerts\": {\"attached\": 5, \"missing\": 1,"
		"   \"unpaired\": 0}},"
		" \"applayer\": {\"flows\": 12, \"flows_refused\": 0, \"memcap\": 0, \"bytes\": 9000,"
		"   \"gaps\": 1, \"transactions\": 20, \"detect_failed\": 2,"
		"   \"protocols\": {\"http\": 6, \"tls\": 3, \"dns\": 1, \"failed\": 2},"
		"   \"anomalies\": {\"http\": {\"request_field_missing_colon\": 2,"
		"     \"double_encoded_uri\": 1}, \"smtp\": {\"invalid_reply\": 4}},"
		"   \"memory_bytes\": 65536},"
		" \"api\": {\"requests\": {\"2xx\": 5, \"4xx\": 1}, \"auth_failures\": 1, \"connections\": 2}}";

static char *
format(const char *text, size_t *len)
{
	json_error_t e;
	json_t *doc = json_loads(text, 0, &e);
	char *out;

	if (doc == NULL)
		fail_msg("fixture: %s at %d", e.text, e.line);
	out = mg_prom_format(doc, len);
	json_decref(doc);
	assert_non_null(out);
	return out;
}

static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define assert_line(text, line)                                             \
	do {                                                                \
		if (!has_line((text), (line)))                              \
			fail_msg("no line \"%s\" in:\n%s", (line), (text)); \
	} while (0)

static void
test_values_and_labels(void **state)
{
	size_t len;
	char *t = format(doc_text, &len);

	(void)state;
	assert_int_equal(strlen(t), len);
	assert_line(t, "vigil_info{version=\"0.1.0\",mode=\"dry-run\"} 1");
	assert_line(t, "vigil_dry_run 1");
	assert_line(t, "vigil_uptime_seconds 42");
	assert_line(t, "vigil_port_received_packets_total{port=\"outside\"} 1000");
	/* ", \ and newline in a label value are escaped. */
	assert_line(t, "vigil_port_received_packets_total{port=\"in\\\"si\\\\de\\n\"} 10");
	assert_line(t, "vigil_port_up{port=\"outside\"} 1");
	assert_line(t, "vigil_port_up{port=\"in\\\"si\\\\de\\n\"} 0");
	/* Base units: 10000 Mb/s in bytes per second, 1500 ms in seconds. */
	assert_line(t, "vigil_port_link_speed_bytes_per_second{port=\"outside\"} 1250000000");
	assert_line(t, "vigil_port_link_speed_bytes_per_second{port=\"in\\\"si\\\\de\\n\"} 0");
	assert_line(t, "vigil_store_writer_busy_seconds 1.5");
	/* Drops by reason: summed over ports where the document has them per port. */
	assert_line(t, "vigil_dropped_packets_total{reason=\"policy\"} 5");
	assert_line(t, "vigil_dropped_packets_total{reason=\"malformed\"} 4");
	assert_line(t, "vigil_dropped_packets_total{reason=\"tcp_invalid\"} 6");
	assert_line(t, "vigil_dropped_packets_total{reason=\"tx_full\"} 3");
	assert_line(t, "vigil_dropped_packets_total{reason=\"rx_missed\"} 3");
	assert_line(t, "vigil_dropped_packets_total{reason=\"l2_policy\"} 0");
	assert_line(t, "vigil_parse_errors_total{reason=\"ipv4_bad_checksum\"} 4");
	assert_line(t, "vigil_rule_packets_total{rule=\"web-in\"} 900");
	assert_line(t, "vigil_rule_would_drop_packets_total{rule=\"(default)\"} 11");
	assert_line(t, "vigil_policy_would_drop_packets_total 11");
	assert_line(t, "vigil_worker_events_lost_total{worker=\"0\"} 3");
	assert_line(t, "vigil_worker_loops_total{worker=\"1\"} 8");
	/* Per worker, and per queue: the worker's id, the port's name and the queue's index. */
	assert_line(t, "vigil_worker_rx_packets_total{worker=\"0\"} 610");
	assert_line(t, "vigil_worker_tx_bytes_total{worker=\"1\"} 25920");
	assert_line(t, "vigil_worker_dropped_packets_total{worker=\"0\"} 5");
	assert_line(t, "vigil_worker_flows_active{worker=\"1\"} 1");
	assert_line(t, "vigil_worker_handoff_packets_total{worker=\"0\",direction=\"out\"} 40");
	assert_line(t, "vigil_worker_handoff_packets_total{worker=\"0\",direction=\"in\"} 30");
	assert_line(t, "vigil_worker_handoff_lost_packets_total{worker=\"0\"} 2");
	assert_line(t, "vigil_queue_rx_packets_total{worker=\"0\",port=\"outside\",queue=\"0\"} "
		       "600");
	assert_line(t, "vigil_queue_rx_packets_total{worker=\"1\",port=\"outside\",queue=\"1\"} "
		       "400");
	assert_line(t, "vigil_queue_tx_packets_total{worker=\"0\",port=\"in\\\"si\\\\de\\n\","
		       "queue=\"1\"} 600");
	assert_line(t, "vigil_queue_dropped_packets_total{worker=\"0\",port=\"outside\",queue=\"0\"} "
		       "5");
	assert_line(t, "# TYPE vigil_queue_rx_bytes_total counter");
	assert_line(t, "vigil_flows_ended_total{reason=\"fin\"} 2");
	assert_line(t, "vigil_flows_tcp_state{state=\"established\"} 2");
	assert_line(t, "vigil_flows_active 3");
	assert_line(t, "vigil_flows_capacity 1024");
	assert_line(t, "vigil_events_lost_total 3");
	assert_line(t, "vigil_api_requests_total{code=\"2xx\"} 5");
	assert_line(t, "vigil_api_connections 2");
	assert_line(t, "# TYPE vigil_dropped_packets_total counter");
	assert_line(t, "# TYPE vigil_flows_active gauge");
	assert_line(t, "vigil_alerts_total{severity=\"high\"} 5");
	assert_line(t, "vigil_alerts_by_kind_total{kind=\"anomaly\"} 2");
	assert_line(t, "vigil_anomaly_findings_total{detector=\"port_scan\"} 2");
	assert_line(t, "vigil_anomaly_findings_total{detector=\"syn_flood\"} 0");
	assert_line(t, "vigil_blocklist_entries 1");
	assert_line(t, "vigil_store_pending_rows 12");
	assert_line(t, "vigil_store_rows_written_total 300");
	/* EVE outputs: only those configured (eve_syslog is not in the document). */
	assert_line(t, "# TYPE vigil_eve_output_sent_total counter");
	assert_line(t, "vigil_eve_output_sent_total{output=\"eve_socket\"} 9");
	assert_line(t, "vigil_eve_output_dropped_total{output=\"eve_socket\"} 2");
	assert_line(t, "vigil_eve_output_connected{output=\"eve_socket\"} 1");
	assert_null(strstr(t, "output=\"eve_syslog\""));
	/* The application layer: flows per protocol, anomalies by protocol and name. */
	assert_line(t, "vigil_applayer_flows_total{proto=\"http\"} 6");
	assert_line(t, "vigil_applayer_flows_total{proto=\"failed\"} 2");
	assert_line(t, "vigil_applayer_anomalies_total{proto=\"http\","
		       "name=\"request_field_missing_colon\"} 2");
	assert_line(t, "vigil_applayer_anomalies_total{proto=\"smtp\",name=\"invalid_reply\"} 4");
	assert_line(t, "# TYPE vigil_applayer_anomalies_total counter");
	assert_line(t, "vigil_applayer_parsed_flows_total 12");
	assert_line(t, "vigil_applayer_transactions_total 20");
	assert_line(t, "vigil_applayer_detect_failed_total 2");
	assert_line(t, "vigil_applayer_memory_bytes 65536");
	assert_line(t, "vigil_alert_app_facts_total{result=\"attached\"} 5");
	assert_line(t, "vigil_alert_app_facts_total{result=\"missing\"} 1");
	/* Nothing about what the document does not have. */
	assert_null(strstr(t, "vigil_store_rows_dropped_total"));
	assert_null(strstr(t, "vigil_fragments_"));
	free(t);
}

/*
 * Every line of t (len bytes, consumed) is a comment (HELP/TYPE) or a sample; a family's HELP
 * and TYPE come once, right before its samples; counters end in _total; names follow the
 * metric name grammar; no series (name and labels) is given twice. Returns the samples.
 */
static unsigned
check_grammar(char *t, size_t len)
{
	char family[128] = "", type[16] = "";
	static char seen[512][128];
	static char series[2048][256];
	unsigned n_seen = 0, n_series = 0, samples = 0;

	assert_true(len > 0 && t[len - 1] == '\n');
	for (char *line = strtok(t, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char name[128], help_name[128];

		if (sscanf(line, "# HELP %127s", help_name) == 1) {
			for (unsigned i = 0; i < n_seen; i++)
				if (strcmp(seen[i], help_name) == 0)
					fail_msg("family %s described twice", help_name);
			assert_true(n_seen < 512);
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", help_name);
			snprintf(family, sizeof(family), "%s", help_name);
			type[0] = '\0';
			continue;
		}
		if (sscanf(line, "# TYPE %127s %15s", name, type) == 2) {
			assert_string_equal(name, family);
			assert_true(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0);
			if (strcmp(type, "counter") == 0) {
				size_t l = strlen(name);

				assert_true(l > 6 && strcmp(name + l - 6, "_total") == 0);
			}
			continue;
		}
		assert_true(line[0] != '#');
		/* name{labels} value */
		size_t i = 0;

		assert_true(isalpha((unsigned char)line[0]) || line[0] == '_');
		while (isalnum((unsigned char)line[i]) || line[i] == '_' || line[i] == ':')
			i++;
		if (strncmp(line, family, i) != 0 || family[i] != '\0')
			fail_msg("sample '%s' outside its family '%s'", line, family);
		assert_true(type[0] != '\0');
		if (line[i] == '{') {
			char *close = strstr(line + i, "\"} ");

			assert_non_null(close);
			i = (size_t)(close - line) + 2;
		}
		assert_int_equal(line[i], ' ');
		for (unsigned k = 0; k < n_series; k++)
			if (strlen(series[k]) == i && strncmp(series[k], line, i) == 0)
				fail_msg("series %.*s given twice", (int)i, line);
		assert_true(i < sizeof(series[0]) && n_series < 2048);
		snprintf(series[n_series++], sizeof(series[0]), "%.*s", (int)i, line);
		char *end;
		double v = strtod(line + i + 1, &end);

		assert_true(*end == '\0');
		assert_true(v >= 0);
		samples++;
	}
	return samples;
}

static void
test_exposition_grammar(void **state)
{
	size_t len;
	char *t = format(doc_text, &len);

	(void)state;
	assert_true(check_grammar(t, len) > 40);
	free(t);
}

/*
 * Names in base units, as promtool check metrics (client_golang's promlint) wants them: no
 * abbreviated unit (ms, s, kb, ...) and no unit whose base is another (bits for bytes, minutes
 * for seconds) as a word of the name. tests/api/test_prometheus.py runs promtool itself on a
 * running vigild's output; this keeps the rule where the names are made.
 */
static unsigned
check_base_units(const char *t)
{
	static const char *const refused[] = { "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb",
		"tb", "pb", "m", "h", "d", "bits", "milliseconds", "microseconds", "nanoseconds",
		"minutes", "hours", "days", "kilobytes", "megabytes", "gigabytes" };
	unsigned families = 0;

	for (const char *p = t; (p = strstr(p, "# TYPE ")) != NULL; families++) {
		/* The words of the family's name, between underscores. */
		const char *name = p += strlen("# TYPE ");

		while (*p != ' ') {
			size_t n = strcspn(p, "_ ");

			for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
				if (strlen(refused[i]) == n && strncmp(p, refused[i], n) == 0)
					fail_msg("unit '%s' in %.*s", refused[i],
							(int)strcspn(name, " "), name);
			p += n;
			if (*p == '_')
				p++;
		}
	}
	return families;
}

static void
test_base_units(void **state)
{
	size_t len;
	char *t = format(doc_text, &len);

	(void)state;
	assert_true(check_base_units(t) > 40);
	free(t);
}

/* The rules' eBPF programs (docs/BPF.md): one sample per program, verdicts by label. */
static void
test_bpf_programs(void **state)
{
	size_t len;
	char *t = format("{\"bpf\": [{\"name\": \"dns\", \"runs\": 6, \"pass\": 4, \"drop\": 2, "
			 "\"reject\": 0, \"allow\": 0, \"invalid\": 1, \"cached\": 3, "
			 "\"alerts\": 2, \"cycles_per_run\": 12.5, \"maps\": [{\"map\": "
			 "\"names\", \"lookups\": 7, \"hits\": 5, \"updates\": 2, "
			 "\"deletes\": 1}, {\"map\": \"cfg\", \"lookups\": 3, \"hits\": 3, "
			 "\"updates\": 0, \"deletes\": 0}]}]}",
			&len);

	(void)state;
	assert_line(t, "vigil_bpf_runs_total{rule=\"dns\"} 6");
	/* Its maps: one sample per (rule, map). */
	assert_line(t, "vigil_bpf_map_lookups_total{rule=\"dns\",map=\"names\"} 7");
	assert_line(t, "vigil_bpf_map_hits_total{rule=\"dns\",map=\"names\"} 5");
	assert_line(t, "vigil_bpf_map_updates_total{rule=\"dns\",map=\"names\"} 2");
	assert_line(t, "vigil_bpf_map_deletes_total{rule=\"dns\",map=\"names\"} 1");
	assert_line(t, "vigil_bpf_map_lookups_total{rule=\"dns\",map=\"cfg\"} 3");
	assert_line(t, "vigil_bpf_verdicts_total{rule=\"dns\",verdict=\"pass\"} 4");
	assert_line(t, "vigil_bpf_verdicts_total{rule=\"dns\",verdict=\"drop\"} 2");
	assert_line(t, "vigil_bpf_verdicts_total{rule=\"dns\",verdict=\"invalid\"} 1");
	assert_line(t, "vigil_bpf_cached_total{rule=\"dns\"} 3");
	assert_line(t, "vigil_bpf_alerts_total{rule=\"dns\"} 2");
	assert_line(t, "vigil_bpf_cycles_per_run{rule=\"dns\"} 12.5");
	free(t);
}

/* Pre-filters: their own metrics, labelled by the pre-filter's name. */
static void
test_bpf_prefilters(void **state)
{
	size_t len;
	char *t = format("{\"bpf_prefilters\": [{\"name\": \"bogons\", \"in\": [\"a\"], "
			 "\"runs\": 9, \"pass\": 5, \"drop\": 3, \"reject\": 1, \"allow\": 0, "
			 "\"invalid\": 0, \"alerts\": 4, \"cycles_per_run\": 40.5, \"maps\": "
			 "[{\"map\": \"gate4\", \"lookups\": 11, \"hits\": 6, \"updates\": 0, "
			 "\"deletes\": 0}]}]}",
			&len);

	(void)state;
	assert_line(t, "vigil_bpf_prefilter_runs_total{prefilter=\"bogons\"} 9");
	assert_line(t, "vigil_bpf_prefilter_map_lookups_total{prefilter=\"bogons\",map=\"gate4\"} 11");
	assert_line(t, "vigil_bpf_prefilter_map_hits_total{prefilter=\"bogons\",map=\"gate4\"} 6");
	assert_null(strstr(t, "vigil_bpf_map_lookups_total{"));
	assert_line(t, "vigil_bpf_prefilter_verdicts_total{prefilter=\"bogons\",verdict=\"pass\"} 5");
	assert_line(t, "vigil_bpf_prefilter_verdicts_total{prefilter=\"bogons\",verdict=\"drop\"} 3");
	assert_line(t, "vigil_bpf_prefilter_verdicts_total{prefilter=\"bogons\",verdict=\"reject\"} 1");
	assert_line(t, "vigil_bpf_prefilter_alerts_total{prefilter=\"bogons\"} 4");
	assert_line(t, "vigil_bpf_prefilter_cycles_per_run{prefilter=\"bogons\"} 40.5");
	assert_null(strstr(t, "vigil_bpf_runs_total{"));
	free(t);
}

static void
test_empty_document(void **state)
{
	size_t len;
	char *t = format("{}", &len);

	(void)state;
	/* Only the info line, which says what it does not know. */
	assert_string_equal(t,
			"# HELP vigil_info Build and running state of the appliance (value 1).\n"
			"# TYPE vigil_info gauge\n"
			"vigil_info{version=\"unknown\",mode=\"unknown\"} 1\n");
	free(t);
	/* Values of the wrong type are skipped, not printed. */
	t = format("{\"uptime_s\": \"long\", \"ports\": {\"name\": 1}, \"flows\": {\"ended\": [1]}}",
			&len);
	assert_null(strstr(t, "vigil_uptime_seconds"));
	assert_null(strstr(t, "vigil_port_"));
	assert_null(strstr(t, "vigil_flows_ended"));
	free(t);
}

/* ---- every metric resolves: the counter tables against the exposition ---- */

/* doc's object at path (ctl_ctr.h's paths), made when missing; "x[]" is an array of one
 * element, which has every label field a section reads (name, id, port, queue). */
static json_t *
place(json_t *doc, const char *path)
{
	char seg[64];

	while (*path != '\0') {
		size_t n = strcspn(path, ".");
		bool arr = n > 2 && path[n - 1] == ']' && path[n - 2] == '[';
		json_t *o;

		assert_true(n < sizeof(seg));
		memcpy(seg, path, n - (arr ? 2 : 0));
		seg[n - (arr ? 2 : 0)] = '\0';
		o = json_object_get(doc, seg);
		if (o == NULL) {
			o = arr ? json_array() : json_object();
			json_object_set_new(doc, seg, o);
		}
		if (arr) {
			if (json_array_size(o) == 0)
				json_array_append_new(o,
						json_pack("{s:s, s:i, s:s, s:i}", "name", "p0",
								"id", 0, "port", "p0", "queue", 0));
			o = json_array_get(o, 0);
		}
		doc = o;
		path += n;
		if (*path == '.')
			path++;
	}
	return doc;
}

/* The exposition's sections (mg_prom_section(): control's and the API's), as an array; each
 * set covers its struct (vg_ctr_check). */
static const struct ctl_ctr_section *
all_sections(unsigned *n)
{
	static struct ctl_ctr_section all[64];
	const struct ctl_ctr_section *s;
	unsigned k = 0;
	char err[256];

	for (; (s = mg_prom_section(k)) != NULL; k++) {
		assert_true(k < sizeof(all) / sizeof(all[0]));
		if (vg_ctr_check(s->set, 0, err, sizeof(err)) != 0)
			fail_msg("%s: %s", s->path, err);
		all[k] = *s;
	}
	*n = k;
	return all;
}

/* A document with every counter of every section, as ctl_status.c lays them out, each value
 * distinct and not 0. */
static json_t *
table_doc(void)
{
	unsigned ns;
	const struct ctl_ctr_section *sec = all_sections(&ns);
	json_t *doc = json_object();
	uint64_t next = 1;

	for (unsigned i = 0; i < ns; i++) {
		uint64_t buf[512] = { 0 };

		assert_true(sec[i].set->size <= sizeof(buf));
		for (size_t w = 0; w < sec[i].set->size / sizeof(uint64_t); w++)
			buf[w] = next++;
		assert_int_equal(ctl_ctr_json(sec[i].set, buf, place(doc, sec[i].path), doc), 0);
	}
	return doc;
}

static char *
format_doc(json_t *doc)
{
	size_t len;
	char *t = mg_prom_format(doc, &len);

	assert_non_null(t);
	return t;
}

/* The value at a section's path and key in the document (the first element of arrays). */
static json_int_t
doc_value(json_t *doc, const char *path, const char *key)
{
	json_t *o = place(doc, path), *v = json_object_get(o, key);

	assert_true(json_is_integer(v));
	assert_true(json_integer_value(v) > 0);
	return json_integer_value(v);
}

/*
 * Every counter of every table is in the exposition: a section whose rows are made from its
 * table shows each counter (each element of an array) under the table's family and labels,
 * with its value; a section that mg_prom.c names itself has a row for each of its counters.
 */
static void
test_every_table_counter_emitted(void **state)
{
	unsigned ns;
	const struct ctl_ctr_section *sec = all_sections(&ns);
	json_t *doc = table_doc();
	char *t = format_doc(doc);
	unsigned checked = 0;

	(void)state;
	for (unsigned i = 0; i < ns; i++) {
		const struct vg_ctr_set *s = sec[i].set;

		for (unsigned r = 0; r < s->n && sec[i].prom == CTL_PROM_TABLE; r++) {
			const struct vg_ctr *c = &s->ctr[r];
			char fam[96], line[512];

			if (c->no_prom)
				continue;
			vg_ctr_prom_name(s, c, fam, sizeof(fam));
			for (unsigned e = 0; e < (c->n ? c->n : 1); e++) {
				json_int_t v;
				char labels[256] = "";

				if (c->n > 0) {
					json_t *o = c->json_at ? place(doc, c->json_at)
							       : place(place(doc, sec[i].path),
										 c->name);

					v = json_integer_value(
							json_object_get(o, vg_ctr_elem_name(c, e)));
					assert_true(v > 0);
					snprintf(labels, sizeof(labels), "%s=\"%s\"", c->label,
							vg_ctr_elem_name(c, e));
				} else {
					v = doc_value(doc, sec[i].path, c->name);
					if (sec[i].label != NULL)
						snprintf(labels, sizeof(labels), "%s=\"%s\"",
								sec[i].label,
								strcmp(sec[i].label_from, "id") == 0
										? "0"
										: "p0");
				}
				if (sec[i].prom_label != NULL)
					snprintf(labels + strlen(labels),
							sizeof(labels) - strlen(labels), "%s%s",
							labels[0] ? "," : "", sec[i].prom_label);
				if (c->prom_label != NULL)
					snprintf(labels + strlen(labels),
							sizeof(labels) - strlen(labels), "%s%s",
							labels[0] ? "," : "", c->prom_label);
				if (labels[0] != '\0')
					snprintf(line, sizeof(line), "%s{%s} %" JSON_INTEGER_FORMAT,
							fam, labels, v);
				else
					snprintf(line, sizeof(line), "%s %" JSON_INTEGER_FORMAT,
							fam, v);
				assert_line(t, line);
				checked++;
			}
		}
	}
	assert_true(checked > 30);
	free(t);
	json_decref(doc);
}

/* The exposition's rows (mg_prom_rows). */
struct row_list {
	unsigned n;
	struct {
		char family[96];
		char path[128];
		bool table;
	} r[512];
};

static void
collect(void *arg, const struct mg_prom_row_info *r)
{
	struct row_list *l = arg;

	assert_true(l->n < sizeof(l->r) / sizeof(l->r[0]));
	snprintf(l->r[l->n].family, sizeof(l->r[0].family), "%s", r->family);
	snprintf(l->r[l->n].path, sizeof(l->r[0].path), "%s", r->path);
	l->r[l->n].table = r->from_table;
	l->n++;
}

/* Values under a section's path that are not a table's counters (rte_eth_stats, ctl_sigs, the
 * tables' sizes, the watchdog's state): api-prometheus (tests/api/test_prometheus.py) checks
 * that each resolves in a running vigild's document. */
static const char *const not_table[] = { "ports[].rx_missed", "ports[].rx_nombuf",
	"inspection.pcre_limit_hits", "flows.capacity", "flows.memory_bytes",
	"workers[].watchdog.stalled", "workers[].watchdog.failed_over", "applayer.memory_bytes",
	"store.pending", "store.queued", "store.durable_pending", "store.failing",
	"store.writer_busy_ms", "eve.queued", "eve.failing", "eve_syslog.queued",
	"eve_socket.queued", "eve_syslog.connected", "eve_socket.connected", "eve_syslog.failing",
	"eve_socket.failing", "ipfix.queued", "ipfix.connected", "ipfix.failing" };

/* The key of a static row's path when the path is a section's path and one plain key. */
static const char *
section_key(const struct ctl_ctr_section *sec, const char *path)
{
	size_t n = strlen(sec->path);
	const char *k = path + n + 1;

	if (strncmp(path, sec->path, n) != 0 || path[n] != '.' || strpbrk(k, ".[*") != NULL)
		return NULL;
	return k;
}

/*
 * Every metric resolves: each row of mg_prom.c that reads a section of counters reads a key
 * of that section's table (a renamed key fails here, not silently in a dashboard); each
 * counter of a section mg_prom.c names itself has exactly one row; and every family the
 * exposition makes of a document of all the tables' counters is a table's or one of those.
 */
static void
test_every_metric_resolves(void **state)
{
	static struct row_list l;
	unsigned ns;
	const struct ctl_ctr_section *sec = all_sections(&ns);
	json_t *doc = table_doc();
	char *t = format_doc(doc);
	unsigned families = 0;

	(void)state;
	l.n = 0;
	mg_prom_rows(collect, &l);
	assert_true(l.n > 100);
	for (unsigned i = 0; i < l.n; i++) {
		bool under = false, found = false;

		if (l.r[i].table)
			continue;
		for (unsigned k = 0; k < sizeof(not_table) / sizeof(not_table[0]); k++)
			found |= strcmp(l.r[i].path, not_table[k]) == 0;
		for (unsigned j = 0; j < ns && !found; j++) {
			const char *key = section_key(&sec[j], l.r[i].path);

			if (key == NULL)
				continue;
			under = true;
			found = vg_ctr_find(sec[j].set, key) != NULL;
		}
		if (under && !found)
			fail_msg("%s reads %s, which no counter table has", l.r[i].family,
					l.r[i].path);
	}
	for (unsigned j = 0; j < ns; j++) {
		for (unsigned r = 0; r < sec[j].set->n && sec[j].prom == CTL_PROM_ROWS; r++) {
			char path[160];
			unsigned rows = 0;

			snprintf(path, sizeof(path), "%s.%s", sec[j].path, sec[j].set->ctr[r].name);
			for (unsigned i = 0; i < l.n; i++)
				rows += !l.r[i].table && strcmp(l.r[i].path, path) == 0;
			if (rows != 1)
				fail_msg("%s: %u rows in mg_prom.c, not 1", path, rows);
		}
	}
	for (const char *p = t; (p = strstr(p, "# TYPE ")) != NULL; families++) {
		char fam[128];
		bool known = false;

		p += strlen("# TYPE ");
		snprintf(fam, sizeof(fam), "%.*s", (int)strcspn(p, " "), p);
		for (unsigned i = 0; i < l.n && !known; i++) {
			/* vigil_info reads no path: it is in every exposition. */
			bool in_section = l.r[i].table || l.r[i].path[0] == '\0';

			for (unsigned j = 0; j < ns && !in_section; j++)
				in_section = section_key(&sec[j], l.r[i].path) != NULL;
			known = in_section && strcmp(l.r[i].family, fam) == 0;
		}
		if (!known)
			fail_msg("%s is in the exposition of the tables' counters but reads no "
				 "table",
					fam);
	}
	assert_true(families > 30);
	check_base_units(t);
	/* Valid text: one HELP and TYPE per family (a family the tables share with mg_prom.c's
	 * rows, vigil_dropped_packets_total, too), each series once. */
	assert_true(check_grammar(t, strlen(t)) > 30);
	free(t);
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_and_labels),
		cmocka_unit_test(test_exposition_grammar),
		cmocka_unit_test(test_base_units),
		cmocka_unit_test(test_bpf_programs),
		cmocka_unit_test(test_bpf_prefilters),
		cmocka_unit_test(test_empty_document),
		cmocka_unit_test(test_every_table_counter_emitted),
		cmocka_unit_test(test_every_metric_resolves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
