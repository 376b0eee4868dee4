/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "det_addr.h"
#include "vg_addr.h"

typedef vg_u128 u128;

#define VAR_DEPTH_MAX 16
#define V4_MAX	      VG_U32_MAX_128
#define V6_MAX	      VG_U128_MAX
#define PORT_MAX      ((u128)65535)

/* ---- variables ---- */

struct det_var {
	char *name;
	char *value;
	bool port;
};

struct det_vars {
	struct det_var *v;
	unsigned n, cap;
};

struct det_vars *
det_vars_create(void)
{
	struct det_vars *v = calloc(1, sizeof(*v));

	if (v == NULL)
		errno = ENOMEM;
	return v;
}

void
det_vars_free(struct det_vars *v)
{
	if (v == NULL)
		return;
	for (unsigned i = 0; i < v->n; i++) {
		free(v->v[i].name);
		free(v->v[i].value);
	}
	free(v->v);
	free(v);
}

static struct det_var *
var_find(const struct det_vars *v, const char *name, size_t len, bool port)
{
	if (v == NULL)
		return NULL;
	for (unsigned i = 0; i < v->n; i++)
		if (v->v[i].port == port && strlen(v->v[i].name) == len &&
				memcmp(v->v[i].name, name, len) == 0)
			return &v->v[i];
	return NULL;
}

