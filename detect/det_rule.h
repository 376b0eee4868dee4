/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One signature in the Suricata rule language, parsed into a typed, validated model.
 *
 *   action proto src sport -> dst dport (option; option: value; ...)
 *
 * Options are rows of a keyword table (det_rule.c): name, parse, free. Keywords that Suricata
 * has and Vigil does not are rows too, with the reason, so a rejected rule says "unsupported
 * keyword 'byte_test'" rather than "syntax error". Parsing is apart from matching: nothing here
 * touches Hyperscan; det_compile() plans and compiles the parsed rules.
 */
#ifndef DET_RULE_H
#define DET_RULE_H

#include <stdbool.h>
#include <stdint.h>

#include "det_addr.h"
#include "det_buf.h"

/* Actions, numbered in Suricata's order of precedence: a lower value wins. */
enum det_action {
	DET_ACT_NONE = 0,
	DET_ACT_PASS = 1,
	DET_ACT_DROP = 2,
	DET_ACT_REJECT = 3,
	DET_ACT_ALERT = 4,
};

/* "pass", "drop", ...; "?" for anything else. */
const char *det_action_name(enum det_action a);

/* Why a rule was not loaded. The names (det_reason_name) are stable: the API reports them. */
enum det_reason {
	DET_R_SYNTAX = 0,	    /* not a rule: header or option syntax */
	DET_R_INVALID_VALUE,	    /* a keyword's value is malformed or out of range */
	DET_R_INVALID_COMBINATION,  /* keywords that contradict each other */
	DET_R_UNSUPPORTED_KEYWORD,  /* a Suricata keyword Vigil does not implement */
	DET_R_UNKNOWN_KEYWORD,	    /* not a keyword at all */
	DET_R_UNSUPPORTED_PROTOCOL, /* application-layer or other protocol without support */
	DET_R_UNSUPPORTED_ACTION,   /* an action other than alert, drop, reject, pass */
	DET_R_UNSUPPORTED_MODIFIER, /* a supported keyword with an option Vigil lacks */
	DET_R_UNDEFINED_VARIABLE,   /* $VAR not defined in the appliance config */
	DET_R_BAD_ADDRESS,	    /* address or port expression does not parse */
	DET_R_PCRE,		    /* the regular expression does not compile */
	DET_R_UNKNOWN_CLASSTYPE,    /* classtype not in the classification file */
	DET_R_MISSING_SID,	    /* no sid keyword */
	DET_R_DUPLICATE_SID,	    /* gid:sid already loaded */
	DET_R_CANNOT_MATCH,	    /* e.g. dsize smaller than the contents need */
	DET_R__COUNT
};

const char *det_reason_name(enum det_reason r);

/* Protocol classes a rule is scanned in (bit mask). */
enum {
	DET_CL_TCP_STREAM = 1u << 0, /* reassembled TCP payload, per direction (streaming) */
	DET_CL_TCP_PKT = 1u << 1,    /* each TCP segment on its own (block mode) */
	DET_CL_UDP = 1u << 2,
	DET_CL_ICMP = 1u << 3, /* ICMP and ICMPv6 */
	DET_CL_SCTP = 1u << 4,
	DET_CL_OTHER = 1u << 5, /* any other IP protocol */
	DET_CL_ALL = (1u << 6) - 1,
};

/* Content flags. */
enum {
	DET_C_NOCASE = 1u << 0,
	DET_C_NEGATED = 1u << 1,
	DET_C_OFFSET = 1u << 2,
	DET_C_DEPTH = 1u << 3,
	DET_C_DISTANCE = 1u << 4,
	DET_C_WITHIN = 1u << 5,
	DET_C_FAST_PATTERN = 1u << 6,
	DET_C_ENDSWITH = 1u << 7,   /* the content ends the buffer */
	DET_C_STARTSWITH = 1u << 8, /* the content starts the buffer (offset 0, depth len) */
};

