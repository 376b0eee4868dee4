/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS tunneling: data smuggled in query names (and answers). Each sign is its own finding:
 *  - a tunnel to one registered domain (the behaviour, whatever the tool): many distinct names
 *    under it whose subdomain part looks encoded (hex, base32, base64: the alphabet, the share
 *    of digits and vowels, the entropy against that of random text of the same alphabet and
 *    length), judged over a short window and a long one, so that a slow tunnel is seen too;
 *    the query types it uses (TXT, NULL, CNAME, MX, PRIVATE), the answers' sizes and the
 *    queries' rate and regularity are its evidence and raise its severity;
 *  - one very long encoded name (a single chunk of data, lower severity);
 *  - suspicious names from one client: longer than max_name_length, a label longer than
 *    max_label_length, or a subdomain part whose Shannon entropy is at least `entropy` bits per
 *    character;
 *  - many unique subdomains of one domain (each tunnelled chunk is a new name);
 *  - a volume of TXT, NULL and PRIVATE queries under one domain (the answer channel of
 *    tunnels), service names (_dmarc, _domainkey, _spf) left out: mail servers ask for those.
 * The worker puts the query name and type of a DNS flow in its events (struct dp_event_app):
 * an update for each query, and one for each response (flagged as such, with the bytes of data
 * its answer records carried), which answered the flow's latest query. Since every response
 * has its own event, answers are counted when they arrive, not when some later event of their
 * flow (its end, at a time the flow table's expiry decides) comes by.
 *
 * The registered domain comes from the public-suffix list (ctl_anomaly_psl.c), loaded once.
 */
#include <math.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_anomaly_impl.h"

/* Finding ids: the sids of its alerts (gid CTL_ANOMALY_GID), stable across versions. */
#define CTL_SID_DNS_SUSPICIOUS_NAMES  9000020
#define CTL_SID_DNS_UNIQUE_SUBDOMAINS 9000021
#define CTL_SID_DNS_TXT_VOLUME	      9000022
#define CTL_SID_DNS_TUNNEL	      9000023
#define CTL_SID_DNS_LONG_NAME	      9000024

struct ctl_dns_cfg {
	struct ctl_anomaly_common c;
	uint64_t window_ms;
	uint32_t max_name_len;	    /* a longer query name is suspicious ... */
	uint32_t max_label_len;	    /* ... and so is a longer label */
	double entropy;		    /* bits per character of the subdomain part ... */
	uint32_t entropy_min_len;   /* ... for subdomains at least this long */
	uint32_t suspicious_names;  /* suspicious names from one client per window */
	uint32_t unique_subdomains; /* distinct names under one domain per window */
	uint32_t txt_queries; /* TXT, NULL, private-type queries under one domain per window */
	/* The tunnel finding: distinct encoded-looking names under one registered domain ... */
	uint32_t tunnel_names; /* ... per window ... */
	uint64_t long_window_ms;
	uint32_t long_tunnel_names;   /* ... or per long window (slow tunnels) */
	uint32_t encoded_min_len;     /* a subdomain part shorter than this is never "encoded" */
	uint32_t long_name_len;	      /* one encoded subdomain part this long is a finding */
	char public_suffix_list[256]; /* path of the list (Debian package publicsuffix) */
};
CTL_ANOMALY_CFG_FITS(struct ctl_dns_cfg);

static const struct ctl_dns_cfg defaults = {
	.c = { .enabled = true, .block_ttl_ms = 3600000 },
	.window_ms = 300000,
	.max_name_len = 100,
	.max_label_len = 40,
	.entropy = 4.0,
	.entropy_min_len = 20,
	.suspicious_names = 20,
	.unique_subdomains = 100,
	.txt_queries = 50,
	.tunnel_names = 30,
	.long_window_ms = 3600000,
	.long_tunnel_names = 60,
	.encoded_min_len = 20,
	.long_name_len = 60,
	.public_suffix_list = "/usr/share/publicsuffix/public_suffix_list.dat",
};

CTL_ANOMALY_DOUBLE(dns_entropy, struct ctl_dns_cfg, entropy, 0.5, 8)

#define DN(f) offsetof(struct ctl_dns_cfg, f)
static const struct vg_yaml_field dns_fields[] = {
	CTL_ANOMALY_COMMON_FIELDS,
	{ .name = "window",
			.type = VG_YT_MS,
			.off = DN(window_ms),
			.min = 1000,
			.max = 24 * 3600 * 1000 },
	{ .name = "max_name_length",
			.type = VG_YT_U32,
			.off = DN(max_name_len),
			.min = 10,
			.max = 255 },
	{ .name = "max_label_length",
			.type = VG_YT_U32,
			.off = DN(max_label_len),
			.min = 5,
			.max = 63 },
	{ .name = "entropy", .type = VG_YT_CUSTOM, .off = DN(entropy), .parse = dns_entropy },
	{ .name = "entropy_min_length",
			.type = VG_YT_U32,
			.off = DN(entropy_min_len),
			.min = 4,
			.max = 255 },
	{ .name = "suspicious_names", .type = VG_YT_U32, .off = DN(suspicious_names), .min = 1 },
	{ .name = "unique_subdomains", .type = VG_YT_U32, .off = DN(unique_subdomains), .min = 2 },
	{ .name = "txt_queries", .type = VG_YT_U32, .off = DN(txt_queries), .min = 1 },
	{ .name = "tunnel_names", .type = VG_YT_U32, .off = DN(tunnel_names), .min = 2 },
	{ .name = "long_window",
			.type = VG_YT_MS,
			.off = DN(long_window_ms),
			.min = 1000,
			.max = 7 * 24 * 3600 * 1000ULL },
	{ .name = "long_tunnel_names", .type = VG_YT_U32, .off = DN(long_tunnel_names), .min = 2 },
	{ .name = "encoded_min_length",
			.type = VG_YT_U32,
			.off = DN(encoded_min_len),
			.min = 8,
			.max = 255 },
	{ .name = "long_name_length",
			.type = VG_YT_U32,
			.off = DN(long_name_len),
			.min = 16,
			.max = 255 },
	{ .name = "public_suffix_list",
			.type = VG_YT_STRBUF,
			.off = DN(public_suffix_list),
			.min = 1,
			.max = 256 },
	{ 0 },
};

#define QTYPE_CNAME 5
#define QTYPE_NULL  10
#define QTYPE_MX    15
#define QTYPE_TXT   16

/* Short and long windows of the tunnel finding. */
enum { W_SHORT, W_LONG, W__COUNT };

enum enc_kind { ENC_NONE, ENC_HEX, ENC_BASE32, ENC_BASE64, ENC__COUNT };

static const char *const enc_names[ENC__COUNT] = { "none", "hex", "base32", "base64" };

struct client_val {
	uint64_t window_start;
	uint64_t last_ns;
	uint32_t names;
	uint32_t suspicious;
	uint32_t next_susp;
	uint32_t pad;
	double max_entropy;
	uint32_t longest;
	char example[48];
};

struct domain_key {
	uint64_t hash;
};

/* The tunnel evidence of one domain in one window. */
struct win {
	uint64_t start;
	uint64_t last_q;     /* time of the latest query */
	uint32_t gen;	     /* names counted in this window carry it */
	uint32_t queries;    /* all queries */
	uint32_t encoded;    /* distinct names with an encoded-looking subdomain part */
	uint32_t next_alert; /* alert when encoded reaches this */
	uint32_t typed;	     /* queries of the types tunnels use */
	uint32_t enc_kind[ENC__COUNT];
	uint64_t enc_chars; /* characters of the encoded names' subdomain parts */
	uint64_t ans_pkts;  /* responses */
	uint64_t ans_bytes; /* their answers' data (rdata) */
	uint32_t gaps;	    /* gaps between queries: count, sum and sum of squares (s) */
	double gap_sum, gap_sq;
};

struct domain_val {
	uint64_t window_start; /* of the unique-subdomain and type-volume counts */
	uint64_t last_ns;
	uint32_t gen;
	uint32_t unique;
	uint32_t next_alert;
	uint32_t typed;
	uint32_t next_typed;
	uint32_t long_gen; /* window of the last single-long-name finding (+1) */
	struct win w[W__COUNT];
	struct ctl_host_key client; /* the latest client asking */
	char domain[48];
	char example[48];	/* latest name */
	char enc_example[48];	/* latest encoded name */
	char typed_example[48]; /* latest name of a tunnel query type */
};

struct name_key {
	uint64_t domain;
	uint64_t name;
};

struct name_val {
	uint32_t gen;
	uint32_t wgen[W__COUNT];
	uint64_t last_ns;
};

/* Which domain a flow's latest query went to, so that the answers count for it. */
struct flow_key {
	uint32_t flow_id;
	uint8_t worker;
	uint8_t pad[3];
};

struct flow_val {
	uint64_t domain;
	uint64_t last_ns;
};

struct dns {
	struct ctl_anomaly *d;
	unsigned id; /* row in the detector table */
	const struct ctl_dns_cfg *cfg;
	uint64_t window_ns[W__COUNT];
	struct ctl_map *client, *domain, *name, *flow;
	struct ctl_psl *psl;
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
			.what = "${observed} TXT, NULL or private-type DNS queries for names under "
				"${domain} within ${window}, most recently from ${src}, for example "
				"${example}.",
			.why = "Ordinary clients rarely ask one domain for that many TXT or NULL records "
			       "(mail servers' _domainkey, _dmarc and _spf lookups are not counted), but "
			       "DNS tunnels use them to carry data back. The threshold is ${threshold} "
			       "per ${window}.",
			.next = "Identify the software on ${src} sending these queries and block "
				"${domain} at the resolver if it is not a known service.",
	},
	{
			.sid = CTL_SID_DNS_TUNNEL,
			.title = "DNS tunnel to one domain",
			.category = "Potential Corporate Privacy Violation",
			.what = "${observed} distinct ${encoding}-encoded names under ${domain} were "
				"queried within ${window}, most recently by ${src} (for example "
				"${example}, ${length} characters of data per name on average); "
				"${typed} of the ${queries} queries asked for ${types}; answers: ${answer}; "
				"one query every ${gap} (${regularity}).",
			.why = "Names of real hosts are few and made of words; a tunnel encodes each chunk "
			       "of data as a new name under a domain its server answers for, and often "
			       "asks for record types that carry data back. The threshold is "
			       "${threshold} encoded names per ${window}; the severity (${severity}) "
			       "comes from: ${because}.",
			.next = "Find the process on ${src} making these queries and what it sends; block "
				"${domain} at the resolver and the host's direct DNS to the outside if the "
				"domain is not a known service.",
	},
	{
			.sid = CTL_SID_DNS_LONG_NAME,
			.title = "DNS: one very long encoded query name",
			.category = "Potential Corporate Privacy Violation",
			.what = "${src} asked for a name under ${domain} whose subdomain part is "
				"${observed} characters of ${encoding}-looking data (${entropy} bits per "
				"character): ${example}.",
			.why = "One name that long and that random is a chunk of encoded data rather "
			       "than a host name (a one-off exfiltration, or the first query of a tunnel); "
			       "alone it is weak evidence. The threshold is ${threshold} characters.",
			.next = "Look at what else ${src} sent to ${domain}, and at the process that "
				"made the query.",
	},
};

