/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy loader and validator. The document is walked with vg_yaml field tables; sets are
 * parsed first (rules refer to them), resolved with a depth-first walk that names any cycle,
 * then each rule is parsed, resolved into interval sets and checked for contradictions. Walking
 * goes on after an error so that one run reports every mistake.
 */
#include <libgen.h>

#include "rl_policy_impl.h"

/* ---------------------------------------------------------------------------------------- */
/* Top level and l2                                                                          */

static const char *const default_names[] = { "allow", "drop", "reject", NULL };
static const char *const l2_names[] = { "pass", "drop", NULL };

static const struct {
	const char *name;
	uint32_t type;
} ether_table[] = {
	{ "arp", 0x0806 },
	{ "rarp", 0x8035 },
	{ "wol", 0x0842 },
	{ "ipx", 0x8137 },
	{ "lacp", 0x8809 },
	{ "mpls", 0x8847 },
	{ "mpls-multicast", 0x8848 },
	{ "pppoe-discovery", 0x8863 },
	{ "pppoe", 0x8864 },
	{ "eapol", 0x888e },
	{ "lldp", 0x88cc },
	{ "macsec", 0x88e5 },
	{ "ptp", 0x88f7 },
	{ "fcoe", 0x8906 },
	{ "llc", RL_ETHERTYPE_LLC },
};

static int
t_version(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	const char *s = vg_yaml_scalar(y, v, key);

	(void)obj;
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "1") != 0) {
		vg_yaml_err(y, v, "'version': %s is not supported; this Vigil reads version 1", s);
		return -EINVAL;
	}
	return 0;
}

static int
t_default(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ld *ld = obj;
	int a;

	if (vg_yaml_enum(y, v, key, default_names, &a) != 0)
		return -EINVAL;
	ld->p->def = (enum rl_action)a;
	ld->have_default = true;
	return 0;
}

static int
t_sets(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	(void)key;
	((struct ld *)obj)->sets_node = v;
	return 0;
}

static int
t_rules(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	(void)key;
	((struct ld *)obj)->rules_node = v;
	return 0;
}

static int
t_l2(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	(void)key;
	((struct ld *)obj)->l2_node = v;
	return 0;
}

static int
t_prefilter(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	(void)key;
	((struct ld *)obj)->prefilter_node = v;
	return 0;
}

static const struct vg_yaml_field top_fields[] = {
	{ .name = "version", .type = VG_YT_CUSTOM, .parse = t_version, .required = true },
	{ .name = "default", .type = VG_YT_CUSTOM, .parse = t_default, .required = true },
	{ .name = "l2", .type = VG_YT_CUSTOM, .parse = t_l2 },
	{ .name = "sets", .type = VG_YT_CUSTOM, .parse = t_sets },
	{ .name = "rules", .type = VG_YT_CUSTOM, .parse = t_rules },
	{ .name = "prefilter", .type = VG_YT_CUSTOM, .parse = t_prefilter },
	{ 0 },
};

static void
l2_list(struct ld *ld, yaml_node_t *v, const char *key, enum rl_l2_verdict verdict)
{
	struct rl_policy *p = ld->p;
	int len = list_len(v);

	if (v->type == YAML_MAPPING_NODE) {
		vg_yaml_err(ld->y, v, "l2: '%s': expected a list of EtherTypes", key);
		return;
	}
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(ld, v, i);
		const char *s = vg_yaml_scalar(ld->y, it, key);
		uint64_t type = UINT64_MAX;

		if (s == NULL)
			continue;
		for (size_t k = 0; k < sizeof(ether_table) / sizeof(ether_table[0]); k++)
			if (strcmp(s, ether_table[k].name) == 0)
				type = ether_table[k].type;
		if (type == UINT64_MAX) {
			if (!parse_u64(s, &type) || type > 0xffff) {
				vg_yaml_err(ld->y, it,
						"l2: '%s': '%s' is not an EtherType (a number such as 0x88cc, or arp, lldp, lacp, eapol, ptp, mpls, pppoe, llc, ...)",
						key, s);
				continue;
			}
			if (type < 0x0600) {
				vg_yaml_err(ld->y, it,
						"l2: '%s': %s is an 802.3 length, not an EtherType; use llc for such frames",
						key, s);
				continue;
			}
		}
		bool dup = false;
		for (unsigned k = 0; k < p->n_l2 && !dup; k++)
			if (p->l2[k].ether_type == type) {
				vg_yaml_err(ld->y, it, "l2: '%s': EtherType %s is already listed%s",
						key, s,
						p->l2[k].verdict != verdict
								? " with the other verdict"
								: "");
				dup = true;
			}
		if (dup)
			continue;
		struct rl_l2_entry *e = realloc(p->l2, (p->n_l2 + 1) * sizeof(*e));
		if (e == NULL) {
			oom(ld);
			return;
		}
		p->l2 = e;
		p->l2[p->n_l2].ether_type = (uint32_t)type;
		p->l2[p->n_l2].verdict = verdict;
		p->n_l2++;
	}
}

