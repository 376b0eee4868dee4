/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy loader: each rule's fields (a vg_yaml field table), the checks that span fields, and
 * the pre-filters, which are read with the rules' own field parsers.
 */
#include <strings.h>

#include "rl_policy_impl.h"

/* ---------------------------------------------------------------------------------------- */
/* Names                                                                                     */

static const char *const action_names[] = { "allow", "drop", "reject", "rate-limit", NULL };
static const char *const per_names[] = { "rule", "source", NULL };

const char *
rl_action_name(enum rl_action a)
{
	if ((unsigned)a > RL_ACT_RATE_LIMIT)
		return "?";
	return action_names[a];
}

static const struct {
	const char *name;
	uint8_t num;
} proto_table[] = {
	{ "icmp", 1 },
	{ "tcp", 6 },
	{ "udp", 17 },
	{ "gre", 47 },
	{ "esp", 50 },
	{ "ah", 51 },
	{ "icmpv6", 58 },
	{ "ipv6-icmp", 58 },
	{ "sctp", 132 },
};

/* ICMP type names; -1 where the family has no such message. */
static const struct {
	const char *name;
	int v4;
	int v6;
} icmp_type_table[] = {
	{ "echo-reply", 0, 129 },
	{ "destination-unreachable", 3, 1 },
	{ "dest-unreach", 3, 1 },
	{ "source-quench", 4, -1 },
	{ "redirect", 5, 137 },
	{ "echo-request", 8, 128 },
	{ "router-advertisement", 9, 134 },
	{ "router-solicitation", 10, 133 },
	{ "time-exceeded", 11, 3 },
	{ "parameter-problem", 12, 4 },
	{ "timestamp-request", 13, -1 },
	{ "timestamp-reply", 14, -1 },
	{ "packet-too-big", -1, 2 },
	{ "neighbor-solicitation", -1, 135 },
	{ "neighbor-advertisement", -1, 136 },
};

static const struct {
	const char *name;
	uint8_t bit;
} tcp_flag_table[] = {
	{ "fin", 0x01 },
	{ "syn", 0x02 },
	{ "rst", 0x04 },
	{ "psh", 0x08 },
	{ "ack", 0x10 },
	{ "urg", 0x20 },
	{ "ece", 0x40 },
	{ "cwr", 0x80 },
};

/* ---------------------------------------------------------------------------------------- */
/* Rule fields                                                                               */

#define RC(obj) ((struct rctx *)(obj))

static int
f_name(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	(void)v;
	(void)key;
	(void)obj;
	return 0; /* read before the walk */
}

static int
f_description(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const char *s = rscalar(c, v, key);

	(void)y;
	if (s == NULL)
		return -EINVAL;
	c->r->description = strdup(s);
	if (c->r->description == NULL)
		oom(c->ld);
	return 0;
}

static int
f_in(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const struct rl_env *env = c->ld->env;
	uint32_t pos = 0, neg = 0;
	bool has_pos = false;
	int len = list_len(v);

	(void)y;
	if (v->type == YAML_MAPPING_NODE || len == 0) {
		rerr(c, v, "'%s': expected a port name or a list of port names", key);
		return -EINVAL;
	}
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(c->ld, v, i);
		const char *s = rscalar(c, it, key);
		bool is_neg = false;
		unsigned k;

		if (s == NULL)
			continue;
		if (*s == '!') {
			is_neg = true;
			s++;
		}
		for (k = 0; env != NULL && k < env->n_ports && k < RL_MAX_PORTS; k++)
			if (strcmp(env->ports[k], s) == 0)
				break;
		if (env == NULL || k == env->n_ports || k >= RL_MAX_PORTS) {
			char names[256] = "";
			size_t used = 0;

			for (unsigned j = 0; env != NULL && j < env->n_ports; j++) {
				int w = snprintf(names + used, sizeof(names) - used, "%s%s",
						j ? ", " : "", env->ports[j]);
				if (w > 0 && (size_t)w < sizeof(names) - used)
					used += (size_t)w;
			}
			rerr(c, it, "'%s': no port is named '%s' (ports: %s)", key, s,
					used ? names : "none configured");
			continue;
		}
		if (is_neg) {
			neg |= 1u << k;
		} else {
			pos |= 1u << k;
			has_pos = true;
		}
	}
	c->r->in_any = false;
	c->r->in_ports = (has_pos ? pos : UINT32_MAX) & ~neg;
	if (!c->bad && c->r->in_ports == 0)
		rerr(c, v, "'%s': no ingress port is left after the negations", key);
	return 0;
}