#define fnv1a ctl_anomaly_hash

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

/* The query types tunnels use to get data back: TXT, NULL, CNAME, MX, private use. */
static bool
tunnel_type(uint16_t qt)
{
	return qt == QTYPE_TXT || qt == QTYPE_NULL || qt == QTYPE_CNAME || qt == QTYPE_MX ||
	       (qt >= 65280 && qt <= 65534);
}

/* TXT, NULL and private use: records that carry data and little else. */
static bool
data_type(uint16_t qt)
{
	return qt == QTYPE_TXT || qt == QTYPE_NULL || (qt >= 65280 && qt <= 65534);
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
 * Does the subdomain part s (n characters, dots included) look like encoded data? Its
 * characters without the dots must number at least min_len, include a digit, hold few vowels
 * (about 16% in random base32 or base64 text, 13% in hex, over 30% in words), and either be all
 * hex digits and letters, or have an entropy close to that of random text of their alphabet
 * and length (a random string of L characters from k has about log2(k) - (k - 1) / (2 L ln 2)
 * bits per character). Returns the encoding, ENC_NONE when it does not look encoded.
 */
static enum enc_kind
classify(const char *s, size_t n, uint32_t min_len, double *ent_out, size_t *chars_out)
{
	size_t chars = 0, digits = 0, vowels = 0, letters = 0;
	bool hex = true, b32 = true;
	double ent, k, expect;

	ent = entropy(s, n, &chars);
	*ent_out = ent;
	*chars_out = chars;
	if (chars < min_len)
		return ENC_NONE;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.')
			continue;
		if (c >= '0' && c <= '9')
			digits++;
		else if (c >= 'a' && c <= 'z')
			letters++;
		if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u')
			vowels++;
		if (!is_hex(c))
			hex = false;
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			b32 = false;
	}
	if (digits == 0 || (double)vowels > 0.3 * (double)chars)
		return ENC_NONE;
	if (hex)
		return letters > 0 ? ENC_HEX : ENC_NONE;
	k = b32 ? 32 : 38;
	expect = log2(k) - (k - 1) / (2.0 * (double)chars * M_LN2);
	if (ent < expect - 0.6)
		return ENC_NONE;
	return b32 ? ENC_BASE32 : ENC_BASE64;
}

