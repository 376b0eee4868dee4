/* SPDX-License-Identifier: BSD-3-Clause */
/* Rule parser: sticky buffers, modifiers, transforms and application-layer keywords. */
#include "det_rule_impl.h"

/* ---- application-layer keywords ---- */

int
det_kw_endswith(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = det_rule_last_content(ps);

	(void)v;
	(void)kw;
	if (c == NULL)
		return -EINVAL;
	if (c->flags & DET_C_ENDSWITH)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"endswith given twice for the same content");
	c->flags |= DET_C_ENDSWITH;
	return 0;
}

/* A sticky buffer: the payload keywords that follow inspect buffer b. */
int
det_kw_sticky(struct pstate *ps, unsigned b)
{
	ps->sticky = b;
	ps->sticky_nxf = 0;
	ps->sticky_span = -1;
	ps->sticky_off = ps->kw_off;
	/* nocase, depth, ... after it refer to its contents, not to those before it */
	ps->last_content = -1;
	ps->last_moved = false;
	return 0;
}

int
det_kw_pkt_data(struct pstate *ps, const char *v, unsigned kw)
{
	(void)v;
	(void)kw;
	ps->sticky = DET_BUF_PKT;
	ps->sticky_nxf = 0;
	ps->sticky_span = -1;
	ps->last_moved = false;
	return 0;
}

/* A legacy content modifier (content:"x"; http_uri;): the content moves to buffer b. */
int
det_kw_modifier(struct pstate *ps, unsigned b)
{
	struct det_rule *r = ps->r;
	struct det_item *it;
	int span;

	if (ps->last_content < 0)
		return fail(ps, DET_R_SYNTAX, ps->kw_off,
				"'%s' modifies a content, but no content precedes it", ps->kw);
	if (ps->sticky != DET_BUF_PKT)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"content modifier '%s' follows the sticky buffer %s: reset it with "
				"pkt_data first, or use the sticky buffer %s",
				ps->kw, det_buf_def(ps->sticky)->name, det_buf_def(b)->name);
	it = &r->items[ps->last_content];
	if (r->spans[it->span].buf != DET_BUF_PKT)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"'%s': the content is already in %s", ps->kw,
				det_buf_def(r->spans[it->span].buf)->name);
	span = span_get(ps, b, NULL, 0, true, ps->kw_off);
	if (span < 0)
		return -EINVAL;
	it->span = (uint8_t)span;
	ps->last_moved = true;
	return 0;
}

int
det_kw_uricontent(struct pstate *ps, const char *v, unsigned kw)
{
	int span;

	if (ps->sticky != DET_BUF_PKT)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"uricontent follows the sticky buffer %s: use http.uri; content:...",
				det_buf_def(ps->sticky)->name);
	span = span_get(ps, DET_BUF_HTTP_URI, NULL, 0, true, ps->kw_off);
	if (span < 0 || det_kw_content(ps, v, kw) != 0)
		return -EINVAL;
	ps->r->items[ps->last_content].span = (uint8_t)span;
	ps->last_moved = true;
	return 0;
}

int
det_kw_transform(struct pstate *ps, const char *v, unsigned kw)
{
	int xf = det_xf_find(ps->kw);

	(void)v;
	(void)kw;
	if (ps->sticky == DET_BUF_PKT)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"transform '%s' needs a sticky buffer right before it (e.g. dns.query; "
				"%s;)",
				ps->kw, ps->kw);
	/*
	 * After items, as in Suricata: the transforms add up and the items that follow inspect
	 * the buffer so transformed (dns.query; content:"a"; startswith; dotprefix;
	 * content:".b"; endswith;).
	 */
	ps->sticky_span = -1;
	if (ps->sticky_nxf == DET_XF_MAX)
		return fail(ps, DET_R_INVALID_VALUE, ps->kw_off,
				"more than %d transforms on one buffer", DET_XF_MAX);
	ps->sticky_xf[ps->sticky_nxf++] = (uint8_t)xf;
	return 0;
}

/*
 * A comparison as Suricata's integer keywords write it: N, !N, <N, >N, <=N, >=N, lo<>hi or
 * lo-hi (both exclusive). Returns 0 or -EINVAL.
 */