static int
f_vlan(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	struct rl_expr e = { 0 };

	(void)y;
	if (rl_policy_parse_expr(c, v, key, -2, false, &e) == 0) {
		for (unsigned i = 0; i < e.n; i++)
			if (e.v[i].kind == RL_ITEM_SET || e.v[i].neg) {
				rerr(c, v, "'%s': takes VLAN ids and ranges, not sets or negations",
						key);
				free(e.v);
				return -EINVAL;
			}
		if (e.n > 0) {
			if (rl_policy_range_value(c->ld->p, &e, 4095, &c->r->vlan) != 0)
				oom(c->ld);
			c->r->vlan_any = false;
		}
	}
	free(e.v);
	return 0;
}

static int
f_proto(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	int len = list_len(v);

	(void)y;
	c->n_proto = v;
	if (v->type == YAML_MAPPING_NODE || len == 0) {
		rerr(c, v, "'%s': expected a protocol or a list of protocols", key);
		return -EINVAL;
	}
	memset(c->r->protos, 0, sizeof(c->r->protos));
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(c->ld, v, i);
		const char *s = rscalar(c, it, key);
		uint64_t num = 256;

		if (s == NULL)
			continue;
		if (strcmp(s, "any") == 0) {
			if (len > 1) {
				rerr(c, it, "'%s': 'any' cannot be listed with other protocols",
						key);
				continue;
			}
			return 0;
		}
		for (size_t k = 0; k < sizeof(proto_table) / sizeof(proto_table[0]); k++)
			if (strcmp(s, proto_table[k].name) == 0)
				num = proto_table[k].num;
		if (num == 256 && (!parse_u64(s, &num) || num > 255)) {
			rerr(c, it, "'%s': '%s' is not a protocol (tcp, udp, icmp, icmpv6, sctp, gre, esp, ah, any, or a number 0..255)",
					key, s);
			continue;
		}
		c->r->protos[num >> 6] |= 1ULL << (num & 63);
		c->r->proto_any = false;
	}
	return 0;
}

static int
f_addr(struct rctx *c, yaml_node_t *v, const char *key, struct rl_expr *e)
{
	if (rl_policy_parse_expr(c, v, key, RL_SET_ADDR, false, e) != 0)
		return -EINVAL;
	for (unsigned i = 0; i < e->n; i++) {
		const struct rl_item *it = &e->v[i];

		if (it->kind != RL_ITEM_SET)
			continue;
		const struct rl_set *s = &c->ld->p->sets[it->set];
		uint8_t st = c->ld->set_state[it->set];
		yaml_node_t *n = list_item(c->ld, v, (int)i);

		if (st != 2) {
			c->bad = true; /* the set's own error is reported */
		} else if (s->kind != RL_SET_ADDR) {
			rerr(c, v->type == YAML_SEQUENCE_NODE ? n : v,
					"'%s': set '%s' holds ports, not addresses", key, s->name);
		}
	}
	return 0;
}

static int
f_from(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	RC(obj)->n_from = v;
	return f_addr(RC(obj), v, key, &RC(obj)->r->from);
}

static int
f_to(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	RC(obj)->n_to = v;
	return f_addr(RC(obj), v, key, &RC(obj)->r->to);
}

static int
f_port(struct rctx *c, yaml_node_t *v, const char *key, struct rl_expr *e)
{
	if (rl_policy_parse_expr(c, v, key, RL_SET_PORT, false, e) != 0)
		return -EINVAL;
	for (unsigned i = 0; i < e->n; i++) {
		const struct rl_item *it = &e->v[i];

		if (it->kind != RL_ITEM_SET)
			continue;
		const struct rl_set *s = &c->ld->p->sets[it->set];
		yaml_node_t *n = list_item(c->ld, v, (int)i);

		if (c->ld->set_state[it->set] != 2)
			c->bad = true;
		else if (s->kind != RL_SET_PORT)
			rerr(c, n, "'%s': set '%s' holds addresses, not ports", key, s->name);
	}
	return 0;
}

static int
f_sport(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	RC(obj)->n_sport = v;
	return f_port(RC(obj), v, key, &RC(obj)->r->sport);
}

static int
f_dport(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	RC(obj)->n_dport = v;
	return f_port(RC(obj), v, key, &RC(obj)->r->dport);
}

static int
f_icmp_type(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const char *s = rscalar(c, v, key);
	uint64_t num;

	(void)y;
	c->n_icmp_type = v;
	if (s == NULL)
		return -EINVAL;
	if (parse_u64(s, &num)) {
		if (num > 255) {
			rerr(c, v, "'%s': %s is out of range (0..255)", key, s);
			return -EINVAL;
		}
		c->r->icmp_type4 = c->r->icmp_type6 = (int)num;
		c->icmp_type_numeric = true;
		return 0;
	}
	for (size_t k = 0; k < sizeof(icmp_type_table) / sizeof(icmp_type_table[0]); k++)
		if (strcmp(s, icmp_type_table[k].name) == 0) {
			c->r->icmp_type4 = icmp_type_table[k].v4;
			c->r->icmp_type6 = icmp_type_table[k].v6;
			return 0;
		}
	rerr(c, v, "'%s': '%s' is not an ICMP type (a number 0..255, or echo-request, echo-reply, destination-unreachable, time-exceeded, redirect, parameter-problem, packet-too-big, neighbor-solicitation, ...)",
			key, s);
	return -EINVAL;
}

