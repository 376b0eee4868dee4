/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's counter tables (vg_ctr.h): one row per field of the structs of dp_stats.h
 * and dp_inspect.h. The JSON keys and the Prometheus names given here are those dashboards,
 * vigilctl, tests and docs/API.md read: keep them. A row without `.prom` gets the derived name
 * (vg_ctr_prom_name).
 */
#include "dp_evq.h"
#include "dp_failopen.h"
#include "dp_flow.h"
#include "dp_frag.h"
#include "dp_inspect.h"
#include "dp_parse.h"
#include "dp_reasm.h"
#include "dp_stats.h"
#include "dp_tcp.h"

#define PORT(field, key, unit, ...) \
	VG_CTR(struct dp_port_counters, field, key, COUNTER, unit, __VA_ARGS__)

static const struct vg_ctr port_rows[] = {
	PORT(rx_pkts, "rx_packets", "packets", .prom = "vigil_port_received_packets_total",
			.help = "Packets received on the port.", .stat = "rx"),
	PORT(rx_bytes, "rx_bytes", "bytes", .prom = "vigil_port_received_bytes_total",
			.help = "Bytes received on the port."),
	PORT(tx_pkts, "tx_packets", "packets", .prom = "vigil_port_transmitted_packets_total",
			.help = "Packets sent on the port.", .stat = "tx"),
	PORT(tx_bytes, "tx_bytes", "bytes", .prom = "vigil_port_transmitted_bytes_total",
			.help = "Bytes sent on the port."),
	PORT(dropped, "dropped", "packets", .prom = "vigil_port_dropped_packets_total",
			.help = "Packets received on the port that a verdict dropped.",
			.stat = "dropped"),
	PORT(tx_full, "tx_full", "packets", .prom = "vigil_port_tx_full_packets_total",
			.help = "Packets to send on the port that its TX queue had no room for.",
			.stat = "tx-full"),
};
const struct vg_ctr_set dp_port_ctr_set = VG_CTR_SET("port", struct dp_port_counters, port_rows);