/* pcre flags. */
enum {
	DET_P_CASELESS = 1u << 0,	/* i */
	DET_P_DOTALL = 1u << 1,		/* s */
	DET_P_MULTILINE = 1u << 2,	/* m */
	DET_P_EXTENDED = 1u << 3,	/* x */
	DET_P_RELATIVE = 1u << 4,	/* R */
	DET_P_NEGATED = 1u << 5,	/* pcre:!"..." */
	DET_P_ANCHORED = 1u << 6,	/* A */
	DET_P_DOLLAR_ENDONLY = 1u << 7, /* E */
	DET_P_UNGREEDY = 1u << 8,	/* G */
	DET_P_PREFILTER = 1u << 9, /* followed by prefilter: Hyperscan scans it, literal or not */
};

enum det_item_type {
	DET_ITEM_CONTENT = 1,
	DET_ITEM_PCRE = 2,
	DET_ITEM_ISDATAAT = 3,
	DET_ITEM_BYTE_TEST = 4,
	DET_ITEM_BYTE_JUMP = 5,
	DET_ITEM_BSIZE = 6, /* bsize, urilen: the buffer's length */
};

struct det_content {
	uint8_t *pat;
	uint32_t len;
	uint32_t flags; /* DET_C_* */
	int32_t offset;
	int32_t depth; /* as written: counted from offset */
	int32_t distance;
	int32_t within;
};

struct det_pcre {
	char *expr;	/* the pattern without delimiters and flags */
	uint32_t flags; /* DET_P_* */
	void *re;	/* pcre2_code *, compiled (and JIT-compiled where possible) at parse */
};

struct det_isdataat {
	int32_t n;
	bool relative;
	bool negated;
};

enum det_byte_op {
	DET_BOP_LT = 1,
	DET_BOP_GT,
	DET_BOP_EQ,
	DET_BOP_LE,
	DET_BOP_GE,
	DET_BOP_AND, /* any bit of value set */
	DET_BOP_XOR, /* differs from value */
};

/* byte_test and byte_jump: read a number from the buffer. */
struct det_byte {
	uint8_t nbytes;	     /* 1..8 binary, 1..20 as a string */
	uint8_t op;	     /* byte_test: enum det_byte_op */
	uint8_t base;	     /* string: 8, 10 or 16; 0 for binary */
	bool negated;	     /* byte_test: the comparison is inverted */
	bool little;	     /* binary little-endian */
	bool align;	     /* byte_jump: round the jump up to a multiple of 4 */
	bool from_beginning; /* byte_jump: jump from the buffer start */
	bool from_end;	     /* byte_jump: jump from the buffer end */
	int32_t offset;	     /* where to read, from the start or after the previous match */
	uint32_t multiplier; /* byte_jump, default 1 */
	int32_t post_offset; /* byte_jump */
	uint64_t value;	     /* byte_test */
	uint64_t bitmask;    /* 0: none */
};

/* Comparisons of numbers: bsize, urilen, dns.opcode, tls.version, ... */
enum det_num_op {
	DET_NOP_EQ = 1,
	DET_NOP_NE,
	DET_NOP_LT,
	DET_NOP_LE,
	DET_NOP_GT,
	DET_NOP_GE,
	DET_NOP_RANGE, /* lo < x < hi, as Suricata's "lo<>hi" and "lo-hi" */
};

struct det_cmp {
	uint8_t op; /* enum det_num_op */
	uint64_t lo, hi;
};

/*
 * Suricata's unsigned integer forms into c: N, =N, !N, !=N, <N, >N, <=N, >=N, lo-hi and lo<>hi
 * (both exclusive: lo < x < hi), decimal or 0x hex, at most max. Returns 0; -ERANGE for a
 * comparison nothing satisfies (<0, >max); -EINVAL otherwise.
 */
int det_cmp_parse(const char *v, uint64_t max, struct det_cmp *c);

/* Does x satisfy c? */
static inline bool
det_cmp_ok(const struct det_cmp *c, uint64_t x)
{
	switch (c->op) {
	case DET_NOP_EQ:
		return x == c->lo;
	case DET_NOP_NE:
		return x != c->lo;
	case DET_NOP_LT:
		return x < c->lo;
	case DET_NOP_LE:
		return x <= c->lo;
	case DET_NOP_GT:
		return x > c->lo;
	case DET_NOP_GE:
		return x >= c->lo;
	case DET_NOP_RANGE:
		return x > c->lo && x < c->hi;
	default:
		return false;
	}
}