static int
f_icmp_code(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const char *s = rscalar(c, v, key);
	uint64_t num;

	(void)y;
	c->n_icmp_code = v;
	if (s == NULL)
		return -EINVAL;
	if (!parse_u64(s, &num) || num > 255) {
		rerr(c, v, "'%s': '%s' is not an ICMP code (0..255)", key, s);
		return -EINVAL;
	}
	c->r->icmp_code = (int)num;
	return 0;
}

static int
flag_list(struct rctx *c, yaml_node_t *v, const char *key, uint8_t *out)
{
	int len = list_len(v);

	*out = 0;
	if (v->type == YAML_MAPPING_NODE) {
		rerr(c, v, "'%s': expected a list of flags", key);
		return -1;
	}
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(c->ld, v, i);
		const char *s = rscalar(c, it, key);
		size_t k;

		if (s == NULL)
			continue;
		for (k = 0; k < sizeof(tcp_flag_table) / sizeof(tcp_flag_table[0]); k++)
			if (strcasecmp(s, tcp_flag_table[k].name) == 0)
				break;
		if (k == sizeof(tcp_flag_table) / sizeof(tcp_flag_table[0])) {
			rerr(c, it, "'%s': '%s' is not a TCP flag (fin, syn, rst, psh, ack, urg, ece, cwr)",
					key, s);
			continue;
		}
		*out |= tcp_flag_table[k].bit;
	}
	return 0;
}

static int
f_tcp_flags(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	yaml_node_t *n_set = NULL, *n_unset = NULL;
	uint8_t set = 0, unset = 0;

	(void)y;
	c->n_flags = v;
	if (v->type != YAML_MAPPING_NODE) {
		rerr(c, v, "'%s': expected a mapping like {set: [syn], unset: [ack]}", key);
		return -EINVAL;
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(c->ld->y, p->key);
		yaml_node_t *val = vg_yaml_node(c->ld->y, p->value);
		const char *name = scalar(k);

		if (name != NULL && strcmp(name, "set") == 0 && n_set == NULL) {
			n_set = val;
			flag_list(c, val, "tcp_flags.set", &set);
		} else if (name != NULL && strcmp(name, "unset") == 0 && n_unset == NULL) {
			n_unset = val;
			flag_list(c, val, "tcp_flags.unset", &unset);
		} else {
			rerr(c, k, "'%s': unknown or repeated key '%s' (accepted: set, unset)", key,
					name != NULL ? name : "?");
		}
	}
	if (set & unset) {
		rerr(c, v, "'%s': a flag cannot be both set and unset", key);
		return -EINVAL;
	}
	if ((set | unset) == 0 && !c->bad) {
		rerr(c, v, "'%s': name at least one flag in set or unset", key);
		return -EINVAL;
	}
	c->r->stateless = true;
	c->r->flags_set = set;
	c->r->flags_mask = set | unset;
	return 0;
}

static int
f_action(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	int a;

	(void)y;
	c->n_action = v;
	if (renum(c, v, key, action_names, &a))
		c->r->action = (enum rl_action)a;
	return 0;
}