static void
parse_l2(struct ld *ld)
{
	yaml_node_t *n = ld->l2_node;

	if (n == NULL)
		return;
	if (n->type != YAML_MAPPING_NODE) {
		vg_yaml_err(ld->y, n, "l2: expected a mapping like {default: pass, drop: [lldp]}");
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(ld->y, p->key);
		yaml_node_t *v = vg_yaml_node(ld->y, p->value);
		const char *key = scalar(k);
		int d;

		if (key != NULL && strcmp(key, "default") == 0) {
			if (vg_yaml_enum(ld->y, v, "l2.default", l2_names, &d) == 0)
				ld->p->l2_default = (enum rl_l2_verdict)d;
		} else if (key != NULL && strcmp(key, "allow") == 0) {
			l2_list(ld, v, "allow", RL_L2_PASS);
		} else if (key != NULL && strcmp(key, "drop") == 0) {
			l2_list(ld, v, "drop", RL_L2_DROP);
		} else {
			vg_yaml_err(ld->y, k,
					"l2: unknown key '%s' (accepted: default, allow, drop)",
					key != NULL ? key : "?");
		}
	}
}

/* ---------------------------------------------------------------------------------------- */
/* Entry points                                                                              */

static void
expr_free(struct rl_expr *e)
{
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

void
rl_policy_free(struct rl_policy *p)
{
	if (p == NULL)
		return;
	for (unsigned i = 0; i < p->n_rules; i++) {
		struct rl_rule *r = &p->rules[i];

		free(r->name);
		free(r->description);
		vg_ivs_free(&r->vlan);
		expr_free(&r->from);
		expr_free(&r->to);
		vg_addrset_free(&r->from_set);
		vg_addrset_free(&r->to_set);
		expr_free(&r->sport);
		expr_free(&r->dport);
		vg_ivs_free(&r->sport_set);
		vg_ivs_free(&r->dport_set);
		for (unsigned k = 0; k < r->n_inspect; k++)
			free(r->inspect[k]);
		free(r->inspect);
		free(r->bpf);
		free(r->bpf_upload);
	}
	free(p->rules);
	for (unsigned i = 0; i < p->n_pre; i++) {
		free(p->pre[i].name);
		free(p->pre[i].bpf);
		free(p->pre[i].bpf_upload);
	}
	free(p->pre);
	for (unsigned i = 0; i < p->n_sets; i++) {
		free(p->sets[i].name);
		expr_free(&p->sets[i].expr);
		vg_addrset_free(&p->sets[i].addrs);
		vg_ivs_free(&p->sets[i].ports);
	}
	free(p->sets);
	free(p->l2);
	free(p->file);
	free(p);
}

/* Shadow analysis is quadratic; beyond this many pairs (about 20k rules) it stops. */
#define RL_SHADOW_MAX_PAIRS (200ULL * 1000 * 1000)

static struct rl_policy *
load(struct vg_yaml *y, const char *name, const char *dir, const struct rl_env *env, int rc)
{
	struct ld ld = { .y = y, .env = env };
	yaml_node_t *root;

	ld.p = calloc(1, sizeof(*ld.p));
	if (ld.p == NULL || (ld.p->file = strdup(name)) == NULL) {
		free(ld.p);
		vg_yaml_free(y);
		errno = ENOMEM;
		return NULL;
	}
	ld.p->def = RL_ACT_DROP;
	ld.p->l2_default = RL_L2_PASS;
	if (dir != NULL)
		ld.dir = strdup(dir);
	root = rc == 0 ? vg_yaml_root(y) : NULL;
	if (rc == 0 && root == NULL)
		vg_yaml_err(y, NULL,
				"the policy is empty; it needs at least 'version' and 'default'");
	if (root != NULL)
		(void)vg_yaml_map(y, root, "policy", top_fields, &ld);
	if (root != NULL) {
		parse_l2(&ld);
		rl_policy_parse_sets(&ld);
		rl_policy_resolve_sets(&ld);
		rl_policy_parse_rules(&ld);
		rl_policy_parse_prefilters(&ld);
	}
	if (y->errors == 0 && !ld.oom)
		rl_policy_shadow_check(ld.p, y->diag, RL_SHADOW_MAX_PAIRS);
	free(ld.set_state);
	free(ld.stack);
	free(ld.name_line);
	free(ld.name_col);
	free(ld.dir);
	bool failed = y->errors > 0 || ld.oom || rc != 0;
	vg_yaml_free(y);
	if (failed) {
		rl_policy_free(ld.p);
		errno = ld.oom ? ENOMEM : EINVAL;
		return NULL;
	}
	return ld.p;
}

static unsigned
max_depth(const struct rl_env *env)
{
	return env != NULL && env->max_depth > 0 ? env->max_depth : VG_YAML_MAX_DEPTH;
}

struct rl_policy *
rl_policy_load_file(const char *path, const struct rl_env *env, struct vg_diag *diag)
{
	struct vg_yaml y;
	char *copy = strdup(path);
	struct rl_policy *p;
	int rc;

	if (copy == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = vg_yaml_load_file_depth(&y, path, max_depth(env), diag);
	p = load(&y, path, dirname(copy), env, rc);
	free(copy);
	return p;
}

struct rl_policy *
rl_policy_load_buf(const char *name, const char *buf, size_t len, const struct rl_env *env,
		struct vg_diag *diag)
{
	struct vg_yaml y;
	int rc;

	if (name == NULL)
		name = "<input>";
	rc = vg_yaml_load_buf_depth(&y, name, buf, len, max_depth(env), diag);
	return load(&y, name, env != NULL ? env->dir : NULL, env, rc);
}

const char *
rl_policy_file(const struct rl_policy *p)
{
	return p->file;
}

enum rl_action
rl_policy_default(const struct rl_policy *p)
{
	return p->def;
}

unsigned
rl_policy_n_rules(const struct rl_policy *p)
{
	return p->n_rules;
}

const struct rl_rule *
rl_policy_rule(const struct rl_policy *p, unsigned i)
{
	return i < p->n_rules ? &p->rules[i] : NULL;
}

unsigned
rl_policy_n_sets(const struct rl_policy *p)
{
	return p->n_sets;
}

const struct rl_set *
rl_policy_set(const struct rl_policy *p, unsigned i)
{
	return i < p->n_sets ? &p->sets[i] : NULL;
}

enum rl_l2_verdict
rl_policy_l2_default(const struct rl_policy *p)
{
	return p->l2_default;
}

unsigned
rl_policy_n_l2(const struct rl_policy *p)
{
	return p->n_l2;
}

const struct rl_l2_entry *
rl_policy_l2(const struct rl_policy *p, unsigned i)
{
	return i < p->n_l2 ? &p->l2[i] : NULL;
}

unsigned
rl_policy_n_prefilters(const struct rl_policy *p)
{
	return p->n_pre;
}

const struct rl_prefilter *
rl_policy_prefilter(const struct rl_policy *p, unsigned i)
{
	return i < p->n_pre ? &p->pre[i] : NULL;
}

enum rl_l2_verdict
rl_policy_l2_lookup(const struct rl_policy *p, uint16_t ether_type)
{
	uint32_t t = ether_type < 0x0600 ? RL_ETHERTYPE_LLC : ether_type;

	for (unsigned i = 0; i < p->n_l2; i++)
		if (p->l2[i].ether_type == t)
			return p->l2[i].verdict;
	return p->l2_default;
}
