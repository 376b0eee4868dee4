/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS tunneling: data smuggled in query names. Three signs, each its own finding:
 *  - suspicious names from one client: longer than max_name_length, a label longer than
 *    max_label_length, or a subdomain part whose Shannon entropy is at least `entropy` bits per
 *    character (encoded data looks random; host names do not);
 *  - many unique subdomains of one domain (each tunnelled chunk is a new name);
 *  - a volume of TXT and NULL queries (the record types tunnels use for the answer channel).
 * The worker puts the query name and type of a DNS flow in its events (struct dp_event_app);
 * a query is judged once, when its flow ends.
 *
 * The registered domain is taken as the last two labels, or three when the last is a two-letter
 * country code and the second-to-last has at most three letters (example.co.uk); without a
 * public-suffix list this is a heuristic.
 */
#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_detect_impl.h"

#define QTYPE_NULL 10
#define QTYPE_TXT  16

struct client_val {
	uint64_t window_start;
	uint64_t last_ns;
	uint32_t names;
	uint32_t suspicious;
	uint32_t txt;
	uint32_t next_susp;
	uint32_t next_txt;
	double max_entropy;
	uint32_t longest;
	char example[48];
};

struct domain_key {
	uint64_t hash;
};

struct domain_val {
	uint64_t window_start;
	uint64_t last_ns;
	uint32_t gen;
	uint32_t unique;
	uint32_t next_alert;
	struct ctl_host_key client; /* the latest client asking */
	char domain[48];
	char example[48];
};

struct name_key {
	uint64_t domain;
	uint64_t name;
};

struct name_val {
	uint32_t gen;
	uint64_t last_ns;
};

struct dns {
	struct ctl_detectors *d;
	const struct ctl_dns_cfg *cfg;
	uint64_t window_ns;
	struct ctl_map *client, *domain, *name;
	uint64_t next_gc_ns;
};

static const struct ctl_alert_template templates[] = {
	{
			.sid = CTL_SID_DNS_SUSPICIOUS_NAMES,
			.title = "DNS tunneling: long or random-looking query names",
			.category = "Potential Corporate Privacy Violation",
			.what = "${src} sent ${observed} DNS queries with long or random-looking names "
				"within ${window}, for example ${example} (longest ${longest} characters, "
				"entropy up to ${entropy} bits per character).",
			.why = "Host names are short and made of words; names that long or that random "
			       "usually carry encoded data, which is how DNS tunnels move data past "
			       "firewalls. The threshold is ${threshold} such names per ${window}.",
			.next = "Find the process on ${src} making these queries, check the domain's "
				"reputation, and block the domain at the resolver if it is not known.",
	},
	{
			.sid = CTL_SID_DNS_UNIQUE_SUBDOMAINS,
			.title = "DNS tunneling: many unique subdomains of one domain",
			.category = "Potential Corporate Privacy Violation",
			.what = "${observed} distinct names under ${domain} were queried within ${window}, "
				"most recently by ${src} (for example ${example}).",
			.why = "A domain rarely has that many different names in use; a tunnel makes up a "
			       "new name for every chunk of data it sends. The threshold is ${threshold} "
			       "names per ${window}.",
			.next = "Check who owns ${domain} and which hosts query it; block it at the "
				"resolver and investigate ${src} if the domain is not legitimate.",
	},
	{
			.sid = CTL_SID_DNS_TXT_VOLUME,
			.title = "DNS tunneling: high volume of TXT/NULL queries",
			.category = "Potential Corporate Privacy Violation",
			.what = "${src} sent ${observed} TXT or NULL DNS queries within ${window}, for "
				"example ${example}.",
			.why = "Ordinary clients rarely ask for TXT or NULL records, but DNS tunnels use "
			       "them to carry data back. The threshold is ${threshold} per ${window}.",
			.next = "Identify the software on ${src} sending these queries and block the "
				"queried domain at the resolver if it is not a known service.",
	},
};

/* FNV-1a: cheap and good enough to tell names apart in a set. */
static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Offset in name where the registered domain starts. */
static size_t
base_domain_off(const char *name, size_t len)
{
	size_t dots[4] = { 0 };
	unsigned nd = 0;

	for (size_t i = len; i-- > 0;) {
		if (name[i] == '.') {
			dots[nd++] = i;
			if (nd == 3)
				break;
		}
	}
	if (nd < 1)
		return 0;
	/* dots[0] is before the TLD, dots[1] before the second-level label. */
	if (nd >= 2 && len - dots[0] - 1 == 2 && dots[0] - dots[1] - 1 <= 3)
		return nd >= 3 ? dots[2] + 1 : 0;
	return nd >= 2 ? dots[1] + 1 : 0;
}

static double
entropy(const char *s, size_t n, size_t *counted)
{
	unsigned freq[256] = { 0 };
	size_t total = 0;
	double h = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] != '.') {
			freq[(uint8_t)s[i]]++;
			total++;
		}
	*counted = total;
	if (total == 0)
		return 0;
	for (unsigned c = 0; c < 256; c++)
		if (freq[c]) {
			double p = (double)freq[c] / (double)total;

			h -= p * log2(p);
		}
	return h;
}