/* "100", "10k", "5M", "1G" (decimal multiples, as rates are quoted). */
static bool
parse_rate_num(const char *s, uint64_t *out)
{
	char *end;
	uint64_t mult = 1;

	if (!isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return false;
	if (strcmp(end, "k") == 0 || strcmp(end, "K") == 0)
		mult = 1000;
	else if (strcmp(end, "M") == 0)
		mult = 1000000;
	else if (strcmp(end, "G") == 0)
		mult = 1000000000;
	else if (*end != '\0')
		return false;
	if (v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

#define RL_RATE_MAX  1000000000000ULL /* 1 Tbit/s or 1e12 packets/s */
#define RL_BURST_MAX 1000000000ULL    /* packets or bytes */

static int
f_rate(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	struct rl_rate *r = &c->r->rate;
	yaml_node_t *n_rate = NULL, *n_burst = NULL;
	uint64_t burst = 0;

	(void)y;
	c->n_rate = v;
	if (v->type != YAML_MAPPING_NODE) {
		rerr(c, v, "'%s': expected a mapping like {pps: 100, burst: 200, per: source}",
				key);
		return -EINVAL;
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
			p++) {
		yaml_node_t *k = vg_yaml_node(c->ld->y, p->key);
		yaml_node_t *val = vg_yaml_node(c->ld->y, p->value);
		const char *name = scalar(k);
		const char *s;

		if (name != NULL && (strcmp(name, "pps") == 0 || strcmp(name, "bps") == 0)) {
			if (n_rate != NULL) {
				rerr(c, k, "'%s': give either pps or bps, once", key);
				continue;
			}
			n_rate = val;
			r->unit = name[0] == 'p' ? RL_RATE_PPS : RL_RATE_BPS;
			s = rscalar(c, val, name);
			if (s != NULL && (!parse_rate_num(s, &r->rate) || r->rate == 0 ||
							 r->rate > RL_RATE_MAX))
				rerr(c, val, "'%s.%s': '%s' is not a rate (a whole number 1..10^12, optionally with k, M or G)",
						key, name, s);
		} else if (name != NULL && strcmp(name, "burst") == 0 && n_burst == NULL) {
			n_burst = val;
			s = rscalar(c, val, "burst");
			if (s != NULL && (!parse_rate_num(s, &burst) || burst == 0 ||
							 burst > RL_BURST_MAX))
				rerr(c, val, "'%s.burst': '%s' is not a burst size (1..10^9 packets for pps, bytes for bps)",
						key, s);
		} else if (name != NULL && strcmp(name, "per") == 0) {
			int per;

			if (renum(c, val, "rate.per", per_names, &per))
				r->per = (enum rl_rate_per)per;
		} else {
			rerr(c, k, "'%s': unknown or repeated key '%s' (accepted: pps, bps, burst, per)",
					key, name != NULL ? name : "?");
		}
	}
	if (n_rate == NULL) {
		rerr(c, v, "'%s': needs pps or bps", key);
		return -EINVAL;
	}
	if (burst == 0) {
		/* One second's worth: packets for pps, bytes for bps. */
		burst = r->unit == RL_RATE_PPS ? r->rate : r->rate / 8;
		if (burst == 0)
			burst = 1;
		if (burst > RL_BURST_MAX)
			burst = RL_BURST_MAX;
	}
	r->burst = burst;
	return 0;
}

static int
f_log(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	rbool(RC(obj), v, key, &RC(obj)->r->log);
	return 0;
}

static int
f_dry_run(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	(void)y;
	rbool(RC(obj), v, key, &RC(obj)->r->dry_run);
	return 0;
}

static int
f_inspect(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const struct rl_env *env = c->ld->env;
	int len = list_len(v);

	(void)y;
	if (v->type == YAML_MAPPING_NODE || len == 0) {
		rerr(c, v, "'%s': expected a signature group name or a list of them", key);
		return -EINVAL;
	}
	c->r->inspect = calloc((size_t)len, sizeof(char *));
	if (c->r->inspect == NULL) {
		oom(c->ld);
		return -ENOMEM;
	}
	for (int i = 0; i < len; i++) {
		yaml_node_t *it = list_item(c->ld, v, i);
		const char *s = rscalar(c, it, key);
		bool known = env == NULL || env->sig_groups == NULL;

		if (s == NULL)
			continue;
		if (s[0] == '\0') {
			rerr(c, it, "'%s': empty group name", key);
			continue;
		}
		for (unsigned k = 0; !known && k < env->n_sig_groups; k++)
			known = strcmp(env->sig_groups[k], s) == 0;
		if (!known) {
			rerr(c, it, "'%s': no signature group is named '%s'", key, s);
			continue;
		}
		c->r->inspect[c->r->n_inspect] = strdup(s);
		if (c->r->inspect[c->r->n_inspect] == NULL) {
			oom(c->ld);
			return -ENOMEM;
		}
		c->r->n_inspect++;
	}
	return 0;
}

static char bpf_uploads[1024];

void
rl_policy_set_bpf_uploads(const char *dir)
{
	snprintf(bpf_uploads, sizeof(bpf_uploads), "%s", dir != NULL ? dir : "");
}

const char *
rl_policy_bpf_uploads(void)
{
	return bpf_uploads[0] ? bpf_uploads : NULL;
}

/* sha256:HEX (64 lower-case hex digits) or upload:NAME: the uploaded object's path, or NULL
 * with the reason reported. */
static char *
upload_path(struct rctx *c, yaml_node_t *v, const char *key, const char *s)
{
	char *path = NULL, *real;
	const char *ref = strchr(s, ':') + 1;
	bool sha = strncmp(s, "sha256:", 7) == 0;
	size_t n = strlen(ref);

	if (bpf_uploads[0] == '\0') {
		rerr(c, v, "'%s': '%s' names an uploaded program, but uploads need a store (store.path)",
				key, s);
		return NULL;
	}
	if (sha ? n != 64 || strspn(ref, "0123456789abcdef") != 64
		: n == 0 || n > 64 || strspn(ref, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
		rerr(c, v, "'%s': '%s': expected %s", key, s,
				sha ? "sha256: and 64 lower-case hex digits"
				    : "upload: and a name of lower-case letters, digits, '_' and '-'");
		return NULL;
	}
	if (asprintf(&path, sha ? "%s/%s.o" : "%s/names/%s.o", bpf_uploads, ref) < 0) {
		oom(c->ld);
		return NULL;
	}
	/* The object itself (a name is a link to the newest upload): what runs is named by its
	 * SHA-256 in the status. */
	real = realpath(path, NULL);
	if (real == NULL) {
		rerr(c, v, "'%s': no program was uploaded as '%s' (%s)", key, ref, path);
		free(path);
		return NULL;
	}
	free(path);
	return real;
}

static int
f_bpf(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct rctx *c = RC(obj);
	const char *s = rscalar(c, v, key);

	(void)y;
	if (s == NULL)
		return -EINVAL;
	if (s[0] == '\0') {
		rerr(c, v, "'%s': empty path", key);
		return -EINVAL;
	}
	if (strncmp(s, "sha256:", 7) == 0 || strncmp(s, "upload:", 7) == 0) {
		c->r->bpf = upload_path(c, v, key, s);
		if (c->r->bpf == NULL)
			return -EINVAL;
		/* Kept so that a rollback of the name knows this policy follows it. */
		if (s[0] == 'u' && (c->r->bpf_upload = strdup(s + 7)) == NULL)
			oom(c->ld);
		return 0;
	}
	/* Relative paths are relative to the policy file, so that a policy and its programs move
	 * together. */
	if (s[0] != '/' && c->ld->dir != NULL) {
		if (asprintf(&c->r->bpf, "%s/%s", c->ld->dir, s) < 0)
			c->r->bpf = NULL;
	} else {
		c->r->bpf = strdup(s);
	}
	if (c->r->bpf == NULL)
		oom(c->ld);
	return 0;
}

static const struct vg_yaml_field rule_fields[] = {
	{ .name = "name", .type = VG_YT_CUSTOM, .parse = f_name },
	{ .name = "description", .type = VG_YT_CUSTOM, .parse = f_description },
	{ .name = "in", .type = VG_YT_CUSTOM, .parse = f_in },
	{ .name = "vlan", .type = VG_YT_CUSTOM, .parse = f_vlan },
	{ .name = "proto", .type = VG_YT_CUSTOM, .parse = f_proto },
	{ .name = "from", .type = VG_YT_CUSTOM, .parse = f_from },
	{ .name = "to", .type = VG_YT_CUSTOM, .parse = f_to },
	{ .name = "sport", .type = VG_YT_CUSTOM, .parse = f_sport },
	{ .name = "dport", .type = VG_YT_CUSTOM, .parse = f_dport },
	{ .name = "icmp_type", .type = VG_YT_CUSTOM, .parse = f_icmp_type },
	{ .name = "icmp_code", .type = VG_YT_CUSTOM, .parse = f_icmp_code },
	{ .name = "tcp_flags", .type = VG_YT_CUSTOM, .parse = f_tcp_flags },
	{ .name = "action", .type = VG_YT_CUSTOM, .parse = f_action, .required = true },
	{ .name = "rate", .type = VG_YT_CUSTOM, .parse = f_rate },
	{ .name = "log", .type = VG_YT_CUSTOM, .parse = f_log },
	{ .name = "inspect", .type = VG_YT_CUSTOM, .parse = f_inspect },
	{ .name = "bpf", .type = VG_YT_CUSTOM, .parse = f_bpf },
	{ .name = "dry_run", .type = VG_YT_CUSTOM, .parse = f_dry_run },
	{ 0 },
};

/* ---------------------------------------------------------------------------------------- */
/* Rule checks that span fields                                                              */

static bool
proto_only(const struct rl_rule *r, const uint8_t *allowed, unsigned n)
{
	uint64_t mask[4] = { 0 };

	if (r->proto_any)
		return false;
	for (unsigned i = 0; i < n; i++)
		mask[allowed[i] >> 6] |= 1ULL << (allowed[i] & 63);
	for (unsigned i = 0; i < 4; i++)
		if (r->protos[i] & ~mask[i])
			return false;
	return true;
}

static void
proto_text(const struct rl_rule *r, char *buf, size_t len)
{
	size_t used = 0;

	if (r->proto_any) {
		snprintf(buf, len, "any");
		return;
	}
	buf[0] = '\0';
	for (unsigned p = 0; p < 256; p++) {
		const char *name = NULL;
		int w;

		if (!rl_rule_has_proto(r, (uint8_t)p))
			continue;
		for (size_t k = 0; k < sizeof(proto_table) / sizeof(proto_table[0]); k++)
			if (proto_table[k].num == p && name == NULL)
				name = proto_table[k].name;
		w = name != NULL ? snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name)
				 : snprintf(buf + used, len - used, "%s%u", used ? ", " : "", p);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

static void
check_rule(struct rctx *c)
{
	struct rl_rule *r = c->r;
	static const uint8_t port_protos[] = { 6, 17, 132 };
	static const uint8_t icmp_protos[] = { 1, 58 };
	static const uint8_t tcp_only[] = { 6 };
	char protos[128];
	int rc;

	proto_text(r, protos, sizeof(protos));
	if (r->action == RL_ACT_RATE_LIMIT && c->n_rate == NULL && c->n_action != NULL)
		rerr(c, c->n_action, "'action': rate-limit needs a 'rate' ({pps: N} or {bps: N})");
	if (r->action != RL_ACT_RATE_LIMIT && c->n_rate != NULL && c->n_action != NULL)
		rerr(c, c->n_rate, "'rate': only a rate-limit rule has a rate (action is %s)",
				rl_action_name(r->action));
	if (c->n_sport != NULL && !proto_only(r, port_protos, 3))
		rerr(c, c->n_sport, "'sport': ports need proto tcp, udp or sctp (proto is %s)",
				protos);
	if (c->n_dport != NULL && !proto_only(r, port_protos, 3))
		rerr(c, c->n_dport, "'dport': ports need proto tcp, udp or sctp (proto is %s)",
				protos);
	if (c->n_icmp_type != NULL && !proto_only(r, icmp_protos, 2))
		rerr(c, c->n_icmp_type, "'icmp_type': needs proto icmp or icmpv6 (proto is %s)",
				protos);
	else if (c->n_icmp_type != NULL && c->icmp_type_numeric && rl_rule_has_proto(r, 1) &&
			rl_rule_has_proto(r, 58))
		rerr(c, c->n_icmp_type,
				"'icmp_type': type numbers differ between ICMP and ICMPv6 (echo-request is 8 and 128); use a name such as echo-request, or one rule per protocol");
	else if (c->n_icmp_type != NULL && !c->bad &&
			((rl_rule_has_proto(r, 1) && r->icmp_type4 < 0) ||
					(rl_rule_has_proto(r, 58) && r->icmp_type6 < 0)))
		rerr(c, c->n_icmp_type, "'icmp_type': '%s' does not exist in %s",
				scalar(c->n_icmp_type),
				r->icmp_type4 < 0 ? "ICMP (IPv4)" : "ICMPv6");
	if (c->n_icmp_code != NULL && !proto_only(r, icmp_protos, 2))
		rerr(c, c->n_icmp_code, "'icmp_code': needs proto icmp or icmpv6 (proto is %s)",
				protos);
	if (c->n_flags != NULL && !proto_only(r, tcp_only, 1))
		rerr(c, c->n_flags, "'tcp_flags': needs proto tcp (proto is %s)", protos);
	if (c->bad)
		return;

	/* Resolve what the rule matches. */
	rc = rl_policy_addr_value(c->ld->p, &r->from, &r->from_set);
	rc |= rl_policy_addr_value(c->ld->p, &r->to, &r->to_set);
	rc |= rl_policy_range_value(c->ld->p, &r->sport, 65535, &r->sport_set);
	rc |= rl_policy_range_value(c->ld->p, &r->dport, 65535, &r->dport_set);
	if (rc != 0) {
		oom(c->ld);
		return;
	}
	if (r->from_set.v4.n == 0 && r->from_set.v6.n == 0) {
		rerr(c, c->n_from, "'from': matches no address (the negations remove everything)");
		return;
	}
	if (r->to_set.v4.n == 0 && r->to_set.v6.n == 0) {
		rerr(c, c->n_to, "'to': matches no address (the negations remove everything)");
		return;
	}
	if (r->sport_set.n == 0) {
		rerr(c, c->n_sport, "'sport': matches no port (the negations remove everything)");
		return;
	}
	if (r->dport_set.n == 0) {
		rerr(c, c->n_dport, "'dport': matches no port (the negations remove everything)");
		return;
	}
	bool can4 = r->from_set.v4.n > 0 && r->to_set.v4.n > 0;
	bool can6 = r->from_set.v6.n > 0 && r->to_set.v6.n > 0;
	if (!can4 && !can6) {
		rerr(c, c->n_to != NULL ? c->n_to : c->n_from,
				"'from' and 'to' cannot match the same packet: from holds only %s addresses, to only %s",
				r->from_set.v4.n > 0 ? "IPv4" : "IPv6",
				r->to_set.v4.n > 0 ? "IPv4" : "IPv6");
		return;
	}
	if (proto_only(r, icmp_protos, 1) && !can4)
		rerr(c, c->n_proto,
				"'proto': icmp is IPv4 only, but from/to hold only IPv6 addresses; use icmpv6");
	else if (proto_only(r, icmp_protos + 1, 1) && !can6)
		rerr(c, c->n_proto,
				"'proto': icmpv6 is IPv6 only, but from/to hold only IPv4 addresses; use icmp");
}

/* The value node of key in mapping n, or NULL. */
static yaml_node_t *
map_get(struct ld *ld, yaml_node_t *n, const char *key)
{
	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
			p++) {
		const char *k = scalar(vg_yaml_node(ld->y, p->key));

		if (k != NULL && strcmp(k, key) == 0)
			return vg_yaml_node(ld->y, p->value);
	}
	return NULL;
}

static bool
valid_rule_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 64)
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s) && *s != ' ')
			return false;
	return true;
}