/*
 * One payload keyword. Items are grouped by the buffer they inspect (struct det_span), in rule
 * order within a buffer; "relative" means the item is positioned after the end of the previous
 * content or pcre match in the same buffer (distance/within, pcre R, isdataat relative,
 * byte_test/byte_jump relative).
 */
struct det_item {
	uint8_t type; /* enum det_item_type */
	bool relative;
	uint8_t span; /* index in det_rule.spans */
	uint8_t pad;
	uint16_t kw;  /* row of the keyword table that made it */
	uint32_t col; /* offset in the rule text, for messages */
	union {
		struct det_content c;
		struct det_pcre p;
		struct det_isdataat d;
		struct det_byte b;
		struct det_cmp z; /* bsize, urilen */
	};
};

/*
 * The items of one buffer: the payload (DET_BUF_PKT), or an application-layer buffer with the
 * transforms the rule applies to it. A buffer named again continues its span, except a
 * buffer of several instances (dns.query of a query with several questions), where each
 * naming is a condition of its own that any instance may satisfy (Suricata's multiple buffer
 * matching).
 */
struct det_span {
	uint8_t buf; /* enum det_buf */
	uint8_t n_xf;
	uint8_t xf[DET_XF_MAX]; /* enum det_xf, applied in order */
	/* the enum al_buf it reads when the rule inspects each direction; AL_BUF_NONE when the
	 * rule does not inspect that direction (and for the payload) */
	uint8_t al[2];
	uint16_t first, n; /* items[first, first + n) */
	uint32_t col;	   /* where the buffer was named, for messages */
};

/* A number of the transaction a rule tests (dns.opcode, tls.version, ...). */
/* s without its leading and trailing white space (cut in place). */
char *det_strip(char *s);

#define DET_NUM_INDEX_MAX 255

/* Which instances of a number of several (dns.rrtype of each question) must hold. */
enum det_num_inst {
	DET_NI_ANY = 0, /* one of them (the default) */
	DET_NI_ALL,	/* every one, and there is one */
	DET_NI_INDEX,	/* the one at index (negative: from the last, -1 the last) */
};

struct det_num {
	uint8_t num;   /* enum det_numkw */
	uint8_t al[2]; /* enum al_num per direction, as det_span.al */
	uint8_t inst;  /* enum det_num_inst */
	uint16_t kw;
	int16_t index; /* DET_NI_INDEX */
	uint32_t col;
	struct det_cmp cmp;
};

/* app-layer-protocol: the flow's detected protocol is (or with neg, is not) proto. */
struct det_alp {
	uint8_t proto; /* enum al_proto; AL_PROTO_FAILED for "failed" */
	bool neg;
};

#define DET_ALP_MAX 4

enum {
	DET_L4_TCP = 1u << 0,
	DET_L4_UDP = 1u << 1,
};

enum {
	DET_FLOW_TO_SERVER = 1u << 0,
	DET_FLOW_TO_CLIENT = 1u << 1,
	DET_FLOW_ESTABLISHED = 1u << 2,
	DET_FLOW_NOT_ESTABLISHED = 1u << 3,
	DET_FLOW_STATELESS = 1u << 4,
	DET_FLOW_ONLY_STREAM = 1u << 5,
	DET_FLOW_NO_STREAM = 1u << 6,
};

enum det_flags_mode {
	DET_TF_NONE = 0,
	DET_TF_EXACT, /* exactly these (after the mask) */
	DET_TF_ALL,   /* '+': these and maybe others */
	DET_TF_ANY,   /* '*': any of these */
	DET_TF_NOT,   /* '!': none of these */
};