static int
parse_cmp(const char *v, uint64_t max, struct det_cmp *c)
{
	char tmp[64], *s, *sep;
	uint64_t a, b;
	unsigned skip = 0;

	if (strlen(v) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, v);
	s = det_strip(tmp);
	memset(c, 0, sizeof(*c));
	if ((sep = strstr(s, "<>")) != NULL || (*s != '-' && (sep = strchr(s, '-')) != NULL)) {
		unsigned w = sep[0] == '<' ? 2 : 1;

		*sep = '\0';
		if (det_rule_parse_num(s, 0, max, NULL, &a) != 0 ||
				det_rule_parse_num(sep + w, 0, max, NULL, &b) != 0 || b <= a + 1)
			return -EINVAL;
		c->op = DET_NOP_RANGE;
		c->lo = a;
		c->hi = b;
		return 0;
	}
	if (strncmp(s, "<=", 2) == 0) {
		c->op = DET_NOP_LE;
		skip = 2;
	} else if (strncmp(s, ">=", 2) == 0) {
		c->op = DET_NOP_GE;
		skip = 2;
	} else if (*s == '<') {
		c->op = DET_NOP_LT;
		skip = 1;
	} else if (*s == '>') {
		c->op = DET_NOP_GT;
		skip = 1;
	} else if (*s == '!') {
		c->op = DET_NOP_NE;
		skip = 1;
	} else {
		c->op = DET_NOP_EQ;
	}
	if (det_rule_parse_num(s + skip, 0, max, NULL, &a) != 0)
		return -EINVAL;
	if (c->op == DET_NOP_LT && a == 0)
		return -EINVAL;
	c->lo = a;
	return 0;
}

int
det_kw_bsize(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_cmp c;
	struct det_item *it;

	if (ps->sticky == DET_BUF_PKT)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"bsize tests the length of a sticky buffer: name one before it (e.g. "
				"http.uri; bsize:10;)");
	if (parse_cmp(v, UINT32_MAX, &c) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"bsize '%s' should be N, !N, <N, >N, <=N, >=N, lo<>hi or lo-hi", v);
	it = new_item(ps, DET_ITEM_BSIZE, (uint16_t)kw);
	if (it == NULL)
		return -EINVAL;
	it->z = c;
	return 0;
}

/* urilen:[<|>]N[<>M][,norm|raw]: the length of the normalised (default) or raw URI. */
int
det_kw_urilen(struct pstate *ps, const char *v, unsigned kw)
{
	char tmp[64], *comma, *s;
	struct det_cmp c = { 0 };
	struct det_item *it;
	bool raw = false;
	uint64_t a, b;
	int span;

	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	comma = strchr(tmp, ',');
	if (comma != NULL) {
		char *opt = det_strip(comma + 1);

		*comma = '\0';
		if (strcmp(opt, "raw") == 0)
			raw = true;
		else if (strcmp(opt, "norm") != 0)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"urilen option '%s' is not norm or raw", opt);
	}
	s = det_strip(tmp);
	if (strstr(s, "<>") != NULL) {
		char *sep = strstr(s, "<>");

		*sep = '\0';
		if (det_rule_parse_num(s, 0, 65535, NULL, &a) != 0 ||
				det_rule_parse_num(sep + 2, 0, 65535, NULL, &b) != 0 || b <= a)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"urilen range '%s' should be lo<>hi with lo < hi", v);
		c.op = DET_NOP_RANGE;
		c.lo = a;
		c.hi = b;
	} else {
		c.op = *s == '<' ? DET_NOP_LT : *s == '>' ? DET_NOP_GT : DET_NOP_EQ;
		if (det_rule_parse_num(s + (c.op != DET_NOP_EQ), 0, 65535, NULL, &a) != 0)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"urilen '%s' should be N, <N, >N or lo<>hi, then ,norm or ,raw",
					v);
		c.lo = a;
	}
	span = span_get(ps, raw ? DET_BUF_HTTP_URI_RAW : DET_BUF_HTTP_URI, NULL, 0, true,
			ps->kw_off);
	it = span >= 0 ? new_item_in(ps, DET_ITEM_BSIZE, (uint16_t)kw, span) : NULL;
	if (it == NULL)
		return -EINVAL;
	it->z = c;
	return 0;
}

/* A value in quotes or not, with an optional leading '!': the text and whether negated. */
static int
plain_value(struct pstate *ps, const char *v, char *out, size_t size, bool *neg)
{
	size_t n;

	while (isspace((unsigned char)*v))
		v++;
	*neg = *v == '!';
	if (*neg)
		v++;
	if (copy_value(ps, out, size, v) != 0)
		return -EINVAL;
	n = strlen(out);
	if (n >= 2 && out[0] == '"' && out[n - 1] == '"') {
		memmove(out, out + 1, n - 2);
		out[n - 2] = '\0';
	}
	if (out[0] == '\0')
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s needs a value", ps->kw);
	return 0;
}