static void
parse_rule(struct ld *ld, yaml_node_t *n, unsigned idx)
{
	struct rl_policy *p = ld->p;
	struct rl_rule *r = &p->rules[p->n_rules];
	char label[96];
	struct rctx c = { .ld = ld, .r = r, .label = label, .n_map = n };
	yaml_node_t *nn;
	const char *name;

	memset(r, 0, sizeof(*r));
	r->in_any = true;
	r->vlan_any = true;
	r->proto_any = true;
	r->icmp_type4 = r->icmp_type6 = r->icmp_code = RL_ICMP_ANY;
	r->line = vg_yaml_line(n);
	r->col = vg_yaml_col(n);
	snprintf(label, sizeof(label), "rules entry %u", idx + 1);
	if (n->type != YAML_MAPPING_NODE) {
		rerr(&c, n, "expected a mapping with name, match keys and action, found %s",
				kind_of(n));
		return;
	}
	nn = map_get(ld, n, "name");
	name = nn != NULL ? scalar(nn) : NULL;
	if (nn == NULL) {
		rerr(&c, n, "required key 'name' is missing");
	} else if (name == NULL || !valid_rule_name(name)) {
		rerr(&c, nn, "'name': expected 1 to 64 printable characters");
	} else {
		snprintf(label, sizeof(label), "rule '%s'", name);
		r->name = strdup(name);
		if (r->name == NULL) {
			oom(ld);
			return;
		}
		ld->name_line[p->n_rules] = vg_yaml_line(nn);
		ld->name_col[p->n_rules] = vg_yaml_col(nn);
	}
	unsigned before = ld->y->errors;
	(void)vg_yaml_map(ld->y, n, label, rule_fields, &c);
	if (ld->y->errors > before)
		c.bad = true;
	if (!c.bad)
		check_rule(&c);
	/* Keep the rule either way: later duplicate-name checks still see it. */
	p->n_rules++;
}

