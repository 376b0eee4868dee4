/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The counter tables (vg_ctr.h, dataplane/dp_stats.c) and their JSON (ctl_ctr.h): every field
 * of each counter struct has exactly one row, array rows have a name per element, the JSON
 * keys are the ones the report always had (dashboards, vigilctl and tests read them), per-
 * worker copies sum, and the exception counters of the policy and of inspection meet in
 * exceptions.packets.
 */
#include "vg_test.h"

#include "ctl_ctr.h"
#include "ctl_events.h"
#include "dp_frag.h"
#include "dp_inspect.h"
#include "dp_parse.h"
#include "dp_reasm.h"
#include "dp_stats.h"

/* Every section's set covers its struct; the worker's set covers its scalars only. */
static void
test_tables_cover_structs(void **state)
{
	unsigned n;
	const struct ctl_ctr_section *sec = ctl_ctr_sections(&n);
	char err[256];

	(void)state;
	assert_int_equal(n, CTL_CTR__COUNT);
	for (unsigned i = 0; i < n; i++) {
		assert_non_null(sec[i].set);
		if (vg_ctr_check(sec[i].set, 0, err, sizeof(err)) != 0)
			fail_msg("%s: %s", sec[i].path, err);
	}
	/* The checker itself: a field without a row, and a row twice, are found. */
	struct vg_ctr two[] = { dp_port_ctr_set.ctr[0], dp_port_ctr_set.ctr[0] };
	struct vg_ctr_set bad = { "bad", two, 1, sizeof(struct dp_port_counters) };

	assert_int_equal(vg_ctr_check(&bad, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "has no row"));
	bad.n = 2;
	assert_int_equal(vg_ctr_check(&bad, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "two rows"));
}

/* An array of the exception conditions has one element per condition, named by the names
 * table (a condition added to enum vg_exc_cond is counted with no edit of a table). */
static void
test_exception_arrays(void **state)
{
	const struct vg_ctr *p = vg_ctr_find(&dp_policy_ctr_set, "exceptions");
	const struct vg_ctr *i = vg_ctr_find(&dp_inspect_ctr_set, "exceptions");

	(void)state;
	assert_non_null(p);
	assert_non_null(i);
	assert_int_equal(p->n, VG_EXC__COUNT);
	assert_int_equal(i->n, VG_EXC__COUNT);
	assert_ptr_equal(p->names, vg_exc_cond_names);
	assert_null(vg_exc_cond_names[VG_EXC__COUNT]);
}

