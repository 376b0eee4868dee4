/* SPDX-License-Identifier: BSD-3-Clause */
/* Engine internals shared by det_compile.c (building) and det_scan.c (scanning). */
#ifndef DET_ENGINE_PRIV_H
#define DET_ENGINE_PRIV_H

#include <hs/hs.h>

#include "al.h"
#include "det_confirm.h"
#include "det_engine.h"
#include "det_thconf.h"
#include "det_thresh.h"

/* Protocol class indexes (bit i of DET_CL_*). */
enum { CLS_TCP_STREAM = 0, CLS_TCP_PKT, CLS_UDP, CLS_ICMP, CLS_SCTP, CLS_OTHER, CLS__COUNT };

enum plan_kind {
	PLAN_HEADER = 0, /* no payload keyword */
	PLAN_EXACT,	 /* Hyperscan decides */
	PLAN_CONFIRM,	 /* one prefilter atom, then det_confirm */
	PLAN_ALWAYS,	 /* det_confirm on every packet of the group */
	PLAN_TX,	 /* a transaction rule: its variants (struct det_txvar) */
};

/* One Hyperscan expression of a rule's plan. */
struct det_atom {
	char *expr;
	unsigned flags; /* HS_FLAG_* except SINGLEMATCH/QUIET, which depend on the database */
	hs_expr_ext_t ext;
	bool neg; /* must be absent */
};

/* A flowbits keyword with its names resolved to bits of the flow. */
struct det_efb {
	uint8_t cmd; /* enum det_fb_cmd */
	uint8_t n;
	uint16_t bit[DET_FB_NAMES];
};

/* A flowint keyword resolved: the variable's index in the flow's area. */
struct det_efi {
	uint8_t op; /* enum det_fi_op */
	uint16_t var;
	uint32_t value;
};

/* Per rule, as the scanners use it. */
struct det_erule {
	const struct det_rule *r;
	uint8_t kind;	 /* enum plan_kind */
	bool ip_only;	 /* header rule evaluated on a flow direction's first packet only */
	bool pd_only;	 /* only app-layer-protocol: on the packet that decided the protocol */
	bool flow_scope; /* its verdict is the flow's (stream rule or ip_only) */
	/* threshold or detection_filter: the rule's, or threshold.config's; NULL: none */
	const struct det_threshold *th;
	const struct det_rate_filter *rf; /* threshold.config rate_filter, or NULL */
	bool sup_all;			  /* suppressed without track: never alerts */
	uint16_t n_sup;
	const struct det_thc_entry **sup; /* suppressions by address (owned array) */
	uint16_t pcre_hs;		  /* pcre items compiled into Hyperscan as they are */
	uint16_t pcre_pref;		  /* pcre items in Hyperscan prefilter mode */
	bool fb_test; /* has isset/isnotset or flowint tests: evaluated after the rules that do not
		       */
	uint8_t n_fb;
	uint8_t n_fi;
	/* flowint: where the variables' set bits and values are in the area after the
	 * generation (the engine's, copied here for the scanners) */
	uint16_t fi_set_off, fi_val_off;
	struct det_efi *fi;
	/* the signature groups it belongs to (det_engine_set_rule_groups): a packet is checked
	 * against it when its det_pkt.groups shares a bit, or selects none */
	uint64_t groups;
	struct det_efb *fb;
	struct det_atom *atoms;
	unsigned n_atoms; /* EXACT: positives first, then negatives; CONFIRM: 1 */
	unsigned n_pos;
};

/* A rule inside a group: its atoms are ids atom0 .. atom0 + n_atoms - 1. */
struct det_grule {
	uint32_t rule;
	uint32_t atom0;
	uint16_t n_pos;
	uint16_t n_neg;
};

struct det_gatom {
	uint32_t grule;
	/* stream groups: the atom's bit in the stream's record of parts seen (rules of several
	 * atoms), DET_NO_BIT otherwise */
	uint32_t bit;
	bool neg;
};

#define DET_NO_BIT UINT32_MAX

struct det_group {
	char name[48];
	uint8_t cls;
	uint8_t dir;
	bool stream;
	hs_database_t *db;
	size_t db_bytes;
	size_t stream_bytes;
	uint32_t n_grules;
	struct det_grule *grules;
	uint32_t n_gatoms;
	struct det_gatom *gatoms;
	uint32_t n_patterns;
	uint32_t n_bits;  /* stream groups: bits of the parts-seen record */
	uint32_t *always; /* grule indexes checked on every packet: HEADER and ALWAYS rules */
	uint32_t n_always;
	/*
	 * IP-only rules (header rules decided on a flow direction's first packet, such as the
	 * reputation lists of public rule sets: thousands of address-only rules) are apart from
	 * always: not looked at after a direction's first packet, and looked up by address on
	 * it. idx[0] is keyed by the rule's source set, idx[1] by its destination (IPv4);
	 * ip_only holds those neither indexes (any, IPv6, or too wide), checked on every first
	 * packet.
	 */
	uint32_t *ip_only;
	uint32_t n_ip_only;
	struct det_ipidx {
		uint32_t n;    /* elementary intervals: interval i is [lo[i], lo[i + 1]) */
		uint32_t *lo;  /* n + 1 sorted starts (host order); the last closes the range */
		uint32_t *off; /* n + 1 offsets into ids */
		uint32_t *ids; /* grule indexes covering each interval */
	} idx[2];
	uint32_t shared_ports; /* more server ports using this group (the same rules) */
};