static int
name_cmp(const void *a, const void *b, void *arg)
{
	const struct rl_rule *rules = arg;
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	const char *nx = rules[x].name != NULL ? rules[x].name : "";
	const char *ny = rules[y].name != NULL ? rules[y].name : "";
	int c = strcmp(nx, ny);

	if (c != 0)
		return c;
	return x < y ? -1 : x > y;
}

static void
check_duplicate_names(struct ld *ld)
{
	struct rl_policy *p = ld->p;
	unsigned *idx = malloc((p->n_rules + 1) * sizeof(*idx));
	unsigned i = 0;

	if (idx == NULL) {
		oom(ld);
		return;
	}
	for (unsigned k = 0; k < p->n_rules; k++)
		idx[k] = k;
	/* Sorted by (name, position): each group of equal names starts with the first use. */
	qsort_r(idx, p->n_rules, sizeof(*idx), name_cmp, p->rules);
	while (i < p->n_rules) {
		const struct rl_rule *first = &p->rules[idx[i]];
		unsigned j = i + 1;

		while (j < p->n_rules && first->name != NULL && p->rules[idx[j]].name != NULL &&
				strcmp(first->name, p->rules[idx[j]].name) == 0) {
			vg_diag_add(ld->y->diag, VG_SEV_ERROR, ld->y->file, ld->name_line[idx[j]],
					ld->name_col[idx[j]],
					"rule '%s': the name is already used by the rule at line %u",
					first->name, first->line);
			ld->y->errors++;
			j++;
		}
		i = j;
	}
	free(idx);
}

