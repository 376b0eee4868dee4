/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule parser: the header, the options (det_rule_kw.c) and the validation of the whole rule.
 */
#include "det_rule_impl.h"

static const char *const action_names[] = {
	[DET_ACT_NONE] = "none",
	[DET_ACT_PASS] = "pass",
	[DET_ACT_DROP] = "drop",
	[DET_ACT_REJECT] = "reject",
	[DET_ACT_ALERT] = "alert",
};

const char *
det_action_name(enum det_action a)
{
	if ((unsigned)a >= sizeof(action_names) / sizeof(action_names[0]))
		return "?";
	return action_names[a];
}

static const char *const reason_names[DET_R__COUNT] = {
	[DET_R_SYNTAX] = "syntax",
	[DET_R_INVALID_VALUE] = "invalid_value",
	[DET_R_INVALID_COMBINATION] = "invalid_combination",
	[DET_R_UNSUPPORTED_KEYWORD] = "unsupported_keyword",
	[DET_R_UNKNOWN_KEYWORD] = "unknown_keyword",
	[DET_R_UNSUPPORTED_PROTOCOL] = "unsupported_protocol",
	[DET_R_UNSUPPORTED_ACTION] = "unsupported_action",
	[DET_R_UNSUPPORTED_MODIFIER] = "unsupported_modifier",
	[DET_R_UNDEFINED_VARIABLE] = "undefined_variable",
	[DET_R_BAD_ADDRESS] = "bad_address",
	[DET_R_PCRE] = "pcre",
	[DET_R_UNKNOWN_CLASSTYPE] = "unknown_classtype",
	[DET_R_MISSING_SID] = "missing_sid",
	[DET_R_DUPLICATE_SID] = "duplicate_sid",
	[DET_R_CANNOT_MATCH] = "cannot_match",
};

const char *
det_reason_name(enum det_reason r)
{
	if ((unsigned)r >= DET_R__COUNT)
		return "?";
	return reason_names[r];
}

/* ---- header ---- */

enum {
	PK_TCP,
	PK_TCP_PKT,
	PK_TCP_STREAM,
	PK_UDP,
	PK_ICMP,
	PK_SCTP,
	PK_IP,
	PK_APP,
	PK_IPV4,   /* ip, IPv4 packets only */
	PK_IPV6,   /* ip, IPv6 packets only */
	PK_PKTHDR, /* any packet, one that did not parse too (decoder events) */
};

/*
 * Application-layer protocols Vigil approximates by their well-known ports (it has no protocol
 * detection): "alert dns ..." becomes "UDP or TCP with server port 53".
 */
static const struct {
	const char *name;
	bool tcp, udp;
	const char *ports;
} app_protos[] = {
	{ "http", true, false, "[80,8080]" },
	{ "http1", true, false, "[80,8080]" },
	{ "http2", true, false, "[80,8080]" },
	{ "tls", true, false, "[443,465,636,853,989,990,993,995,5061,8443]" },
	{ "ssl", true, false, "[443,465,636,853,989,990,993,995,5061,8443]" },
	{ "ssh", true, false, "22" },
	{ "ftp", true, false, "21" },
	{ "ftp-data", true, false, "20" },
	{ "smtp", true, false, "[25,587]" },
	{ "imap", true, false, "143" },
	{ "pop3", true, false, "110" },
	{ "dns", true, true, "53" },
	{ "smb", true, false, "[139,445]" },
	{ "dcerpc", true, true, "135" },
	{ "nfs", true, true, "2049" },
	{ "ntp", false, true, "123" },
	{ "snmp", false, true, "[161,162]" },
	{ "tftp", false, true, "69" },
	{ "sip", true, true, "5060" },
	{ "dhcp", false, true, "[67,68]" },
	{ "krb5", true, true, "88" },
	{ "ldap", true, true, "389" },
	{ "rdp", true, false, "3389" },
	{ "mqtt", true, false, "1883" },
	{ "modbus", true, false, "502" },
	{ "dnp3", true, false, "20000" },
	{ "enip", true, true, "44818" },
	{ "llmnr", true, true, "5355" },
	{ "irc", true, false, "[6666:6669]" },
	{ "ike", false, true, "[500,4500]" },
	{ "rfb", true, false, "[5900:5909]" },
};

