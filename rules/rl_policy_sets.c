/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy loader: named sets. Parsed first (rules refer to them), then resolved with a
 * depth-first walk that names any cycle.
 */
#include "rl_policy_impl.h"

/* ---------------------------------------------------------------------------------------- */
/* Sets                                                                                      */

static bool
valid_name(const char *s)
{
	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

void
rl_policy_parse_sets(struct ld *ld)
{
	yaml_node_t *n = ld->sets_node;
	struct rl_policy *p = ld->p;
	unsigned count;

	if (n == NULL)
		return;
	if (!vg_yaml_expect_map(ld->y, n, "sets"))
		return;
	count = (unsigned)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	p->sets = calloc(count + 1, sizeof(*p->sets));
	ld->set_state = calloc(count + 1, 1);
	ld->stack = calloc(count + 1, sizeof(*ld->stack));
	if (p->sets == NULL || ld->set_state == NULL || ld->stack == NULL) {
		oom(ld);
		return;
	}
	/* Names first, so that sets may refer to sets defined further down. */
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
			pr++) {
		yaml_node_t *k = vg_yaml_node(ld->y, pr->key);
		const char *name = scalar(k);
		struct rl_set *s = &p->sets[p->n_sets];

		if (name == NULL || !valid_name(name)) {
			vg_yaml_err(ld->y, k,
					"sets: '%s' is not a usable set name (a letter or '_', then letters, digits, '-' or '_')",
					name != NULL ? name : "?");
			continue;
		}
		if (find_set(p, name) >= 0) {
			vg_yaml_err(ld->y, k, "sets: set '%s' is defined more than once", name);
			continue;
		}
		s->name = strdup(name);
		if (s->name == NULL) {
			oom(ld);
			return;
		}
		s->line = vg_yaml_line(k);
		s->col = vg_yaml_col(k);
		p->n_sets++;
	}
	unsigned idx = 0;
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
			pr++) {
		yaml_node_t *k = vg_yaml_node(ld->y, pr->key);
		yaml_node_t *v = vg_yaml_node(ld->y, pr->value);
		const char *name = scalar(k);
		char label[96];

		if (idx >= p->n_sets || name == NULL || strcmp(name, p->sets[idx].name) != 0)
			continue; /* rejected above */
		struct rl_set *s = &p->sets[idx++];
		struct rctx c = { .ld = ld, .label = label };

		snprintf(label, sizeof(label), "set '%s'", s->name);
		if (rl_policy_parse_expr(&c, v, s->name, -1, true, &s->expr) != 0)
			ld->set_state[s - p->sets] = 3;
	}
}

static int
resolve_set(struct ld *ld, unsigned i, const struct rl_item *via)
{
	struct rl_policy *p = ld->p;
	struct rl_set *s = &p->sets[i];
	char label[96];
	struct rctx c = { .ld = ld, .label = label };
	int kind = -1;

	if (ld->set_state[i] == 2)
		return 0;
	if (ld->set_state[i] == 3)
		return -1;
	if (ld->set_state[i] == 1) {
		/* Cycle: the stack from i up to here, then i again. */
		char path[512];
		size_t used = 0;
		unsigned from = 0;

		while (from < ld->depth && ld->stack[from] != i)
			from++;
		for (unsigned k = from; k < ld->depth; k++) {
			int w = snprintf(path + used, sizeof(path) - used, "%s -> ",
					p->sets[ld->stack[k]].name);
			if (w > 0 && (size_t)w < sizeof(path) - used)
				used += (size_t)w;
		}
		snprintf(path + used, sizeof(path) - used, "%s", s->name);
		vg_diag_add(ld->y->diag, VG_SEV_ERROR, ld->y->file, via->line, via->col,
				"set '%s': sets include each other in a cycle: %s",
				p->sets[ld->stack[ld->depth - 1]].name, path);
		ld->y->errors++;
		/* Every set on the cycle fails; report it once. */
		for (unsigned k = from; k < ld->depth; k++)
			ld->set_state[ld->stack[k]] = 3;
		return -1;
	}
	ld->set_state[i] = 1;
	ld->stack[ld->depth++] = i;
	snprintf(label, sizeof(label), "set '%s'", s->name);
	for (unsigned k = 0; k < s->expr.n; k++) {
		const struct rl_item *it = &s->expr.v[k];
		int ik;

		if (it->kind == RL_ITEM_SET) {
			if (resolve_set(ld, it->set, it) != 0) {
				if (ld->set_state[i] != 3)
					ld->set_state[i] = 4; /* failed because of another set */
				continue;
			}
			ik = (int)p->sets[it->set].kind;
		} else {
			ik = it->kind == RL_ITEM_CIDR ? RL_SET_ADDR : RL_SET_PORT;
		}
		if (kind < 0) {
			kind = ik;
		} else if (ik != kind) {
			yaml_node_t fake = { 0 };

			fake.start_mark.line = it->line - 1;
			fake.start_mark.column = it->col - 1;
			rerr(&c, &fake, "mixes addresses and ports; a set holds one or the other");
			ld->set_state[i] = 4;
		}
	}
	ld->depth--;
	if (ld->set_state[i] != 1) {
		ld->set_state[i] = 3;
		return -1;
	}
	s->kind = kind < 0 ? RL_SET_ADDR : (enum rl_set_kind)kind;
	int rc = s->kind == RL_SET_ADDR ? rl_policy_addr_value(p, &s->expr, &s->addrs)
					: rl_policy_range_value(p, &s->expr, 65535, &s->ports);
	if (rc != 0) {
		oom(ld);
		ld->set_state[i] = 3;
		return -1;
	}
	ld->set_state[i] = 2;
	return 0;
}

void
rl_policy_resolve_sets(struct ld *ld)
{
	for (unsigned i = 0; i < ld->p->n_sets && !ld->oom; i++) {
		const struct rl_item none = { .line = ld->p->sets[i].line,
			.col = ld->p->sets[i].col };

		ld->depth = 0;
		(void)resolve_set(ld, i, &none);
	}
}