void
rl_policy_parse_rules(struct ld *ld)
{
	yaml_node_t *n = ld->rules_node;
	struct rl_policy *p = ld->p;
	int len;

	if (n == NULL)
		return;
	if (!vg_yaml_expect_seq(ld->y, n, "rules"))
		return;
	len = vg_yaml_seq_len(n);
	if ((unsigned)len > RL_MAX_RULES) {
		vg_yaml_err(ld->y, n, "'rules': %d rules; at most %u", len, RL_MAX_RULES);
		return;
	}
	p->rules = calloc((size_t)len + 1, sizeof(*p->rules));
	ld->name_line = calloc((size_t)len + 1, sizeof(unsigned));
	ld->name_col = calloc((size_t)len + 1, sizeof(unsigned));
	if (p->rules == NULL || ld->name_line == NULL || ld->name_col == NULL) {
		oom(ld);
		return;
	}
	for (int i = 0; i < len && !ld->oom; i++)
		parse_rule(ld, vg_yaml_seq_item(ld->y, n, i), (unsigned)i);
	if (!ld->oom)
		check_duplicate_names(ld);
}

/* ---------------------------------------------------------------------------------------- */
/* Pre-filters: `prefilter: [{name, in, bpf}]`, each an eBPF program for its ingress ports      */

