/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl_edit.h"
#include "vg_yaml.h"

/* libyaml marks count characters; the text is UTF-8: the byte offset of character idx. */
static size_t
byte_off(const char *t, size_t len, size_t idx)
{
	size_t chars = 0, i = 0;

	while (i < len && chars < idx) {
		i++;
		while (i < len && ((unsigned char)t[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	return i;
}

/* The value of key in mapping m, or NULL. */
static yaml_node_t *
map_get(struct vg_yaml *y, yaml_node_t *m, const char *key)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(y, p->key);

		if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
			return vg_yaml_node(y, p->value);
	}
	return NULL;
}

static char *
splice(const char *t, size_t len, size_t at, size_t cut, const char *ins, size_t *out_len)
{
	size_t il = strlen(ins), n = len - cut + il;
	char *o = malloc(n + 1);

	if (o == NULL)
		return NULL;
	memcpy(o, t, at);
	memcpy(o + at, ins, il);
	memcpy(o + at + il, t + at + cut, len - at - cut);
	o[n] = '\0';
	*out_len = n;
	return o;
}

static char *
fail(int e, char *err, size_t errlen, const char *msg, const char *rule)
{
	snprintf(err, errlen, msg, rule);
	errno = e;
	return NULL;
}

char *
rl_edit_dry_run(const char *text, size_t len, const char *rule, bool dry_run, size_t *out_len,
		bool *changed, char *err, size_t errlen)
{
	const char *want = dry_run ? "true" : "false";
	yaml_node_t *root, *rules, *r = NULL;
	struct vg_yaml y;
	struct vg_diag d;
	char *out = NULL;

	*changed = false;
	memset(&y, 0, sizeof(y));
	vg_diag_init(&d);
	if (vg_yaml_load_buf(&y, "policy", text, len, &d) != 0 ||
			(root = vg_yaml_root(&y)) == NULL || root->type != YAML_MAPPING_NODE) {
		vg_diag_free(&d);
		vg_yaml_free(&y);
		return fail(EINVAL, err, errlen, "%sthe policy in force is not a YAML mapping", "");
	}
	rules = map_get(&y, root, "rules");
	for (int i = 0; rules != NULL && i < vg_yaml_seq_len(rules) && r == NULL; i++) {
		yaml_node_t *it = vg_yaml_seq_item(&y, rules, i);
		yaml_node_t *name = it && it->type == YAML_MAPPING_NODE ? map_get(&y, it, "name")
									: NULL;

		if (name != NULL && name->type == YAML_SCALAR_NODE &&
				strcmp((char *)name->data.scalar.value, rule) == 0)
			r = it;
	}
	if (r == NULL) {
		out = fail(ENOENT, err, errlen, "the policy in force has no rule named '%s'", rule);
		goto out;
	}
	yaml_node_pair_t *last = r->data.mapping.pairs.top - 1;

	for (yaml_node_pair_t *p = r->data.mapping.pairs.start; p < r->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(&y, p->key), *v = vg_yaml_node(&y, p->value);

		if (k->type != YAML_SCALAR_NODE ||
				strcmp((char *)k->data.scalar.value, "dry_run") != 0)
			continue;
		if (v->type != YAML_SCALAR_NODE) {
			out = fail(EINVAL, err, errlen, "rule '%s': dry_run is not a scalar", rule);
			goto out;
		}
		size_t a = byte_off(text, len, v->start_mark.index);
		size_t b = byte_off(text, len, v->end_mark.index);

		*changed = strcmp((char *)v->data.scalar.value, want) != 0;
		out = splice(text, len, a, b - a, want, out_len);
		goto out;
	}
	*changed = true;
	if (r->data.mapping.style == YAML_FLOW_MAPPING_STYLE) {
		size_t e = byte_off(text, len, r->end_mark.index);
		char ins[32];

		/* before the closing brace */
		while (e > 0 && text[e - 1] != '}')
			e--;
		if (e == 0) {
			out = fail(EINVAL, err, errlen, "rule '%s': cannot find its closing brace",
					rule);
			goto out;
		}
		snprintf(ins, sizeof(ins), ", dry_run: %s", want);
		out = splice(text, len, e - 1, 0, ins, out_len);
	} else {
		yaml_node_t *k0 = vg_yaml_node(&y, r->data.mapping.pairs.start->key);
		yaml_node_t *lv = vg_yaml_node(&y, last->value);
		size_t e = byte_off(text, len, lv->end_mark.index);
		char ins[96];

		/* at the start of the line after the last value, indented as the rule's keys */
		if (e == 0 || text[e - 1] != '\n') {
			while (e < len && text[e] != '\n')
				e++;
			if (e < len)
				e++;
		}
		snprintf(ins, sizeof(ins), "%s%*sdry_run: %s\n",
				e == len && len > 0 && text[len - 1] != '\n' ? "\n" : "",
				(int)k0->start_mark.column, "", want);
		out = splice(text, len, e, 0, ins, out_len);
	}
out:
	if (out == NULL && errno == 0)
		errno = ENOMEM;
	vg_diag_free(&d);
	vg_yaml_free(&y);
	return out;
}
