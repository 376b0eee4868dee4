/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the policy loader's files share; private to rl_policy*.c. The loader reads a document in
 * stages, one file each: rl_policy.c (top level, l2 and the entry points), rl_policy_sets.c (the
 * named sets), rl_policy_rule.c (rules and pre-filters), rl_policy_expr.c (the literals and
 * expressions they are written in, resolved into interval sets) and rl_policy_shadow.c.
 */
#ifndef RL_POLICY_IMPL_H
#define RL_POLICY_IMPL_H

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl_policy.h"
#include "vg_yaml.h"

#define U32_MAX_128 VG_U32_MAX_128
#define U128_MAX    VG_U128_MAX

struct rl_policy {
	char *file;
	enum rl_action def;
	enum rl_l2_verdict l2_default;
	struct rl_l2_entry *l2;
	unsigned n_l2;
	struct rl_set *sets;
	unsigned n_sets;
	struct rl_rule *rules;
	unsigned n_rules;
	struct rl_prefilter *pre;
	unsigned n_pre;
};

/* ---------------------------------------------------------------------------------------- */
/* Loading context                                                                           */

struct ld {
	struct vg_yaml *y;
	struct rl_policy *p;
	const struct rl_env *env;
	char *dir; /* directory of the policy file, for relative bpf paths; NULL for buffers */
	bool oom;
	bool have_default;
	yaml_node_t *sets_node;
	yaml_node_t *rules_node;
	yaml_node_t *l2_node;
	yaml_node_t *prefilter_node;
	/* set resolution */
	uint8_t *set_state; /* 0 new, 1 on the stack, 2 done, 3 failed */
	unsigned *stack;
	unsigned depth;
	unsigned *name_line; /* per rule: position of the name value */
	unsigned *name_col;
};

/* One rule being parsed: the rule and the nodes later checks point at. */
struct rctx {
	struct ld *ld;
	struct rl_rule *r;
	const char *label; /* "rule 'web-in'" */
	bool bad;	   /* an error was reported for this rule */
	yaml_node_t *n_map, *n_action, *n_rate, *n_proto, *n_from, *n_to, *n_sport, *n_dport;
	yaml_node_t *n_icmp_type, *n_icmp_code, *n_flags;
	bool icmp_type_numeric;
};

static inline void
oom(struct ld *ld)
{
	if (!ld->oom)
		vg_yaml_err(ld->y, NULL, "out of memory while loading the policy");
	ld->oom = true;
}

static inline void __attribute__((format(printf, 3, 4)))
rerr(struct rctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	vg_yaml_err(c->ld->y, n, "%s: %s", c->label, msg != NULL ? msg : fmt);
	free(msg);
	c->bad = true;
}

static inline void __attribute__((format(printf, 3, 4)))
rwarn(struct rctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	vg_yaml_warn(c->ld->y, n, "%s: %s", c->label, msg != NULL ? msg : fmt);
	free(msg);
}

static inline const char *
scalar(yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static inline const char *
kind_of(const yaml_node_t *n)
{
	return n->type == YAML_SEQUENCE_NODE  ? "a list"
	       : n->type == YAML_MAPPING_NODE ? "a mapping"
					      : "a single value";
}

/* A scalar, or an error naming key. */
static inline const char *
rscalar(struct rctx *c, yaml_node_t *n, const char *key)
{
	const char *s = scalar(n);

	if (s == NULL)
		rerr(c, n, "'%s': expected a single value, found %s", key, kind_of(n));
	return s;
}

/* Decimal or 0x number with nothing after it; never octal (a port written 010 is ten). */
static inline bool
parse_u64(const char *s, uint64_t *out)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;
	char *end;

	if (!isxdigit((unsigned char)digits[0]) || (!hex && !isdigit((unsigned char)digits[0])))
		return false;
	errno = 0;
	unsigned long long v = strtoull(digits, &end, hex ? 16 : 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static inline bool
rbool(struct rctx *c, yaml_node_t *n, const char *key, bool *out)
{
	const char *s = rscalar(c, n, key);

	if (s == NULL)
		return false;
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0) {
		*out = false;
		return true;
	}
	rerr(c, n, "'%s': '%s' is not a boolean (true or false)", key, s);
	return false;
}

static inline bool
renum(struct rctx *c, yaml_node_t *n, const char *key, const char *const *names, int *out)
{
	const char *s = rscalar(c, n, key);
	char accepted[128] = "";
	size_t used = 0;

	if (s == NULL)
		return false;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return true;
		}
		int w = snprintf(accepted + used, sizeof(accepted) - used, "%s%s", i ? ", " : "",
				names[i]);
		if (w > 0 && (size_t)w < sizeof(accepted) - used)
			used += (size_t)w;
	}
	rerr(c, n, "'%s': '%s' is not one of: %s", key, s, accepted);
	return false;
}

/* Items of a value that may be one scalar or a flat list of scalars. */
static inline int
list_len(yaml_node_t *n)
{
	return n->type == YAML_SEQUENCE_NODE ? vg_yaml_seq_len(n) : 1;
}

static inline yaml_node_t *
list_item(struct ld *ld, yaml_node_t *n, int i)
{
	return n->type == YAML_SEQUENCE_NODE ? vg_yaml_seq_item(ld->y, n, i) : n;
}

static inline int
find_set(const struct rl_policy *p, const char *name)
{
	for (unsigned i = 0; i < p->n_sets; i++)
		if (strcmp(p->sets[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* "a, b, c" of the defined set names, for messages. */
static inline void
set_names(const struct rl_policy *p, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->n_sets && used + 8 < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", p->sets[i].name);
		if (w > 0 && (size_t)w < len - used)
			used += (size_t)w;
	}
	if (p->n_sets == 0)
		snprintf(buf, len, "none");
}

/* rl_policy_expr.c */

/* Parse a scalar or a flat list into an expression. kind: RL_SET_ADDR, RL_SET_PORT, -1 inside
 * a set (either), -2 for VLAN ids. Returns 0 or -1 (error reported). */
int rl_policy_parse_expr(struct rctx *c, yaml_node_t *n, const char *what, int kind, bool in_set,
		struct rl_expr *e);
/* Value of an address expression whose set references are resolved. 0 or -ENOMEM. */
int rl_policy_addr_value(
		const struct rl_policy *p, const struct rl_expr *e, struct vg_addrset *out);
/* Value of a port (or VLAN, in-port) expression; universe [0, max]. 0 or -ENOMEM. */
int rl_policy_range_value(const struct rl_policy *p, const struct rl_expr *e, uint32_t max,
		struct vg_ivs *out);

/* rl_policy_sets.c: the `sets:` mapping, then each set resolved (cycles named). */
void rl_policy_parse_sets(struct ld *ld);
void rl_policy_resolve_sets(struct ld *ld);

/* rl_policy_rule.c: the `rules:` list and the `prefilter:` list. */
void rl_policy_parse_rules(struct ld *ld);
void rl_policy_parse_prefilters(struct ld *ld);

#endif /* RL_POLICY_IMPL_H */