/* A pre-filter's in and bpf are read with the rules' own parsers, into a scratch rule. */
static const struct vg_yaml_field prefilter_fields[] = {
	{ .name = "name", .type = VG_YT_CUSTOM, .parse = f_name },
	{ .name = "in", .type = VG_YT_CUSTOM, .parse = f_in },
	{ .name = "bpf", .type = VG_YT_CUSTOM, .parse = f_bpf, .required = true },
	{ 0 },
};

static void
parse_prefilter(struct ld *ld, yaml_node_t *n, unsigned idx, uint32_t *taken)
{
	struct rl_policy *p = ld->p;
	struct rl_prefilter *pf = &p->pre[p->n_pre];
	struct rl_rule r = { .in_any = true };
	char label[96];
	struct rctx c = { .ld = ld, .r = &r, .label = label, .n_map = n };
	yaml_node_t *nn;
	const char *name;
	unsigned before = ld->y->errors;
	uint32_t ports;

	memset(pf, 0, sizeof(*pf));
	snprintf(label, sizeof(label), "prefilter entry %u", idx + 1);
	if (n->type != YAML_MAPPING_NODE) {
		rerr(&c, n, "expected a mapping with name, in and bpf, found %s", kind_of(n));
		return;
	}
	nn = map_get(ld, n, "name");
	name = nn != NULL ? scalar(nn) : NULL;
	if (nn == NULL) {
		rerr(&c, n, "required key 'name' is missing");
		return;
	}
	if (name == NULL || !valid_rule_name(name)) {
		rerr(&c, nn, "'name': expected 1 to 64 printable characters");
		return;
	}
	snprintf(label, sizeof(label), "prefilter '%s'", name);
	for (unsigned k = 0; k < p->n_pre; k++)
		if (strcmp(p->pre[k].name, name) == 0) {
			rerr(&c, nn, "the name is already taken by the pre-filter at line %u",
					p->pre[k].line);
			return;
		}
	(void)vg_yaml_map(ld->y, n, label, prefilter_fields, &c);
	if (ld->y->errors > before || c.bad) {
		free(r.bpf);
		free(r.bpf_upload);
		return;
	}
	ports = r.in_any ? UINT32_MAX : r.in_ports;
	if (ld->env != NULL && ld->env->n_ports < 32)
		ports &= (1u << ld->env->n_ports) - 1;
	if (ports & *taken) {
		rerr(&c, n, "a port has a pre-filter already (one per ingress port)");
		free(r.bpf);
		free(r.bpf_upload);
		return;
	}
	*taken |= ports;
	pf->name = strdup(name);
	pf->in_any = r.in_any;
	pf->in_ports = r.in_ports;
	pf->bpf = r.bpf;
	pf->bpf_upload = r.bpf_upload;
	pf->line = vg_yaml_line(n);
	pf->col = vg_yaml_col(n);
	if (pf->name == NULL) {
		oom(ld);
		free(pf->bpf);
		free(pf->bpf_upload);
		pf->bpf = pf->bpf_upload = NULL;
		return;
	}
	p->n_pre++;
}

void
rl_policy_parse_prefilters(struct ld *ld)
{
	yaml_node_t *n = ld->prefilter_node;
	uint32_t taken = 0;
	int len;

	if (n == NULL)
		return;
	len = n->type == YAML_SEQUENCE_NODE ? list_len(n) : -1;
	if (len < 0) {
		vg_yaml_err(ld->y, n,
				"prefilter: expected a list like [{name: bogons, in: outside, bpf: bogons.o}]");
		return;
	}
	if ((unsigned)len > RL_MAX_PREFILTERS) {
		vg_yaml_err(ld->y, n, "prefilter: %d entries; at most %u (one per port)", len,
				RL_MAX_PREFILTERS);
		return;
	}
	ld->p->pre = calloc((size_t)len + 1, sizeof(*ld->p->pre));
	if (ld->p->pre == NULL) {
		oom(ld);
		return;
	}
	for (int i = 0; i < len; i++)
		parse_prefilter(ld, list_item(ld, n, i), (unsigned)i, &taken);
}