/*
 * The labels of the subdomain part s (n characters) that can hold data, joined by dots into
 * out: those of at least 8 characters. Tunnels put short labels of their own beside the data
 * (a sequence number, "init", a fixed prefix such as "t" or "dnscat"), which would hide the
 * data's alphabet. Returns the length written.
 */
static size_t
data_labels(const char *s, size_t n, char *out)
{
	size_t o = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (i - start >= 8) {
			if (o > 0)
				out[o++] = '.';
			memcpy(out + o, s + start, i - start);
			o += i - start;
		}
		start = i + 1;
	}
	out[o] = '\0';
	return o;
}

static int
dns_create(struct ctl_anomaly *d, unsigned id, const void *cfg, void **priv)
{
	struct dns *x = calloc(1, sizeof(*x));
	uint32_t n = d->cfg.max_entries;
	char err[512];
	int e = ENOMEM;

	if (x == NULL)
		return -ENOMEM;
	x->d = d;
	x->id = id;
	x->cfg = cfg;
	x->window_ns[W_SHORT] = x->cfg->window_ms * 1000000ULL;
	x->window_ns[W_LONG] = x->cfg->long_window_ms * 1000000ULL;
	x->psl = ctl_psl_load(x->cfg->public_suffix_list, err, sizeof(err));
	if (x->psl == NULL) {
		fprintf(stderr, "detectors.dns_tunnel: %s\n", err);
		e = ENOENT;
		goto fail;
	}
	x->client = ctl_map_create(
			"dns_cl", sizeof(struct ctl_host_key), sizeof(struct client_val), n);
	x->domain = ctl_map_create(
			"dns_dom", sizeof(struct domain_key), sizeof(struct domain_val), n);
	x->name = ctl_map_create("dns_nm", sizeof(struct name_key), sizeof(struct name_val), n * 4);
	x->flow = ctl_map_create("dns_fl", sizeof(struct flow_key), sizeof(struct flow_val), n);
	if (x->client == NULL || x->domain == NULL || x->name == NULL || x->flow == NULL) {
		e = errno ? errno : ENOMEM;
		goto fail;
	}
	*priv = x;
	return 0;
fail:
	ctl_psl_free(x->psl);
	ctl_map_free(x->client);
	ctl_map_free(x->domain);
	ctl_map_free(x->name);
	ctl_map_free(x->flow);
	free(x);
	return -e;
}