static int
parse_proto(struct pstate *ps, const char *tok, unsigned off)
{
	struct det_rule *r = ps->r;
	static const struct {
		const char *name;
		uint8_t kind;
	} base[] = {
		{ "tcp", PK_TCP },
		{ "tcp-pkt", PK_TCP_PKT },
		{ "tcp-stream", PK_TCP_STREAM },
		{ "udp", PK_UDP },
		{ "icmp", PK_ICMP },
		{ "sctp", PK_SCTP },
		{ "ip", PK_IP },
		{ "ipv4", PK_IPV4 },
		{ "ip4", PK_IPV4 },
		{ "ipv6", PK_IPV6 },
		{ "ip6", PK_IPV6 },
		{ "pkthdr", PK_PKTHDR },
	};

	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (strcasecmp(tok, base[i].name) == 0) {
			r->proto_kw = base[i].kind;
			r->family = base[i].kind == PK_IPV4 ? 4 : base[i].kind == PK_IPV6 ? 6 : 0;
			r->pkthdr = base[i].kind == PK_PKTHDR;
			return 0;
		}
	for (size_t i = 0; i < sizeof(app_protos) / sizeof(app_protos[0]); i++) {
		char err[128];
		enum al_proto ap = AL_PROTO_NONE;

		if (strcasecmp(tok, app_protos[i].name) != 0)
			continue;
		/* protocols with a parser are matched on the flows detected as them */
		if (al_proto_from_name(tok, &ap) != 0 || ap == AL_PROTO_FAILED)
			ap = AL_PROTO_NONE;
		if (!ps->ctx->app_proto_ports && ap == AL_PROTO_NONE)
			return fail(ps, DET_R_UNSUPPORTED_PROTOCOL, off,
					"protocol '%s': Vigil has no parser to detect it (enable "
					"app_proto_ports to approximate it by port %s)",
					tok, app_protos[i].ports);
		if (det_portset_parse(&r->app_ports, app_protos[i].ports, NULL, err, sizeof(err),
				    NULL, NULL) != 0)
			return fail(ps, DET_R_INVALID_VALUE, off, "%s", err);
		r->proto_kw = PK_APP;
		r->app_proto = (uint8_t)ap;
		/* until detection decides, by port (the only way for protocols without parser) */
		r->app_approx = ps->ctx->app_proto_ports;
		snprintf(ps->proto_by, sizeof(ps->proto_by), "the header");
		snprintf(r->app_name, sizeof(r->app_name), "%s", app_protos[i].name);
		if (app_protos[i].tcp)
			r->classes |= DET_CL_TCP_STREAM; /* refined in finish() */
		if (app_protos[i].udp)
			r->classes |= DET_CL_UDP;
		return 0;
	}
	return fail(ps, DET_R_UNSUPPORTED_PROTOCOL, off,
			"protocol '%s' is not supported (tcp, udp, icmp, sctp, ip, tcp-pkt, tcp-stream, "
			"or an application protocol approximated by port such as http, dns, tls)",
			tok);
}

/*
 * Next header token starting at *pos: whitespace-separated, but a '[' ... ']' list may contain
 * spaces. Returns the length, 0 at the end.
 */
static unsigned
next_token(const char *t, unsigned *pos, unsigned end, unsigned *start)
{
	unsigned p = *pos, level = 0;

	while (p < end && isspace((unsigned char)t[p]))
		p++;
	*start = p;
	while (p < end && (level > 0 || !isspace((unsigned char)t[p]))) {
		if (t[p] == '[')
			level++;
		else if (t[p] == ']' && level > 0)
			level--;
		p++;
	}
	*pos = p;
	return p - *start;
}

static int
parse_addr_tok(struct pstate *ps, struct det_ipset *set, const char *tok, unsigned off)
{
	char err[256];
	unsigned eoff = 0;
	bool undef = false;
	int rc = det_ipset_parse(set, tok, ps->ctx->vars, err, sizeof(err), &eoff, &undef);

	if (rc == -ENOMEM)
		return fail(ps, DET_R_INVALID_VALUE, off, "out of memory");
	if (rc != 0)
		return fail(ps, undef ? DET_R_UNDEFINED_VARIABLE : DET_R_BAD_ADDRESS, off + eoff,
				"%s", err);
	return 0;
}

static int
parse_port_tok(struct pstate *ps, struct det_portset *set, const char *tok, unsigned off)
{
	char err[256];
	unsigned eoff = 0;
	bool undef = false;
	int rc = det_portset_parse(set, tok, ps->ctx->vars, err, sizeof(err), &eoff, &undef);

	if (rc == -ENOMEM)
		return fail(ps, DET_R_INVALID_VALUE, off, "out of memory");
	if (rc != 0)
		return fail(ps, undef ? DET_R_UNDEFINED_VARIABLE : DET_R_BAD_ADDRESS, off + eoff,
				"%s", err);
	return 0;
}

static int parse_header_tokens(struct pstate *ps, char *const *tok, const unsigned *start);

static int
parse_header(struct pstate *ps, unsigned end)
{
	static const char *const what[] = { "action", "protocol", "source address", "source port",
		"direction (-> or <>)", "destination address", "destination port" };
	const char *t = ps->text;
	unsigned pos = 0, start[7], len[7];
	char *tok[7] = { 0 };
	int rc;

	for (int i = 0; i < 7; i++) {
		len[i] = next_token(t, &pos, end, &start[i]);
		if (len[i] == 0)
			return fail(ps, DET_R_SYNTAX, start[i],
					"header ends before the %s (expected: action proto src sport -> "
					"dst dport (options))",
					what[i]);
	}
	{
		unsigned s2;

		if (next_token(t, &pos, end, &s2) != 0)
			return fail(ps, DET_R_SYNTAX, s2,
					"unexpected '%.*s' after the destination port; options start "
					"with '('",
					(int)(pos - s2), t + s2);
	}
	for (int i = 0; i < 7; i++) {
		tok[i] = strndup(t + start[i], len[i]);
		if (tok[i] == NULL) {
			rc = fail(ps, DET_R_INVALID_VALUE, start[i], "out of memory");
			goto out;
		}
	}
	rc = parse_header_tokens(ps, tok, start);
out:
	for (int i = 0; i < 7; i++)
		free(tok[i]);
	return rc;
}