#define POLICY(field, unit, ...) \
	VG_CTR(struct dp_policy_counters, field, #field, COUNTER, unit, __VA_ARGS__)

static const struct vg_ctr policy_rows[] = {
	POLICY(classified, "flows", .prom = "vigil_policy_classified_flows_total",
			.help = "Flows classified by the policy (new, or again after a reload)."),
	POLICY(reclassified, "flows",
			.help = "Flows classified again after a policy reload (of the classified "
				"flows)."),
	POLICY(dropped, "packets", .prom = "vigil_dropped_packets_total",
			.prom_label = "reason=\"policy\"",
			.help = "Packets dropped by drop, reject or rate-limit verdicts."),
	POLICY(would_drop, "packets", .prom = "vigil_policy_would_drop_packets_total",
			.help = "Packets a verdict would have dropped (dry-run)."),
	POLICY(rate_limited, "packets", .prom = "vigil_policy_rate_limited_packets_total",
			.help = "Packets over a rate-limit rule's rate."),
	POLICY(rejects_sent, "answers", .prom = "vigil_policy_rejects_sent_total",
			.help = "TCP RST or ICMP unreachable answers sent."),
	POLICY(rejects_suppressed, "answers", .prom = "vigil_policy_rejects_suppressed_total",
			.help = "Reject answers not sent: not due (RFC 1122) or over the reject "
				"rate."),
	POLICY(l2_dropped, "packets", .prom = "vigil_dropped_packets_total",
			.prom_label = "reason=\"l2_policy\"",
			.help = "Non-IP frames the policy's l2 section dropped."),
	POLICY(stateless_matched, "packets",
			.help = "Packets that matched a stateless (tcp_flags) rule."),
	POLICY(blocked, "packets", .help = "Packets from or to a blocklisted address."),
	VG_CTR_ARRAY(struct dp_policy_counters, exceptions, "exceptions", COUNTER, "packets",
			vg_exc_cond_names, "condition", .prom = "vigil_exception_packets_total",
			.json_at = "exceptions.packets",
			.help = "Packets that met an exception condition (handled by its "
				"configured action)."),
};
const struct vg_ctr_set dp_policy_ctr_set =
		VG_CTR_SET("policy", struct dp_policy_counters, policy_rows);

#define WORKER(field, unit, help_, ...)                                                  \
	VG_CTR(struct dp_worker_counters, field, #field, COUNTER, unit, .help = (help_), \
			__VA_ARGS__)

/* Its names are the derived ones: vigil_worker_loops_total, ... */
static const struct vg_ctr worker_rows[] = {
	WORKER(loops, "loops", "Poll loops of the worker.", .stat = "loops"),
	WORKER(busy_loops, "loops", "Poll loops of the worker that received packets.",
			.stat = "busy"),
	WORKER(rx_bursts, "bursts", "RX bursts of the worker.", .stat = "rx-bursts"),
	WORKER(busy_cycles, "cycles",
			"TSC cycles the worker spent in loops that received packets."),
};
const struct vg_ctr_set dp_worker_ctr_set =
		VG_CTR_SET_TO("worker", struct dp_worker_counters, worker_rows, stage_cycles);

static const struct vg_ctr handoff_rows[] = {
	VG_CTR(struct dp_handoff_counters, out, "out", COUNTER, "packets",
			.prom = "vigil_worker_handoff_packets_total",
			.prom_label = "direction=\"out\"",
			.help = "Software dispatch: packets the worker handed to the flow's owner "
				"(out) and took from other workers (in)."),
	VG_CTR(struct dp_handoff_counters, in, "in", COUNTER, "packets",
			.prom = "vigil_worker_handoff_packets_total",
			.prom_label = "direction=\"in\"",
			.help = "Software dispatch: packets the worker handed to the flow's owner "
				"(out) and took from other workers (in)."),
	VG_CTR(struct dp_handoff_counters, lost, "lost", COUNTER, "packets",
			.prom = "vigil_worker_handoff_lost_packets_total",
			.help = "Software dispatch: packets the worker could not hand over because "
				"the owner's ring was full."),
};
const struct vg_ctr_set dp_handoff_ctr_set =
		VG_CTR_SET("handoff", struct dp_handoff_counters, handoff_rows);

#define INSPECT(field, unit, help_) \
	VG_CTR(struct dp_inspect_counters, field, #field, COUNTER, unit, .help = (help_))

/* Names derived: vigil_inspection_packets_total, vigil_inspection_stream_gaps_total, ... */
static const struct vg_ctr inspect_rows[] = {
	INSPECT(packets, "packets", "Packets scanned per packet (block mode)."),
	INSPECT(segments, "segments", "TCP segments scanned in streaming mode."),
	INSPECT(bytes, "bytes", "Payload bytes scanned."),
	INSPECT(alerts, "alerts", "Alert events the signatures sent."),
	INSPECT(dropped, "packets", "Packets a signature dropped."),
	INSPECT(would_drop, "packets", "Packets a signature would have dropped (dry-run)."),
	INSPECT(passed, "flows", "Flows a pass signature released from inspection."),
	INSPECT(stream_gaps, "gaps", "TCP segments beyond the next expected byte (a gap)."),
	INSPECT(retransmitted, "segments", "TCP segments holding no new byte."),
	INSPECT(overlap_differs, "segments",
			"TCP segments repeating bytes seen before with other values."),
	INSPECT(rst_out_of_window, "packets",
			"TCP RSTs outside any window the receiver could offer."),
	INSPECT(no_slot, "flows",
			"Inspected flows that found no stream slot (inspection.max_flows)."),
	INSPECT(restarts, "restarts", "Streams restarted after a signature reload."),
	INSPECT(rebinds, "rebinds", "Workers' scratch moved to a new signature engine."),
	INSPECT(rebind_failures, "failures",
			"Scratch moves to a new signature engine that failed."),
	INSPECT(tx_stages, "stages",
			"Application-layer transaction stages checked against the signatures."),
	INSPECT(event_packets, "packets",
			"Packets without a flow scan checked against the rules on packet events."),
	VG_CTR_ARRAY(struct dp_inspect_counters, exceptions, "exceptions", COUNTER, "packets",
			vg_exc_cond_names, "condition", .prom = "vigil_exception_packets_total",
			.json_at = "exceptions.packets",
			.help = "Packets that met an exception condition (handled by its "
				"configured action)."),
};
const struct vg_ctr_set dp_inspect_ctr_set =
		VG_CTR_SET("inspection", struct dp_inspect_counters, inspect_rows);

#define FRAG(field, unit, ...) \
	VG_CTR(struct dp_frag_counters, field, #field, COUNTER, unit, __VA_ARGS__)

/* The fragment verdicts' table (dp_frag.h). */
static const struct vg_ctr frag_rows[] = {
	FRAG(tracked, "fragments", .prom = "vigil_fragments_tracked_total",
			.help = "IP fragments tracked."),
	FRAG(matched, "fragments", .prom = "vigil_fragments_matched_total",
			.help = "Later fragments that found their datagram."),
	FRAG(orphans, "fragments", .prom = "vigil_fragments_orphans_total",
			.help = "Later fragments without a first fragment."),
	FRAG(table_full, "fragments", .prom = "vigil_fragments_table_full_total",
			.help = "First fragments not remembered: the fragment table was full."),
	FRAG(expired, "datagrams", .help = "Datagrams forgotten after the fragment timeout."),
	FRAG(overlaps, "fragments", .prom = "vigil_fragments_overlaps_total",
			.help = "Later fragments over bytes an earlier one carried."),
	FRAG(duplicates, "fragments", .prom = "vigil_fragments_duplicates_total",
			.help = "Later fragments that repeat an earlier one exactly."),
};
const struct vg_ctr_set dp_frag_ctr_set =
		VG_CTR_SET("fragments", struct dp_frag_counters, frag_rows);

/* Reassembly for inspection (dp_reasm.h). Names derived: vigil_reassembly_fragments_total, ... */
static const struct vg_ctr reasm_rows[] = {
	VG_CTR(struct dp_reasm_counters, fragments, "fragments", COUNTER, "fragments",
			.help = "Fragments of inspected flows given to reassembly."),
	VG_CTR(struct dp_reasm_counters, datagrams, "datagrams", COUNTER, "datagrams",
			.help = "Datagrams reassembled and scanned."),
	VG_CTR(struct dp_reasm_counters, clone_failures, "copy_failures", COUNTER, "failures",
			.help = "Fragments not reassembled: no mbuf to copy them into."),
	VG_CTR(struct dp_reasm_counters, too_big, "too_big", COUNTER, "datagrams",
			.help = "Reassembled datagrams larger than the scan buffer."),
};
const struct vg_ctr_set dp_reasm_ctr_set =
		VG_CTR_SET("reassembly", struct dp_reasm_counters, reasm_rows);

static const char *
perr_name(unsigned i)
{
	return dp_parse_err_name((enum dp_parse_err)i);
}

static const char *
anom_name(unsigned i)
{
	return dp_anom_name((enum dp_anom)i);
}

#define PARSE(field, key, ...) \
	VG_CTR(struct dp_parse_counters, field, key, COUNTER, "packets", __VA_ARGS__)
#define KIND(field, key, kind)                                                                     \
	PARSE(field, key, .prom = "vigil_parsed_packets_total", .prom_label = "kind=\"" kind "\"", \
			.help = "Packets parsed, by what they carried.")

/*
 * The parser's table (dp_parse.h). The JSON has the errors and anomalies that happened only,
 * err[0] (no error) as "clean", and ICMP and ICMPv6 summed as "icmp" (two rows of one key sum).
 */
static const struct vg_ctr parse_rows[] = {
	PARSE(err[0], "clean", .help = "Packets that parsed without an error."),
	VG_CTR_ARRAY_FN(struct dp_parse_counters, err, 1, "errors", COUNTER, "packets", perr_name,
			"reason", .prom = "vigil_parse_errors_total", .json_nonzero = true,
			.help = "Malformed packets by reason (dropped unless parse.forward lists the "
				"reason)."),
	PARSE(dropped, "dropped", .prom = "vigil_dropped_packets_total",
			.prom_label = "reason=\"malformed\"",
			.help = "Packets dropped, by reason."),
	KIND(ipv4, "ipv4", "ipv4"),
	KIND(ipv6, "ipv6", "ipv6"),
	KIND(non_ip, "non_ip", "non_ip"),
	PARSE(vlan, "vlan", .help = "Packets with at least one VLAN tag."),
	PARSE(qinq, "qinq", .help = "Packets with two VLAN tags."),
	PARSE(frag_first, "frag_first", .help = "First fragments of IP datagrams."),
	PARSE(frag_later, "frag_later", .help = "Later fragments of IP datagrams."),
	KIND(tcp, "tcp", "tcp"),
	KIND(udp, "udp", "udp"),
	KIND(icmp, "icmp", "icmp"),
	KIND(icmpv6, "icmp", "icmp"),
	KIND(sctp, "sctp", "sctp"),
	KIND(l4_other, "other", "other_l4"),
	PARSE(ipv4_cksum_hw_good, "ipv4_cksum_hw_good",
			.help = "IPv4 headers whose checksum the NIC found good (not checked again)."),
	PARSE(ipv4_cksum_hw_bad, "ipv4_cksum_hw_bad",
			.help = "IPv4 headers whose checksum the NIC found bad."),
	PARSE(l4_cksum_hw, "l4_cksum_hw",
			.help = "L4 checksums the NIC vouched for (parse.l4_checksum)."),
	PARSE(l4_cksum_sw, "l4_cksum_sw",
			.help = "L4 checksums checked in software (parse.l4_checksum)."),
	PARSE(multiseg, "multiseg", .help = "Packets of more than one mbuf segment."),
	PARSE(multiseg_truncated, "multiseg_truncated",
			.help = "Packets of several segments refused because their headers ran past "
				"the first segment."),
	VG_CTR_ARRAY_FN(struct dp_parse_counters, anom, 0, "anomalies", COUNTER, "packets",
			anom_name, "anomaly", .prom = "vigil_parse_anomalies_total",
			.json_nonzero = true,
			.help = "Packets with a protocol anomaly, by kind (handled as usual; rules see "
				"them as decode events)."),
};
const struct vg_ctr_set dp_parse_ctr_set =
		VG_CTR_SET("parse", struct dp_parse_counters, parse_rows);

static const char *
end_name(unsigned i)
{
	return dp_end_reason_name((enum dp_end_reason)i);
}

static const char *
overflow_name(unsigned i)
{
	return dp_flow_overflow_name((enum dp_flow_overflow)i);
}

static const char *
evict_name(unsigned i)
{
	return dp_flow_evict_class_name((enum dp_flow_evict_class)i);
}

static const char *
tcp_state_name(unsigned i)
{
	return dp_tcp_state_name((enum dp_tcp_state)i);
}

#define FLOW(field, key, ctype, unit, ...) \
	VG_CTR(struct dp_flow_counters, field, key, ctype, unit, __VA_ARGS__)

/* The flow table's (dp_flow.h): the report's flows (summed) and workers[].flows. */
static const struct vg_ctr flow_rows[] = {
	FLOW(active, "active", GAUGE, "flows", .prom = "vigil_flows_active",
			.help = "Flows in the flow tables."),
	FLOW(created, "created", COUNTER, "flows", .prom = "vigil_flows_created_total",
			.help = "Flows created."),
	/* Element 0 of ended is no reason: never counted. */
	VG_CTR_ARRAY_FN(struct dp_flow_counters, ended, DP_END_FIN, "ended", COUNTER, "flows",
			end_name, "reason", .head_unused = true, .prom = "vigil_flows_ended_total",
			.help = "Flows ended, by reason."),
	FLOW(overflow, "overflow", COUNTER, "flows", .prom = "vigil_flows_overflow_total",
			.help = "New flows not tracked: the table was full."),
	VG_CTR_ARRAY_FN(struct dp_flow_counters, overflow_by, 0, "overflow_by", COUNTER, "flows",
			overflow_name, "reason", .prom = "vigil_flows_overflow_by_reason_total",
			.help = "New flows not tracked, by why no entry could be made free."),
	VG_CTR_ARRAY_FN(struct dp_flow_counters, evicted_by, 0, "evicted_by", COUNTER, "flows",
			evict_name, "class", .prom = "vigil_flows_evicted_total",
			.help = "Flows evicted to make room for a new one, by class."),
	FLOW(tcp_invalid, "tcp_invalid", COUNTER, "segments",
			.help = "TCP segments invalid for the connection's state."),
	FLOW(tcp_invalid_dropped, "tcp_invalid_dropped", COUNTER, "packets",
			.prom = "vigil_dropped_packets_total",
			.prom_label = "reason=\"tcp_invalid\"",
			.help = "Packets dropped, by reason."),
	FLOW(midstream, "midstream", COUNTER, "flows", .prom = "vigil_flows_midstream_total",
			.help = "TCP flows picked up without a handshake."),
	FLOW(midstream_refused, "midstream_refused", COUNTER, "packets",
			.help = "First segments of TCP flows not picked up midstream (no ACK, or "
				"not allowed)."),
	FLOW(port_reuse, "port_reuse", COUNTER, "flows", .prom = "vigil_flows_port_reuse_total",
			.help = "SYNs on a closed flow's addresses and ports that started a new flow."),
	VG_CTR_ARRAY_FN(struct dp_flow_counters, per_state, 0, "tcp_states", GAUGE, "flows",
			tcp_state_name, "state", .prom = "vigil_flows_tcp_state",
			.help = "Active TCP flows by state."),
	FLOW(long_keys, "long_keys", GAUGE, "flows", .prom = "vigil_flows_long_keys",
			.help = "Active flows with a long key (IPv6 or three VLAN tags: two entries "
				"each)."),
	FLOW(bucket_moves, "bucket_moves", COUNTER, "keys",
			.prom = "vigil_flows_bucket_moves_total",
			.help = "Keys moved to their other bucket to make room."),
};
const struct vg_ctr_set dp_flow_ctr_set =
		VG_CTR_SET_TO("flows", struct dp_flow_counters, flow_rows, removed);

/* A worker's event queue to control (dp_evq.h): workers[].events and events (summed). */
static const struct vg_ctr evq_rows[] = {
	VG_CTR(struct dp_evq_counters, sent, "sent", COUNTER, "events",
			.prom = "vigil_worker_events_sent_total",
			.help = "Flow and alert events the worker queued for control."),
	VG_CTR(struct dp_evq_counters, lost, "lost", COUNTER, "events",
			.prom = "vigil_worker_events_lost_total",
			.help = "Events lost because the worker's ring to control was full."),
};
const struct vg_ctr_set dp_evq_ctr_set = VG_CTR_SET("events", struct dp_evq_counters, evq_rows);

#define FAILOPEN(field, unit, ...) \
	VG_CTR(struct dp_failopen_counters, field, #field, COUNTER, unit, __VA_ARGS__)

/* The watchdog's fail-open fallback (dp_failopen.h): workers[].watchdog.failopen. Its per-port
 * counters are added to the ports' (dp_port_counters()). */
static const struct vg_ctr failopen_rows[] = {
	FAILOPEN(packets, "packets", .prom = "vigil_worker_failopen_packets_total",
			.help = "Frames of the worker's queues forwarded unchanged, without "
				"inspection, while it was stalled (watchdog.failure: open)."),
	FAILOPEN(bytes, "bytes", .prom = "vigil_worker_failopen_bytes_total",
			.help = "Bytes of the frames fail-open forwarded for the worker."),
	FAILOPEN(tx_full, "packets", .prom = "vigil_worker_failopen_tx_full_total",
			.help = "Frames fail-open received but could not send (the TX queue was full "
				"or stayed locked)."),
	FAILOPEN(busy, "polls", .prom = "vigil_worker_failopen_busy_total",
			.help = "Queue polls fail-open skipped because the queue's lock was held (a "
				"worker stalled inside a queue call)."),
};
const struct vg_ctr_set dp_failopen_ctr_set =
		VG_CTR_SET_TO("failopen", struct dp_failopen_counters, failopen_rows, port);
