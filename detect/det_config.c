/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "det_config.h"

#define CFG_OFF(f) offsetof(struct det_config, f)

int
det_config_init(struct det_config *c)
{
	memset(c, 0, sizeof(*c));
	c->app_proto_ports = true;
	c->max_size = DET_CONFIG_MAX_SIZE;
	det_compile_opts_default(&c->compile);
	c->vars = det_vars_create();
	return c->vars != NULL ? 0 : -ENOMEM;
}

void
det_config_free(struct det_config *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->n_paths; i++)
		free(c->paths[i]);
	free(c->classification);
	free(c->threshold_file);
	det_vars_free(c->vars);
	memset(c, 0, sizeof(*c));
}

void
det_config_load_opts(const struct det_config *c, struct det_load_opts *o)
{
	det_load_opts_default(o);
	o->vars = c->vars;
	o->classification = c->classification;
	o->app_proto_ports = c->app_proto_ports;
}

static int
parse_paths(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct det_config *c = obj;
	int n, rc = 0;

	if (!vg_yaml_expect_seq(y, v, key))
		return -EINVAL;
	n = vg_yaml_seq_len(v);
	if (n > DET_CONFIG_MAX_PATHS) {
		vg_yaml_err(y, v, "'%s': at most %d paths", key, DET_CONFIG_MAX_PATHS);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		yaml_node_t *it = vg_yaml_seq_item(y, v, i);
		const char *s = vg_yaml_scalar(y, it, key);

		if (s == NULL || *s == '\0') {
			if (s != NULL)
				vg_yaml_err(y, it, "'%s': empty path", key);
			rc = -EINVAL;
			continue;
		}
		c->paths[c->n_paths] = strdup(s);
		if (c->paths[c->n_paths] == NULL)
			return -ENOMEM;
		c->n_paths++;
	}
	return rc;
}

/* One group of variables: name -> value, each value checked where it stands. */
static int
parse_var_map(struct vg_yaml *y, yaml_node_t *v, const char *key, struct det_vars *vars, bool port)
{
	int rc = 0;

	if (!vg_yaml_expect_map(y, v, key))
		return -EINVAL;
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(y, p->key), *val = vg_yaml_node(y, p->value);
		const char *name = vg_yaml_scalar(y, k, key);
		const char *s = vg_yaml_scalar(y, val, name != NULL ? name : key);
		int r;

		if (name == NULL || s == NULL) {
			rc = -EINVAL;
			continue;
		}
		r = port ? det_vars_set_port(vars, name, s) : det_vars_set_addr(vars, name, s);
		if (r == -ENOMEM)
			return r;
		if (r != 0) {
			vg_yaml_err(y, r == -EINVAL && *s != '\0' ? k : val, "'%s': %s", name,
					*s == '\0' ? "empty value"
						   : "a variable name has letters, digits and '_'");
			rc = -EINVAL;
		}
	}
	return rc;
}

static int
parse_vars(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct det_config *c = obj;
	int rc = 0;

	if (!vg_yaml_expect_map(y, v, key))
		return -EINVAL;
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(y, p->key), *val = vg_yaml_node(y, p->value);
		const char *name = vg_yaml_scalar(y, k, key);
		int r;

		if (name == NULL) {
			rc = -EINVAL;
			continue;
		}
		if (strcmp(name, "address") == 0) {
			r = parse_var_map(y, val, "vars.address", c->vars, false);
		} else if (strcmp(name, "port") == 0) {
			r = parse_var_map(y, val, "vars.port", c->vars, true);
		} else {
			vg_yaml_err(y, k, "'%s' is not a kind of variable (address, port)", name);
			r = -EINVAL;
		}
		if (r == -ENOMEM)
			return r;
		if (r != 0)
			rc = -EINVAL;
	}
	return rc;
}