enum det_thresh_type {
	DET_TH_NONE = 0,
	DET_TH_LIMIT,
	DET_TH_THRESHOLD,
	DET_TH_BOTH,
	DET_TH_DETECTION_FILTER,
	DET_TH_BACKOFF, /* alert at the count-th match, then each time multiplier times later */
};

enum det_track {
	DET_TRACK_SRC = 0,
	DET_TRACK_DST,
	DET_TRACK_RULE,
	DET_TRACK_BOTH,
	DET_TRACK_FLOW, /* the address and port pair, either way (Suricata's by_flow) */
};

/* detection_filter unique_on (Suricata 8): count distinct ports instead of matches. */
enum det_unique_on {
	DET_UNIQ_NONE = 0,
	DET_UNIQ_SRC_PORT,
	DET_UNIQ_DST_PORT,
};

struct det_threshold {
	uint8_t type;	   /* enum det_thresh_type */
	uint8_t track;	   /* enum det_track */
	uint8_t unique_on; /* enum det_unique_on; detection_filter only */
	uint32_t count;
	uint32_t seconds;    /* not for backoff */
	uint32_t multiplier; /* backoff only */
};

enum det_fb_cmd {
	DET_FB_SET = 1,
	DET_FB_UNSET,
	DET_FB_TOGGLE,
	DET_FB_ISSET,	 /* any of the names is set */
	DET_FB_ISNOTSET, /* none of the names is set */
};

#define DET_FB_NAMES 8

/* One flowbits keyword: a command on one name, or a test on names joined by '|'. */
struct det_flowbit {
	uint8_t cmd; /* enum det_fb_cmd */
	uint8_t n;
	char *names[DET_FB_NAMES];
};

/* flowint (Suricata): an integer kept per flow, changed or compared. */
enum det_fi_op {
	DET_FI_SET = 1, /* = value */
	DET_FI_ADD,	/* + value (from 0 when unset) */
	DET_FI_SUB,	/* - value (not below 0) */
	DET_FI_EQ,	/* the tests: the variable is set and compares so */
	DET_FI_NE,
	DET_FI_LT,
	DET_FI_LE,
	DET_FI_GT,
	DET_FI_GE,
	DET_FI_ISSET,
	DET_FI_NOTSET,
};

struct det_flowint {
	uint8_t op; /* enum det_fi_op */
	uint32_t value;
	char *name;
};

/* Header tests (det_hdr.h): a field of the packet's headers compared, or a header buffer. */
enum det_hdr_field {
	DET_H_TTL = 1,	   /* ttl: IPv4 TTL, IPv6 hop limit */
	DET_H_TOS,	   /* tos: IPv4 type of service */
	DET_H_IP_ID,	   /* id: IPv4 identification */
	DET_H_IP_PROTO,	   /* ip_proto: the L4 protocol */
	DET_H_IPOPTS,	   /* ipopts: an IPv4 option present */
	DET_H_FRAGBITS,	   /* fragbits: IPv4 M, D, R bits */
	DET_H_FRAGOFFSET,  /* fragoffset: in 8-byte units, IPv4 or an IPv6 fragment header */
	DET_H_ITYPE,	   /* itype: ICMP or ICMPv6 type */
	DET_H_ICODE,	   /* icode */
	DET_H_ICMP_ID,	   /* icmp_id: echo, timestamp, info, address mask messages */
	DET_H_ICMP_SEQ,	   /* icmp_seq: the same messages */
	DET_H_ICMPV6_MTU,  /* icmpv6.mtu: packet too big (type 2, code 0) */
	DET_H_TCP_MSS,	   /* tcp.mss: the MSS option */
	DET_H_WINDOW,	   /* window */
	DET_H_SEQ,	   /* seq */
	DET_H_ACK,	   /* ack */
	DET_H_VLAN_ID,	   /* vlan.id, at a layer or any/all */
	DET_H_VLAN_LAYERS, /* vlan.layers: how many tags */
	DET_H_STREAM_SIZE, /* stream_size */
	DET_H_SAMEIP,	   /* sameip: source and destination address are the same */
	DET_H_BUF,	   /* tcp.hdr, icmpv6.hdr: items on the header's bytes */
};