/*
 * A name for a 47-character fact: long names keep their end, where the domain is. Bytes that
 * are not printable ASCII become '?': the name comes from the wire and ends up in JSON and logs.
 */
static void
example(char *out, size_t outlen, const char *name)
{
	size_t len = strlen(name);

	if (len < outlen)
		snprintf(out, outlen, "%s", name);
	else
		snprintf(out, outlen, "...%s", name + len - (outlen - 4));
	for (char *p = out; *p != '\0'; p++)
		if (*p < 0x21 || *p > 0x7e)
			*p = '?';
}

static int
dns_create(struct ctl_detectors *d, void **priv)
{
	struct dns *x = calloc(1, sizeof(*x));
	uint32_t n = d->cfg.max_entries;

	if (x == NULL)
		return -ENOMEM;
	x->d = d;
	x->cfg = &d->cfg.dns_tunnel;
	x->window_ns = x->cfg->window_ms * 1000000ULL;
	x->client = ctl_map_create(
			"dns_cl", sizeof(struct ctl_host_key), sizeof(struct client_val), n);
	x->domain = ctl_map_create(
			"dns_dom", sizeof(struct domain_key), sizeof(struct domain_val), n);
	x->name = ctl_map_create("dns_nm", sizeof(struct name_key), sizeof(struct name_val), n * 4);
	if (x->client == NULL || x->domain == NULL || x->name == NULL) {
		int e = errno ? errno : ENOMEM;

		ctl_map_free(x->client);
		ctl_map_free(x->domain);
		ctl_map_free(x->name);
		free(x);
		return -e;
	}
	*priv = x;
	return 0;
}

static void
dns_free(void *priv)
{
	struct dns *x = priv;

	ctl_map_free(x->client);
	ctl_map_free(x->domain);
	ctl_map_free(x->name);
	free(x);
}

static uint32_t
dns_entries(const void *priv)
{
	const struct dns *x = priv;

	return ctl_map_count(x->client) + ctl_map_count(x->domain) + ctl_map_count(x->name);
}

static void
start_alert(struct dns *x, struct ctl_alert *a, unsigned t, const struct dp_event *ev,
		enum ctl_severity sev)
{
	ctl_alert_init_anomaly(a, &templates[t], "dns_tunnel", sev);
	a->flow.family = ev->flow.family;
	a->flow.proto = ev->flow.proto;
	memcpy(a->flow.src, ev->flow.src, 16);
	a->window_ns = x->window_ns;
	a->last_ns = ev->time_ns;
}

static void
judge_client(struct dns *x, const struct dp_event *ev, const char *name, size_t len, bool susp,
		double ent)
{
	struct ctl_host_key k = ctl_host_key(ev->flow.family, ev->flow.src);
	struct client_val *c;
	uint16_t qt = ev->app.dns_qtype;
	bool added;

	c = ctl_map_get(x->client, &k, &added);
	if (c == NULL) {
		ctl_detect_untracked(x->d, CTL_DET_DNS_TUNNEL);
		return;
	}
	if (added || ev->time_ns >= c->window_start + x->window_ns) {
		memset(c, 0, sizeof(*c));
		c->window_start = ev->time_ns;
		c->next_susp = x->cfg->suspicious_names;
		c->next_txt = x->cfg->txt_queries;
	}
	c->last_ns = ev->time_ns;
	c->names++;
	if (susp) {
		c->suspicious++;
		if (ent > c->max_entropy)
			c->max_entropy = ent;
		if (len > c->longest)
			c->longest = (uint32_t)len;
		example(c->example, sizeof(c->example), name);
	}
	if (qt == QTYPE_TXT || qt == QTYPE_NULL) {
		c->txt++;
		if (!susp)
			example(c->example, sizeof(c->example), name);
	}
	if (c->suspicious >= c->next_susp) {
		struct ctl_alert a;

		c->next_susp *= 2;
		start_alert(x, &a, 0, ev, CTL_SEV_MEDIUM);
		snprintf(a.metric, sizeof(a.metric), "suspicious_names");
		a.observed = c->suspicious;
		a.threshold = x->cfg->suspicious_names;
		a.first_ns = c->window_start;
		ctl_alert_fact(&a, "example", "%s", c->example);
		ctl_alert_fact(&a, "longest", "%u", c->longest);
		ctl_alert_fact(&a, "entropy", "%.2f", c->max_entropy);
		ctl_detect_emit(x->d, CTL_DET_DNS_TUNNEL, &a);
	}
	if (c->txt >= c->next_txt) {
		struct ctl_alert a;

		c->next_txt *= 2;
		start_alert(x, &a, 2, ev, CTL_SEV_MEDIUM);
		snprintf(a.metric, sizeof(a.metric), "txt_queries");
		a.observed = c->txt;
		a.threshold = x->cfg->txt_queries;
		a.first_ns = c->window_start;
		ctl_alert_fact(&a, "example", "%s", c->example);
		ctl_detect_emit(x->d, CTL_DET_DNS_TUNNEL, &a);
	}
}