/* Parse each value written under vars.address / vars.port, reporting at its node. */
static int
check_written(struct vg_yaml *y, yaml_node_t *vars, struct det_config *c)
{
	int rc = 0;

	for (yaml_node_pair_t *p = vars->data.mapping.pairs.start; p < vars->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(y, p->key), *m = vg_yaml_node(y, p->value);
		bool port;

		if (k == NULL || m == NULL || k->type != YAML_SCALAR_NODE ||
				m->type != YAML_MAPPING_NODE)
			continue;
		port = strcmp((const char *)k->data.scalar.value, "port") == 0;
		if (!port && strcmp((const char *)k->data.scalar.value, "address") != 0)
			continue; /* reported by parse_vars */
		for (yaml_node_pair_t *q = m->data.mapping.pairs.start;
				q < m->data.mapping.pairs.top; q++) {
			yaml_node_t *nk = vg_yaml_node(y, q->key), *nv = vg_yaml_node(y, q->value);
			const char *name, *val;
			char err[256];
			int r;

			if (nk == NULL || nv == NULL || nk->type != YAML_SCALAR_NODE ||
					nv->type != YAML_SCALAR_NODE)
				continue;
			name = (const char *)nk->data.scalar.value;
			val = (const char *)nv->data.scalar.value;
			if (port) {
				struct det_portset ps;

				r = det_portset_parse(
						&ps, val, c->vars, err, sizeof(err), NULL, NULL);
				if (r == 0)
					det_portset_free(&ps);
			} else {
				struct det_ipset is;

				r = det_ipset_parse(
						&is, val, c->vars, err, sizeof(err), NULL, NULL);
				if (r == 0)
					det_ipset_free(&is);
			}
			if (r == -ENOMEM)
				return r;
			if (r != 0) {
				vg_yaml_err(y, nv, "'%s': %s", name, err);
				rc = -EINVAL;
			}
		}
	}
	return rc;
}

/* After the whole section: defaults for what is missing, then every value parsed. */
static int
check_vars(struct vg_yaml *y, yaml_node_t *n, struct det_config *c)
{
	char err[320];
	int rc = 0;

	if (det_vars_set_defaults(c->vars) != 0)
		return -ENOMEM;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(y, p->key), *v = vg_yaml_node(y, p->value);

		if (k != NULL && v != NULL && k->type == YAML_SCALAR_NODE &&
				v->type == YAML_MAPPING_NODE &&
				strcmp((const char *)k->data.scalar.value, "vars") == 0)
			rc = check_written(y, v, c);
	}
	if (rc != 0)
		return rc;
	/* the defaults may name a variable the config redefined badly elsewhere */
	if (det_vars_check(c->vars, err, sizeof(err)) != 0) {
		vg_yaml_err(y, n, "signatures.vars: %s", err);
		return -EINVAL;
	}
	return 0;
}

static const struct vg_yaml_field fields[] = {
	{ .name = "paths", .type = VG_YT_CUSTOM, .parse = parse_paths },
	{ .name = "classification", .type = VG_YT_STR, .off = CFG_OFF(classification) },
	{ .name = "threshold_file", .type = VG_YT_STR, .off = CFG_OFF(threshold_file) },
	{ .name = "app_proto_ports", .type = VG_YT_BOOL, .off = CFG_OFF(app_proto_ports) },
	{ .name = "partial_load", .type = VG_YT_BOOL, .off = CFG_OFF(partial_load) },
	{ .name = "delayed", .type = VG_YT_BOOL, .off = CFG_OFF(delayed) },
	{ .name = "stream_depth",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(compile.stream_depth),
			.min = 0,
			.max = UINT32_MAX },
	{ .name = "stream_window",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(compile.stream_window),
			.min = 0,
			.max = 1u << 20 },
	{ .name = "port_groups",
			.type = VG_YT_U32,
			.off = CFG_OFF(compile.max_port_groups),
			.min = 0,
			.max = 1024 },
	{ .name = "threshold_entries",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(compile.thresh_entries),
			.min = 16,
			.max = 1u << 26 },
	{ .name = "pcre_scan_all", .type = VG_YT_BOOL, .off = CFG_OFF(compile.pcre_scan_all) },
	{ .name = "pcre_match_limit",
			.type = VG_YT_U32,
			.off = CFG_OFF(compile.pcre_match_limit),
			.min = 100,
			.max = 100000000 },
	{ .name = "pcre_recursion_limit",
			.type = VG_YT_U32,
			.off = CFG_OFF(compile.pcre_depth_limit),
			.min = 10,
			.max = 100000000 },
	{ .name = "max_size",
			.type = VG_YT_SIZE32,
			.off = CFG_OFF(max_size),
			.min = 1024,
			.max = UINT32_MAX },
	{ .name = "vars", .type = VG_YT_CUSTOM, .parse = parse_vars },
	{ 0 },
};

int
det_config_parse(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	struct det_config *c = obj;
	int rc = vg_yaml_map(y, n, "signatures", fields, c);
	int rv = n->type == YAML_MAPPING_NODE ? check_vars(y, n, c) : 0;

	if (rv == -ENOMEM)
		return rv;
	return rc != 0 || rv != 0 ? -EINVAL : 0;
}