static int
parse_header_tokens(struct pstate *ps, char *const *tok, const unsigned *start)
{
	struct det_rule *r = ps->r;

	const char *scope = strchr(tok[0], ':'), *hook = strchr(tok[1], ':');

	/*
	 * Suricata 8 firewall mode: "accept:flow tcp:all ...". Vigil's firewall is its policy,
	 * which runs before the signatures with its own default: the rule is refused with what
	 * to write instead (docs/SIGNATURES.md, "Actions and firewall rules").
	 */
	if (scope != NULL || strcmp(tok[0], "accept") == 0) {
		size_t n = scope != NULL ? (size_t)(scope - tok[0]) : strlen(tok[0]);

		if (n == 6 && strncmp(tok[0], "accept", 6) == 0 && scope != NULL &&
				(strcmp(scope, ":packet") == 0 || strcmp(scope, ":flow") == 0))
			return fail(ps, DET_R_UNSUPPORTED_ACTION, start[0],
					"firewall rule '%s': Vigil accepts traffic in its policy, "
					"which runs before the signatures and has the default drop of "
					"firewall mode; write it as a policy rule with action allow "
					"(%s)",
					tok[0],
					strcmp(scope, ":flow") == 0
							? "stateful: the flow's first packet decides for "
							  "the flow"
							: "stateless: decided per packet");
		if (n == 6 && strncmp(tok[0], "accept", 6) == 0 && scope != NULL &&
				(strcmp(scope, ":hook") == 0 || strcmp(scope, ":tx") == 0))
			return fail(ps, DET_R_UNSUPPORTED_ACTION, start[0],
					"firewall rule '%s': scope %s cannot be honoured: Vigil has no "
					"per-hook firewall tables (its policy decides per packet or "
					"flow before any application-layer state exists)",
					tok[0], scope);
		if (scope == NULL)
			return fail(ps, DET_R_UNSUPPORTED_ACTION, start[0],
					"action 'accept' is Suricata 8's firewall mode and needs a scope "
					"(accept:packet, accept:flow, accept:hook, accept:tx); Vigil's "
					"firewall is its policy (action allow)");
		return fail(ps, DET_R_UNSUPPORTED_ACTION, start[0],
				"action scope '%s' is Suricata 8's firewall mode, which Vigil does not "
				"run in the signatures (its policy is the firewall); write the rule "
				"without a scope (alert, drop, reject, pass) or as a policy rule",
				tok[0]);
	}
	if (hook != NULL)
		return fail(ps, DET_R_UNSUPPORTED_PROTOCOL, start[1],
				"rule hook '%s' is Suricata 8's firewall mode: Vigil's signatures have "
				"no hooks (name the protocol alone)",
				tok[1]);
	if (strcmp(tok[0], "alert") == 0)
		r->info.action = DET_ACT_ALERT;
	else if (strcmp(tok[0], "drop") == 0)
		r->info.action = DET_ACT_DROP;
	else if (strcmp(tok[0], "reject") == 0 || strcmp(tok[0], "rejectsrc") == 0)
		r->info.action = DET_ACT_REJECT;
	else if (strcmp(tok[0], "rejectdst") == 0) {
		r->info.action = DET_ACT_REJECT;
		r->info.reject_to = DET_REJ_DST;
	} else if (strcmp(tok[0], "rejectboth") == 0) {
		r->info.action = DET_ACT_REJECT;
		r->info.reject_to = DET_REJ_BOTH;
	} else if (strcmp(tok[0], "pass") == 0)
		r->info.action = DET_ACT_PASS;
	else if (strcmp(tok[0], "config") == 0)
		return fail(ps, DET_R_UNSUPPORTED_ACTION, start[0],
				"action '%s' is not supported (alert, drop, reject, pass)", tok[0]);
	else
		return fail(ps, DET_R_SYNTAX, start[0],
				"'%s' is not an action (alert, drop, reject, rejectsrc, rejectdst, "
				"rejectboth, pass)",
				tok[0]);

	if (parse_proto(ps, tok[1], start[1]) != 0)
		return -EINVAL;
	if (parse_addr_tok(ps, &r->src, tok[2], start[2]) != 0 ||
			parse_port_tok(ps, &r->sport, tok[3], start[3]) != 0)
		return -EINVAL;
	if (strcmp(tok[4], "->") == 0)
		r->bidir = false;
	else if (strcmp(tok[4], "<>") == 0)
		r->bidir = true;
	else if (strcmp(tok[4], "<-") == 0)
		return fail(ps, DET_R_SYNTAX, start[4],
				"direction '<-' is not allowed: swap the sides and use '->'");
	else
		return fail(ps, DET_R_SYNTAX, start[4], "'%s' is not a direction (-> or <>)",
				tok[4]);
	if (parse_addr_tok(ps, &r->dst, tok[5], start[5]) != 0 ||
			parse_port_tok(ps, &r->dport, tok[6], start[6]) != 0)
		return -EINVAL;
	if ((r->proto_kw == PK_ICMP) && (!r->sport.any || !r->dport.any))
		return fail(ps, DET_R_INVALID_COMBINATION, !r->sport.any ? start[3] : start[6],
				"icmp has no ports: use any");
	r->ports_apply = !r->sport.any || !r->dport.any;
	return 0;
}

/* ---- validation after all options ---- */

/* The buffer length items[0, n) need at least: the largest end a positive content can have. */
static uint32_t
items_min_len(const struct det_item *items, unsigned n)
{
	int64_t prev_end = 0, need = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct det_item *it = &items[i];
		int64_t start, end;

		if (it->type != DET_ITEM_CONTENT || (it->c.flags & DET_C_NEGATED)) {
			if (it->type == DET_ITEM_PCRE && !(it->p.flags & DET_P_NEGATED))
				prev_end = it->relative ? prev_end
							: 0; /* a pcre may match anywhere */
			continue;
		}
		if (it->relative) {
			start = prev_end + it->c.distance;
			if (start < 0)
				start = 0;
		} else {
			start = (it->c.flags & DET_C_OFFSET) ? it->c.offset : 0;
		}
		end = start + it->c.len;
		prev_end = end;
		if (end > need)
			need = end;
	}
	return (uint32_t)(need > UINT32_MAX ? UINT32_MAX : need);
}