/* The keys of obj, sorted, comma-separated. */
static void
keys(const json_t *obj, char *buf, size_t len)
{
	const char *names[64];
	size_t n = 0, off = 0;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
	{
		(void)v;
		if (n < 64)
			names[n++] = k;
	}
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			if (strcmp(names[b], names[a]) < 0) {
				const char *t = names[a];

				names[a] = names[b];
				names[b] = t;
			}
	buf[0] = '\0';
	for (size_t a = 0; a < n && off < len; a++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", a ? "," : "", names[a]);
}

static void
assert_keys(const struct vg_ctr_set *s, const char *want)
{
	unsigned char zero[4096] = { 0 };
	json_t *o = json_object(), *root = json_object();
	char got[1024];

	assert_true(s->size <= sizeof(zero));
	assert_int_equal(ctl_ctr_json(s, zero, o, root), 0);
	keys(o, got, sizeof(got));
	assert_string_equal(got, want);
	json_decref(o);
	json_decref(root);
}

/* The JSON keys the report had before the tables, and those it lacked: inspection's rebinds,
 * the parser's NIC checksum verdicts and multi-segment counts. */
static void
test_json_keys(void **state)
{
	(void)state;
	assert_keys(&dp_port_ctr_set, "dropped,rx_bytes,rx_packets,tx_bytes,tx_full,tx_packets");
	assert_keys(&dp_policy_ctr_set,
			"blocked,classified,dropped,l2_dropped,rate_limited,reclassified,"
			"rejects_sent,rejects_suppressed,stateless_matched,would_drop");
	assert_keys(&dp_inspect_ctr_set,
			"alerts,bytes,dropped,event_packets,no_slot,overlap_differs,packets,passed,"
			"rebind_failures,rebinds,restarts,retransmitted,rst_out_of_window,segments,"
			"stream_gaps,tx_stages,would_drop");
	assert_keys(&dp_handoff_ctr_set, "in,lost,out");
	assert_keys(&dp_worker_ctr_set, "busy_cycles,busy_loops,loops,rx_bursts");
	assert_keys(&dp_frag_ctr_set,
			"duplicates,expired,matched,orphans,overlaps,table_full,tracked");
	assert_keys(&dp_reasm_ctr_set, "copy_failures,datagrams,fragments,too_big");
	assert_keys(&ctl_events_ctr_set, "by_type,drained,flow_ends,out_of_order,seq_gaps");
	assert_keys(&dp_parse_ctr_set,
			"anomalies,clean,dropped,errors,frag_first,frag_later,icmp,ipv4,"
			"ipv4_cksum_hw_bad,ipv4_cksum_hw_good,ipv6,l4_cksum_hw,l4_cksum_sw,multiseg,"
			"multiseg_truncated,non_ip,other,qinq,sctp,tcp,udp,vlan");
}

/* Two workers' copies summed, as the report does, and the JSON of the sum; the exceptions of
 * the policy and of inspection sum into exceptions.packets, not into their sections. */
static void
test_sum_and_json(void **state)
{
	struct dp_policy_counters w[2] = { 0 }, pol = { 0 };
	struct dp_inspect_counters ins = { 0 };
	json_t *root = json_object(), *po = json_object(), *in = json_object();

	(void)state;
	w[0].rejects_sent = 3;
	w[1].rejects_sent = 4;
	w[0].l2_dropped = 1;
	w[0].exceptions[VG_EXC_MIDSTREAM] = 5;
	w[1].exceptions[VG_EXC_MIDSTREAM] = 6;
	ins.exceptions[VG_EXC_STREAM_MEMCAP] = 2;
	ins.exceptions[VG_EXC_MIDSTREAM] = 1;
	ins.rebinds = 9;
	vg_ctr_add(&dp_policy_ctr_set, &pol, &w[0]);
	vg_ctr_add(&dp_policy_ctr_set, &pol, &w[1]);
	assert_int_equal(pol.rejects_sent, 7);
	assert_int_equal(pol.l2_dropped, 1);
	assert_int_equal(pol.exceptions[VG_EXC_MIDSTREAM], 11);
	assert_int_equal(ctl_ctr_json(&dp_policy_ctr_set, &pol, po, root), 0);
	assert_int_equal(ctl_ctr_json(&dp_inspect_ctr_set, &ins, in, root), 0);
	assert_int_equal(json_integer_value(json_object_get(po, "rejects_sent")), 7);
	assert_int_equal(json_integer_value(json_object_get(in, "rebinds")), 9);
	assert_null(json_object_get(po, "exceptions"));
	assert_null(json_object_get(in, "exceptions"));

	json_t *ep = json_object_get(json_object_get(root, "exceptions"), "packets");

	assert_non_null(ep);
	assert_int_equal(json_object_size(ep), VG_EXC__COUNT);
	assert_int_equal(json_integer_value(json_object_get(ep, "midstream")), 12);
	assert_int_equal(json_integer_value(json_object_get(ep, "stream_memcap")), 2);
	assert_int_equal(json_integer_value(json_object_get(ep, "flow_table_full")), 0);
	/* Without a root (a worker's own policy object), the shared arrays are left out. */
	json_t *alone = json_object();

	assert_int_equal(ctl_ctr_json(&dp_policy_ctr_set, &w[0], alone, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(alone, "rejects_sent")), 3);
	assert_null(json_object_get(alone, "exceptions"));
	json_decref(alone);
	json_decref(root);
	json_decref(po);
	json_decref(in);
}

/* The parser's JSON as the report always had it: err[0] is "clean", the errors and anomalies
 * that happened only (by name), ICMP and ICMPv6 summed as "icmp", l4_other as "other"; the
 * fields it lacked (NIC checksum verdicts, multi-segment packets) are added. */
static void
test_parse_json(void **state)
{
	struct dp_parse_counters c = { 0 };
	json_t *o = json_object();
	json_t *e;

	(void)state;
	c.err[DP_PERR_NONE] = 90;
	c.err[DP_PERR_IPV4_BAD_CHECKSUM] = 4;
	c.anom[DP_ANOM_IPV6_RH0] = 2;
	c.icmp = 3;
	c.icmpv6 = 5;
	c.l4_other = 7;
	c.multiseg = 1;
	assert_int_equal(ctl_ctr_json(&dp_parse_ctr_set, &c, o, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "clean")), 90);
	assert_int_equal(json_integer_value(json_object_get(o, "icmp")), 8);
	assert_int_equal(json_integer_value(json_object_get(o, "other")), 7);
	assert_int_equal(json_integer_value(json_object_get(o, "multiseg")), 1);
	e = json_object_get(o, "errors");
	assert_int_equal(json_object_size(e), 1);
	assert_int_equal(json_integer_value(json_object_get(e, "ipv4_bad_checksum")), 4);
	e = json_object_get(o, "anomalies");
	assert_int_equal(json_object_size(e), 1);
	assert_int_equal(json_integer_value(json_object_get(e, "ipv6_rh0")), 2);
	json_decref(o);
	/* Nothing happened: the objects are there, empty. */
	memset(&c, 0, sizeof(c));
	o = json_object();
	assert_int_equal(ctl_ctr_json(&dp_parse_ctr_set, &c, o, NULL), 0);
	assert_int_equal(json_object_size(json_object_get(o, "errors")), 0);
	assert_int_equal(json_object_size(json_object_get(o, "anomalies")), 0);
	json_decref(o);
}