/* vlan.id layers besides 0..2 and -3..-1 */
#define DET_VLAN_ANY INT8_MIN
#define DET_VLAN_ALL INT8_MAX

/* stream_size sides */
enum { DET_SS_SERVER = 1, DET_SS_CLIENT, DET_SS_BOTH, DET_SS_EITHER };

struct det_hdr {
	uint8_t field; /* enum det_hdr_field */
	uint8_t mode;  /* fragbits: enum det_flags_mode; stream_size: DET_SS_* */
	int8_t layer;  /* vlan.id */
	uint8_t buf;   /* DET_H_BUF: enum det_buf (det_buf_is_hdr) */
	uint16_t bits; /* fragbits (M 1, D 2, R 4), ipopts (det_hdr.c) */
	uint16_t kw;
	uint32_t col;
	uint16_t first, n; /* DET_H_BUF: det_rule.hitems[first, first + n) */
	struct det_cmp cmp;
};

/* What the API shows of a rule. */
/* Whom the reject action answers (Suricata's reject/rejectsrc, rejectdst, rejectboth). */
enum det_reject_to {
	DET_REJ_SRC = 0,
	DET_REJ_DST,
	DET_REJ_BOTH,
};

struct det_rule_info {
	uint32_t sid;
	uint32_t gid;
	uint32_t rev;
	uint8_t action;	       /* enum det_action */
	uint8_t reject_to;     /* enum det_reject_to: whom a reject answers */
	uint8_t priority;      /* 1 (highest) .. 255 */
	const char *msg;       /* "" when none */
	const char *classtype; /* "" when none */
	/* the classification file's description of it (what EVE's category says), "" when
	 * none */
	const char *classdesc;
	const char *metadata; /* as written, "" when none */
	const char *file;     /* where it was loaded from */
	unsigned line;
};

struct det_rule {
	struct det_rule_info info;
	char *msg, *classtype, *metadata, *references; /* owned; references joined by "; " */
	char *classdesc;			       /* owned */
	char *file;
	char *text; /* the rule as written (continuation lines joined) */

	uint8_t proto_kw; /* how the header named the protocol, for messages */
	uint32_t classes; /* DET_CL_* it is scanned in */
	struct det_ipset src, dst;
	struct det_portset sport, dport;
	bool bidir;	  /* "<>" */
	bool ports_apply; /* the protocol has ports (tcp, udp, sctp) */
	/*
	 * The application-layer protocol of the rule (enum al_proto): named in the header
	 * ("alert http") or implied by its buffers; AL_PROTO_NONE for none, or one Vigil has no
	 * parser for. Packet and stream rules of such a protocol match flows detected as it
	 * (det_pkt.app_proto), and while detection has not decided, flows on its well-known
	 * ports when app_approx.
	 */
	uint8_t app_proto;
	/* the header's application protocol also matches by its well-known ports */
	bool app_approx;
	struct det_portset app_ports;
	char app_name[16];
	struct det_alp alp[DET_ALP_MAX]; /* app-layer-protocol keywords, all must hold */
	uint8_t n_alp;

	/*
	 * Transaction rules (tx): rules with an application-layer buffer, number or event. They
	 * are evaluated by det_scan_tx() on the transactions of app_proto, once per direction
	 * they inspect (tx_dirs, bit AL_TO_SERVER / AL_TO_CLIENT), when the last of the stages
	 * they need in that direction (tx_stages) is ready. Their payload keywords, if any, test
	 * the packet that made the stage ready. l4: transports (DET_L4_*) they accept.
	 */
	bool tx;
	uint8_t tx_dirs;
	uint8_t tx_stages[2];
	uint8_t l4;
	uint64_t anomalies; /* app-layer-event: the parser's anomaly ids, all required */
	/*
	 * decode-event, stream-event and <proto>-csum:invalid: det_event bits (det_event.h) the
	 * packet must all have; <proto>-csum:valid: checksum events it must not have, on a packet
	 * of that family and protocol. A rule with either is decided per packet (never IP-only).
	 */
	uint64_t events;
	uint64_t events_absent;
	uint8_t family; /* 4 or 6 from an ipv4/ipv6 header protocol; 0: any */
	/* 4 or 6 from a decode-event of one IP version (ipv4.frag_overlap): packets of the other
	 * version never match, packets that did not parse as far as IP may; 0: any. */
	uint8_t ev_family;
	bool pkthdr; /* "alert pkthdr": also packets that did not parse as far as IP */