uint32_t
det_span_min_len(const struct det_rule *r, unsigned span)
{
	if (span >= r->n_spans)
		return 0;
	return items_min_len(&r->items[r->spans[span].first], r->spans[span].n);
}

int
det_rule_payload_span(const struct det_rule *r)
{
	for (unsigned i = 0; i < r->n_spans; i++)
		if (r->spans[i].buf == DET_BUF_PKT)
			return (int)i;
	return -1;
}

uint32_t
det_rule_min_len(const struct det_rule *r)
{
	int s = det_rule_payload_span(r);

	return s < 0 ? 0 : det_span_min_len(r, (unsigned)s);
}

/*
 * Group the items by span (spans in order of first use, rule order inside), dropping spans
 * left empty (a content moved away by a modifier).
 */
static int
organize_spans(struct pstate *ps)
{
	struct det_rule *r = ps->r;
	struct det_item *v;
	unsigned o = 0, ns = 0;

	if (r->n_items == 0) {
		r->n_spans = 0;
		return 0;
	}
	v = malloc(r->n_items * sizeof(*v));
	if (v == NULL)
		return fail(ps, DET_R_INVALID_VALUE, 0, "out of memory");
	for (unsigned s = 0; s < r->n_spans; s++) {
		unsigned first = o;

		for (unsigned i = 0; i < r->n_items; i++)
			if (r->items[i].span == s) {
				v[o] = r->items[i];
				v[o].span = (uint8_t)ns;
				o++;
			}
		if (o == first)
			continue;
		r->spans[ns] = r->spans[s];
		r->spans[ns].first = (uint16_t)first;
		r->spans[ns].n = (uint16_t)(o - first);
		ns++;
	}
	free(r->items);
	r->items = v;
	ps->items_cap = r->n_items;
	r->n_spans = ns;
	return 0;
}