static void
dns_free(void *priv)
{
	struct dns *x = priv;

	ctl_psl_free(x->psl);
	ctl_map_free(x->client);
	ctl_map_free(x->domain);
	ctl_map_free(x->name);
	ctl_map_free(x->flow);
	free(x);
}

static uint32_t
dns_entries(const void *priv)
{
	const struct dns *x = priv;

	return ctl_map_count(x->client) + ctl_map_count(x->domain) + ctl_map_count(x->name) +
	       ctl_map_count(x->flow);
}

static void
start_alert(struct dns *x, struct ctl_alert *a, unsigned t, const struct dp_event *ev,
		enum ctl_severity sev)
{
	ctl_alert_init_anomaly(a, &templates[t], ctl_anomaly_name(x->id), sev);
	a->flow.family = ev->flow.family;
	a->flow.proto = ev->flow.proto;
	memcpy(a->flow.src, ev->flow.src, 16);
	a->window_ns = x->window_ns[W_SHORT];
	a->last_ns = ev->time_ns;
}

static void
judge_client(struct dns *x, const struct dp_event *ev, const char *name, size_t len, bool susp,
		double ent)
{
	struct ctl_host_key k = ctl_host_key(ev->flow.family, ev->flow.src);
	struct client_val *c;
	bool added;

	c = ctl_map_get(x->client, &k, &added);
	if (c == NULL) {
		ctl_anomaly_untracked(x->d, x->id);
		return;
	}
	if (added || ev->time_ns >= c->window_start + x->window_ns[W_SHORT]) {
		memset(c, 0, sizeof(*c));
		c->window_start = ev->time_ns;
		c->next_susp = x->cfg->suspicious_names;
	}
	c->last_ns = ev->time_ns;
	c->names++;
	if (!susp)
		return;
	c->suspicious++;
	if (ent > c->max_entropy)
		c->max_entropy = ent;
	if (len > c->longest)
		c->longest = (uint32_t)len;
	example(c->example, sizeof(c->example), name);
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
		ctl_anomaly_emit(x->d, x->id, &a);
	}
}

