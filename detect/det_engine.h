/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiled signature set and its scanners.
 *
 *   det_load()     -> struct det_set     (det_load.h: rules, report)
 *   det_compile()  -> struct det_engine  (immutable snapshot: Hyperscan databases, plans)
 *   det_worker_create() per worker lcore (Hyperscan scratch, match buffers, thresholds)
 *   det_scan_packet()            block mode: one packet's payload (UDP, ICMP, TCP segments
 *                                for packet rules, any IP protocol)
 *   det_stream_open/scan/close() streaming mode: one TCP direction's in-order payload, with
 *                                stream state in memory the caller provides
 *
 *   det_scan_tx()                application layer: one transaction of a flow whose stage
 *                                just became ready (applayer/al.h), against the rules with
 *                                application-layer buffers (http.uri, dns.query, ...)
 *
 * Rules are grouped by protocol class (det_rule.h DET_CL_*), direction (to server, to client)
 * and, where rules name ports, by the server's port, so that a packet is scanned only against
 * the rules its header can match: one Hyperscan scan per packet or segment.
 *
 * Transaction rules are grouped by protocol and by the stage they are decided at: the last of
 * the stages they need (a rule on http.uri and file.data needs the request headers and body,
 * and is decided with the body). Each group has one Hyperscan database per buffer (and
 * transforms) holding the rules whose prefilter is in that buffer, as Suricata's
 * multi-pattern matcher has per buffer. When a stage becomes ready, its group scans each of
 * its buffers once; a prefilter hit runs the rule's keywords on each of its buffers
 * (det_confirm).
 *
 * How a rule is decided (det_compile_report counts each kind):
 *  - exact: every content chain is one Hyperscan expression (relative contents become bounded
 *    gaps, offset/depth become Hyperscan's offset limits or an anchored prefix), pcre that
 *    Hyperscan accepts is compiled as it is, negated contents are absences. Nothing is
 *    confirmed after the scan. In block mode the parts of a rule are checked after the scan
 *    from the set of parts seen; in streaming mode each part sets a bit in the stream state
 *    and the rule fires when all are set. (Hyperscan's logical combinations are not used:
 *    in streaming mode 5.4 reports a combination only when another of its parts matches
 *    later or the stream ends.) Stream rules with a negation are confirmed instead, since
 *    Hyperscan can only tell "absent so far".
 *  - confirm: one content (fast_pattern, else the longest; else a pcre in Hyperscan prefilter
 *    mode) is the prefilter; a hit runs the rule's keywords in order with Suricata's semantics
 *    (det_confirm.h) on the packet, or in streaming mode on the direction's recent bytes
 *    (the window, see det_compile_opts).
 *  - unfiltered: no keyword can serve as prefilter (only negations, a pcre Hyperscan refuses
 *    even in prefilter mode): checked on every packet of its group.
 *  - header: no payload keyword: decided by the header, flow, dsize and flags alone.
 *  - tx: a transaction rule (det_rule.tx), prefiltered on one content of its buffers (the
 *    fast_pattern, else the longest; else a pcre) or, without one, checked on every
 *    transaction of its protocol and stages (tx_unfiltered).
 *
 * Thread safety: an engine is immutable and shared by every worker; a det_worker belongs to
 * one thread. Compile and free run off the fast path (control lcore); publish a new engine by
 * pointer swap and free the old one after every worker has moved on (RCU).
 */
#ifndef DET_ENGINE_H
#define DET_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "det_event.h"
#include "det_load.h"
#include "det_rule.h"
#include "vg_diag.h"

#define DET_PCRE_MATCH_LIMIT 3500
#define DET_PCRE_DEPTH_LIMIT 1500

struct det_compile_opts {
	/* Payload bytes per TCP direction scanned in streaming mode; later bytes are not
	 * inspected. 0: no limit. Default 1 MiB. */
	uint32_t stream_depth;
	/* Bytes of a direction's recent payload kept in the stream state for rules that are
	 * confirmed after a prefilter hit. 0 keeps none (such rules then see only the segment
	 * of the hit). Default 2048. */
	uint32_t stream_window;
	/* Groups with their own database per protocol class and direction, keyed by the server
	 * port (the ports named most often by rules). Default 32; 0 puts every rule of a class
	 * and direction in one group. */
	uint32_t max_port_groups;
	/* Threshold/detection_filter entries per worker (rounded up to a power of two).
	 * Default 65536. */
	uint32_t thresh_entries;
	/* Compile pcres without a literal (det_regex.h) into Hyperscan too, scanned over every
	 * byte of their group, as Vigil did before they were left to PCRE2. For comparisons
	 * (tests, det_bench); default false. */
	bool pcre_scan_all;
	/* PCRE2 limits per pcre per input: match() calls (pcre2_set_match_limit) and
	 * backtracking depth (pcre2_set_depth_limit). A pcre that reaches one is taken as not
	 * matching and counted (per rule and in total). Suricata's defaults: 3500 and 1500. */
	uint32_t pcre_match_limit;
	uint32_t pcre_depth_limit;
};

void det_compile_opts_default(struct det_compile_opts *o);

struct det_group_report {
	/* "tcp-stream to_server port 80", "udp to_client any", "http http.uri [req_headers]" */
	char name[64];
	bool stream; /* streaming-mode database */
	unsigned rules;
	unsigned patterns; /* Hyperscan expressions */
	size_t db_bytes;
	size_t stream_bytes; /* Hyperscan stream state of this database */
};

struct det_compile_report {
	unsigned rules;		   /* rules in the set */
	unsigned exact;		   /* decided by Hyperscan alone */
	unsigned confirm;	   /* prefilter + confirmation */
	unsigned unfiltered;	   /* checked on every packet of their group */
	unsigned header;	   /* no payload keyword */
	unsigned tx;		   /* transaction rules (det_scan_tx) */
	unsigned tx_variants;	   /* their directions: a rule inspecting both counts twice */
	unsigned tx_prefiltered;   /* variants with a prefilter in one of their buffers */
	unsigned tx_unfiltered;	   /* variants checked on every transaction of their stages */
	unsigned tx_groups;	   /* (protocol, deciding stage) groups */
	unsigned tx_databases;	   /* Hyperscan databases of transaction buffers */
	unsigned tx_payload;	   /* transaction rules with payload keywords too */
	unsigned pcre_hs;	   /* pcre compiled into Hyperscan as is */
	unsigned pcre_prefilter;   /* pcre in Hyperscan prefilter mode, confirmed by PCRE2 */
	unsigned pcre_only;	   /* pcre that only PCRE2 runs */
	unsigned pcre_literalless; /* of those, pcre without a literal (det_regex.h) */
	unsigned demoted;	   /* exact plans Hyperscan refused, confirmed instead */
	unsigned groups;	   /* groups holding rules */
	unsigned databases;	   /* Hyperscan databases */
	unsigned patterns;	   /* Hyperscan expressions, all databases */
	size_t db_bytes;	   /* all databases */
	size_t scratch_bytes;	   /* one worker's Hyperscan scratch */
	size_t stream_state_bytes; /* det_stream_state_size() */
	double compile_ms;	   /* wall time of det_compile() */
	struct det_group_report *group;
	unsigned n_group;
};

void det_compile_report_free(struct det_compile_report *r);
void det_compile_report_print(const struct det_compile_report *r, FILE *out);
json_t *det_compile_report_json(const struct det_compile_report *r);

struct det_engine;

/*
 * Plan and compile every rule of set into Hyperscan databases. Takes a reference on set.
 * report (may be NULL) is filled. Returns the engine, or NULL with errno set (and the reason in
 * diag) when Hyperscan fails on the set as a whole or memory runs out. A rule Hyperscan refuses
 * is demoted (exact -> confirm -> unfiltered), never dropped.
 */
struct det_engine *det_compile(struct det_set *set, const struct det_compile_opts *opts,
		struct det_compile_report *report, struct vg_diag *diag);

/* Free the engine and drop its set reference. NULL is a no-op. */
void det_engine_free(struct det_engine *e);

/* A number no other engine of this process has: stream state records it (see det_stream_scan). */
uint64_t det_engine_generation(const struct det_engine *e);

unsigned det_engine_rule_count(const struct det_engine *e);

/*
 * Per-rule counters of pcres that reached a PCRE2 limit (pcre_match_limit, pcre_depth_limit),
 * one row per worker index (det_worker_set_index) below n_workers, each written only by its
 * worker. Call before the engine is handed to workers; without it only the workers' totals
 * count. Returns 0 or -ENOMEM.
 */
int det_engine_counters_alloc(struct det_engine *e, unsigned n_workers);

/* A rule's limit hits over every worker (relaxed reads, any thread). */
uint64_t det_engine_rule_limit_hits(const struct det_engine *e, uint32_t rule);

/* What a match's rule index refers to; NULL when out of range. */
const struct det_rule_info *det_engine_rule_info(const struct det_engine *e, uint32_t rule);
const struct det_rule *det_engine_rule(const struct det_engine *e, uint32_t rule);

/*
 * The signature groups rule belongs to, as bits the caller assigns (Vigil's control gives
 * each rule file's name a bit). A packet whose det_pkt.groups is not 0 is checked only
 * against rules that share a bit with it. Every rule starts in every group (all bits set).
 * Call before the engine is handed to workers. Returns 0, or -EINVAL for a bad rule index.
 */
int det_engine_set_rule_groups(struct det_engine *e, uint32_t rule, uint64_t groups);

/*
 * Bytes of stream state one TCP direction needs: Hyperscan stream, the record of parts seen
 * for rules of several parts, the confirmation window, bookkeeping.
 */
size_t det_stream_state_size(const struct det_engine *e);

/*
 * Bytes of flowbits state per flow (0 when no rule uses flowbits): a generation and one bit
 * per flowbit name of the set. Memory from another engine (before a reload) is recognised
 * and cleared on first use, so a reload forgets the flow's bits.
 */
size_t det_flowbits_size(const struct det_engine *e);

/* ---- per worker ---- */

struct det_worker_stats {
	uint64_t packets;      /* det_scan_packet calls */
	uint64_t segments;     /* det_stream_scan calls */
	uint64_t bytes;	       /* payload bytes scanned by Hyperscan */
	uint64_t candidates;   /* rules a scan made candidates */
	uint64_t confirms;     /* candidate rules run through confirmation */
	uint64_t confirm_fail; /* confirmations that did not match */
	uint64_t matches;      /* matches returned */
	uint64_t truncated;    /* matches lost because the caller's array was full */
	uint64_t beyond_depth; /* stream bytes not scanned because of stream_depth */
	uint64_t thresh_evictions;
	uint64_t scan_errors; /* Hyperscan errors (the packet was treated as not matching) */
	uint64_t tx_events;   /* det_scan_tx calls */
	uint64_t tx_scans;    /* buffer instances scanned by Hyperscan for transactions */
	/* transformed buffers that did not fit the worker's transform space (treated as absent) */
	uint64_t xform_overflow;
	/* pcres that reached a PCRE2 limit (treated as not matching) */
	uint64_t pcre_limit_hits;
};

struct det_worker;

/*
 * Scratch and buffers for one worker thread, sized for engine e. socket < 0 allocates from the
 * heap; socket >= 0 from DPDK memory on that NUMA socket (EAL must be running). Returns NULL
 * with errno set.
 */
struct det_worker *det_worker_create(const struct det_engine *e, int socket);

/*
 * Move the worker to another engine (after a reload). Call it on the worker's thread, between
 * scans. May allocate (scratch growth); threshold state is kept (it is keyed by gid:sid).
 * Streams opened on the old engine return -ESTALE from det_stream_scan. Returns 0 or -ENOMEM.
 */
int det_worker_rebind(struct det_worker *w, const struct det_engine *e);

/* The worker's row in the engines' per-rule counters (det_engine_counters_alloc). */
void det_worker_set_index(struct det_worker *w, unsigned index);

/* NULL is a no-op. */
void det_worker_free(struct det_worker *w);

const struct det_engine *det_worker_engine(const struct det_worker *w);
const struct det_worker_stats *det_worker_stats(const struct det_worker *w);

/* ---- scanning ---- */

enum {
	DET_PKT_TO_SERVER = 1u << 0,   /* from the flow's initiator */
	DET_PKT_TO_CLIENT = 1u << 1,   /* from the responder */
	DET_PKT_ESTABLISHED = 1u << 2, /* TCP handshake done, or UDP seen both ways */
	/* first packet of its flow in this direction: header-only rules without flow, dsize or
	 * flags are evaluated only on such packets, as Suricata's IP-only rules */
	DET_PKT_FIRST = 1u << 3,
	/* the flow's application protocol was decided (or given up) on this packet: rules with
	 * no keyword but app-layer-protocol match only then, as Suricata's "PD-only" rules */
	DET_PKT_PROTO_DONE = 1u << 4,
};

struct det_pkt {
	const uint8_t *payload;
	uint32_t len;
	uint8_t family;	   /* 4 or 6 */
	uint8_t proto;	   /* IPPROTO_* */
	uint8_t tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE CWR */
	uint8_t flags;	   /* DET_PKT_* */
	uint16_t sport;	   /* host order */
	uint16_t dport;
	const uint8_t *src; /* 16 bytes, network order, IPv4 in the first 4 */
	const uint8_t *dst;
	uint64_t now_ns; /* for threshold and detection_filter windows */
	/* the flow's flowbits: det_flowbits_size() bytes, zeroed when the flow starts, shared by
	 * both directions and both scans; NULL: isset fails, isnotset holds, sets are lost */
	void *flowbits;
	/* signature groups to check the packet against (bits given by the caller, see
	 * det_engine_set_rule_groups()); 0: every rule */
	uint64_t groups;
	/*
	 * The flow's application-layer protocol (enum al_proto, applayer/al.h): AL_PROTO_NONE
	 * while detection has not decided, AL_PROTO_FAILED when it gave up. Rules for a
	 * protocol (alert http ..., app-layer-protocol) match flows detected as it; while it is
	 * NONE, rules for protocols approximated by port (app_proto_ports) match by port.
	 */
	uint8_t app_proto;
	/* the packet's anomalies: DET_EV_BIT(enum det_event) (det_event.h), for decode-event,
	 * stream-event and the <proto>-csum keywords; 0: none */
	uint64_t events;

	/*
	 * The packet's headers, for the header keywords (ttl, itype, window, tcp.hdr, ...;
	 * det_hdr.h). l3: the IP header with IPv4 options or IPv6 extension headers (l3_len
	 * bytes); l4: the TCP header with its options, UDP's 8 bytes or ICMP's first 8 (l4_len
	 * bytes), NULL for a later fragment. NULL (or a short length): the keywords that need
	 * the header do not match.
	 */
	const uint8_t *l3;
	const uint8_t *l4;
	uint16_t l3_len;
	uint16_t l4_len;
	/* VLAN ids, outermost first, and how many tags the frame had (vlan.id, vlan.layers) */
	uint16_t vlan[3];
	uint8_t n_vlan;
	/* TCP (stream_size): stream_size[] holds what Suricata's stream_size compares, the next
	 * sequence number past the SYN's less the SYN's: 1 + the in-order payload bytes so far,
	 * this packet's included; [0] the client's (initiator), [1] the server's */
	bool stream_known;
	uint32_t stream_size[2];
};

enum {
	DET_M_ALERT = 1u << 0, /* log an alert (not for pass, noalert or a threshold's quiet) */
	/* the rule decides for the whole flow: a stream rule, or a header-only (IP-only) rule;
	 * Suricata applies pass and drop of such rules to the rest of the flow */
	DET_M_FLOW = 1u << 1,
	/* from det_scan_tx: a transaction rule (end is 0; the verdict is the flow's) */
	DET_M_TX = 1u << 2,
};

struct det_match {
	uint32_t rule;	/* engine rule index: det_engine_rule_info() */
	uint8_t action; /* enum det_action */
	uint8_t flags;	/* DET_M_* */
	uint16_t pad;
	uint32_t end; /* payload offset just past the match (0 when not known) */
};

/*
 * Scan one packet's payload in block mode against the rules of its protocol class, direction
 * and server port. Matches are written to m (at most max), ordered as Suricata orders actions:
 * pass, drop, reject, alert, then priority, then sid. When a pass rule matches, only pass
 * matches are returned: the packet is let through and nothing else alerts. Returns the number
 * of matches (0: none), never an error (Hyperscan errors are counted in the stats).
 *
 * For TCP, this scans the packet rules (tcp-pkt, dsize, flags, header-only); stream rules
 * need det_stream_scan(). No allocation, no locks.
 */
int det_scan_packet(
		struct det_worker *w, const struct det_pkt *p, struct det_match *m, unsigned max);

/*
 * Check a packet that is not scanned with det_scan_packet (one the parser refused, or one
 * without a flow) against the rules on packet events only (decode-event, stream-event,
 * <proto>-csum): their header, flowbits (when p->flowbits is set) and payload keywords
 * included. p->family may be 0 and the addresses absent (a frame that failed before its IP
 * header): only rules on any address match it then. Matches are ordered and filtered as
 * det_scan_packet's. Returns the number of matches. No allocation, no locks.
 */
int det_scan_events(
		struct det_worker *w, const struct det_pkt *p, struct det_match *m, unsigned max);

/*
 * Start streaming inspection of one TCP direction in state (size bytes, at least
 * det_stream_state_size(); 16-byte aligned, 64 is better). p gives the direction
 * (DET_PKT_TO_SERVER or DET_PKT_TO_CLIENT), protocol and ports; its payload is not scanned.
 * The state needs no cleanup: after det_stream_close() (or when the engine it was opened on
 * is gone) the memory may simply be reused. Worker thread only; no allocation. Returns 0,
 * -ENOSPC when size is too small, -EINVAL for bad arguments (misaligned state).
 */
int det_stream_open(struct det_worker *w, void *state, size_t size, const struct det_pkt *p);

/*
 * Scan the next in-order payload of the direction (p->payload, p->len), with p's header and
 * flags for the rule checks. A rule reports at most once per stream (confirmed rules: once
 * per stream while the record of fired rules has room, DET_STREAM_FIRED). Bytes beyond the
 * stream depth are not scanned. Returns the number of matches, or -ESTALE when state was
 * opened on another engine, or never opened (zeroed memory): open it then; a reopened
 * stream starts at the next byte.
 */
int det_stream_scan(struct det_worker *w, void *state, const struct det_pkt *p, struct det_match *m,
		unsigned max);

/*
 * End the stream: reports matches that depend on the end of data (a pcre '$'). p may be NULL
 * (no report then). The state memory may be reused
 * afterwards. Returns the number of matches, or -ESTALE.
 */
int det_stream_close(struct det_worker *w, void *state, const struct det_pkt *p,
		struct det_match *m, unsigned max);

/*
 * Application layer: transaction tx of the flow (applayer/al.h) has just made stage ready
 * (one AL_ST_* bit, already in tx->ready), through data of direction dir (AL_TO_SERVER or
 * AL_TO_CLIENT): evaluate the transaction rules of tx->proto whose needed stages (per
 * direction they inspect) include stage and are all in tx->ready. A rule is so evaluated once
 * per transaction and direction. Call it from the al_tx_cb of al_feed()/al_close(), with p
 * describing the flow as for det_scan_packet: addresses and ports of the packet whose data
 * completed the stage (its direction in p->flags should be dir), DET_PKT_ESTABLISHED, groups,
 * flowbits (shared with the packet and stream scans), now_ns, app_proto; p->payload and
 * p->len are the in-order bytes just fed (what rules mixing payload keywords with buffers
 * inspect; may be empty).
 *
 * Buffers are read with al_tx_buf()/al_tx_num() during the call only. A buffer of several
 * instances (dns.query of each question, tls.certs) matches when any instance does. Matches
 * are ordered and filtered as det_scan_packet's (pass first: then only pass matches), with
 * thresholds and flowbits applied, and carry DET_M_TX | DET_M_FLOW: a drop or pass of a
 * transaction rule applies to the rest of the flow, as in Suricata. Returns the number of
 * matches. No allocation, no locks.
 */
struct al_tx;
int det_scan_tx(struct det_worker *w, const struct det_pkt *p, const struct al_tx *tx,
		unsigned stage, unsigned dir, struct det_match *m, unsigned max);

/* Stream payload bytes fed so far (including those beyond the depth). */
uint64_t det_stream_offset(const void *state);

#define DET_STREAM_FIRED 8

#endif /* DET_ENGINE_H */
