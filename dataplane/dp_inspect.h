/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's signature inspection: its Hyperscan scratch (det_worker), a pool of per-flow slots
 * (two TCP stream states and the flow's flowbits), TCP in-order tracking per direction, and the
 * verdicts of matching signatures.
 *
 * Which flows: those whose policy rule has `inspect` (or every flow with inspection.flows: all).
 * TCP payload is scanned in streaming mode per direction, in sequence order: a retransmission
 * is scanned only for the bytes it adds; a gap (a segment beyond the next expected byte,
 * because one was lost or reordered) is counted and the stream restarts at the new segment, so
 * a match spanning the gap is missed (Suricata's behaviour without reassembly of
 * out-of-order data). UDP and other protocols are scanned per packet. A frame over several
 * mbuf segments is gathered into a buffer (dp_inspect_payload) and scanned whole.
 *
 * Slots are bounded (inspection.max_flows per worker): a flow that finds none is inspected per
 * packet only (no streams, no flowbits) and counted.
 */
#ifndef DP_INSPECT_H
#define DP_INSPECT_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_flow.h"
#include "dp_pkt.h"
#include "vg_config.h"
#include "vg_ctr.h"

struct det_engine;
struct det_worker;
struct rte_mbuf;

struct dp_inspect_counters {
	uint64_t packets;	    /* packets scanned (block mode) */
	uint64_t segments;	    /* TCP segments scanned in streaming mode */
	uint64_t bytes;		    /* payload bytes scanned */
	uint64_t alerts;	    /* alert events sent */
	uint64_t dropped;	    /* packets dropped by a signature */
	uint64_t would_drop;	    /* ... that dry-run forwarded */
	uint64_t passed;	    /* flows a pass signature released from inspection */
	uint64_t stream_gaps;	    /* segments beyond the next expected byte */
	uint64_t retransmitted;	    /* segments holding no new byte */
	uint64_t overlap_differs;   /* segments repeating bytes seen before with other values */
	uint64_t rst_out_of_window; /* RSTs outside any window the receiver could offer */
	uint64_t no_slot;	    /* inspected flows that found no stream slot */
	uint64_t restarts;	    /* streams restarted after a reload */
	uint64_t rebinds;	    /* scratch moved to a new engine */
	uint64_t rebind_failures;
	uint64_t tx_stages; /* transaction stages checked against the signatures */
	/* packets without a flow scan (refused by the parser, or no flow) checked against the
	 * rules on packet events (dp_inspect_events) */
	uint64_t event_packets;
	/* Packets that met an exception condition of inspection (enum vg_exc_cond:
	 * stream_memcap, app_layer_memcap), whatever its action. */
	uint64_t exceptions[VG_EXC__COUNT];
};

/* Its table (vg_ctr.h), in dp_stats.c with the dataplane's other counter tables. */
extern const struct vg_ctr_set dp_inspect_ctr_set;

/* What a scan decided for the packet. */
enum dp_inspect_verdict {
	DP_INSPECT_FORWARD = 0,
	DP_INSPECT_DROP = 1,
	DP_INSPECT_REJECT = 2,	    /* dropped, the sender answered (reject, rejectsrc) */
	DP_INSPECT_REJECT_DST = 3,  /* dropped, a reset to the receiver (rejectdst) */
	DP_INSPECT_REJECT_BOTH = 4, /* both (rejectboth) */
};

struct dp_inspect;
struct dp_evq;

struct al_config;
struct al_ctx;
struct dp_event_app;

/* alc: the application layer's settings (NULL or not enabled: no parsing). */
struct dp_inspect *dp_inspect_create(
		unsigned worker, uint32_t max_flows, int socket, const struct al_config *alc);

/* The actions (enum vg_exc_action, by enum vg_exc_cond) for inspection's conditions. */
void dp_inspect_set_exceptions(struct dp_inspect *in, const uint8_t *actions);
/* A packet inspected for longer than ns nanoseconds meets packet_budget (0: not measured). */
void dp_inspect_set_budget(struct dp_inspect *in, uint32_t ns);
void dp_inspect_free(struct dp_inspect *in);

/*
 * Worker thread, top of each loop: follow the published engine (rebinding the scratch, and
 * growing the slot pool, which restarts every stream). Returns the engine to scan with, or
 * NULL (none published, or the rebind failed).
 */
const struct det_engine *dp_inspect_follow(struct dp_inspect *in, const struct det_engine *e);

/*
 * An inspected flow ends: what its application layer still holds becomes final (a body that
 * ran to the end of the flow, a request never answered) and the transactions' last stages are
 * checked against engine e (NULL: none), as Suricata does when a flow times out or the capture
 * ends. Alerts go to evq. Call before dp_inspect_flow_end().
 */
void dp_inspect_flow_close(struct dp_inspect *in, const struct det_engine *e,
		struct dp_flow_table *t, int32_t pos, struct dp_flow *f, uint64_t groups,
		uint64_t now, bool dry, struct dp_evq *evq);

/* Release a flow's slot and application-layer state (when the flow ends). */
void dp_inspect_flow_end(struct dp_inspect *in, struct dp_flow *f);

/*
 * Inspect one forwarded packet of an inspected flow. dir: 0 from the initiator. groups: the
 * signature groups its policy rule names (det_pkt.groups; 0: every signature).
 *
 * The application layer comes first: the TCP segment's new bytes in sequence order (or the
 * UDP datagram) go to the flow's parser (applayer/al.h), which detects the protocol and reports
 * transactions; each stage a transaction reaches is checked against the transaction rules
 * (det_scan_tx). Then the packet rules (det_scan_packet) and, for TCP, the stream rules. Sends
 * alert events to evq (flow described from table t at pos; a transaction's alert is preceded
 * by a DP_EV_TXMETA event with its facts). dry: count drops, do not drop. app (may be NULL):
 * receives the DNS facts the anomaly detectors read (*have_app set when there are some).
 * frame: the packet's frame, whose headers (up to p->payload_off) the header keywords read
 * (ttl, tcp.hdr, ...; NULL: none). Returns what the signatures decided; a drop or reject also sets
 * the flow's verdict so the rest of the flow follows.
 */
enum dp_inspect_verdict dp_inspect_packet(struct dp_inspect *in, const struct det_engine *e,
		struct dp_flow_table *t, int32_t pos, struct dp_flow *f, const uint8_t *payload,
		uint32_t len, const struct dp_pkt *p, const uint8_t *frame, unsigned dir,
		uint64_t groups, uint64_t now, bool dry, struct dp_evq *evq,
		struct dp_event_app *app, bool *have_app);

/*
 * A UDP datagram of a flow that is not inspected, for its DNS facts only (the anomaly
 * detectors read them from the flow's events): parsed by the application layer, no
 * signature. Returns true when app was filled.
 */
bool dp_inspect_dns(struct dp_inspect *in, struct dp_flow *f, const uint8_t *payload, uint32_t len,
		const struct dp_pkt *p, unsigned dir, struct dp_event_app *app);

/* The worker's application-layer context (counters), NULL when off. */
const struct al_ctx *dp_inspect_al(const struct dp_inspect *in);

/*
 * The payload of a packet: in place when its first segment holds it, else gathered into the
 * inspection's buffer (16 KiB at most; valid until the next call).
 */
const uint8_t *dp_inspect_payload(struct dp_inspect *in, const struct rte_mbuf *m,
		const struct dp_pkt *p, uint32_t *len);

/*
 * The packet's anomalies as det_event bits (detect/det_event.h), for decode-event and the
 * checksum keywords: its parse reason (refined from the frame's header bytes when frame is
 * not NULL: IHL below 5 or beyond the frame, and the like), SYN with FIN or RST, ICMP of the
 * other family. Stream events are added by dp_inspect_packet.
 */
uint64_t dp_pkt_events(const struct dp_pkt *p, const uint8_t *frame);

/*
 * A packet that no flow inspects because the parser refused it (or it has no flow): checked
 * against the rules on packet events (det_scan_events) when it has some. Alerts go to evq,
 * described from the packet (no flow; in_port: its port's config index). Returns DROP when a
 * drop or reject rule matched (not in dry run), else FORWARD. The caller keeps a refused
 * packet dropped whatever this returns.
 */
enum dp_inspect_verdict dp_inspect_events(struct dp_inspect *in, const struct det_engine *e,
		const struct rte_mbuf *m, const struct dp_pkt *p, uint16_t in_port, uint64_t now,
		bool dry, struct dp_evq *evq);

const struct dp_inspect_counters *dp_inspect_counters(const struct dp_inspect *in);

#endif /* DP_INSPECT_H */