static void
fmt_secs(char *buf, size_t len, double s)
{
	if (s < 1)
		snprintf(buf, len, "%.0f ms", s * 1000);
	else if (s < 120)
		snprintf(buf, len, "%.1f s", s);
	else
		snprintf(buf, len, "%.1f min", s / 60);
}

/* The finding of a tunnel to dv's domain, seen in window w. */
static void
tunnel_alert(struct dns *x, const struct dp_event *ev, struct domain_val *dv, unsigned wi)
{
	const struct win *w = &dv->w[wi];
	const uint32_t thr = wi == W_SHORT ? x->cfg->tunnel_names : x->cfg->long_tunnel_names;
	unsigned best = ENC_HEX, signs = 0;
	double typed = w->queries ? (double)w->typed / w->queries : 0;
	double ans = w->ans_pkts ? (double)w->ans_bytes / (double)w->ans_pkts : 0;
	double gap = w->gaps ? w->gap_sum / w->gaps : 0;
	double cv = 0;
	char because[48] = "", gapbuf[24];
	struct ctl_alert a;

	if (w->gaps > 1 && gap > 0) {
		double var = w->gap_sq / w->gaps - gap * gap;

		cv = var > 0 ? sqrt(var) / gap : 0;
	}
	for (unsigned k = ENC_HEX; k < ENC__COUNT; k++)
		if (w->enc_kind[k] > w->enc_kind[best])
			best = k;
	/* Each sign beyond the encoded names themselves makes the finding surer. */
	if (typed >= 0.5) {
		signs++;
		strcat(because, "record types, ");
	}
	if (ans >= 150) {
		signs++;
		strcat(because, "answer size, ");
	}
	if (w->gaps >= 8 && cv < 0.5) {
		signs++;
		strcat(because, "regular timing, ");
	}
	if (signs == 0)
		strcat(because, "encoded names only, ");
	because[strlen(because) - 2] = '\0';
	/* Medium on the names alone, high with one more sign, critical with them all. */
	start_alert(x, &a, 3, ev,
			signs >= 3   ? CTL_SEV_CRITICAL
			: signs >= 1 ? CTL_SEV_HIGH
				     : CTL_SEV_MEDIUM);
	memcpy(a.flow.src, dv->client.addr, 16);
	a.flow.family = dv->client.family;
	snprintf(a.metric, sizeof(a.metric),
			wi == W_SHORT ? "encoded_names" : "encoded_names_long");
	a.observed = w->encoded;
	a.threshold = thr;
	a.window_ns = x->window_ns[wi];
	a.first_ns = w->start;
	fmt_secs(gapbuf, sizeof(gapbuf), gap);
	ctl_alert_fact(&a, "domain", "%s", dv->domain);
	ctl_alert_fact(&a, "example", "%s", dv->enc_example);
	ctl_alert_fact(&a, "encoding", "%s", enc_names[best]);
	ctl_alert_fact(&a, "length", "%.0f", w->encoded ? (double)w->enc_chars / w->encoded : 0);
	ctl_alert_fact(&a, "typed", "%u", w->typed);
	ctl_alert_fact(&a, "queries", "%u", w->queries);
	if (w->ans_pkts > 0)
		ctl_alert_fact(&a, "answer", "%.0f bytes of data a response on average", ans);
	else
		ctl_alert_fact(&a, "answer", "none seen yet");
	ctl_alert_fact(&a, "gap", "%s", gapbuf);
	ctl_alert_fact(&a, "types", "%s",
			w->typed ? "TXT, NULL, CNAME, MX or private types" : "none of those types");
	ctl_alert_fact(&a, "regularity", "%s",
			w->gaps < 8 ? "too few queries to tell"
			: cv < 0.5  ? "regular"
				    : "irregular");
	ctl_alert_fact(&a, "because", "%s", because);
	ctl_anomaly_emit(x->d, x->id, &a);
}