static bool
var_name_ok(const char *name)
{
	if (name == NULL || *name == '\0')
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

static int
var_set(struct det_vars *v, const char *name, const char *value, bool port)
{
	struct det_var *e;
	char *val;

	if (v == NULL || !var_name_ok(name) || value == NULL || value[0] == '\0')
		return -EINVAL;
	val = strdup(value);
	if (val == NULL)
		return -ENOMEM;
	e = var_find(v, name, strlen(name), port);
	if (e != NULL) {
		free(e->value);
		e->value = val;
		return 0;
	}
	if (v->n == v->cap) {
		unsigned cap = v->cap ? v->cap * 2 : 16;
		struct det_var *nv = realloc(v->v, cap * sizeof(*nv));

		if (nv == NULL) {
			free(val);
			return -ENOMEM;
		}
		v->v = nv;
		v->cap = cap;
	}
	e = &v->v[v->n];
	e->name = strdup(name);
	if (e->name == NULL) {
		free(val);
		return -ENOMEM;
	}
	e->value = val;
	e->port = port;
	v->n++;
	return 0;
}

int
det_vars_set_addr(struct det_vars *v, const char *name, const char *value)
{
	return var_set(v, name, value, false);
}

int
det_vars_set_port(struct det_vars *v, const char *name, const char *value)
{
	return var_set(v, name, value, true);
}

const char *
det_vars_get_addr(const struct det_vars *v, const char *name)
{
	struct det_var *e = var_find(v, name, strlen(name), false);

	return e != NULL ? e->value : NULL;
}

const char *
det_vars_get_port(const struct det_vars *v, const char *name)
{
	struct det_var *e = var_find(v, name, strlen(name), true);

	return e != NULL ? e->value : NULL;
}

int
det_vars_set_defaults(struct det_vars *v)
{
	static const char *const addr[][2] = {
		{ "HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]" },
		{ "EXTERNAL_NET", "!$HOME_NET" },
		{ "HTTP_SERVERS", "$HOME_NET" },
		{ "SMTP_SERVERS", "$HOME_NET" },
		{ "SQL_SERVERS", "$HOME_NET" },
		{ "DNS_SERVERS", "$HOME_NET" },
		{ "TELNET_SERVERS", "$HOME_NET" },
		{ "AIM_SERVERS", "$EXTERNAL_NET" },
		{ "DC_SERVERS", "$HOME_NET" },
		{ "DNP3_SERVER", "$HOME_NET" },
		{ "DNP3_CLIENT", "$HOME_NET" },
		{ "MODBUS_CLIENT", "$HOME_NET" },
		{ "MODBUS_SERVER", "$HOME_NET" },
		{ "ENIP_CLIENT", "$HOME_NET" },
		{ "ENIP_SERVER", "$HOME_NET" },
	};
	static const char *const port[][2] = {
		{ "HTTP_PORTS", "80" },
		{ "SHELLCODE_PORTS", "!80" },
		{ "ORACLE_PORTS", "1521" },
		{ "SSH_PORTS", "22" },
		{ "DNP3_PORTS", "20000" },
		{ "MODBUS_PORTS", "502" },
		{ "FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]" },
		{ "FTP_PORTS", "21" },
		{ "GENEVE_PORTS", "6081" },
		{ "VXLAN_PORTS", "4789" },
		{ "TEREDO_PORTS", "3544" },
	};
	int rc;

	for (size_t i = 0; i < sizeof(addr) / sizeof(addr[0]); i++)
		if (det_vars_get_addr(v, addr[i][0]) == NULL &&
				(rc = det_vars_set_addr(v, addr[i][0], addr[i][1])) != 0)
			return rc;
	for (size_t i = 0; i < sizeof(port) / sizeof(port[0]); i++)
		if (det_vars_get_port(v, port[i][0]) == NULL &&
				(rc = det_vars_set_port(v, port[i][0], port[i][1])) != 0)
			return rc;
	return 0;
}

/* ---- expression parser shared by addresses and ports ---- */

/* A value of either kind: addresses use both families, ports only fam[0]. */
struct rval {
	struct vg_ivs fam[2];
};

static void
rval_free(struct rval *v)
{
	vg_ivs_free(&v->fam[0]);
	vg_ivs_free(&v->fam[1]);
}

struct pctx {
	const struct det_vars *vars;
	bool port;
	char *err;
	unsigned errlen;
	unsigned err_off;
	bool undefined;
	bool failed;
	int depth;
	/* offset of the current text within the outermost expression, for messages */
	unsigned base;
};

static int __attribute__((format(printf, 3, 4)))
perr(struct pctx *c, unsigned off, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return -EINVAL;
	c->failed = true;
	c->err_off = c->base + off;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static u128
kind_max(const struct pctx *c, int fam)
{
	if (c->port)
		return PORT_MAX;
	return fam == 0 ? V4_MAX : V6_MAX;
}

static int
rval_universe(struct pctx *c, struct rval *v)
{
	int nfam = c->port ? 1 : 2;

	for (int f = 0; f < nfam; f++)
		if (vg_ivs_add(&v->fam[f], 0, kind_max(c, f)) != 0)
			return -ENOMEM;
	return 0;
}

static int
rval_complement(struct pctx *c, struct rval *v)
{
	int nfam = c->port ? 1 : 2;

	for (int f = 0; f < nfam; f++) {
		vg_ivs_normalize(&v->fam[f]);
		if (vg_ivs_complement(&v->fam[f], kind_max(c, f)) != 0)
			return -ENOMEM;
	}
	return 0;
}

static int parse_expr(struct pctx *c, const char *s, unsigned len, struct rval *out);

static int
parse_ip_atom(struct pctx *c, const char *s, unsigned len, struct rval *out)
{
	const char *dash = memchr(s, '-', len);
	struct vg_addr a, b;
	struct vg_prefix p;
	struct vg_addr_err err;
	vg_u128 lo, hi;

	if (len >= 128)
		return perr(c, 0, "address '%.*s' is too long", (int)len, s);
	if (dash != NULL) {
		/* a range: first-last, both of one family */
		unsigned alen = (unsigned)(dash - s), blen = len - alen - 1;

		if (vg_addr_parse(s, alen, &a) != 0)
			return perr(c, 0, "'%.*s' is not an IPv4 or IPv6 address", (int)alen, s);
		if (vg_addr_parse(dash + 1, blen, &b) != 0 || b.family != a.family)
			return perr(c, alen + 1, "'%.*s' is not an IPv%u address", (int)blen,
					dash + 1, a.family);
		if (vg_addr_value(&b) < vg_addr_value(&a))
			return perr(c, 0, "range '%.*s' ends before it starts", (int)len, s);
		return vg_ivs_add(&out->fam[a.family == 4 ? 0 : 1], vg_addr_value(&a),
				vg_addr_value(&b));
	}
	/* Suricata's language: host bits are ignored ("10.0.0.1/8" is 10.0.0.0/8), and IPv4 may
	 * give a netmask ("10.0.0.0/255.0.0.0"). */
	if (vg_prefix_parse(s, len, VG_PREFIX_HOST_BITS | VG_PREFIX_NETMASK, &p, &err) < 0) {
		const char *slash = memchr(s, '/', len);

		if (err.why == VG_PREFIX_BAD_ADDR)
			return perr(c, 0,
					"'%.*s' is not an address (expected any, IPv4 or IPv6, CIDR, "
					"range, list in [] or a $variable)",
					slash ? (int)(slash - s) : (int)len, s);
		return perr(c, err.off, "%s", err.msg);
	}
	vg_prefix_range(&p, &lo, &hi);
	return vg_ivs_add(&out->fam[p.addr.family == 4 ? 0 : 1], lo, hi);
}

static int
parse_port_num(struct pctx *c, const char *s, unsigned len, unsigned off, long *out)
{
	long v = 0;

	if (len == 0 || len > 5)
		return perr(c, off, "'%.*s' is not a port (0-65535)", (int)len, s);
	for (unsigned i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return perr(c, off, "'%.*s' is not a port (0-65535)", (int)len, s);
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return perr(c, off, "port %ld is out of range (0-65535)", v);
	*out = v;
	return 0;
}

static int
parse_port_atom(struct pctx *c, const char *s, unsigned len, struct rval *out)
{
	const char *colon = memchr(s, ':', len);
	long lo, hi;

	if (colon == NULL) {
		if (parse_port_num(c, s, len, 0, &lo) != 0)
			return -EINVAL;
		return vg_ivs_add(&out->fam[0], (u128)lo, (u128)lo);
	}
	unsigned l1 = (unsigned)(colon - s), l2 = len - l1 - 1;

	if (l1 == 0 && l2 == 0)
		return perr(c, 0, "':' is not a port range (expected lo:hi, lo: or :hi)");
	lo = 0;
	hi = 65535;
	if (l1 > 0 && parse_port_num(c, s, l1, 0, &lo) != 0)
		return -EINVAL;
	if (l2 > 0 && parse_port_num(c, colon + 1, l2, l1 + 1, &hi) != 0)
		return -EINVAL;
	if (hi < lo)
		return perr(c, 0, "port range '%.*s' ends before it starts", (int)len, s);
	return vg_ivs_add(&out->fam[0], (u128)lo, (u128)hi);
}

static void
trim(const char **s, unsigned *len, unsigned *off)
{
	while (*len > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*len)--;
		(*off)++;
	}
	while (*len > 0 && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static int
parse_var(struct pctx *c, const char *s, unsigned len, struct rval *out)
{
	const struct det_var *v;
	unsigned saved;
	int rc;

	v = var_find(c->vars, s + 1, len - 1, c->port);
	if (v == NULL) {
		/* the other kind of group is a clearer hint than "undefined" */
		if (var_find(c->vars, s + 1, len - 1, !c->port) != NULL)
			return perr(c, 0, "'%.*s' is %s group, not %s group", (int)len, s,
					c->port ? "an address" : "a port",
					c->port ? "a port" : "an address");
		c->undefined = true;
		return perr(c, 0, "undefined variable '%.*s' (define it in the appliance config)",
				(int)len, s);
	}
	if (c->depth >= VAR_DEPTH_MAX)
		return perr(c, 0, "variable '%.*s' nests more than %d levels (a loop?)", (int)len,
				s, VAR_DEPTH_MAX);
	/*
	 * Errors inside the variable's value point at the variable in the rule; the outermost
	 * variable names itself and its value, so a loop reads as one message.
	 */
	saved = c->base;
	c->depth++;
	{
		struct pctx sub = *c;

		sub.base = 0;
		rc = parse_expr(&sub, v->value, (unsigned)strlen(v->value), out);
		if (rc != 0 && sub.failed && !c->failed) {
			char inner[200];

			snprintf(inner, sizeof(inner), "%s", sub.err);
			c->undefined = sub.undefined;
			c->depth--;
			c->base = saved;
			if (c->depth > 0)
				return perr(c, 0, "%s", inner);
			return perr(c, 0, "in $%s = \"%s\": %s", v->name, v->value, inner);
		}
	}
	c->depth--;
	c->base = saved;
	return rc;
}

static int
parse_list(struct pctx *c, const char *s, unsigned len, struct rval *out)
{
	struct rval pos = { 0 }, neg = { 0 };
	bool any_pos = false;
	unsigned start = 0, level = 0;
	int nfam = c->port ? 1 : 2;
	int rc = 0;

	if (len == 0)
		return perr(c, 0, "empty list []");
	for (unsigned i = 0; i <= len && rc == 0; i++) {
		if (i < len && s[i] == '[') {
			level++;
			continue;
		}
		if (i < len && s[i] == ']') {
			if (level == 0)
				return perr(c, i, "unbalanced ']'");
			level--;
			continue;
		}
		if (i < len && (s[i] != ',' || level > 0))
			continue;
		/* one element: s[start, i) */
		const char *e = s + start;
		unsigned elen = i - start, eoff = start;
		struct rval one = { 0 };
		unsigned saved = c->base;

		trim(&e, &elen, &eoff);
		if (elen == 0) {
			rc = perr(c, start, "empty element in list");
			break;
		}
		c->base = saved + eoff;
		if (e[0] == '!') {
			rc = parse_expr(c, e + 1, elen - 1, &one);
			for (int f = 0; f < nfam && rc == 0; f++)
				rc = vg_ivs_append(&neg.fam[f], &one.fam[f]);
		} else {
			rc = parse_expr(c, e, elen, &one);
			any_pos = true;
			for (int f = 0; f < nfam && rc == 0; f++)
				rc = vg_ivs_append(&pos.fam[f], &one.fam[f]);
		}
		c->base = saved;
		rval_free(&one);
		start = i + 1;
	}
	if (rc == 0 && level != 0)
		rc = perr(c, 0, "unbalanced '['");
	if (rc == 0 && !any_pos)
		rc = rval_universe(c, &pos);
	if (rc == 0)
		rc = rval_complement(c, &neg);
	for (int f = 0; f < nfam && rc == 0; f++) {
		vg_ivs_normalize(&pos.fam[f]);
		rc = vg_ivs_intersect(&pos.fam[f], &neg.fam[f]);
	}
	rval_free(&neg);
	if (rc != 0) {
		rval_free(&pos);
		return rc;
	}
	*out = pos;
	return 0;
}

static int
parse_expr(struct pctx *c, const char *s, unsigned len, struct rval *out)
{
	unsigned off = 0;
	int rc;

	trim(&s, &len, &off);
	c->base += off;
	if (len == 0) {
		rc = perr(c, 0, "empty %s", c->port ? "port" : "address");
	} else if (s[0] == '!') {
		c->base++;
		rc = parse_expr(c, s + 1, len - 1, out);
		c->base--;
		if (rc == 0)
			rc = rval_complement(c, out);
	} else if (s[0] == '[') {
		if (s[len - 1] != ']') {
			rc = perr(c, 0, "list '%.*s' is not closed with ']'", (int)len, s);
		} else {
			c->base++;
			rc = parse_list(c, s + 1, len - 2, out);
			c->base--;
		}
	} else if (s[0] == '$') {
		rc = parse_var(c, s, len, out);
	} else if (len == 3 && strncasecmp(s, "any", 3) == 0) {
		rc = rval_universe(c, out);
	} else if (c->port) {
		rc = parse_port_atom(c, s, len, out);
	} else {
		rc = parse_ip_atom(c, s, len, out);
	}
	c->base -= off;
	return rc;
}

/*
 * Parse text as an address set (port false) or a port set into v, normalized per family; an
 * empty result is an error. On error fills err, *err_off and *undefined (when not NULL) and
 * frees v.
 */
static int
parse_set(const struct det_vars *vars, bool port, const char *text, char *err, unsigned errlen,
		unsigned *err_off, bool *undefined, struct rval *v)
{
	struct pctx pc = { .vars = vars, .port = port, .err = err, .errlen = errlen };
	struct pctx *c = &pc;
	int nfam = port ? 1 : 2;
	int rc = parse_expr(c, text, (unsigned)strlen(text), v);

	if (rc == 0) {
		for (int f = 0; f < nfam; f++)
			vg_ivs_normalize(&v->fam[f]);
		if (v->fam[0].n == 0 && (c->port || v->fam[1].n == 0))
			rc = perr(c, 0, "%s set '%s' is empty: the rule could never match",
					c->port ? "port" : "address", text);
	}
	if (rc != 0) {
		if (rc == -ENOMEM && !c->failed)
			snprintf(c->err, c->errlen, "out of memory");
		if (err_off != NULL)
			*err_off = c->err_off;
		if (undefined != NULL)
			*undefined = c->undefined;
		rval_free(v);
	}
	return rc;
}

int
det_ipset_parse(struct det_ipset *s, const char *text, const struct det_vars *vars, char *err,
		unsigned errlen, unsigned *err_off, bool *undefined)
{
	struct rval v = { 0 };
	int rc = parse_set(vars, false, text, err, errlen, err_off, undefined, &v);

	memset(s, 0, sizeof(*s));
	if (rc != 0)
		return rc;
	s->any = v.fam[0].n == 1 && v.fam[0].v[0].lo == 0 && v.fam[0].v[0].hi == V4_MAX &&
		 v.fam[1].n == 1 && v.fam[1].v[0].lo == 0 && v.fam[1].v[0].hi == V6_MAX;
	/* the parse's sets are the result */
	s->addrs.v4 = v.fam[0];
	s->addrs.v6 = v.fam[1];
	return 0;
}

int
det_portset_parse(struct det_portset *s, const char *text, const struct det_vars *vars, char *err,
		unsigned errlen, unsigned *err_off, bool *undefined)
{
	struct rval v = { 0 };
	int rc = parse_set(vars, true, text, err, errlen, err_off, undefined, &v);

	memset(s, 0, sizeof(*s));
	if (rc != 0)
		return rc;
	s->any = v.fam[0].n == 1 && v.fam[0].v[0].lo == 0 && v.fam[0].v[0].hi == PORT_MAX;
	s->v = calloc(v.fam[0].n, sizeof(*s->v));
	if (s->v == NULL) {
		rval_free(&v);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < v.fam[0].n; i++) {
		s->v[i].lo = (uint16_t)v.fam[0].v[i].lo;
		s->v[i].hi = (uint16_t)v.fam[0].v[i].hi;
	}
	s->n = v.fam[0].n;
	rval_free(&v);
	return 0;
}

void
det_ipset_free(struct det_ipset *s)
{
	if (s == NULL)
		return;
	vg_addrset_free(&s->addrs);
	memset(s, 0, sizeof(*s));
}

void
det_portset_free(struct det_portset *s)
{
	if (s == NULL)
		return;
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Two sorted lists of disjoint ranges share a value: one merge pass. */
#define RANGES_OVERLAP(a, na, b, nb)                      \
	do {                                              \
		uint32_t i_ = 0, j_ = 0;                  \
		while (i_ < (na) && j_ < (nb)) {          \
			if ((a)[i_].hi < (b)[j_].lo)      \
				i_++;                     \
			else if ((b)[j_].hi < (a)[i_].lo) \
				j_++;                     \
			else                              \
				return true;              \
		}                                         \
	} while (0)

bool
det_ipset_overlaps(const struct det_ipset *a, const struct det_ipset *b)
{
	if (a->any)
		return b->any || b->addrs.v4.n > 0 || b->addrs.v6.n > 0;
	if (b->any)
		return a->addrs.v4.n > 0 || a->addrs.v6.n > 0;
	return vg_ivs_overlaps(&a->addrs.v4, &b->addrs.v4) ||
	       vg_ivs_overlaps(&a->addrs.v6, &b->addrs.v6);
}

bool
det_portset_overlaps(const struct det_portset *a, const struct det_portset *b)
{
	if (a->any)
		return b->any || b->n > 0;
	if (b->any)
		return a->n > 0;
	RANGES_OVERLAP(a->v, a->n, b->v, b->n);
	return false;
}

bool
det_ipset_has(const struct det_ipset *s, uint8_t family, const uint8_t *addr)
{
	if (s->any)
		return true;
	if (family != 4 && family != 6)
		return false;
	return vg_ivs_has(family == 4 ? &s->addrs.v4 : &s->addrs.v6, vg_addr_num(family, addr));
}

uint32_t
det_portset_count(const struct det_portset *s)
{
	uint32_t n = 0;

	if (s->any)
		return 65536;
	for (uint32_t i = 0; i < s->n; i++)
		n += (uint32_t)s->v[i].hi - s->v[i].lo + 1;
	return n;
}

int
det_portset_union(struct det_portset *out, const struct det_portset *a, const struct det_portset *b)
{
	struct vg_ivs r = { 0 };

	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < a->n; i++)
		if (vg_ivs_add(&r, a->v[i].lo, a->v[i].hi) != 0)
			goto nomem;
	for (uint32_t i = 0; i < b->n; i++)
		if (vg_ivs_add(&r, b->v[i].lo, b->v[i].hi) != 0)
			goto nomem;
	vg_ivs_normalize(&r);
	out->v = calloc(r.n ? r.n : 1, sizeof(*out->v));
	if (out->v == NULL)
		goto nomem;
	for (unsigned i = 0; i < r.n; i++) {
		out->v[i].lo = (uint16_t)r.v[i].lo;
		out->v[i].hi = (uint16_t)r.v[i].hi;
	}
	out->n = r.n;
	out->any = r.n == 1 && r.v[0].lo == 0 && r.v[0].hi == PORT_MAX;
	vg_ivs_free(&r);
	return 0;
nomem:
	vg_ivs_free(&r);
	return -ENOMEM;
}

int
det_portset_intersect(
		struct det_portset *out, const struct det_portset *a, const struct det_portset *b)
{
	uint32_t i = 0, j = 0, n = 0;

	memset(out, 0, sizeof(*out));
	out->v = calloc((size_t)a->n + b->n + 1, sizeof(*out->v));
	if (out->v == NULL)
		return -ENOMEM;
	while (i < a->n && j < b->n) {
		uint16_t lo = a->v[i].lo > b->v[j].lo ? a->v[i].lo : b->v[j].lo;
		uint16_t hi = a->v[i].hi < b->v[j].hi ? a->v[i].hi : b->v[j].hi;

		if (lo <= hi) {
			out->v[n].lo = lo;
			out->v[n].hi = hi;
			n++;
		}
		if (a->v[i].hi < b->v[j].hi)
			i++;
		else
			j++;
	}
	out->n = n;
	out->any = n == 1 && out->v[0].lo == 0 && out->v[0].hi == 65535;
	return 0;
}

int
det_vars_check(const struct det_vars *v, char *err, unsigned errlen)
{
	char msg[256];

	for (unsigned i = 0; v != NULL && i < v->n; i++) {
		const struct det_var *e = &v->v[i];
		int rc;

		if (e->port) {
			struct det_portset ps;

			rc = det_portset_parse(&ps, e->value, v, msg, sizeof(msg), NULL, NULL);
			if (rc == 0)
				det_portset_free(&ps);
		} else {
			struct det_ipset is;

			rc = det_ipset_parse(&is, e->value, v, msg, sizeof(msg), NULL, NULL);
			if (rc == 0)
				det_ipset_free(&is);
		}
		if (rc != 0) {
			snprintf(err, errlen, "%s: %s", e->name, msg);
			return rc;
		}
	}
	return 0;
}
