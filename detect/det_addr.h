/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address and port sets of a signature header, and the variables ($HOME_NET, $HTTP_PORTS) they
 * may name.
 *
 * The Suricata grammar is parsed into exact sets: sorted, disjoint ranges per family (IPv4,
 * IPv6) and for ports. Negation is set complement ("!$HOME_NET" is every address outside it);
 * inside a list, negated elements are subtracted from the union of the others ("[10.0.0.0/8,
 * !10.1.0.0/16]"), and a list of negations alone starts from every address. A set that ends up
 * empty is an error, since the rule could never match.
 *
 * Membership tests are a binary search over the ranges; "any" is a flag tested first.
 */
#ifndef DET_ADDR_H
#define DET_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "vg_addr.h"

struct det_ipset {
	bool any;		 /* every IPv4 and every IPv6 address */
	struct vg_addrset addrs; /* normalized ranges per family */
};

struct det_port_range {
	uint16_t lo, hi; /* inclusive */
};

struct det_portset {
	bool any;
	uint32_t n;
	struct det_port_range *v;
};

/* Named address and port groups, as the appliance config defines them. */
struct det_vars;

/* An empty table, or NULL with errno = ENOMEM. */
struct det_vars *det_vars_create(void);

/* NULL is a no-op. */
void det_vars_free(struct det_vars *v);

/*
 * Define or redefine an address variable (name without '$', letters, digits, '_') as a value
 * in rule syntax, e.g. "[10.0.0.0/8,192.168.0.0/16]" or "!$HOME_NET". The value is checked when
 * a rule uses it (it may name variables defined later); det_vars_check() checks all at once.
 * Returns 0, -EINVAL for a bad name or an empty value, -ENOMEM.
 */
int det_vars_set_addr(struct det_vars *v, const char *name, const char *value);
int det_vars_set_port(struct det_vars *v, const char *name, const char *value);

/* The value of a variable, or NULL. */
const char *det_vars_get_addr(const struct det_vars *v, const char *name);
const char *det_vars_get_port(const struct det_vars *v, const char *name);

/*
 * Define the variables that public rule sets expect, with the values of Suricata's shipped
 * configuration: HOME_NET is the RFC 1918 networks, EXTERNAL_NET is !$HOME_NET, the *_SERVERS
 * groups are $HOME_NET, HTTP_PORTS is 80, and so on. Existing definitions are kept, so call it
 * after setting the appliance's own values. Returns 0 or -ENOMEM.
 */
int det_vars_set_defaults(struct det_vars *v);

/*
 * Parse every variable; on the first one that does not parse, write "name: reason" to err and
 * return -EINVAL. Returns 0 when all parse.
 */
int det_vars_check(const struct det_vars *v, char *err, unsigned errlen);

/*
 * Parse an address or port expression. On error returns -EINVAL (or -ENOMEM), writes the reason
 * to err and the 0-based offset in text of the offending part to *err_off; with a non-NULL
 * undefined, sets *undefined when the cause is an undefined variable.
 */
int det_ipset_parse(struct det_ipset *s, const char *text, const struct det_vars *vars, char *err,
		unsigned errlen, unsigned *err_off, bool *undefined);
int det_portset_parse(struct det_portset *s, const char *text, const struct det_vars *vars,
		char *err, unsigned errlen, unsigned *err_off, bool *undefined);

void det_ipset_free(struct det_ipset *s);
void det_portset_free(struct det_portset *s);

/* Membership. family is 4 or 6; addr is in network order (IPv4 in the first four bytes). */
bool det_ipset_has(const struct det_ipset *s, uint8_t family, const uint8_t *addr);

static inline bool
det_portset_has(const struct det_portset *s, uint16_t port)
{
	uint32_t lo = 0, hi = s->n;

	if (s->any)
		return true;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (port < s->v[mid].lo)
			hi = mid;
		else if (port > s->v[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Do a and b share an address (of either family)? */
bool det_ipset_overlaps(const struct det_ipset *a, const struct det_ipset *b);

/* Do a and b share a port? */
bool det_portset_overlaps(const struct det_portset *a, const struct det_portset *b);

/* Number of ports in the set (65536 for any). */
uint32_t det_portset_count(const struct det_portset *s);

/* A new set holding the union of a and b. Returns 0 or -ENOMEM. */
int det_portset_union(
		struct det_portset *out, const struct det_portset *a, const struct det_portset *b);

/* A new set holding the ports in both a and b (possibly empty). Returns 0 or -ENOMEM. */
int det_portset_intersect(
		struct det_portset *out, const struct det_portset *a, const struct det_portset *b);

#endif /* DET_ADDR_H */