	uint32_t flow;	      /* DET_FLOW_* */
	struct det_cmp dsize; /* op 0: no dsize */
	uint8_t tflags_mode;  /* enum det_flags_mode */
	uint8_t tflags;	      /* TCP flags as in the header: FIN 0x01 ... CWR 0x80 */
	uint8_t tflags_ignore;
	bool noalert;
	struct det_threshold th;
	struct det_flowbit *fb; /* flowbits keywords, in rule order */
	unsigned n_fb;
	struct det_flowint *fi; /* flowint keywords, in rule order */
	unsigned n_fi;

	struct det_item *items;
	unsigned n_items;
	struct det_span *spans; /* at most DET_SPANS_MAX */
	unsigned n_spans;
	struct det_num *nums;
	unsigned n_nums;
	/* header tests (all must hold), checked with the flow and dsize before any payload
	 * keyword; the items of header buffers (tcp.hdr, ...) are apart from items */
	struct det_hdr *hdr;
	unsigned n_hdr;
	struct det_item *hitems;
	unsigned n_hitems;
};

#define DET_SPANS_MAX 32

/* classification.config: classtype name -> priority. */
struct det_class {
	char *name;
	char *desc;
	uint8_t priority;
};

struct det_classes {
	struct det_class *v;
	unsigned n, cap;
};

/* Find a classtype, or NULL. */
const struct det_class *det_classes_find(const struct det_classes *c, const char *name);

/*
 * Parse "config classification: name,description,priority" lines. Errors go to diag with the
 * line. Returns 0, -EINVAL when some lines were bad (the good ones are kept), or -errno.
 */
struct vg_diag;
int det_classes_load(struct det_classes *c, const char *path, struct vg_diag *diag);
int det_classes_load_buf(struct det_classes *c, const char *name, const char *buf, size_t len,
		struct vg_diag *diag);
void det_classes_free(struct det_classes *c);

/* What the parser needs besides the text. */
struct det_parse_ctx {
	const struct det_vars *vars;
	const struct det_classes *classes; /* NULL: any classtype accepted, priority 3 */
	bool app_proto_ports; /* accept app-layer protocols as their well-known ports */
};

/* A rejected rule: why, where and which keyword. */
struct det_parse_err {
	enum det_reason reason;
	unsigned off;	  /* 0-based offset in the rule text */
	uint32_t sid;	  /* 0 when the rule has none (or it did not parse) */
	char keyword[32]; /* the keyword concerned, "" for header errors */
	char msg[320];
};

/*
 * Parse one rule (the text without a trailing newline; continuation lines already joined).
 * file and line are recorded in the rule. Returns 0 and a rule to free with det_rule_free(),
 * or -EINVAL with err filled, or -ENOMEM.
 */
int det_rule_parse(const char *text, const char *file, unsigned line,
		const struct det_parse_ctx *ctx, struct det_rule **out, struct det_parse_err *err);

/* NULL is a no-op. */
void det_rule_free(struct det_rule *r);

/* Keyword table access, for the report and the docs. */
const char *det_keyword_name(unsigned kw);
bool det_keyword_supported(const char *name);

/*
 * The payload length a rule's contents need at least (the largest end any positive content
 * of the payload can have at its earliest position), used for the dsize check and by tests.
 */
uint32_t det_rule_min_len(const struct det_rule *r);

/* The same for the items of one span: the buffer length they need at least. */
uint32_t det_span_min_len(const struct det_rule *r, unsigned span);

/* The span holding the payload's items, or -1 when the rule has none. */
int det_rule_payload_span(const struct det_rule *r);

#endif /* DET_RULE_H */