static void
count_window(struct dns *x, const struct dp_event *ev, struct domain_val *dv, struct name_val *nv,
		bool new_name, enum enc_kind enc, size_t chars)
{
	uint16_t qt = ev->app.dns_qtype;

	for (unsigned wi = 0; wi < W__COUNT; wi++) {
		struct win *w = &dv->w[wi];
		uint32_t thr = wi == W_SHORT ? x->cfg->tunnel_names : x->cfg->long_tunnel_names;

		if (w->gen == 0 || ev->time_ns >= w->start + x->window_ns[wi]) {
			uint32_t gen = w->gen + 1;

			memset(w, 0, sizeof(*w));
			w->gen = gen;
			w->start = ev->time_ns;
			w->next_alert = thr;
		}
		w->queries++;
		if (tunnel_type(qt))
			w->typed++;
		if (w->queries > 1 && ev->time_ns >= w->last_q) {
			double g = (double)(ev->time_ns - w->last_q) / 1e9;

			w->gaps++;
			w->gap_sum += g;
			w->gap_sq += g * g;
		}
		w->last_q = ev->time_ns;
		if (enc == ENC_NONE || (!new_name && nv->wgen[wi] == w->gen))
			continue;
		nv->wgen[wi] = w->gen;
		w->encoded++;
		w->enc_kind[enc]++;
		w->enc_chars += chars;
		if (w->encoded >= w->next_alert) {
			w->next_alert *= 2;
			/* The long window speaks only for what the short one has not reported. */
			if (wi == W_SHORT || dv->w[W_SHORT].encoded < x->cfg->tunnel_names)
				tunnel_alert(x, ev, dv, wi);
		}
	}
}