/* A content of literal text in buffer b, added for a legacy keyword. */
static struct det_item *
add_text_content(struct pstate *ps, unsigned b, const char *text, bool neg, unsigned kw)
{
	int span = span_get(ps, b, NULL, 0, !buf_multi(b), ps->kw_off);
	struct det_item *it;
	uint8_t *pat;
	size_t n = strlen(text);

	if (span < 0)
		return NULL;
	pat = malloc(n);
	if (pat == NULL) {
		fail(ps, DET_R_INVALID_VALUE, ps->kw_off, "out of memory");
		return NULL;
	}
	memcpy(pat, text, n);
	it = new_item_in(ps, DET_ITEM_CONTENT, (uint16_t)kw, span);
	if (it == NULL) {
		free(pat);
		return NULL;
	}
	it->c.pat = pat;
	it->c.len = (uint32_t)n;
	if (neg)
		it->c.flags |= DET_C_NEGATED;
	return it;
}

/* tls.subject, tls.issuerdn: the certificate's subject or issuer holds the text. */
int
det_kw_tls_dn(struct pstate *ps, const char *v, unsigned kw)
{
	char tmp[512];
	bool neg;

	if (plain_value(ps, v, tmp, sizeof(tmp), &neg) != 0)
		return -EINVAL;
	return add_text_content(ps,
			       strcmp(ps->kw, "tls.subject") == 0 ? DET_BUF_TLS_CERT_SUBJECT
								  : DET_BUF_TLS_CERT_ISSUER,
			       tmp, neg, kw) != NULL
			       ? 0
			       : -EINVAL;
}

/*
 * ssh.protoversion: the banner's protocol version is the value ("2_compat": 2.x or 1.99);
 * ssh.softwareversion: the software version starts with it.
 */
int
det_kw_ssh_version(struct pstate *ps, const char *v, unsigned kw)
{
	bool proto = strcmp(ps->kw, "ssh.protoversion") == 0, neg;
	char tmp[256];
	struct det_item *it;

	if (plain_value(ps, v, tmp, sizeof(tmp), &neg) != 0)
		return -EINVAL;
	if (neg)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s cannot be negated", ps->kw);
	if (proto && strcmp(tmp, "2_compat") == 0) {
		int errcode, span = span_get(ps, DET_BUF_SSH_PROTO, NULL, 0, true, ps->kw_off);
		PCRE2_SIZE erroff;
		pcre2_code *re;

		if (span < 0)
			return -EINVAL;
		re = pcre2_compile((PCRE2_SPTR) "^(?:2|1\\.99$)", PCRE2_ZERO_TERMINATED, 0,
				&errcode, &erroff, NULL);
		it = re != NULL ? new_item_in(ps, DET_ITEM_PCRE, (uint16_t)kw, span) : NULL;
		if (it == NULL) {
			pcre2_code_free(re);
			return fail(ps, DET_R_INVALID_VALUE, ps->kw_off, "out of memory");
		}
		it->p.re = re;
		it->p.expr = strdup("^(?:2|1\\.99$)");
		return it->p.expr != NULL ? 0 : fail(ps, DET_R_INVALID_VALUE, 0, "out of memory");
	}
	it = add_text_content(ps, proto ? DET_BUF_SSH_PROTO : DET_BUF_SSH_SOFTWARE, tmp, false, kw);
	if (it == NULL)
		return -EINVAL;
	it->c.flags |= DET_C_OFFSET | DET_C_DEPTH;
	it->c.depth = (int32_t)it->c.len;
	if (proto) {
		/* the whole version: nothing after it */
		it->c.flags |= DET_C_ENDSWITH;
	}
	return 0;
}

/* tls.version:1.2 (1.0 1.1 1.2 1.3, 3.0 for SSL 3, or a 0x0303 number). */
static int
parse_tls_version(const char *v, uint64_t *out)
{
	static const struct {
		const char *s;
		uint16_t v;
	} names[] = { { "1.0", 0x0301 }, { "1.1", 0x0302 }, { "1.2", 0x0303 }, { "1.3", 0x0304 },
		{ "3.0", 0x0300 }, { "2.0", 0x0002 } };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i].s) == 0) {
			*out = names[i].v;
			return 0;
		}
	if (strncmp(v, "0x", 2) == 0 && det_rule_parse_num(v, 0, 0xffff, NULL, out) == 0)
		return 0;
	return -EINVAL;
}