static void
judge_domain(struct dns *x, const struct dp_event *ev, const char *name, size_t len, size_t base)
{
	struct domain_key dk = { .hash = fnv1a(name + base, len - base) };
	struct name_key nk = { .domain = dk.hash, .name = fnv1a(name, len) };
	struct domain_val *dv;
	struct name_val *nv;
	bool added;

	if (base == 0)
		return; /* the name is the domain itself */
	dv = ctl_map_get(x->domain, &dk, &added);
	if (dv == NULL) {
		ctl_detect_untracked(x->d, CTL_DET_DNS_TUNNEL);
		return;
	}
	if (added || ev->time_ns >= dv->window_start + x->window_ns) {
		uint32_t gen = dv->gen + 1;

		memset(dv, 0, sizeof(*dv));
		dv->gen = gen;
		dv->window_start = ev->time_ns;
		dv->next_alert = x->cfg->unique_subdomains;
		example(dv->domain, sizeof(dv->domain), name + base);
	}
	dv->last_ns = ev->time_ns;
	dv->client = ctl_host_key(ev->flow.family, ev->flow.src);
	nv = ctl_map_get(x->name, &nk, &added);
	if (nv == NULL) {
		ctl_detect_untracked(x->d, CTL_DET_DNS_TUNNEL);
		return;
	}
	nv->last_ns = ev->time_ns;
	if (!added && nv->gen == dv->gen)
		return;
	nv->gen = dv->gen;
	dv->unique++;
	example(dv->example, sizeof(dv->example), name);
	if (dv->unique >= dv->next_alert) {
		struct ctl_alert a;

		dv->next_alert *= 2;
		start_alert(x, &a, 1, ev, CTL_SEV_HIGH);
		snprintf(a.metric, sizeof(a.metric), "unique_subdomains");
		a.observed = dv->unique;
		a.threshold = x->cfg->unique_subdomains;
		a.first_ns = dv->window_start;
		ctl_alert_fact(&a, "domain", "%s", dv->domain);
		ctl_alert_fact(&a, "example", "%s", dv->example);
		ctl_detect_emit(x->d, CTL_DET_DNS_TUNNEL, &a);
	}
}

static void
dns_on_flow(void *priv, const struct dp_event *ev, const struct ctl_flow_delta *dl)
{
	struct dns *x = priv;
	const struct ctl_dns_cfg *c = x->cfg;
	char name[sizeof(ev->app.dns_qname)];
	size_t len, real_len, base, label = 0, longest_label = 0, sublen;
	double ent = 0;
	bool susp;

	(void)dl;
	/* The worker sends a query's name and type with the flow's start event (the first query)
	 * or an update (later queries on the same flow); the end event carries none. */
	if (ev->type == DP_EV_FLOW_END || ev->type == DP_EV_ALERT || ev->app.dns_qtype == 0)
		return;
	/* The record comes from a worker: never trust its terminator. */
	len = strnlen(ev->app.dns_qname, sizeof(ev->app.dns_qname) - 1);
	if (len == 0)
		return;
	memcpy(name, ev->app.dns_qname, len);
	name[len] = '\0';
	if (name[len - 1] == '.')
		name[--len] = '\0';
	for (size_t i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			if (label > longest_label)
				longest_label = label;
			label = 0;
		} else {
			label++;
		}
	}
	base = base_domain_off(name, len);
	/* The worker truncates long names; its length field keeps the real length. */
	real_len = ev->app.dns_qname_len > len ? ev->app.dns_qname_len : len;
	sublen = base > 0 ? base - 1 : 0;
	susp = real_len > c->max_name_len || longest_label > c->max_label_len;
	if (sublen >= c->entropy_min_len) {
		size_t counted;

		ent = entropy(name, sublen, &counted);
		if (counted >= c->entropy_min_len && ent >= c->entropy)
			susp = true;
	}
	judge_client(x, ev, name, real_len, susp, ent);
	judge_domain(x, ev, name, len, base);
}

static void
dns_on_tick(void *priv, uint64_t now_ns)
{
	struct dns *x = priv;

	if (now_ns < x->next_gc_ns || now_ns < x->window_ns)
		return;
	x->next_gc_ns = now_ns + x->window_ns;
	ctl_detect_gc(x->name, sizeof(struct name_key), offsetof(struct name_val, last_ns),
			now_ns - x->window_ns);
	ctl_detect_gc(x->domain, sizeof(struct domain_key), offsetof(struct domain_val, last_ns),
			now_ns - x->window_ns);
	ctl_detect_gc(x->client, sizeof(struct ctl_host_key), offsetof(struct client_val, last_ns),
			now_ns - x->window_ns);
}

const struct ctl_detector_ops ctl_det_dns_tunnel = {
	.name = "dns_tunnel",
	.cfg_off = offsetof(struct ctl_detect_cfg, dns_tunnel),
	.create = dns_create,
	.on_flow = dns_on_flow,
	.on_tick = dns_on_tick,
	.free = dns_free,
	.entries = dns_entries,
	.templates = templates,
	.n_templates = sizeof(templates) / sizeof(templates[0]),
};