/* The checks and normal forms of one span's items. */
static int
finish_span(struct pstate *ps, unsigned si)
{
	static const uint8_t to_lower[] = { DET_XF_TO_LOWER };
	struct det_rule *r = ps->r;
	struct det_span *sp = &r->spans[si];
	bool prev_payload = false;

	for (unsigned i = sp->first; i < (unsigned)sp->first + sp->n; i++) {
		struct det_item *it = &r->items[i];

		if (it->type == DET_ITEM_CONTENT) {
			struct det_content *c = &it->c;
			bool rel = (c->flags & (DET_C_DISTANCE | DET_C_WITHIN)) != 0;
			const char *xf;

			ps->kw = "content";
			if (rel && (c->flags & (DET_C_OFFSET | DET_C_DEPTH)))
				return fail(ps, DET_R_INVALID_COMBINATION, it->col,
						"content cannot mix distance/within (relative) with "
						"offset/depth (absolute)");
			if ((c->flags & DET_C_DEPTH) && (uint32_t)c->depth < c->len)
				return fail(ps, DET_R_INVALID_VALUE, it->col,
						"depth %d is shorter than the %u-byte content",
						c->depth, c->len);
			if ((c->flags & DET_C_WITHIN) && (uint32_t)c->within < c->len)
				return fail(ps, DET_R_INVALID_VALUE, it->col,
						"within %d is shorter than the %u-byte content",
						c->within, c->len);
			xf = det_xf_content_check(sp->xf, sp->n_xf, c->pat, c->len);
			if (xf != NULL)
				return fail(ps, DET_R_CANNOT_MATCH, it->col,
						"content can never match after transform %s of %s",
						xf, det_buf_def(sp->buf)->name);
			if (sp->buf == DET_BUF_HTTP_HOST && !(c->flags & DET_C_NOCASE) &&
					det_xf_content_check(to_lower, 1, c->pat, c->len) != NULL &&
					memchr(sp->xf, DET_XF_TO_UPPER, sp->n_xf) == NULL)
				/* as Suricata, which refuses the rule */
				return fail(ps, DET_R_CANNOT_MATCH, it->col,
						"content has upper-case letters but http.host is "
						"lower-cased: write it in lower case or add nocase");
			if (rel && !prev_payload) {
				/*
				 * Relative to nothing means relative to the start of the buffer:
				 * the same window as offset/depth, which is what it becomes.
				 */
				int64_t d = (c->flags & DET_C_DISTANCE) ? c->distance : 0;
				int64_t start = d < 0 ? 0 : d;
				bool within = (c->flags & DET_C_WITHIN) != 0;

				c->flags &= ~(uint32_t)(DET_C_DISTANCE | DET_C_WITHIN);
				c->flags |= DET_C_OFFSET;
				c->offset = (int32_t)start;
				if (within) {
					int64_t depth = d + c->within - start;

					if (depth < (int64_t)c->len)
						return fail(ps, DET_R_CANNOT_MATCH, it->col,
								"distance/within leave no room for the "
								"%u-byte content",
								c->len);
					c->flags |= DET_C_DEPTH;
					c->depth = (int32_t)depth;
				}
				c->distance = c->within = 0;
				rel = false;
			}
			it->relative = rel;
			if (!(c->flags & DET_C_NEGATED))
				prev_payload = true;
		} else if (it->type == DET_ITEM_PCRE) {
			if (it->relative && !prev_payload) {
				it->relative = false;
				it->p.flags &= ~(uint32_t)DET_P_RELATIVE;
			}
			if (!(it->p.flags & DET_P_NEGATED))
				prev_payload = true;
		} else if (it->type == DET_ITEM_ISDATAAT) {
			if (it->relative && !prev_payload) {
				it->relative = false;
				it->d.relative = false;
			}
		} else if (it->type == DET_ITEM_BYTE_TEST || it->type == DET_ITEM_BYTE_JUMP) {
			/* relative to nothing: from the start of the buffer */
			if (it->relative && !prev_payload)
				it->relative = false;
			/* a jump moves the position that later relative keywords start from */
			if (it->type == DET_ITEM_BYTE_JUMP)
				prev_payload = true;
		}
	}
	/* as Suricata, bsize keywords that no length satisfies together */
	{
		uint64_t lo = 0, hi = UINT64_MAX;

		for (unsigned i = sp->first; i < (unsigned)sp->first + sp->n; i++) {
			const struct det_item *it = &r->items[i];
			const struct det_cmp *z = &it->z;
			uint64_t clo = 0, chi = UINT64_MAX;

			if (it->type != DET_ITEM_BSIZE ||
					strcmp(det_keyword_name(it->kw), "bsize") != 0)
				continue;
			if (z->op == DET_NOP_EQ)
				clo = chi = z->lo;
			else if (z->op == DET_NOP_LT)
				chi = z->lo - 1;
			else if (z->op == DET_NOP_LE)
				chi = z->lo;
			else if (z->op == DET_NOP_GT)
				clo = z->lo + 1;
			else if (z->op == DET_NOP_GE)
				clo = z->lo;
			else if (z->op == DET_NOP_RANGE) {
				clo = z->lo + 1;
				chi = z->hi - 1;
			}
			lo = clo > lo ? clo : lo;
			hi = chi < hi ? chi : hi;
			if (lo > hi) {
				ps->kw = "bsize";
				return fail(ps, DET_R_CANNOT_MATCH, it->col,
						"signature can't match: the bsize keywords of %s "
						"exclude each other",
						det_buf_def(sp->buf)->name);
			}
		}
	}
	/* Suricata refuses a buffer length that leaves no room for the contents */
	for (unsigned i = sp->first; i < (unsigned)sp->first + sp->n; i++) {
		const struct det_item *it = &r->items[i];
		const struct det_cmp *z = &it->z;
		uint64_t max = UINT64_MAX;

		if (it->type != DET_ITEM_BSIZE)
			continue;
		ps->kw = det_keyword_name(it->kw);
		if (strcmp(ps->kw, "urilen") == 0) {
			/* as Suricata: urilen bounds the depth of the URI's contents */
			uint64_t high = z->op == DET_NOP_LT	 ? z->lo + 1
					: z->op == DET_NOP_EQ	 ? z->lo
					: z->op == DET_NOP_RANGE ? z->hi + 1
								 : UINT64_MAX;

			for (unsigned k = sp->first; k < (unsigned)sp->first + sp->n; k++)
				if (r->items[k].type == DET_ITEM_CONTENT &&
						!(r->items[k].c.flags & DET_C_NEGATED) &&
						r->items[k].c.len > high)
					return fail(ps, DET_R_CANNOT_MATCH, it->col,
							"signature can't match: urilen allows %" PRIu64
							" bytes but a content has %u",
							high, r->items[k].c.len);
			continue;
		}
		if (z->op == DET_NOP_EQ || z->op == DET_NOP_LE)
			max = z->lo;
		else if (z->op == DET_NOP_LT)
			max = z->lo - 1;
		else if (z->op == DET_NOP_RANGE)
			max = z->hi - 1;
		if (det_span_min_len(r, si) > max)
			return fail(ps, DET_R_CANNOT_MATCH, it->col,
					"signature can't match: the contents of %s need at least %u bytes "
					"but bsize allows at most %" PRIu64,
					det_buf_def(sp->buf)->name, det_span_min_len(r, si), max);
	}
	ps->kw = NULL;
	return 0;
}

/*
 * A transaction rule: its protocol and transports, the directions it inspects (as Suricata:
 * from flow, else from buffers that exist in one direction only, else both; file.data alone
 * means the response), and per direction the al buffers and numbers it reads and the stages
 * it needs.
 */