/* tls.version, dns.opcode, dns.rrtype, dns.rcode, tls.cert_chain_len */
int
det_kw_number(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_rule *r = ps->r;
	int n = det_num_find(ps->kw);
	const struct det_num_def *d = det_num_def((unsigned)n);
	struct det_num num = { .num = (uint8_t)n, .kw = (uint16_t)kw, .col = ps->kw_off };
	struct det_num *nv;
	char tmp[64];

	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	/* Suricata's multi-integer form: "value,index" for numbers of several instances */
	char *comma = strchr(tmp, ',');

	if (comma != NULL) {
		const char *ix = det_strip(comma + 1);
		int64_t sv;
		uint64_t uv;

		*comma = '\0';
		if (n != DET_NUM_DNS_RRTYPE)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"%s '%s': only dns.rrtype takes an index (value,index)",
					ps->kw, v);
		if (strcmp(ix, "any") == 0) {
			num.inst = DET_NI_ANY;
		} else if (strcmp(ix, "all") == 0) {
			num.inst = DET_NI_ALL;
		} else if (det_rule_parse_num(ix, -DET_NUM_INDEX_MAX - 1, DET_NUM_INDEX_MAX, &sv,
					   &uv) == 0) {
			num.inst = DET_NI_INDEX;
			num.index = (int16_t)sv;
		} else {
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off + (uint32_t)(ix - tmp),
					"%s index '%s' should be any, all, or an index from -%d to %d "
					"(negative: from the last)",
					ps->kw, ix, DET_NUM_INDEX_MAX + 1, DET_NUM_INDEX_MAX);
		}
	}
	if (n == DET_NUM_TLS_VERSION) {
		num.cmp.op = DET_NOP_EQ;
		if (parse_tls_version(det_strip(tmp), &num.cmp.lo) != 0)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"tls.version '%s' should be 1.0, 1.1, 1.2, 1.3, 3.0 (SSL 3) or "
					"a number like 0x0303",
					v);
	} else {
		uint64_t max = n == DET_NUM_TLS_CHAIN_LEN ? UINT32_MAX
			       : n == DET_NUM_DNS_RRTYPE  ? 65535
							  : 255;

		if (parse_cmp(tmp, max, &num.cmp) != 0)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"%s '%s' should be N, !N, <N, >N, <=N, >=N, lo<>hi or lo-hi "
					"(0 to %" PRIu64 ")",
					ps->kw, v, max);
	}
	if (set_app_proto(ps, d->proto, ps->kw, ps->kw_off) != 0)
		return -EINVAL;
	nv = realloc(r->nums, (r->n_nums + 1) * sizeof(*nv));
	if (nv == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->kw_off, "out of memory");
	r->nums = nv;
	r->nums[r->n_nums++] = num;
	return 0;
}

static const char ALP_NAMES[] = "http, tls, dns, ssh, smtp, ftp, or failed";

int
det_kw_app_layer_protocol(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_rule *r = ps->r;
	char tmp[64], *name;
	enum al_proto p;
	bool neg = false;

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	name = det_strip(tmp);
	if (*name == '!') {
		neg = true;
		name = det_strip(name + 1);
	}
	if (strchr(name, ',') != NULL)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"app-layer-protocol modes (',to_server', ',final', ...) are not "
				"supported");
	if (al_proto_from_name(name, &p) != 0)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"app-layer-protocol '%s': Vigil detects %s", name, ALP_NAMES);
	if (r->n_alp == DET_ALP_MAX)
		return fail(ps, DET_R_INVALID_VALUE, ps->kw_off,
				"more than %d app-layer-protocol keywords", DET_ALP_MAX);
	r->alp[r->n_alp].proto = (uint8_t)p;
	r->alp[r->n_alp].neg = neg;
	r->n_alp++;
	return 0;
}

