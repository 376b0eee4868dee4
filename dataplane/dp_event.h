/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Events from a worker to the control lcore: fixed-size records on the worker's SP/SC ring.
 *
 * A flow is described from its initiator's side: src/sport is whoever sent the first packet
 * the worker saw, and direction 0 counters are initiator -> responder. Times come from the
 * dataplane clock (nanoseconds; the capture's timestamps when replaying a pcap), so control's
 * windows and rates behave the same at any replay speed.
 */
#ifndef DP_EVENT_H
#define DP_EVENT_H

#include <stdint.h>

enum dp_event_type {
	DP_EV_FLOW_START = 1,
	DP_EV_FLOW_UPDATE = 2, /* periodic, for long flows */
	DP_EV_FLOW_END = 3,
	DP_EV_ALERT = 4, /* a signature matched */
	/* the application-layer transaction of the alert that follows (same worker, next seq) */
	DP_EV_TXMETA = 5,
};

enum dp_end_reason {
	DP_END_NONE = 0,
	DP_END_FIN = 1,
	DP_END_RST = 2,
	DP_END_TIMEOUT = 3,
	DP_END_EVICTED = 4,  /* table pressure */
	DP_END_SHUTDOWN = 5, /* vigild stopping */
	DP_END_FLUSHED = 6,  /* flushed by a command */
};

/* Verdicts as stored in flows and events. */
enum dp_verdict {
	DP_VERDICT_NONE = 0, /* not classified yet */
	DP_VERDICT_ALLOW = 1,
	DP_VERDICT_DROP = 2,
	DP_VERDICT_REJECT = 3,
	DP_VERDICT_RATE_LIMIT = 4,
};

/* The flow part shared by every event type. */
struct dp_event_flow {
	uint8_t family;	 /* 4 or 6 */
	uint8_t proto;	 /* IPPROTO_* */
	uint8_t state;	 /* dp_flow_state (TCP) or 0 */
	uint8_t verdict; /* enum dp_verdict */
	uint16_t vlan;
	uint16_t in_port; /* config index of the port the initiator's packets arrive on */
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags[2]; /* union of flags seen per direction */
	uint8_t would_drop;   /* dry-run: the verdict would have dropped */
	uint8_t app_proto;    /* enum al_proto (applayer/al.h): 0 until detected */
	uint32_t rule_id;     /* policy rule that decided (UINT32_MAX: the default) */
	uint32_t epoch;	      /* policy epoch of the verdict */
	uint8_t src[16];      /* initiator, network order; IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t pkts[2]; /* [0] initiator -> responder, [1] reply */
	uint64_t bytes[2];
	float payload_mean; /* payload bytes per packet, both directions */
	float payload_var;
	uint32_t flow_id; /* unique per worker while the flow lives */
	uint16_t mark;	  /* set by the rule's eBPF program (VG_BPF_MARK), 0: none */
};

/*
 * What an ICMP echo flow's payloads said since its previous event (dp_flow_echo): requests
 * compared with the one before and how many carried other data, replies to the latest request
 * and how many did not carry its data back (counts saturate at 255).
 */
struct dp_event_echo {
	uint8_t req_compared;
	uint8_t req_changed;
	uint8_t rep_compared;
	uint8_t rep_mismatched;
};

/*
 * Facts about the flow's content, by its protocol. DNS (UDP and TCP flows): a query's question,
 * or a response's rcode and the bytes of data its answers carried (and its question when the
 * query was seen), each in the event of the packet that carried it, so that control can tell
 * which bytes answered which query whatever the order of other flows' events. ICMP and ICMPv6
 * flows: their echoes (every event).
 */
struct dp_event_app {
	union {
		struct {
			uint16_t dns_qtype;	   /* 0: none */
			uint8_t dns_rcode;	   /* of a response (4 bits) */
			uint8_t dns_response;	   /* 1: a response's facts, not a query's */
			uint16_t dns_answer_bytes; /* a response's answer rdata (saturates) */
			uint8_t dns_qname_len;
			char dns_qname[113]; /* lower-case, dotted, NUL-terminated; a longer name
						keeps its end */
		};
		struct dp_event_echo echo; /* flow.proto 1 or 58 */
	};
};

struct dp_event_alert {
	uint32_t sid;
	uint32_t gid;
	uint32_t rev;
	uint8_t action;	   /* what the signature asked for (detect/ action enum) */
	uint8_t dropped;   /* the packet was dropped because of it */
	uint8_t to_server; /* direction of the packet that matched */
	uint8_t excerpt_len;
	uint8_t tx; /* 1: it matched a transaction, whose DP_EV_TXMETA came just before */
	uint8_t pad[3];
	uint8_t excerpt[100]; /* payload bytes around the match */
};

/*
 * What the alert's transaction carried, for its EVE record (the http, dns, tls ... objects):
 * records of (field, length, bytes). Text values are cut to fit, and a cut value has DP_TM_CUT
 * set in its field byte; numbers (big-endian, the size given below) are whole or left out. A
 * field may repeat (SMTP's recipients; DNS: DP_TM_DNS_RRNAME then its DP_TM_DNS_RRTYPE per
 * question, DP_TM_DNS_ANSWER_RRNAME then its DP_TM_DNS_ANSWER_RRTYPE per answer, in order).
 * Fields by protocol below.
 */
enum dp_txmeta_field {
	DP_TM_HTTP_HOST = 1,
	DP_TM_HTTP_URL,
	DP_TM_HTTP_UA,
	DP_TM_HTTP_METHOD,
	DP_TM_HTTP_PROTOCOL,
	DP_TM_HTTP_STATUS, /* 2 bytes, big-endian */
	DP_TM_HTTP_CTYPE,
	DP_TM_HTTP_LOCATION,
	DP_TM_HTTP_LENGTH, /* 4 bytes: response body bytes */
	DP_TM_DNS_RRNAME,
	DP_TM_DNS_RRTYPE, /* 2 bytes */
	DP_TM_DNS_ID,	  /* 2 bytes */
	DP_TM_DNS_RCODE,  /* 2 bytes */
	DP_TM_TLS_SNI,
	DP_TM_TLS_VERSION, /* 2 bytes */
	DP_TM_TLS_JA3,
	DP_TM_TLS_JA3S,
	DP_TM_TLS_SUBJECT,
	DP_TM_TLS_ISSUER,
	DP_TM_TLS_SERIAL,
	DP_TM_TLS_FINGERPRINT,
	DP_TM_SSH_CLIENT_PROTO,
	DP_TM_SSH_CLIENT_SW,
	DP_TM_SSH_SERVER_PROTO,
	DP_TM_SSH_SERVER_SW,
	DP_TM_SMTP_HELO,
	DP_TM_SMTP_MAIL_FROM,
	DP_TM_SMTP_RCPT_TO,
	DP_TM_FTP_COMMAND,
	DP_TM_FTP_COMMAND_DATA,
	DP_TM_FTP_REPLY_CODE, /* 2 bytes */
	DP_TM_DNS_FLAGS,      /* 2 bytes: header flags of the request (else the response) */
	DP_TM_FTP_REPLY,      /* the reply lines as sent */
	DP_TM_DNS_ANSWER_RRNAME,
	DP_TM_DNS_ANSWER_RRTYPE, /* 2 bytes */
	DP_TM__COUNT
};

#define DP_TM_CUT 0x80 /* in a record's field byte: the value was cut to fit */

#define DP_TXMETA_DATA 234

struct dp_event_txmeta {
	uint32_t flow_id; /* of the alert's flow */
	uint8_t proto;	  /* enum al_proto */
	uint8_t len;	  /* bytes of data used */
	uint8_t data[DP_TXMETA_DATA];
};

struct dp_event {
	uint8_t type;	/* enum dp_event_type */
	uint8_t reason; /* enum dp_end_reason, for DP_EV_FLOW_END */
	uint8_t worker;
	uint8_t pad;
	uint32_t seq;	  /* per worker, to spot losses */
	uint64_t time_ns; /* when the event happened */
	union {
		struct {
			struct dp_event_flow flow;
			union {
				struct dp_event_app app;     /* START, UPDATE, END */
				struct dp_event_alert alert; /* ALERT */
			};
		};
		struct dp_event_txmeta txmeta; /* TXMETA: no flow part */
	};
};

_Static_assert(sizeof(struct dp_event) == 256, "events are 256 bytes on the ring");

/* The event holds DNS facts (a flow event of a flow that is not ICMP, with a question). */
static inline bool
dp_event_has_dns(const struct dp_event *ev)
{
	return ev->type != DP_EV_ALERT && ev->type != DP_EV_TXMETA && ev->flow.proto != 1 &&
	       ev->flow.proto != 58 && ev->app.dns_qtype != 0;
}
_Static_assert(sizeof(struct dp_event_txmeta) <= 240, "a TXMETA fits after the header");

#endif /* DP_EVENT_H */