static int
finish_tx(struct pstate *ps)
{
	struct det_rule *r = ps->r;
	uint32_t fdir = r->flow & (DET_FLOW_TO_SERVER | DET_FLOW_TO_CLIENT);
	const char *ts_name = NULL, *tc_name = NULL;
	unsigned ts_col = 0, tc_col = 0, dirs;
	bool file_data = false;
	uint8_t l4 = 0, proto_l4;

	switch (r->proto_kw) {
	case PK_TCP:
	case PK_TCP_PKT:
	case PK_TCP_STREAM:
		l4 = DET_L4_TCP;
		break;
	case PK_UDP:
		l4 = DET_L4_UDP;
		break;
	case PK_IP:
	case PK_IPV4:
	case PK_IPV6:
	case PK_PKTHDR:
		l4 = DET_L4_TCP | DET_L4_UDP;
		break;
	case PK_APP:
		l4 = (uint8_t)(((r->classes & DET_CL_TCP_STREAM) ? DET_L4_TCP : 0) |
				((r->classes & DET_CL_UDP) ? DET_L4_UDP : 0));
		break;
	default:
		break;
	}
	if (r->app_proto == AL_PROTO_NONE) {
		/* only file.data leaves the protocol open */
		for (unsigned i = 0; i < r->n_spans; i++)
			if (r->spans[i].buf == DET_BUF_FILE_DATA) {
				ps->kw = "file.data";
				return fail(ps, DET_R_UNSUPPORTED_PROTOCOL, r->spans[i].col,
						"file.data in a rule for any protocol: name http or "
						"smtp in the header (the protocols whose files Vigil "
						"inspects)");
			}
		return fail(ps, DET_R_INVALID_COMBINATION, 0,
				"the rule inspects transactions but names no protocol");
	}
	proto_l4 = r->app_proto == AL_PROTO_DNS ? (DET_L4_TCP | DET_L4_UDP) : DET_L4_TCP;
	if ((l4 & proto_l4) == 0)
		return fail(ps, DET_R_INVALID_COMBINATION, 0,
				"%s runs over %s, not over the rule's protocol %s",
				al_proto_name((enum al_proto)r->app_proto),
				proto_l4 == DET_L4_TCP ? "tcp" : "tcp or udp",
				r->proto_kw == PK_UDP ? "udp" : "(none)");
	l4 &= proto_l4;

	/* the directions each buffer and number exists in */
	for (unsigned i = 0; i < r->n_spans + r->n_nums; i++) {
		bool span = i < r->n_spans;
		unsigned ts, tc, col;
		const char *name;

		if (span) {
			const struct det_span *sp = &r->spans[i];

			if (sp->buf == DET_BUF_PKT)
				continue;
			ts = det_buf_resolve(sp->buf, (enum al_proto)r->app_proto, AL_TO_SERVER);
			tc = det_buf_resolve(sp->buf, (enum al_proto)r->app_proto, AL_TO_CLIENT);
			name = det_buf_def(sp->buf)->name;
			col = sp->col;
			file_data |= sp->buf == DET_BUF_FILE_DATA;
		} else {
			const struct det_num *n = &r->nums[i - r->n_spans];

			ts = det_num_def(n->num)->al[AL_TO_SERVER];
			tc = det_num_def(n->num)->al[AL_TO_CLIENT];
			name = det_num_def(n->num)->name;
			col = n->col;
		}
		if (ts != 0 && tc == 0 && ts_name == NULL) {
			ts_name = name;
			ts_col = col;
		}
		if (tc != 0 && ts == 0 && tc_name == NULL) {
			tc_name = name;
			tc_col = col;
		}
	}
	if (ts_name != NULL && tc_name != NULL) {
		ps->kw = tc_name;
		return fail(ps, DET_R_INVALID_COMBINATION, tc_col,
				"rule mixes keywords with conflicting directions: %s is in requests "
				"(client to server), %s in responses (server to client)",
				ts_name, tc_name);
	}
	if ((fdir == DET_FLOW_TO_SERVER && tc_name != NULL) ||
			(fdir == DET_FLOW_TO_CLIENT && ts_name != NULL)) {
		ps->kw = fdir == DET_FLOW_TO_SERVER ? tc_name : ts_name;
		return fail(ps, DET_R_INVALID_COMBINATION,
				fdir == DET_FLOW_TO_SERVER ? tc_col : ts_col,
				"rule mixes keywords with conflicting directions: %s is in %s but the "
				"rule has flow:%s",
				ps->kw,
				fdir == DET_FLOW_TO_SERVER ? "responses (server to client)"
							   : "requests (client to server)",
				fdir == DET_FLOW_TO_SERVER ? "to_server" : "to_client");
	}
	if (fdir != 0)
		dirs = fdir == DET_FLOW_TO_SERVER ? 1u : 2u;
	else if (ts_name != NULL)
		dirs = 1u;
	else if (tc_name != NULL || file_data)
		dirs = 2u;
	else
		dirs = 3u;
	for (unsigned d = 0; d < 2; d++) {
		if (!(dirs & (1u << d)))
			continue;
		for (unsigned i = 0; i < r->n_spans; i++) {
			struct det_span *sp = &r->spans[i];
			enum al_buf b;

			if (sp->buf == DET_BUF_PKT)
				continue;
			b = det_buf_resolve(sp->buf, (enum al_proto)r->app_proto, d);
			if (al_buf_info(b) == NULL)
				return fail(ps, DET_R_INVALID_COMBINATION, sp->col,
						"%s has no bytes in this direction",
						det_buf_def(sp->buf)->name);
			sp->al[d] = (uint8_t)b;
			r->tx_stages[d] |= al_buf_info(b)->stage;
		}
		for (unsigned i = 0; i < r->n_nums; i++) {
			struct det_num *n = &r->nums[i];
			enum al_num a = (enum al_num)det_num_def(n->num)->al[d];

			if (al_num_info(a) == NULL)
				return fail(ps, DET_R_INVALID_COMBINATION, n->col,
						"%s has no value in this direction",
						det_num_def(n->num)->name);
			n->al[d] = (uint8_t)a;
			r->tx_stages[d] |= al_num_info(a)->stage;
		}
	}
	ps->kw = NULL;
	r->tx = true;
	r->tx_dirs = (uint8_t)dirs;
	r->l4 = l4;
	r->classes = 0;
	if (r->tflags_mode != DET_TF_NONE && !(l4 & DET_L4_TCP))
		return fail(ps, DET_R_INVALID_COMBINATION, 0,
				"flags tests TCP flags but the rule's protocol is not tcp");
	return 0;
}