/* c's Prometheus family, failing on a key the set does not have. */
static const char *
prom_of(const struct vg_ctr_set *s, const char *key, char *buf, size_t len)
{
	const struct vg_ctr *c = vg_ctr_find(s, key);

	if (c == NULL)
		fail_msg("%s has no row %s", s->name, key);
	return vg_ctr_prom_name(s, c, buf, len);
}

/* Control's event counters: by type and by flow end reason from the first type and reason on
 * (0 is neither), every one present, as the report had them. */
static void
test_events_json(void **state)
{
	struct ctl_events_counters c = { 0 };
	json_t *o = json_object();
	json_t *t, *e;

	(void)state;
	c.by_type[DP_EV_ALERT] = 3;
	c.ends[DP_END_TIMEOUT] = 2;
	c.drained = 9;
	assert_int_equal(ctl_ctr_json(&ctl_events_ctr_set, &c, o, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "drained")), 9);
	t = json_object_get(o, "by_type");
	e = json_object_get(o, "flow_ends");
	assert_int_equal(json_object_size(t), DP_EV_TXMETA);
	assert_int_equal(json_object_size(e), DP_END_FLUSHED);
	assert_null(json_object_get(t, "?"));
	assert_int_equal(json_integer_value(json_object_get(t, "alert")), 3);
	assert_int_equal(json_integer_value(json_object_get(t, "flow_start")), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "timeout")), 2);
	assert_non_null(json_object_get(e, "fin"));
	assert_non_null(json_object_get(e, "flushed"));
	json_decref(o);
}

/* Prometheus names: the table's where it gives one (the names dashboards use), else derived
 * from the set, the key and the unit. */
static void
test_prom_names(void **state)
{
	char b[96];

	(void)state;
	assert_string_equal(prom_of(&dp_port_ctr_set, "rx_packets", b, sizeof(b)),
			"vigil_port_received_packets_total");
	assert_string_equal(prom_of(&dp_worker_ctr_set, "busy_cycles", b, sizeof(b)),
			"vigil_worker_busy_cycles_total");
	assert_string_equal(prom_of(&dp_inspect_ctr_set, "retransmitted", b, sizeof(b)),
			"vigil_inspection_retransmitted_segments_total");
	assert_string_equal(prom_of(&dp_inspect_ctr_set, "stream_gaps", b, sizeof(b)),
			"vigil_inspection_stream_gaps_total");
	assert_string_equal(prom_of(&dp_frag_ctr_set, "orphans", b, sizeof(b)),
			"vigil_fragments_orphans_total");
	assert_string_equal(prom_of(&dp_parse_ctr_set, "errors", b, sizeof(b)),
			"vigil_parse_errors_total");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_cover_structs),
		cmocka_unit_test(test_exception_arrays),
		cmocka_unit_test(test_json_keys),
		cmocka_unit_test(test_sum_and_json),
		cmocka_unit_test(test_parse_json),
		cmocka_unit_test(test_events_json),
		cmocka_unit_test(test_prom_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
