/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Query parameters (filters, limits, cursors), declared per handler in a table. Unknown,
 * repeated or malformed parameters are a 400 reply that names the parameter and lists what
 * would be accepted; nothing is silently ignored.
 */
#ifndef MG_QUERY_H
#define MG_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "mg_req.h"

enum mg_qtype {
	MG_QT_U32,   /* uint32_t in min..max */
	MG_QT_I64,   /* int64_t in min..max */
	MG_QT_TIME,  /* int64_t ns since the epoch: Unix seconds, RFC 3339, or -15m / -2h / -7d */
	MG_QT_ADDR,  /* struct mg_addr: an IPv4 or IPv6 address */
	MG_QT_PROTO, /* int: tcp, udp, icmp, icmpv6, sctp, or 0..255 */
	MG_QT_ENUM,  /* int: index in names[] */
	MG_QT_STR,   /* const char *: 1..max bytes of letters, digits, '-', '_', '.' */
};

struct mg_addr {
	uint8_t family; /* 4 or 6; 0: not given */
	uint8_t addr[16];
	char text[48]; /* canonical text */
};

struct mg_qparam {
	const char *name;
	enum mg_qtype type;
	size_t off; /* where the value goes in the handler's struct */
	int64_t min;
	int64_t max;
	const char *const *names; /* MG_QT_ENUM, terminated by NULL */
};

/*
 * The names an app_proto parameter (MG_QT_ENUM) accepts, indexed by enum al_proto: "unknown"
 * (no protocol detected yet), then al_proto_name()'s "http", "tls", "dns", "ssh", "smtp", "ftp",
 * "failed"; NULL-terminated.
 */
extern const char *const mg_app_proto_names[];

/*
 * Parse r's query into out with spec (terminated by a row with name NULL). Fields of out for
 * parameters that are absent are left as they are (the caller sets defaults first). Returns 0,
 * or -EINVAL after a 400 reply (invalid_query, details {parameter, accepted}).
 */
int mg_query_parse(struct mg_req *r, const struct mg_qparam *spec, void *out);

/* How far back a relative time ("-15m") may go: 100 years, in every unit. */
#define MG_TIME_BACK_MAX_S (100LL * 365 * 86400)
#define MG_TIME_BACK_RANGE "100 years back (-3153600000s, -52560000m, -876000h, -36500d)"

/*
 * The time parser of MG_QT_TIME, for tests: 0, -EINVAL (not a time) or -ERANGE (further back
 * than MG_TIME_BACK_MAX_S). now_ns anchors relative times.
 */
int mg_parse_time(const char *s, int64_t now_ns, int64_t *out_ns);

/* An IPv4 or IPv6 address: 0 or -EINVAL. */
int mg_parse_addr(const char *s, struct mg_addr *out);

#endif /* MG_QUERY_H */