/*
 * Header buffers (tcp.hdr, icmpv6.hdr) are inspected with the header, per packet: their items
 * move from items to hitems, each span becoming a DET_H_BUF header test.
 */
static int
split_hdr_spans(struct pstate *ps)
{
	struct det_rule *r = ps->r;
	unsigned nh = 0, nspans = 0, o = 0, ns = 0, ho = 0;
	struct det_item *hv;
	struct det_hdr *nv;

	for (unsigned i = 0; i < r->n_spans; i++) {
		const struct det_span *sp = &r->spans[i];
		bool tcp = sp->buf == DET_BUF_TCP_HDR, ok;

		if (!det_buf_is_hdr(sp->buf))
			continue;
		ps->kw = det_buf_def(sp->buf)->name;
		ok = tcp ? r->proto_kw == PK_TCP || r->proto_kw == PK_TCP_PKT ||
						     r->proto_kw == PK_IP ||
						     (r->proto_kw == PK_APP &&
								     (r->classes & DET_CL_TCP_STREAM))
			 : r->proto_kw == PK_ICMP || r->proto_kw == PK_IP;
		if (!ok)
			return fail(ps, DET_R_INVALID_COMBINATION, sp->col,
					"%s inspects the %s header but the rule's protocol is not %s",
					ps->kw, tcp ? "TCP" : "ICMPv6",
					tcp ? "tcp (or ip)" : "icmp (or ip)");
		if (sp->n_xf > 0)
			return fail(ps, DET_R_UNSUPPORTED_MODIFIER, sp->col,
					"transforms on %s are not supported", ps->kw);
		nh += sp->n;
		nspans++;
	}
	ps->kw = NULL;
	if (nspans == 0)
		return 0;
	hv = malloc((nh ? nh : 1) * sizeof(*hv));
	nv = realloc(r->hdr, (r->n_hdr + nspans) * sizeof(*nv));
	if (nv != NULL)
		r->hdr = nv;
	if (hv == NULL || nv == NULL) {
		free(hv);
		return fail(ps, DET_R_INVALID_VALUE, 0, "out of memory");
	}
	for (unsigned i = 0; i < r->n_spans; i++) {
		struct det_span sp = r->spans[i];

		if (!det_buf_is_hdr(sp.buf)) {
			memmove(&r->items[o], &r->items[sp.first], sp.n * sizeof(*r->items));
			for (unsigned k = o; k < o + sp.n; k++)
				r->items[k].span = (uint8_t)ns;
			r->spans[ns] = sp;
			r->spans[ns].first = (uint16_t)o;
			o += sp.n;
			ns++;
			continue;
		}
		memcpy(&hv[ho], &r->items[sp.first], sp.n * sizeof(*hv));
		r->hdr[r->n_hdr++] = (struct det_hdr){ .field = DET_H_BUF,
			.buf = sp.buf,
			.col = sp.col,
			.first = (uint16_t)ho,
			.n = sp.n };
		ho += sp.n;
	}
	r->hitems = hv;
	r->n_hitems = ho;
	r->n_items = o;
	r->n_spans = ns;
	return 0;
}

static int
finish(struct pstate *ps)
{
	struct det_rule *r = ps->r;
	bool payload, pkt_kw;
	bool tx = r->n_nums > 0 || ps->app_event;

	ps->kw = NULL;
	if (!ps->have_sid)
		return fail(ps, DET_R_MISSING_SID, 0, "rule has no sid");
	if (!ps->have_gid)
		r->info.gid = 1;
	if (organize_spans(ps) != 0)
		return -EINVAL;
	for (unsigned i = 0; i < r->n_spans; i++)
		if (finish_span(ps, i) != 0)
			return -EINVAL;
	if (split_hdr_spans(ps) != 0)
		return -EINVAL;
	for (unsigned i = 0; i < r->n_spans; i++)
		tx |= r->spans[i].buf != DET_BUF_PKT;
	payload = r->n_items > 0;
	/* header tests are per packet, as dsize and flags */
	pkt_kw = r->dsize.op != 0 || r->tflags_mode != DET_TF_NONE || r->n_hdr > 0 ||
		 r->events != 0 || r->events_absent != 0;
	ps->kw = NULL;

	if (tx) {
		bool buffers = r->n_nums > 0;

		for (unsigned i = 0; i < r->n_spans; i++)
			buffers |= r->spans[i].buf != DET_BUF_PKT;
		if (!buffers) {
			ps->kw = "app-layer-event";
			return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->app_event_off,
					"app-layer-event needs a buffer of its protocol in the rule "
					"(Vigil tests a transaction's events when it inspects its "
					"buffers)");
		}
		if (finish_tx(ps) != 0)
			return -EINVAL;
		goto dsize;
	}

	/* which scans the rule takes part in */
	switch (r->proto_kw) {
	case PK_TCP:
	case PK_TCP_PKT:
	case PK_TCP_STREAM:
	case PK_APP: {
		bool has_tcp = r->proto_kw != PK_APP || (r->classes & DET_CL_TCP_STREAM);
		bool stream;

		r->classes &= ~(uint32_t)(DET_CL_TCP_STREAM | DET_CL_TCP_PKT);
		if (r->proto_kw == PK_TCP_STREAM) {
			if (pkt_kw)
				return fail(ps, DET_R_INVALID_COMBINATION, 0,
						"dsize, flags and header keywords test single packets; "
						"they cannot be used in a tcp-stream rule");
			if (!payload)
				return fail(ps, DET_R_INVALID_COMBINATION, 0,
						"a tcp-stream rule needs content, pcre or isdataat");
			stream = true;
		} else if (r->proto_kw == PK_TCP_PKT) {
			stream = false;
		} else {
			/* Suricata too inspects rules with packet keywords per packet. */
			stream = payload && !pkt_kw && !(r->flow & DET_FLOW_NO_STREAM);
		}
		if ((r->flow & DET_FLOW_ONLY_STREAM) && !stream)
			return fail(ps, DET_R_INVALID_COMBINATION, 0,
					"flow:only_stream needs a payload rule without dsize or flags");
		if (has_tcp)
			r->classes |= stream ? DET_CL_TCP_STREAM : DET_CL_TCP_PKT;
		break;
	}
	case PK_UDP:
		r->classes = DET_CL_UDP;
		break;
	case PK_ICMP:
		r->classes = DET_CL_ICMP;
		break;
	case PK_SCTP:
		r->classes = DET_CL_SCTP;
		break;
	case PK_IP:
	case PK_IPV4:
	case PK_IPV6:
	case PK_PKTHDR:
		r->classes = DET_CL_TCP_PKT | DET_CL_UDP | DET_CL_ICMP | DET_CL_SCTP | DET_CL_OTHER;
		break;
	}
	if (r->tflags_mode != DET_TF_NONE && !(r->classes & DET_CL_TCP_PKT))
		return fail(ps, DET_R_INVALID_COMBINATION, 0,
				"flags tests TCP flags but the rule's protocol is not tcp");