static void
judge_domain(struct dns *x, const struct dp_event *ev, const char *name, size_t len, size_t base)
{
	struct domain_key dk = { .hash = fnv1a(name + base, len - base) };
	struct name_key nk = { .domain = dk.hash, .name = fnv1a(name, len) };
	const struct ctl_dns_cfg *c = x->cfg;
	uint16_t qt = ev->app.dns_qtype;
	struct domain_val *dv;
	struct name_val *nv;
	enum enc_kind enc = ENC_NONE;
	size_t chars = 0;
	double ent = 0;
	bool added, new_name;

	if (base >= len)
		return; /* a public suffix: nobody's domain */
	dv = ctl_map_get(x->domain, &dk, &added);
	if (dv == NULL) {
		ctl_anomaly_untracked(x->d, x->id);
		return;
	}
	if (added || ev->time_ns >= dv->window_start + x->window_ns[W_SHORT]) {
		uint32_t gen = dv->gen + 1;

		dv->gen = gen;
		dv->window_start = ev->time_ns;
		dv->unique = 0;
		dv->typed = 0;
		dv->next_alert = c->unique_subdomains;
		dv->next_typed = c->txt_queries;
		example(dv->domain, sizeof(dv->domain), name + base);
	}
	dv->last_ns = ev->time_ns;
	dv->client = ctl_host_key(ev->flow.family, ev->flow.src);
	/* The answers of this flow's next events are this domain's. */
	{
		struct flow_key fk = { .flow_id = ev->flow.flow_id, .worker = ev->worker };
		struct flow_val *fv = ctl_map_get(x->flow, &fk, &added);

		if (fv != NULL) {
			fv->domain = dk.hash;
			fv->last_ns = ev->time_ns;
		}
	}
	if (base == 0) {
		/* The domain itself (its SPF record, its MX): no subdomain to judge. */
		return;
	}
	nv = ctl_map_get(x->name, &nk, &added);
	if (nv == NULL) {
		ctl_anomaly_untracked(x->d, x->id);
		return;
	}
	new_name = added;
	if (added)
		memset(nv, 0, sizeof(*nv));
	nv->last_ns = ev->time_ns;
	example(dv->example, sizeof(dv->example), name);
	/* Service names (_dmarc, _domainkey, _spf, SRV) are mail and directory lookups. */
	if (name[0] != '_' && strstr(name, "._") == NULL) {
		char data[sizeof(ev->app.dns_qname)];
		size_t n = data_labels(name, base - 1, data);

		enc = classify(data, n, c->encoded_min_len, &ent, &chars);
		if (enc != ENC_NONE)
			example(dv->enc_example, sizeof(dv->enc_example), name);
		/* Distinct names only: a provider's SPF include asked again and again is not data.
		 */
		if (data_type(qt) && (new_name || nv->gen != dv->gen)) {
			dv->typed++;
			example(dv->typed_example, sizeof(dv->typed_example), name);
			if (dv->typed >= dv->next_typed) {
				struct ctl_alert a;

				dv->next_typed *= 2;
				start_alert(x, &a, 2, ev, CTL_SEV_MEDIUM);
				snprintf(a.metric, sizeof(a.metric), "txt_queries");
				a.observed = dv->typed;
				a.threshold = c->txt_queries;
				a.first_ns = dv->window_start;
				ctl_alert_fact(&a, "domain", "%s", dv->domain);
				ctl_alert_fact(&a, "example", "%s", dv->typed_example);
				ctl_anomaly_emit(x->d, x->id, &a);
			}
		}
	}
	count_window(x, ev, dv, nv, new_name, enc, chars);
	/* One very long encoded name: once per domain and long window, and not once the domain
	 * is known for a tunnel. */
	if (enc != ENC_NONE && chars >= c->long_name_len && dv->long_gen != dv->w[W_LONG].gen + 1 &&
			dv->w[W_SHORT].encoded < c->tunnel_names &&
			dv->w[W_LONG].encoded < c->long_tunnel_names) {
		struct ctl_alert a;

		dv->long_gen = dv->w[W_LONG].gen + 1;
		start_alert(x, &a, 4, ev, CTL_SEV_LOW);
		snprintf(a.metric, sizeof(a.metric), "encoded_length");
		a.observed = (double)chars;
		a.threshold = c->long_name_len;
		ctl_alert_fact(&a, "domain", "%s", dv->domain);
		ctl_alert_fact(&a, "example", "%s", dv->enc_example);
		ctl_alert_fact(&a, "encoding", "%s", enc_names[enc]);
		ctl_alert_fact(&a, "entropy", "%.2f", ent);
		ctl_anomaly_emit(x->d, x->id, &a);
	}
	if (!new_name && nv->gen == dv->gen)
		return;
	nv->gen = dv->gen;
	dv->unique++;
	if (dv->unique >= dv->next_alert) {
		struct ctl_alert a;

		dv->next_alert *= 2;
		start_alert(x, &a, 1, ev, CTL_SEV_HIGH);
		snprintf(a.metric, sizeof(a.metric), "unique_subdomains");
		a.observed = dv->unique;
		a.threshold = c->unique_subdomains;
		a.first_ns = dv->window_start;
		ctl_alert_fact(&a, "domain", "%s", dv->domain);
		ctl_alert_fact(&a, "example", "%s", dv->example);
		ctl_anomaly_emit(x->d, x->id, &a);
	}
}

