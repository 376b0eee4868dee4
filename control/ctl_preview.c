/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl_preview.h"
#include "rl_key.h"
#include "rl_preview.h"
#include "vg_addr.h"

struct feed {
	struct rl_preview *pv;
	uint32_t in_mask;
};

static int
add_key(const struct ctl_flow_key_sum *k, void *arg)
{
	struct feed *f = arg;
	struct rl_obs o;

	if (!ctl_flow_in_mask(k, f->in_mask))
		return 0;
	o = ctl_flow_obs(k);
	return rl_preview_add(f->pv, &o);
}

static json_t *
rule_json(const struct rl_policy *p, uint32_t idx)
{
	if (p == NULL || idx == RL_RULE_DEFAULT)
		return json_null();
	return json_string(rl_policy_rule(p, idx)->name);
}

static json_t *
verdict_json(const struct rl_policy *p, const struct rl_verdict *v)
{
	const struct rl_rule *r =
			p != NULL && v->rule != RL_RULE_DEFAULT ? rl_policy_rule(p, v->rule) : NULL;

	return json_pack("{s:s, s:o, s:o, s:b, s:o}", "verdict", rl_verdict_name(v), "rule",
			rule_json(p, v->rule), "line",
			r != NULL ? json_integer(r->line) : json_null(), "certain", v->certain,
			"may_intervene", v->certain ? json_null() : rule_json(p, v->maybe));
}

json_t *
ctl_obs_json(const struct ctl_ports *ports, const struct rl_obs *o)
{
	char src[VG_ADDR_STRLEN], dst[VG_ADDR_STRLEN];
	uint8_t fam = o->family == 4 ? 4 : 6;
	const char *in = ctl_obs_port(ports, o);

	vg_addr_format_bytes(fam, o->src, src, sizeof(src));
	vg_addr_format_bytes(fam, o->dst, dst, sizeof(dst));
	return json_pack("{s:s, s:s, s:i, s:i, s:o, s:I, s:I, s:I, s:I, s:I}", "src", src, "dst",
			dst, "dport", o->dport, "proto", o->proto, "in_port",
			in != NULL ? json_string(in) : json_null(), "flows", (json_int_t)o->flows,
			"packets", (json_int_t)o->packets, "bytes", (json_int_t)o->bytes, "first",
			(json_int_t)o->first, "last", (json_int_t)o->last);
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static json_t *
mask_json(const struct ctl_ports *ports, uint32_t in_mask)
{
	json_t *a;

	if (in_mask == 0)
		return json_null();
	a = json_array();
	for (unsigned i = 0; i < 32; i++)
		if (in_mask >> i & 1)
			json_array_append_new(a, ports != NULL && i < ports->n
								 ? json_string(ports->name[i])
								 : json_integer(i));
	return a;
}

json_t *
ctl_preview_run(struct ctl_store_reader *r, const struct ctl_ports *ports, uint32_t in_mask,
		const struct rl_policy *cur, const struct rl_policy *cand, int64_t since,
		int64_t until, unsigned max_changes, char *err, size_t errlen)
{
	double t0 = mono_ms(), scan_ms;
	struct feed f = { .in_mask = in_mask };
	struct rl_preview_totals t;
	const struct rl_preview_group *g;
	struct rl_preview *pv;
	json_t *changes, *out;
	unsigned n;
	int64_t rc;

	pv = rl_preview_create(cur, cand);
	if (pv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f.pv = pv;
	rc = ctl_store_scan_flow_keys(r, since, until, ports != NULL ? ports->name : NULL,
			ports != NULL ? ports->n : 0, add_key, &f, err, errlen);
	scan_ms = mono_ms() - t0;
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		rl_preview_free(pv);
		return NULL;
	}
	g = rl_preview_groups(pv, &n);
	rl_preview_totals(pv, &t);
	changes = json_array();
	for (unsigned i = 0; i < n && (max_changes == 0 || i < max_changes); i++) {
		json_t *samples = json_array();

		for (unsigned j = 0; j < g[i].n_samples; j++)
			json_array_append_new(samples, ctl_obs_json(ports, &g[i].samples[j]));
		json_array_append_new(changes,
				json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
						"from", verdict_json(cur, &g[i].from), "to",
						verdict_json(cand, &g[i].to), "aggregates",
						(json_int_t)g[i].aggregates, "flows",
						(json_int_t)g[i].flows, "packets",
						(json_int_t)g[i].packets, "bytes",
						(json_int_t)g[i].bytes, "uncertain",
						(json_int_t)g[i].uncertain, "first",
						(json_int_t)g[i].first, "last",
						(json_int_t)g[i].last, "samples", samples));
	}
	out = json_pack("{s:{s:I, s:o}, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o, s:b, "
			"s:f, s:f}",
			"window", "since", (json_int_t)since, "until",
			until > 0 ? json_integer(until) : json_null(), "ports",
			mask_json(ports, in_mask), "totals", "aggregates", (json_int_t)t.aggregates,
			"flows", (json_int_t)t.flows, "packets", (json_int_t)t.packets, "bytes",
			(json_int_t)t.bytes, "changed_aggregates", (json_int_t)t.changed_aggregates,
			"changed_flows", (json_int_t)t.changed_flows, "changed_bytes",
			(json_int_t)t.changed_bytes, "uncertain_aggregates",
			(json_int_t)t.uncertain_aggregates, "changes", changes, "truncated",
			max_changes != 0 && n > max_changes, "elapsed_ms", mono_ms() - t0,
			"scan_ms", scan_ms);
	rl_preview_free(pv);
	if (out == NULL)
		snprintf(err, errlen, "out of memory");
	return out;
}