dsize:
	/* Suricata refuses rules whose dsize leaves no room for their contents. */
	if (r->dsize.op != 0) {
		uint32_t max = UINT32_MAX, need = det_rule_min_len(r);

		if (r->dsize.op == DET_NOP_EQ || r->dsize.op == DET_NOP_LE)
			max = (uint32_t)r->dsize.lo;
		else if (r->dsize.op == DET_NOP_LT)
			max = (uint32_t)r->dsize.lo - 1;
		else if (r->dsize.op == DET_NOP_RANGE)
			max = (uint32_t)r->dsize.hi - 1;
		ps->kw = "dsize";
		if (need > max)
			return fail(ps, DET_R_CANNOT_MATCH, ps->dsize_off,
					"signature can't match: its contents need at least %u bytes but "
					"dsize allows at most %u",
					need, max);
	}

	if (r->classtype != NULL && ps->ctx->classes != NULL) {
		const struct det_class *c = det_classes_find(ps->ctx->classes, r->classtype);

		if (c == NULL)
			return fail(ps, DET_R_UNKNOWN_CLASSTYPE, 0,
					"classtype '%s' is not in the classification file",
					r->classtype);
		if (!ps->have_priority)
			r->info.priority = c->priority;
		free(r->classdesc);
		r->classdesc = strdup(c->desc != NULL ? c->desc : "");
	}
	if (r->info.priority == 0)
		r->info.priority = 3;
	return 0;
}

int
det_rule_parse(const char *text, const char *file, unsigned line, const struct det_parse_ctx *ctx,
		struct det_rule **out, struct det_parse_err *err)
{
	struct pstate ps = {
		.ctx = ctx, .err = err, .text = text, .last_content = -1, .sticky_span = -1
	};
	struct det_rule *r;
	const char *open, *close;
	unsigned len = (unsigned)strlen(text);
	int rc;

	memset(err, 0, sizeof(*err));
	*out = NULL;
	err->sid = det_rule_prescan_sid(text);
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	ps.r = r;
	r->text = strdup(text);
	r->file = strdup(file != NULL ? file : "<input>");
	if (r->text == NULL || r->file == NULL) {
		det_rule_free(r);
		return -ENOMEM;
	}
	r->info.line = line;

	open = strchr(text, '(');
	close = strrchr(text, ')');
	if (open == NULL) {
		rc = fail(&ps, DET_R_SYNTAX, len, "no '(' starting the options");
		goto out;
	}
	if (close == NULL || close < open) {
		rc = fail(&ps, DET_R_SYNTAX, len, "options are not closed with ')'");
		goto out;
	}
	for (const char *p = close + 1; *p; p++)
		if (!isspace((unsigned char)*p)) {
			rc = fail(&ps, DET_R_SYNTAX, (unsigned)(p - text),
					"unexpected text after the closing ')'");
			goto out;
		}
	rc = parse_header(&ps, (unsigned)(open - text));
	if (rc == 0)
		rc = det_rule_parse_options(&ps, (unsigned)(open - text), (unsigned)(close - text));
	if (rc == 0)
		rc = finish(&ps);
out:
	if (rc != 0) {
		if (ps.have_sid)
			err->sid = r->info.sid;
		det_rule_free(r);
		return rc;
	}
	if (r->msg == NULL)
		r->msg = strdup("");
	if (r->classtype == NULL)
		r->classtype = strdup("");
	if (r->metadata == NULL)
		r->metadata = strdup("");
	if (r->references == NULL)
		r->references = strdup("");
	if (r->classdesc == NULL)
		r->classdesc = strdup("");
	if (r->msg == NULL || r->classtype == NULL || r->metadata == NULL ||
			r->references == NULL || r->classdesc == NULL) {
		det_rule_free(r);
		return -ENOMEM;
	}
	r->info.msg = r->msg;
	r->info.classtype = r->classtype;
	r->info.classdesc = r->classdesc;
	r->info.metadata = r->metadata;
	r->info.file = r->file;
	err->sid = r->info.sid;
	*out = r;
	return 0;
}