/*
 * A response on a DNS flow answered the flow's latest query: its answers' data (the rdata of
 * its answer records, which the worker measured) counts for that query's domain. The flow's
 * end forgets which domain that was.
 */
static void
count_answer(struct dns *x, const struct dp_event *ev)
{
	struct flow_key fk = { .flow_id = ev->flow.flow_id, .worker = ev->worker };
	struct flow_val *fv = ctl_map_find(x->flow, &fk);
	struct domain_key dk;
	struct domain_val *dv;

	if (fv == NULL)
		return;
	dk.hash = fv->domain;
	if (ev->type == DP_EV_FLOW_END) {
		ctl_map_del(x->flow, &fk);
		return;
	}
	if (!ev->app.dns_response)
		return;
	dv = ctl_map_find(x->domain, &dk);
	if (dv == NULL)
		return;
	for (unsigned wi = 0; wi < W__COUNT; wi++) {
		dv->w[wi].ans_pkts++;
		dv->w[wi].ans_bytes += ev->app.dns_answer_bytes;
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
	if (ev->type == DP_EV_ALERT || ev->flow.proto != 17)
		return;
	/* A response answered the flow's latest query. */
	count_answer(x, ev);
	/* The worker sends a query's name and type with the update of the packet that carried it,
	 * and a response's rcode with the update of its packet (whose reply bytes were just
	 * counted as answers); the end event carries none. */
	if (ev->type == DP_EV_FLOW_END || ev->app.dns_qtype == 0 || ev->app.dns_response)
		return;
	/* The record comes from a worker: never trust its terminator. */
	len = strnlen(ev->app.dns_qname, sizeof(ev->app.dns_qname) - 1);
	if (len == 0)
		return;
	memcpy(name, ev->app.dns_qname, len);
	name[len] = '\0';
	if (name[len - 1] == '.')
		name[--len] = '\0';
	if (len == 0)
		return;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			if (label > longest_label)
				longest_label = label;
			label = 0;
		} else {
			label++;
		}
	}
	base = ctl_psl_registered(x->psl, name, len);
	/* The worker truncates long names; its length field keeps the real length. */
	real_len = ev->app.dns_qname_len > len ? ev->app.dns_qname_len : len;
	sublen = base > 0 && base < len ? base - 1 : 0;
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
	uint64_t keep = x->window_ns[W_LONG] > x->window_ns[W_SHORT] ? x->window_ns[W_LONG]
								     : x->window_ns[W_SHORT];

	if (now_ns < x->next_gc_ns || now_ns < keep)
		return;
	x->next_gc_ns = now_ns + x->window_ns[W_SHORT];
	ctl_anomaly_gc(x->name, sizeof(struct name_key), offsetof(struct name_val, last_ns),
			now_ns - keep);
	ctl_anomaly_gc(x->domain, sizeof(struct domain_key), offsetof(struct domain_val, last_ns),
			now_ns - keep);
	ctl_anomaly_gc(x->flow, sizeof(struct flow_key), offsetof(struct flow_val, last_ns),
			now_ns - keep);
	ctl_anomaly_gc(x->client, sizeof(struct ctl_host_key), offsetof(struct client_val, last_ns),
			now_ns - x->window_ns[W_SHORT]);
}

const struct ctl_anomaly_def ctl_anomaly_dns_tunnel = {
	.name = "dns_tunnel",
	.cfg_size = sizeof(struct ctl_dns_cfg),
	.defaults = &defaults,
	.fields = dns_fields,
	.create = dns_create,
	.on_flow = dns_on_flow,
	.on_tick = dns_on_tick,
	.free = dns_free,
	.entries = dns_entries,
	.templates = templates,
	.n_templates = sizeof(templates) / sizeof(templates[0]),
};