/* app-layer-event:<proto>.<event>: the transaction had that anomaly. */
int
det_kw_app_layer_event(struct pstate *ps, const char *v, unsigned kw)
{
	char tmp[128], *dot;
	enum al_proto p;
	int id;

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	dot = strchr(tmp, '.');
	if (dot == NULL) {
		/* Suricata's protocol-independent events (app-layer-events.rules) */
		static const struct {
			const char *name, *why;
		} generic[] = {
			{ "applayer_mismatch_protocol_both_directions",
					"Vigil's protocol detection takes the first direction that identifies "
					"the protocol and does not compare the other direction" },
			{ "applayer_detect_protocol_only_one_direction",
					"Vigil's protocol detection takes the first direction that identifies "
					"the protocol and does not require the other direction" },
			{ "applayer_wrong_direction_first_data",
					"Vigil's protocol detection accepts a protocol's first data from either "
					"direction without flagging the order" },
			{ "applayer_proto_detection_skipped",
					"Vigil's protocol detection is never skipped on a parsed flow" },
			{ "applayer_no_tls_after_starttls",
					"Vigil's parsers do not follow STARTTLS into TLS" },
			{ "applayer_unexpected_protocol",
					"Vigil's parsers do not follow protocol upgrades" },
		};

		for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
			if (strcmp(tmp, generic[i].name) == 0)
				return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
						"app-layer-event:%s: %s", tmp, generic[i].why);
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"app-layer-event '%s': only <protocol>.<event> of Vigil's parsers (%s) "
				"is supported",
				v, ALP_NAMES);
	}
	*dot = '\0';
	if (al_proto_from_name(tmp, &p) != 0 || p == AL_PROTO_FAILED)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"app-layer-event '%s': Vigil has no parser for %s", v, tmp);
	id = al_anomaly_find(p, dot + 1);
	if (id < 0 || id >= 64)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"app-layer-event '%s': Vigil's %s parser does not report '%s'", v,
				al_proto_name(p), dot + 1);
	if (set_app_proto(ps, (uint8_t)p, ps->kw, ps->kw_off) != 0)
		return -EINVAL;
	ps->r->anomalies |= 1ULL << id;
	ps->app_event = true;
	ps->app_event_off = ps->kw_off;
	return 0;
}

/*
 * decode-event:<name> and stream-event:<name>: the packet has that anomaly (det_event.h).
 * Suricata's names are looked up in det_event.c's table; one Vigil does not see is refused
 * with the table's reason.
 */
int
det_kw_event(struct pstate *ps, const char *v, unsigned kw)
{
	const bool stream = strcmp(ps->kw, "stream-event") == 0;
	const enum det_event_kind k = stream ? DET_EVK_STREAM : DET_EVK_DECODE;
	const struct det_event_map *e;
	char tmp[96];
	const char *name;

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	name = tmp;
	/* Suricata's internal names carry the engine as a prefix; rules may too */
	if (!stream && strncmp(name, "decoder.", 8) == 0)
		name += 8;
	else if (stream && strncmp(name, "stream.", 7) == 0)
		name += 7;
	e = det_event_find(k, name);
	if (e == NULL && !stream && det_event_find(DET_EVK_STREAM, name) != NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"'%s' is a stream event: use stream-event:%s", name, name);
	if (e == NULL && stream && det_event_find(DET_EVK_DECODE, name) != NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"'%s' is a decoder event: use decode-event:%s", name, name);
	if (e == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s '%s': no such event (docs/SIGNATURES.md lists the events)",
				ps->kw, name);
	if (e->event < 0)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off, "%s:%s: %s", ps->kw, name,
				e->why);
	ps->r->events |= DET_EV_BIT(e->event);
	/* Events both versions share one bit for (frag_overlap, frag_pkt_too_large): the name's
	 * version decides. */
	if (!stream && strncmp(name, "ipv4.", 5) == 0)
		ps->r->ev_family = 4;
	else if (!stream && strncmp(name, "ipv6.", 5) == 0)
		ps->r->ev_family = 6;
	return 0;
}

/* <proto>-csum:valid|invalid (ipv4-csum, tcpv4-csum, ...). */
int
det_kw_csum(struct pstate *ps, const char *v, unsigned kw)
{
	const struct det_event_map *e;
	char proto[16], tmp[16];
	size_t n = strlen(ps->kw) - strlen("-csum");

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	snprintf(proto, sizeof(proto), "%.*s", (int)n, ps->kw);
	e = det_event_find(DET_EVK_CSUM, proto);
	if (e == NULL || e->event < 0)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->kw_off, "%s: %s", ps->kw,
				e != NULL ? e->why : "no such checksum");
	if (strcmp(tmp, "invalid") == 0)
		ps->r->events |= DET_EV_BIT(e->event);
	else if (strcmp(tmp, "valid") == 0)
		ps->r->events_absent |= DET_EV_BIT(e->event);
	else
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s '%s': expected valid or invalid", ps->kw, tmp);
	return 0;
}