/* ---- transaction rules ---- */

/* A buffer with transforms, computed once per det_scan_tx call when rules need it. */
struct det_xkey {
	uint8_t al; /* enum al_buf */
	uint8_t n_xf;
	uint8_t xf[DET_XF_MAX];
};

/* One buffer of a variant: the items to run on each of its instances. */
struct det_txspan {
	const struct det_item *items;
	uint16_t n;
	uint8_t al;   /* enum al_buf; AL_BUF_NONE: the packet's payload (det_pkt.payload) */
	bool multi;   /* several instances: any may match */
	int32_t xkey; /* index in det_engine.xkeys, -1: the buffer as it is */
};

/* One direction of a transaction rule. */
struct det_txvar {
	uint32_t rule;	/* engine rule index */
	uint8_t dir;	/* AL_TO_SERVER or AL_TO_CLIENT: the side whose buffers it reads */
	uint8_t stages; /* AL_ST_* bits it needs */
	uint8_t proto;	/* enum al_proto */
	uint8_t n_spans;
	struct det_txspan *spans; /* numbers first are in the rule; payload span last */
	/* prefilter: an expression in the buffer of spans[pf_span], or pf_span -1 */
	int32_t pf_span;
	struct det_atom pf;
};

/* The prefilter database of one buffer (and transforms) in a group. */
struct det_txdb {
	char name[64];
	uint8_t al;   /* enum al_buf */
	bool multi;   /* scan each instance */
	int32_t xkey; /* -1: the buffer as it is */
	hs_database_t *db;
	size_t db_bytes;
	uint32_t n_patterns;
	uint32_t *var; /* expression id -> variant index */
};

/*
 * The transaction rules of one protocol decided at the same stage: the last of the stages
 * each needs (a rule on http.uri and file.data is decided with the request body).
 */
struct det_txset {
	uint8_t proto;
	uint8_t stage;	/* AL_ST_* bit */
	uint8_t stages; /* every stage its rules need */
	uint32_t n_vars;
	struct det_txdb *dbs;
	uint32_t n_dbs;
	uint32_t *always; /* variants without prefilter: checked on every due transaction */
	uint32_t n_always;
};

struct det_engine {
	uint64_t gen;
	/* PCRE2 limit hits per worker row and rule (det_engine_counters_alloc), or NULL */
	uint64_t *limit_hits;
	unsigned limit_rows;
	struct det_set *set;
	struct det_thconf *thconf; /* applied threshold.config (a reference), or NULL */
	struct det_compile_opts opts;
	struct det_erule *rules;
	uint32_t n_rules;
	struct det_group *groups;
	uint32_t n_groups;
	/* group lookup per class and direction: by server port when portmap is set */
	uint16_t *portmap[CLS__COUNT][2]; /* group index + 1; 0: no group */
	int32_t deflt[CLS__COUNT][2];	  /* group index or -1 */
	hs_scratch_t *scratch;		  /* prototype, cloned per worker */
	size_t hs_stream_max;
	size_t bits_bytes; /* parts-seen record in the stream state (largest group's) */
	size_t stream_size;
	bool need_window;
	uint32_t max_gatoms;
	uint32_t max_grules;
	char **fb_names; /* flowbit names; the index is the bit */
	uint32_t n_fb_names;
	char **fi_names; /* flowint names; the index is the variable */
	uint32_t n_fi_names;
	size_t fb_bytes; /* det_flowbits_size() */

	/* transaction rules: variants, their groups (by protocol, then stages) */
	struct det_txvar *txvars;
	uint32_t n_txvars;
	struct det_txset *txsets;
	uint32_t n_txsets;
	uint16_t tx_first[AL_PROTO__COUNT]; /* the sets of a protocol: txsets[first, +count) */
	uint16_t tx_count[AL_PROTO__COUNT];
	uint32_t max_txvars; /* most variants of one protocol: a worker's candidate space */
	struct det_xkey *xkeys;
	uint32_t n_xkeys;

	/* rules on packet events (det_rule.events/events_absent): what det_scan_events checks */
	uint32_t *ev_rules;
	uint32_t n_ev_rules;
};

/* Instances of a transformed buffer kept per call (dns.query of more questions: recomputed). */
#define DET_XC_INST 16
/* Bytes a worker keeps for transformed buffers during one det_scan_tx call. */
#define DET_XFORM_SPACE (256u * 1024)
/* Instances of a buffer inspected at most (dns_max_names and the like are below). */
#define DET_TX_MAX_INST 256

/* A prefilter hit whose confirmation failed, retried while its bytes are in the window. */
struct det_pending {
	uint32_t grule;
	uint32_t pad;
	uint64_t hit_end; /* stream offset just past the prefilter match */
};

#define DET_STREAM_PENDING 8

/* Stream state header; the Hyperscan stream, the parts-seen bits and the window follow. */
struct det_stream {
	uint64_t gen;
	const struct det_group *g; /* NULL: no stream rules for this direction */
	uint64_t offset;	   /* bytes fed so far */
	uint32_t win_len;
	uint32_t n_fired;
	uint32_t fired[DET_STREAM_FIRED]; /* engine rule indexes */
	uint32_t n_pending;
	uint8_t dir;
	bool open;
	uint8_t pad[2];
	struct det_pending pending[DET_STREAM_PENDING];
};

#define DET_STREAM_HDR ((sizeof(struct det_stream) + 63) & ~(size_t)63)

#endif /* DET_ENGINE_PRIV_H */
