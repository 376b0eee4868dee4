/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule parser: the keyword table and the option dispatch through it, with the keywords of the
 * rule's metadata, the payload, the flow, the packet and thresholds (buffers, transforms and
 * application-layer ones are in det_rule_app.c).
 */
#include "det_rule_impl.h"

/* ---- keyword implementations ---- */

static int
kw_msg(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	if (ps->have_msg)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "msg given twice");
	ps->have_msg = true;
	free(ps->r->msg);
	ps->r->msg = unquote(ps, v);
	return ps->r->msg != NULL ? 0 : -EINVAL;
}

static int
kw_u32(struct pstate *ps, const char *v, long min, long max, uint32_t *out, bool *seen)
{
	long x;

	if (*seen)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "%s given twice", ps->kw);
	*seen = true;
	if (parse_uint(v, min, max, &x) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s '%s' is not a number from %ld to %ld", ps->kw, v, min, max);
	*out = (uint32_t)x;
	return 0;
}

static int
kw_sid(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return kw_u32(ps, v, 1, UINT32_MAX, &ps->r->info.sid, &ps->have_sid);
}

static int
kw_rev(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return kw_u32(ps, v, 0, UINT32_MAX, &ps->r->info.rev, &ps->have_rev);
}

static int
kw_gid(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return kw_u32(ps, v, 0, UINT32_MAX, &ps->r->info.gid, &ps->have_gid);
}

static int
kw_priority(struct pstate *ps, const char *v, unsigned kw)
{
	uint32_t p = 0;
	int rc;

	(void)kw;
	rc = kw_u32(ps, v, 1, 255, &p, &ps->have_priority);
	if (rc == 0)
		ps->r->info.priority = (uint8_t)p;
	return rc;
}

static int
kw_classtype(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	if (ps->have_classtype)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "classtype given twice");
	ps->have_classtype = true;
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"classtype '%s' is not a name (letters, digits, '-', '_')",
					v);
	if (*v == '\0')
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "classtype needs a name");
	free(ps->r->classtype);
	ps->r->classtype = strdup(v);
	return ps->r->classtype != NULL ? 0 : fail(ps, DET_R_INVALID_VALUE, 0, "out of memory");
}

static int
append_str(struct pstate *ps, char **dst, const char *v, const char *sep)
{
	size_t a = *dst ? strlen(*dst) : 0, b = strlen(v), s = a ? strlen(sep) : 0;
	char *n = realloc(*dst, a + s + b + 1);

	if (n == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
	if (a == 0)
		n[0] = '\0';
	else
		strcat(n, sep);
	strcat(n, v);
	*dst = n;
	return 0;
}

static int
kw_metadata(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return append_str(ps, &ps->r->metadata, v, ", ");
}

static int
kw_reference(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	if (strchr(v, ',') == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"reference '%s' should be type,id (e.g. url,example.com/x)", v);
	return append_str(ps, &ps->r->references, v, "; ");
}

static int
kw_noop(struct pstate *ps, const char *v, unsigned kw)
{
	(void)ps;
	(void)v;
	(void)kw;
	return 0;
}

static int
kw_target(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	if (strcmp(v, "src_ip") != 0 && strcmp(v, "dest_ip") != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"target '%s' should be src_ip or dest_ip", v);
	return 0;
}

static int
kw_noalert(struct pstate *ps, const char *v, unsigned kw)
{
	(void)v;
	(void)kw;
	ps->r->noalert = true;
	return 0;
}

/* Parse the quoted content string into bytes. */
static int
content_bytes(struct pstate *ps, const char *v, uint8_t **out, uint32_t *outlen, bool *neg)
{
	size_t n, i;
	uint8_t *buf;
	uint32_t len = 0;
	bool hex = false;
	int nib = -1;
	unsigned base = ps->val_off;
	const char *start = v;

	*neg = false;
	while (isspace((unsigned char)*v))
		v++;
	if (*v == '!') {
		*neg = true;
		v++;
		while (isspace((unsigned char)*v))
			v++;
	}
	n = strlen(v);
	if (n < 2 || v[0] != '"' || v[n - 1] != '"' ||
			(n >= 3 && v[n - 2] == '\\' && (n < 4 || v[n - 3] != '\\')))
		return fail(ps, DET_R_SYNTAX, base,
				"%s needs a quoted string, e.g. %s:\"abc|0d 0a|\"", ps->kw, ps->kw);
	base += (unsigned)(v - start) + 1;
	v++;
	n -= 2;
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL)
		return fail(ps, DET_R_INVALID_VALUE, base, "out of memory");
	for (i = 0; i < n; i++) {
		char ch = v[i];

		if (ch == '|') {
			if (hex && nib >= 0) {
				free(buf);
				return fail(ps, DET_R_INVALID_VALUE, base + (unsigned)i,
						"odd number of hex digits before '|'");
			}
			hex = !hex;
			continue;
		}
		if (hex) {
			int d;

			if (isspace((unsigned char)ch))
				continue;
			if (!isxdigit((unsigned char)ch)) {
				free(buf);
				return fail(ps, DET_R_INVALID_VALUE, base + (unsigned)i,
						"'%c' is not a hex digit (inside |...| only hex byte "
						"pairs and spaces are allowed)",
						ch);
			}
			d = isdigit((unsigned char)ch) ? ch - '0'
						       : (tolower((unsigned char)ch) - 'a' + 10);
			if (nib < 0) {
				nib = d;
			} else {
				buf[len++] = (uint8_t)(nib << 4 | d);
				nib = -1;
			}
			continue;
		}
		if (ch == '\\') {
			if (i + 1 >= n || strchr("\";:\\|", v[i + 1]) == NULL) {
				free(buf);
				return fail(ps, DET_R_INVALID_VALUE, base + (unsigned)i,
						"'\\%c' is not an escape a content may use (\\\" \\; \\: "
						"\\\\ \\|; other bytes go in |hex|)",
						i + 1 < n ? v[i + 1] : ' ');
			}
			buf[len++] = (uint8_t)v[++i];
			continue;
		}
		if (ch == '"') {
			free(buf);
			return fail(ps, DET_R_INVALID_VALUE, base + (unsigned)i,
					"unescaped '\"' inside the string (write \\\" or |22|)");
		}
		buf[len++] = (uint8_t)ch;
	}
	if (hex) {
		free(buf);
		return fail(ps, DET_R_INVALID_VALUE, base + (unsigned)n, "'|' is not closed");
	}
	if (len == 0) {
		free(buf);
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s is empty", ps->kw);
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int
det_kw_content(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_item *it;
	uint8_t *pat = NULL;
	uint32_t len = 0;
	bool neg = false;

	if (content_bytes(ps, v, &pat, &len, &neg) != 0)
		return -EINVAL;
	it = new_item(ps, DET_ITEM_CONTENT, (uint16_t)kw);
	if (it == NULL) {
		free(pat);
		return -EINVAL;
	}
	it->c.pat = pat;
	it->c.len = len;
	if (neg)
		it->c.flags |= DET_C_NEGATED;
	ps->last_content = (int)(it - ps->r->items);
	ps->last_moved = false;
	return 0;
}

static void
free_content(struct det_item *it)
{
	free(it->c.pat);
	it->c.pat = NULL;
}

struct det_content *
det_rule_last_content(struct pstate *ps)
{
	if (ps->last_content < 0) {
		fail(ps, DET_R_SYNTAX, ps->kw_off,
				"'%s' modifies a content, but no content precedes it", ps->kw);
		return NULL;
	}
	return &ps->r->items[ps->last_content].c;
}

static int
kw_nocase(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = det_rule_last_content(ps);

	(void)v;
	(void)kw;
	if (c == NULL)
		return -EINVAL;
	c->flags |= DET_C_NOCASE;
	return 0;
}

static int
kw_pos(struct pstate *ps, const char *v, uint32_t flag, int32_t *field, long min)
{
	struct det_content *c = det_rule_last_content(ps);
	long x;

	if (c == NULL)
		return -EINVAL;
	if (c->flags & DET_C_STARTSWITH)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"%s cannot follow startswith (which fixes offset and depth)",
				ps->kw);
	if (c->flags & flag)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"%s given twice for the same content", ps->kw);
	if (parse_int(v, min, DET_POS_MAX, &x) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s '%s' is not a number from %ld to %d", ps->kw, v, min,
				DET_POS_MAX);
	c->flags |= flag;
	*field = (int32_t)x;
	return 0;
}

static int
kw_offset(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = det_rule_last_content(ps);

	(void)kw;
	return c == NULL ? -EINVAL : kw_pos(ps, v, DET_C_OFFSET, &c->offset, 0);
}

static int
kw_depth(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = det_rule_last_content(ps);

	(void)kw;
	return c == NULL ? -EINVAL : kw_pos(ps, v, DET_C_DEPTH, &c->depth, 1);
}

static int
kw_distance(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = det_rule_last_content(ps);

	(void)kw;
	return c == NULL ? -EINVAL : kw_pos(ps, v, DET_C_DISTANCE, &c->distance, -DET_POS_MAX);
}

static int
kw_within(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = det_rule_last_content(ps);

	(void)kw;
	return c == NULL ? -EINVAL : kw_pos(ps, v, DET_C_WITHIN, &c->within, 1);
}

static int
kw_startswith(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = det_rule_last_content(ps);

	(void)v;
	(void)kw;
	if (c == NULL)
		return -EINVAL;
	if (c->flags & DET_C_STARTSWITH)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"startswith given twice for the same content");
	if (c->flags & (DET_C_OFFSET | DET_C_DEPTH | DET_C_DISTANCE | DET_C_WITHIN))
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"startswith cannot be combined with offset, depth, distance or within");
	/* startswith is offset 0, depth = the content's length */
	c->flags |= DET_C_OFFSET | DET_C_DEPTH | DET_C_STARTSWITH;
	c->offset = 0;
	c->depth = (int32_t)c->len;
	return 0;
}

static int
kw_fast_pattern(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_content *c = det_rule_last_content(ps);

	(void)kw;
	if (c == NULL)
		return -EINVAL;
	if (ps->have_fast_pattern)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"fast_pattern given twice in one rule");
	/*
	 * "only" and "offset,length" refine how Suricata feeds the pattern to its prefilter;
	 * the whole content must match either way, so using all of it is exact.
	 */
	if (v != NULL && strcmp(v, "only") != 0) {
		long a, b;
		char tmp[64], *comma;

		if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
			return -EINVAL;
		comma = strchr(tmp, ',');
		if (comma == NULL)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"fast_pattern takes no value, 'only', or 'offset,length'");
		*comma = '\0';
		if (parse_uint(tmp, 0, 65535, &a) != 0 ||
				parse_uint(comma + 1, 1, 65535, &b) != 0 ||
				(uint64_t)a + (uint64_t)b > c->len)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"fast_pattern '%s': offset,length must lie inside the %u-byte content",
					v, c->len);
	}
	ps->have_fast_pattern = true;
	c->flags |= DET_C_FAST_PATTERN;
	return 0;
}

static bool
name_in(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return true;
	return false;
}

/*
 * prefilter (Suricata): the keyword right before it is the rule's prefilter. After a content
 * (or one of its modifiers) it is fast_pattern. After a pcre, Hyperscan scans that pcre even
 * when it has no literal. After a header, flow or protocol keyword it changes no match: Vigil
 * checks those before any payload inspection anyway, and the rule keeps its payload prefilter.
 */
static int
kw_prefilter(struct pstate *ps, const char *v, unsigned kw)
{
	static const char *const content_kws[] = { "content", "nocase", "offset", "depth",
		"distance", "within", "startswith", "endswith", "rawbytes", "uricontent" };
	static const char *const not_kws[] = { "msg", "sid", "rev", "gid", "priority", "classtype",
		"metadata", "reference", "target", "noalert", "threshold", "detection_filter",
		"fast_pattern", "prefilter" };
	struct det_rule *r = ps->r;
	const char *prev = ps->prev_kw;

	(void)v;
	(void)kw;
	if (prev[0] == '\0' || name_in(prev, not_kws, sizeof(not_kws) / sizeof(not_kws[0])))
		return fail(ps, DET_R_SYNTAX, ps->kw_off,
				"prefilter must directly follow the keyword it selects (a content, a "
				"pcre, or a header keyword such as dsize), not '%s'",
				prev[0] != '\0' ? prev : "the start of the options");
	if (name_in(prev, content_kws, sizeof(content_kws) / sizeof(content_kws[0])) &&
			ps->last_content >= 0 && (unsigned)ps->last_content + 1 == r->n_items) {
		if (ps->have_fast_pattern)
			return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
					"prefilter and fast_pattern both choose the rule's prefilter; "
					"keep one");
		r->items[ps->last_content].c.flags |= DET_C_FAST_PATTERN;
		ps->have_fast_pattern = true;
		return 0;
	}
	if (strcmp(prev, "pcre") == 0 && r->n_items > 0 &&
			r->items[r->n_items - 1].type == DET_ITEM_PCRE) {
		r->items[r->n_items - 1].p.flags |= DET_P_PREFILTER;
		return 0;
	}
	return 0;
}

static int
kw_pcre(struct pstate *ps, const char *v, unsigned kw)
{
	const char *s = v, *close;
	bool neg = false;
	size_t n;
	struct det_item *it;
	uint32_t flags = 0, opts = 0;
	int buf = -1;
	char *expr;
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *re;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '!') {
		neg = true;
		s++;
	}
	n = strlen(s);
	/* quoted, or as Suricata also takes it, not */
	if (n > 0 && s[0] == '"') {
		if (n < 2 || s[n - 1] != '"')
			return fail(ps, DET_R_SYNTAX, ps->val_off,
					"pcre needs /regex/flags, e.g. pcre:\"/ab+c/i\"");
		s++;
		n -= 2;
	}
	if (n < 2 || s[0] != '/')
		return fail(ps, DET_R_SYNTAX, ps->val_off,
				"pcre needs /regex/flags, e.g. pcre:\"/ab+c/i\"");
	close = s + n - 1;
	while (close > s && *close != '/')
		close--;
	if (close == s)
		return fail(ps, DET_R_SYNTAX, ps->val_off, "pcre '%s' has no closing '/'", v);
	for (const char *f = close + 1; f < s + n; f++) {
		switch (*f) {
		case 'i':
			flags |= DET_P_CASELESS;
			opts |= PCRE2_CASELESS;
			break;
		case 's':
			flags |= DET_P_DOTALL;
			opts |= PCRE2_DOTALL;
			break;
		case 'm':
			flags |= DET_P_MULTILINE;
			opts |= PCRE2_MULTILINE;
			break;
		case 'x':
			flags |= DET_P_EXTENDED;
			opts |= PCRE2_EXTENDED;
			break;
		case 'A':
			flags |= DET_P_ANCHORED;
			opts |= PCRE2_ANCHORED;
			break;
		case 'E':
			flags |= DET_P_DOLLAR_ENDONLY;
			opts |= PCRE2_DOLLAR_ENDONLY;
			break;
		case 'G':
			flags |= DET_P_UNGREEDY;
			opts |= PCRE2_UNGREEDY;
			break;
		case 'R':
			flags |= DET_P_RELATIVE;
			break;
		case 'O': /* override Suricata's match limits: ours are fixed */
		case 'B': /* rawbytes: the payload is always raw here */
			break;
		default: {
			int b = det_buf_find_pcre(*f);

			if (b < 0)
				return fail(ps, DET_R_INVALID_VALUE,
						ps->val_off + (unsigned)(f - v),
						"'%c' is not a pcre modifier (i s m x A E G R O B, and "
						"U I M H D C P Q S Y V W Z for HTTP buffers)",
						*f);
			if (buf >= 0 && buf != b)
				return fail(ps, DET_R_INVALID_COMBINATION,
						ps->val_off + (unsigned)(f - v),
						"pcre modifiers select two buffers (%s and %s)",
						det_buf_def((unsigned)buf)->name,
						det_buf_def((unsigned)b)->name);
			buf = b;
			break;
		}
		}
	}
	/* Suricata's Q (file_data) is the response body that http.response_body names too */
	if (buf == DET_BUF_FILE_DATA && ps->sticky == DET_BUF_HTTP_RESPONSE_BODY)
		buf = DET_BUF_HTTP_RESPONSE_BODY;
	if (buf >= 0 && ps->sticky != DET_BUF_PKT && (unsigned)buf != ps->sticky)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->val_off,
				"pcre modifier selects %s while the sticky buffer %s is in force "
				"(reset it with pkt_data, or drop the modifier)",
				det_buf_def((unsigned)buf)->name, det_buf_def(ps->sticky)->name);
	if (neg)
		flags |= DET_P_NEGATED;
	expr = strndup(s + 1, (size_t)(close - (s + 1)));
	if (expr == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
	re = pcre2_compile((PCRE2_SPTR)expr, PCRE2_ZERO_TERMINATED, opts, &errcode, &erroff, NULL);
	if (re == NULL) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		free(expr);
		return fail(ps, DET_R_PCRE, ps->val_off + 2 + (unsigned)erroff,
				"pcre does not compile at offset %zu: %s", (size_t)erroff,
				(char *)msg);
	}
	/* JIT is an optimisation: without it the interpreter gives the same answers. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	if (buf >= 0 && ps->sticky == DET_BUF_PKT) {
		/* a buffer letter puts this pcre alone in that buffer, as a content modifier */
		int span = span_get(ps, (unsigned)buf, NULL, 0, true, ps->kw_off);

		it = span >= 0 ? new_item_in(ps, DET_ITEM_PCRE, (uint16_t)kw, span) : NULL;
	} else {
		it = new_item(ps, DET_ITEM_PCRE, (uint16_t)kw);
	}
	if (it == NULL) {
		pcre2_code_free(re);
		free(expr);
		return -EINVAL;
	}
	it->p.expr = expr;
	it->p.flags = flags;
	it->p.re = re;
	it->relative = (flags & DET_P_RELATIVE) != 0;
	return 0;
}

static void
free_pcre(struct det_item *it)
{
	pcre2_code_free(it->p.re);
	free(it->p.expr);
	it->p.re = NULL;
	it->p.expr = NULL;
}

static int
kw_isdataat(struct pstate *ps, const char *v, unsigned kw)
{
	char tmp[128], *tok, *save;
	struct det_item *it;
	bool neg = false, rel = false, first = true;
	long n = 0;

	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	for (tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		tok = det_strip(tok);
		if (first) {
			if (*tok == '!') {
				neg = true;
				tok++;
			}
			if (parse_uint(tok, 0, DET_POS_MAX, &n) != 0)
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"isdataat '%s' should be [!]N[,relative]", v);
			first = false;
		} else if (strcmp(tok, "relative") == 0) {
			rel = true;
		} else if (strcmp(tok, "rawbytes") != 0) {
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"isdataat option '%s' is not relative or rawbytes", tok);
		}
	}
	if (first)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "isdataat needs a number");
	if (rel && ps->last_moved && ps->sticky == DET_BUF_PKT && ps->last_content >= 0)
		it = new_item_in(ps, DET_ITEM_ISDATAAT, (uint16_t)kw,
				ps->r->items[ps->last_content].span);
	else
		it = new_item(ps, DET_ITEM_ISDATAAT, (uint16_t)kw);
	if (it == NULL)
		return -EINVAL;
	it->d.n = (int32_t)n;
	it->d.negated = neg;
	it->d.relative = rel;
	it->relative = rel;
	return 0;
}

/* Parse a number in decimal or 0x hex, possibly negative when min < 0. */
int
det_rule_parse_num(const char *s, int64_t min, uint64_t max, int64_t *sv, uint64_t *uv)
{
	char *end;
	bool neg = false;
	uint64_t v;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '-') {
		neg = true;
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	if (neg) {
		if (min >= 0 || v > (uint64_t)-min)
			return -EINVAL;
		if (sv != NULL)
			*sv = -(int64_t)v;
		return 0;
	}
	if (v > max)
		return -EINVAL;
	if (sv != NULL)
		*sv = (int64_t)v;
	if (uv != NULL)
		*uv = v;
	return 0;
}

/*
 * byte_test: bytes, [!]op, value, offset [, relative] [, big|little] [, string, hex|dec|oct]
 *            [, bitmask m]
 * byte_jump: bytes, offset [, relative] [, multiplier n] [, big|little] [, string, hex|dec|oct]
 *            [, align] [, from_beginning|from_end] [, post_offset n] [, bitmask m]
 */
static int
kw_byte(struct pstate *ps, const char *v, unsigned kw, bool jump)
{
	char tmp[256], *tok[16], *save, *t;
	unsigned n = 0, i;
	struct det_byte b = { .multiplier = 1 };
	bool relative = false, have_string = false;
	int64_t x;
	uint64_t u;
	struct det_item *it;

	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	for (t = strtok_r(tmp, ",", &save); t != NULL && n < 16; t = strtok_r(NULL, ",", &save))
		tok[n++] = det_strip(t);
	if (n < (jump ? 2u : 4u))
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s needs %s", ps->kw,
				jump ? "bytes, offset[, options]"
				     : "bytes, operator, value, offset[, options]");
	if (det_rule_parse_num(tok[0], 1, 20, &x, NULL) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s: '%s' is not a byte count (1 to 8, up to 20 with string)",
				ps->kw, tok[0]);
	b.nbytes = (uint8_t)x;
	i = 1;
	if (!jump) {
		const char *op = tok[1];
		static const struct {
			const char *s;
			uint8_t op;
		} ops[] = { { "<=", DET_BOP_LE }, { ">=", DET_BOP_GE }, { "<", DET_BOP_LT },
			{ ">", DET_BOP_GT }, { "=", DET_BOP_EQ }, { "&", DET_BOP_AND },
			{ "^", DET_BOP_XOR } };
		size_t k;

		if (*op == '!') {
			b.negated = true;
			op++;
		}
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (strcmp(op, ops[k].s) == 0)
				break;
		if (k == sizeof(ops) / sizeof(ops[0]))
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"byte_test operator '%s' is not one of < > = <= >= & ^ (with an "
					"optional !)",
					tok[1]);
		b.op = ops[k].op;
		if (det_rule_parse_num(tok[2], 0, UINT64_MAX, NULL, &u) != 0)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"byte_test value '%s' is not a number", tok[2]);
		b.value = u;
		i = 3;
	}
	if (det_rule_parse_num(tok[i], -DET_POS_MAX, DET_POS_MAX, &x, NULL) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s offset '%s' is not a number",
				ps->kw, tok[i]);
	b.offset = (int32_t)x;
	for (i++; i < n; i++) {
		char *o = tok[i], *arg = o;

		while (*arg && !isspace((unsigned char)*arg))
			arg++;
		if (*arg)
			*arg++ = '\0';
		arg = det_strip(arg);
		if (strcmp(o, "relative") == 0) {
			relative = true;
		} else if (strcmp(o, "big") == 0) {
			b.little = false;
		} else if (strcmp(o, "little") == 0) {
			b.little = true;
		} else if (strcmp(o, "string") == 0) {
			have_string = true;
		} else if (strcmp(o, "hex") == 0 || strcmp(o, "dec") == 0 ||
				strcmp(o, "oct") == 0) {
			b.base = o[0] == 'h' ? 16 : o[0] == 'd' ? 10 : 8;
		} else if (strcmp(o, "bitmask") == 0 &&
				det_rule_parse_num(arg, 1, UINT64_MAX, NULL, &u) == 0) {
			b.bitmask = u;
		} else if (jump && strcmp(o, "align") == 0) {
			b.align = true;
		} else if (jump && strcmp(o, "from_beginning") == 0) {
			b.from_beginning = true;
		} else if (jump && strcmp(o, "from_end") == 0) {
			b.from_end = true;
		} else if (jump && strcmp(o, "multiplier") == 0 &&
				det_rule_parse_num(arg, 1, 65535, &x, NULL) == 0) {
			b.multiplier = (uint32_t)x;
		} else if (jump && strcmp(o, "post_offset") == 0 &&
				det_rule_parse_num(arg, -DET_POS_MAX, DET_POS_MAX, &x, NULL) == 0) {
			b.post_offset = (int32_t)x;
		} else if (strcmp(o, "dce") == 0) {
			return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
					"%s option dce needs the DCERPC parser Vigil does not have",
					ps->kw);
		} else {
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"%s option '%s%s%s' is not supported or malformed", ps->kw,
					o, *arg ? " " : "", arg);
		}
	}
	if (have_string != (b.base != 0))
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s: string needs a base (hex, dec or oct) and a base needs string",
				ps->kw);
	if (!have_string && b.nbytes > 8)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s reads at most 8 bytes unless they are a string", ps->kw);
	if (b.from_beginning && b.from_end)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->val_off,
				"byte_jump cannot jump both from_beginning and from_end");
	it = new_item(ps, jump ? DET_ITEM_BYTE_JUMP : DET_ITEM_BYTE_TEST, (uint16_t)kw);
	if (it == NULL)
		return -EINVAL;
	it->b = b;
	it->relative = relative;
	return 0;
}

static int
kw_byte_test(struct pstate *ps, const char *v, unsigned kw)
{
	return kw_byte(ps, v, kw, false);
}

static int
kw_byte_jump(struct pstate *ps, const char *v, unsigned kw)
{
	return kw_byte(ps, v, kw, true);
}

/*
 * flowbits: set|unset|toggle,name; isset|isnotset,name[|name...]; noalert. The names become
 * bits of the flow at compile time.
 */
/*
 * flowint: name, op [, value]. op: = + - (change it when the rule matches), == != < <= > >=
 * (compare: the variable must be set), isset, notset/isnotset. Values are numbers (Suricata
 * also takes another variable's name there: refused).
 */
static int
kw_flowint(struct pstate *ps, const char *v, unsigned kw)
{
	static const struct {
		const char *op;
		uint8_t code;
		bool value;
	} ops[] = { { "=", DET_FI_SET, true }, { "+", DET_FI_ADD, true }, { "-", DET_FI_SUB, true },
		{ "==", DET_FI_EQ, true }, { "!=", DET_FI_NE, true }, { "<", DET_FI_LT, true },
		{ "<=", DET_FI_LE, true }, { ">", DET_FI_GT, true }, { ">=", DET_FI_GE, true },
		{ "isset", DET_FI_ISSET, false }, { "notset", DET_FI_NOTSET, false },
		{ "isnotset", DET_FI_NOTSET, false } };
	struct det_rule *r = ps->r;
	struct det_flowint fi = { 0 }, *nv;
	char tmp[256], *tok[4], *save;
	unsigned n = 0;
	size_t k;
	long val = 0;

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	for (char *t = strtok_r(tmp, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (n == 3)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"flowint '%s' should be name, op[, value]", v);
		tok[n++] = det_strip(t);
	}
	if (n < 2 || *tok[0] == '\0' || strpbrk(tok[0], " \t") != NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"flowint '%s' should be name, op[, value]", v);
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (strcmp(tok[1], ops[k].op) == 0)
			break;
	if (k == sizeof(ops) / sizeof(ops[0]))
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"flowint operator '%s' is not =, +, -, ==, !=, <, <=, >, >=, isset or "
				"notset",
				tok[1]);
	if (ops[k].value != (n == 3))
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "flowint %s %s", tok[1],
				ops[k].value ? "needs a value" : "takes no value");
	if (n == 3 && parse_uint(tok[2], 0, UINT32_MAX, &val) != 0)
		return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
				"flowint value '%s' is not a number from 0 to 4294967295 (another "
				"variable's name is not supported)",
				tok[2]);
	fi.op = ops[k].code;
	fi.value = (uint32_t)val;
	fi.name = strdup(tok[0]);
	if (fi.name == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
	nv = realloc(r->fi, (r->n_fi + 1) * sizeof(*nv));
	if (nv == NULL) {
		free(fi.name);
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
	}
	r->fi = nv;
	r->fi[r->n_fi++] = fi;
	return 0;
}

static int
kw_flowbits(struct pstate *ps, const char *v, unsigned kw)
{
	static const struct {
		const char *name;
		uint8_t cmd;
	} cmds[] = { { "set", DET_FB_SET }, { "unset", DET_FB_UNSET }, { "toggle", DET_FB_TOGGLE },
		{ "isset", DET_FB_ISSET }, { "isnotset", DET_FB_ISNOTSET } };
	struct det_rule *r = ps->r;
	struct det_flowbit fb = { 0 }, *nv;
	char tmp[512], *comma, *name, *save, *cmd;
	size_t k;

	(void)kw;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	comma = strchr(tmp, ',');
	if (comma != NULL)
		*comma = '\0';
	cmd = det_strip(tmp);
	if (strcmp(cmd, "noalert") == 0 && comma == NULL) {
		r->noalert = true;
		return 0;
	}
	for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (strcmp(cmd, cmds[k].name) == 0)
			break;
	if (k == sizeof(cmds) / sizeof(cmds[0]))
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"flowbits command '%s' is not set, unset, toggle, isset, isnotset or "
				"noalert",
				cmd);
	if (comma == NULL || *det_strip(comma + 1) == '\0')
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "flowbits %s needs a name", cmd);
	fb.cmd = cmds[k].cmd;
	for (name = strtok_r(comma + 1, "|", &save); name != NULL;
			name = strtok_r(NULL, "|", &save)) {
		name = det_strip(name);
		if (*name == '\0' || strpbrk(name, " \t&,") != NULL) {
			for (unsigned i = 0; i < fb.n; i++)
				free(fb.names[i]);
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"flowbits name '%s' is empty or has spaces, '&' or ','",
					name);
		}
		if (fb.n == 1 && fb.cmd != DET_FB_ISSET && fb.cmd != DET_FB_ISNOTSET) {
			for (unsigned i = 0; i < fb.n; i++)
				free(fb.names[i]);
			return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
					"flowbits %s takes one name ('|' lists are for isset and "
					"isnotset)",
					cmd);
		}
		if (fb.n == DET_FB_NAMES) {
			for (unsigned i = 0; i < fb.n; i++)
				free(fb.names[i]);
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"flowbits: at most %d names", DET_FB_NAMES);
		}
		fb.names[fb.n] = strdup(name);
		if (fb.names[fb.n] == NULL)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
		fb.n++;
	}
	nv = realloc(r->fb, (r->n_fb + 1) * sizeof(*nv));
	if (nv == NULL) {
		for (unsigned i = 0; i < fb.n; i++)
			free(fb.names[i]);
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "out of memory");
	}
	r->fb = nv;
	r->fb[r->n_fb++] = fb;
	return 0;
}

static int
kw_flow(struct pstate *ps, const char *v, unsigned kw)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} opts[] = {
		{ "to_server", DET_FLOW_TO_SERVER },
		{ "from_client", DET_FLOW_TO_SERVER },
		{ "to_client", DET_FLOW_TO_CLIENT },
		{ "from_server", DET_FLOW_TO_CLIENT },
		{ "established", DET_FLOW_ESTABLISHED },
		{ "not_established", DET_FLOW_NOT_ESTABLISHED },
		{ "stateless", DET_FLOW_STATELESS },
		{ "only_stream", DET_FLOW_ONLY_STREAM },
		{ "no_stream", DET_FLOW_NO_STREAM },
	};
	char tmp[256], *tok, *save;
	uint32_t f = 0;

	(void)kw;
	if (ps->have_flow)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "flow given twice");
	ps->have_flow = true;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	for (tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		tok = det_strip(tok);
		for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			if (strcmp(tok, opts[i].name) == 0)
				break;
		if (i == sizeof(opts) / sizeof(opts[0])) {
			if (strcmp(tok, "only_frag") == 0 || strcmp(tok, "no_frag") == 0)
				return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
						"flow option '%s' is not supported", tok);
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"flow option '%s' is not one of to_server, to_client, "
					"from_server, from_client, established, not_established, "
					"stateless, only_stream, no_stream",
					tok);
		}
		f |= opts[i].flag;
	}
	if ((f & DET_FLOW_TO_SERVER) && (f & DET_FLOW_TO_CLIENT))
		return fail(ps, DET_R_INVALID_COMBINATION, ps->val_off,
				"flow cannot be both to_server and to_client");
	if ((f & DET_FLOW_ESTABLISHED) && (f & DET_FLOW_NOT_ESTABLISHED))
		return fail(ps, DET_R_INVALID_COMBINATION, ps->val_off,
				"flow cannot be both established and not_established");
	if ((f & DET_FLOW_ONLY_STREAM) && (f & DET_FLOW_NO_STREAM))
		return fail(ps, DET_R_INVALID_COMBINATION, ps->val_off,
				"flow cannot be both only_stream and no_stream");
	if (f == 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "flow needs at least one option");
	ps->r->flow = f;
	return 0;
}

static int
kw_dsize(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_rule *r = ps->r;
	int rc;

	(void)kw;
	if (r->dsize.op != 0)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "dsize given twice");
	ps->dsize_off = ps->kw_off;
	/* Suricata's integer forms, as every other numeric keyword (det_cmp_parse) */
	rc = det_cmp_parse(v, 65535, &r->dsize);
	if (rc == 0)
		return 0;
	memset(&r->dsize, 0, sizeof(r->dsize));
	if (rc == -ERANGE)
		return fail(ps, DET_R_CANNOT_MATCH, ps->val_off, "dsize:%s can never match", v);
	if (strstr(v, "<>") != NULL || strchr(v, '-') != NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"dsize range '%s' should be lo<>hi or lo-hi with lo+1 < hi (exclusive, "
				"0-65535)",
				v);
	return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
			"dsize '%s' should be N, !N, <N, >N, <=N, >=N or lo<>hi (0-65535)", v);
}

static int
kw_flags(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_rule *r = ps->r;
	const char *s = v, *comma = strchr(v, ',');
	uint8_t bits = 0, ignore = 0;
	uint8_t mode = DET_TF_EXACT;
	bool zero = false;

	(void)kw;
	if (r->tflags_mode != DET_TF_NONE)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off, "flags given twice");
	for (; *s && s != comma; s++) {
		switch (*s) {
		case ' ':
			continue;
		case '+':
			mode = DET_TF_ALL;
			continue;
		case '*':
			mode = DET_TF_ANY;
			continue;
		case '!':
			mode = DET_TF_NOT;
			continue;
		case 'F':
			bits |= 0x01;
			continue;
		case 'S':
			bits |= 0x02;
			continue;
		case 'R':
			bits |= 0x04;
			continue;
		case 'P':
			bits |= 0x08;
			continue;
		case 'A':
			bits |= 0x10;
			continue;
		case 'U':
			bits |= 0x20;
			continue;
		case 'E':
		case '2':
			bits |= 0x40;
			continue;
		case 'C':
		case 'W':
		case '1':
			bits |= 0x80;
			continue;
		case '0':
			zero = true;
			continue;
		default:
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off + (unsigned)(s - v),
					"'%c' is not a TCP flag (F S R P A U C E, 0 for none, modifiers "
					"+ * !)",
					*s);
		}
	}
	if (comma != NULL) {
		for (s = comma + 1; *s; s++) {
			static const char names[] = "FSRPAUEC";
			const char *p = strchr(names, *s);

			if (*s == ' ')
				continue;
			if (*s == '1') {
				ignore |= 0x80;
				continue;
			}
			if (*s == '2') {
				ignore |= 0x40;
				continue;
			}
			if (p == NULL || *s == '\0')
				return fail(ps, DET_R_INVALID_VALUE,
						ps->val_off + (unsigned)(s - v),
						"'%c' is not a TCP flag in the mask", *s);
			ignore |= (uint8_t)(1u << (p - names));
		}
	}
	if (zero && bits != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"flags '0' (no flag set) cannot be combined with flag letters");
	if (!zero && bits == 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "flags needs at least one flag");
	r->tflags_mode = zero ? DET_TF_EXACT : mode;
	r->tflags = bits;
	r->tflags_ignore = ignore;
	return 0;
}

static int
parse_thresh(struct pstate *ps, const char *v, bool df)
{
	struct det_threshold *th = &ps->r->th;
	char tmp[256], *tok, *save;
	bool have_type = df, have_track = false, have_count = false, have_secs = false;
	bool have_mult = false;

	if (ps->have_threshold || ps->have_df)
		return fail(ps, DET_R_INVALID_COMBINATION, ps->kw_off,
				"only one threshold or detection_filter per rule");
	if (df)
		ps->have_df = true;
	else
		ps->have_threshold = true;
	th->type = df ? DET_TH_DETECTION_FILTER : DET_TH_NONE;
	if (copy_value(ps, tmp, sizeof(tmp), v) != 0)
		return -EINVAL;
	for (tok = strtok_r(tmp, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *key = det_strip(tok), *val = key;
		long n;

		while (*val && !isspace((unsigned char)*val))
			val++;
		if (*val)
			*val++ = '\0';
		val = det_strip(val);
		if (strcmp(key, "type") == 0 && !df) {
			if (strcmp(val, "limit") == 0)
				th->type = DET_TH_LIMIT;
			else if (strcmp(val, "threshold") == 0)
				th->type = DET_TH_THRESHOLD;
			else if (strcmp(val, "both") == 0)
				th->type = DET_TH_BOTH;
			else if (strcmp(val, "backoff") == 0)
				th->type = DET_TH_BACKOFF;
			else
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"threshold type '%s' is not limit, threshold, both or "
						"backoff",
						val);
			have_type = true;
		} else if (strcmp(key, "track") == 0) {
			if (strcmp(val, "by_src") == 0)
				th->track = DET_TRACK_SRC;
			else if (strcmp(val, "by_dst") == 0)
				th->track = DET_TRACK_DST;
			else if (strcmp(val, "by_rule") == 0)
				th->track = DET_TRACK_RULE;
			else if (strcmp(val, "by_both") == 0)
				th->track = DET_TRACK_BOTH;
			else if (strcmp(val, "by_flow") == 0)
				th->track = DET_TRACK_FLOW;
			else
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"track '%s' is not by_src, by_dst, by_rule, by_both or "
						"by_flow",
						val);
			have_track = true;
		} else if (strcmp(key, "count") == 0) {
			if (parse_uint(val, 1, UINT32_MAX, &n) != 0)
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"count '%s' is not a positive number", val);
			th->count = (uint32_t)n;
			have_count = true;
		} else if (strcmp(key, "seconds") == 0) {
			if (parse_uint(val, 1, 86400 * 365, &n) != 0)
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"seconds '%s' is not a positive number", val);
			th->seconds = (uint32_t)n;
			have_secs = true;
		} else if (strcmp(key, "unique_on") == 0 && df) {
			if (strcmp(val, "src_port") == 0)
				th->unique_on = DET_UNIQ_SRC_PORT;
			else if (strcmp(val, "dst_port") == 0)
				th->unique_on = DET_UNIQ_DST_PORT;
			else
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"unique_on '%s' is not src_port or dst_port", val);
		} else if (strcmp(key, "multiplier") == 0 && !df) {
			if (parse_uint(val, 2, UINT32_MAX, &n) != 0)
				return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
						"multiplier '%s' is not a number from 2", val);
			th->multiplier = (uint32_t)n;
			have_mult = true;
		} else if (strcmp(key, "unique_on") == 0 || strcmp(key, "multiplier") == 0) {
			return fail(ps, DET_R_UNSUPPORTED_MODIFIER, ps->val_off,
					"%s option '%s' is not supported", ps->kw, key);
		} else {
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"'%s' is not a %s option (%s track, count, seconds)", key,
					ps->kw, df ? "" : "type,");
		}
	}
	if (th->type == DET_TH_BACKOFF) {
		/* Suricata: backoff counts a flow's matches, without a window */
		if (!have_track || !have_count || !have_mult || have_secs ||
				th->track != DET_TRACK_FLOW)
			return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
					"threshold type backoff needs track by_flow, count and "
					"multiplier (and no seconds)");
		return 0;
	}
	if (have_mult)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"multiplier is for threshold type backoff only");
	if (!have_type || !have_track || !have_count || !have_secs)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off,
				"%s needs %strack, count and seconds", ps->kw, df ? "" : "type, ");
	return 0;
}

static int
kw_threshold(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return parse_thresh(ps, v, false);
}

static int
kw_detection_filter(struct pstate *ps, const char *v, unsigned kw)
{
	(void)kw;
	return parse_thresh(ps, v, true);
}

/* An item of any type: what its keyword allocated. */
static void
free_item_any(struct det_item *it)
{
	if (it->type == DET_ITEM_CONTENT)
		free_content(it);
	else if (it->type == DET_ITEM_PCRE)
		free_pcre(it);
}

/* ---- header keywords (det_hdr.h) ---- */

static int
kw_hdr(struct pstate *ps, const char *v, unsigned kw)
{
	struct det_rule *r = ps->r;
	struct det_hdr h, *nv;
	char msg[256];

	if (det_hdr_parse(det_hdr_find(ps->kw), v != NULL ? v : "", &h, msg, sizeof(msg)) != 0)
		return fail(ps, DET_R_INVALID_VALUE, ps->val_off, "%s", msg);
	h.kw = (uint16_t)kw;
	h.col = ps->kw_off;
	nv = realloc(r->hdr, (r->n_hdr + 1) * sizeof(*nv));
	if (nv == NULL)
		return fail(ps, DET_R_INVALID_VALUE, ps->kw_off, "out of memory");
	r->hdr = nv;
	r->hdr[r->n_hdr++] = h;
	return 0;
}

/* ---- the keyword table ---- */

enum {
	V_NONE = 1,	/* takes no value */
	V_REQUIRED = 2, /* needs name:value */
	V_OPTIONAL = 3,
};

struct det_keyword {
	const char *name;
	int (*parse)(struct pstate *ps, const char *value, unsigned kw);
	void (*free)(struct det_item *it);
	uint8_t value;
	const char *unsupported; /* non-NULL: known Suricata keyword Vigil lacks, and why */
};

#define WHY_APP	  "application-layer keyword of a protocol Vigil has no parser for"
#define WHY_APPKW "application-layer keyword Vigil's parsers do not provide"
#define WHY_FILE  "file tracking (names, hashes, sizes, magic, storing) is not implemented"
#define WHY_BYTE  "byte arithmetic is not implemented"
#define WHY_STATE "flow/host variables need per-flow state the signature engine does not keep"
#define WHY_XFORM \
	"transform not implemented (dotprefix, strip_whitespace, compress_whitespace, to_lowercase, to_uppercase, url_decode are)"
#define WHY_OTHER "not implemented"

static const struct det_keyword keywords[] = {
	{ "msg", kw_msg, NULL, V_REQUIRED, NULL },
	{ "sid", kw_sid, NULL, V_REQUIRED, NULL },
	{ "rev", kw_rev, NULL, V_REQUIRED, NULL },
	{ "gid", kw_gid, NULL, V_REQUIRED, NULL },
	{ "priority", kw_priority, NULL, V_REQUIRED, NULL },
	{ "classtype", kw_classtype, NULL, V_REQUIRED, NULL },
	{ "metadata", kw_metadata, NULL, V_REQUIRED, NULL },
	{ "reference", kw_reference, NULL, V_REQUIRED, NULL },
	{ "target", kw_target, NULL, V_REQUIRED, NULL },
	{ "noalert", kw_noalert, NULL, V_NONE, NULL },
	{ "content", det_kw_content, free_content, V_REQUIRED, NULL },
	{ "nocase", kw_nocase, NULL, V_NONE, NULL },
	{ "offset", kw_offset, NULL, V_REQUIRED, NULL },
	{ "depth", kw_depth, NULL, V_REQUIRED, NULL },
	{ "distance", kw_distance, NULL, V_REQUIRED, NULL },
	{ "within", kw_within, NULL, V_REQUIRED, NULL },
	{ "fast_pattern", kw_fast_pattern, NULL, V_OPTIONAL, NULL },
	{ "prefilter", kw_prefilter, NULL, V_NONE, NULL },
	{ "startswith", kw_startswith, NULL, V_NONE, NULL },
	{ "rawbytes", kw_noop, NULL, V_NONE, NULL },
	{ "pcre", kw_pcre, free_pcre, V_REQUIRED, NULL },
	{ "isdataat", kw_isdataat, NULL, V_REQUIRED, NULL },
	{ "flow", kw_flow, NULL, V_REQUIRED, NULL },
	{ "dsize", kw_dsize, NULL, V_REQUIRED, NULL },
	{ "flags", kw_flags, NULL, V_REQUIRED, NULL },
	{ "tcp.flags", kw_flags, NULL, V_REQUIRED, NULL },
	{ "icmpv6.mtu", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "vlan.id", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "vlan.layers", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "threshold", kw_threshold, NULL, V_REQUIRED, NULL },
	{ "detection_filter", kw_detection_filter, NULL, V_REQUIRED, NULL },
	{ "pkt_data", det_kw_pkt_data, NULL, V_NONE, NULL },
	{ "endswith", det_kw_endswith, NULL, V_NONE, NULL },
	{ "bsize", det_kw_bsize, NULL, V_REQUIRED, NULL },
	{ "urilen", det_kw_urilen, NULL, V_REQUIRED, NULL },
	{ "uricontent", det_kw_uricontent, free_content, V_REQUIRED, NULL },
	{ "dotprefix", det_kw_transform, NULL, V_NONE, NULL },
	{ "strip_whitespace", det_kw_transform, NULL, V_NONE, NULL },
	{ "compress_whitespace", det_kw_transform, NULL, V_NONE, NULL },
	{ "to_lowercase", det_kw_transform, NULL, V_NONE, NULL },
	{ "to_uppercase", det_kw_transform, NULL, V_NONE, NULL },
	{ "url_decode", det_kw_transform, NULL, V_NONE, NULL },
	{ "tls.subject", det_kw_tls_dn, free_content, V_REQUIRED, NULL },
	{ "tls.issuerdn", det_kw_tls_dn, free_content, V_REQUIRED, NULL },
	{ "ssh.protoversion", det_kw_ssh_version, free_item_any, V_REQUIRED, NULL },
	{ "ssh.softwareversion", det_kw_ssh_version, free_content, V_REQUIRED, NULL },
	{ "tls.version", det_kw_number, NULL, V_REQUIRED, NULL },
	{ "dns.opcode", det_kw_number, NULL, V_REQUIRED, NULL },
	{ "dns.rrtype", det_kw_number, NULL, V_REQUIRED, NULL },
	{ "dns.rcode", det_kw_number, NULL, V_REQUIRED, NULL },
	{ "tls.cert_chain_len", det_kw_number, NULL, V_REQUIRED, NULL },
	{ "app-layer-protocol", det_kw_app_layer_protocol, NULL, V_REQUIRED, NULL },
	{ "app-layer-event", det_kw_app_layer_event, NULL, V_REQUIRED, NULL },

	/*
	 * Payload, flow state and header keywords: those with a parser are implemented
	 * (byte_test, byte_jump, flowbits, flowint, stream_size, the header and checksum ones);
	 * a row with a NULL parser is a Suricata keyword Vigil lacks, rejected with the reason.
	 */
	{ "byte_test", kw_byte_test, NULL, V_REQUIRED, NULL },
	{ "byte_jump", kw_byte_jump, NULL, V_REQUIRED, NULL },
	{ "byte_extract", NULL, NULL, 0,
			"byte_extract (values kept in variables) is not implemented" },
	{ "byte_math", NULL, NULL, 0, WHY_BYTE },
	{ "entropy", NULL, NULL, 0, WHY_OTHER },
	{ "flowbits", kw_flowbits, NULL, V_REQUIRED, NULL },
	{ "flowint", kw_flowint, NULL, V_REQUIRED, NULL },
	{ "flowvar", NULL, NULL, 0, WHY_STATE },
	{ "pktvar", NULL, NULL, 0, WHY_STATE },
	{ "xbits", NULL, NULL, 0, WHY_STATE },
	{ "hostbits", NULL, NULL, 0, WHY_STATE },
	{ "stream_size", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "tag", NULL, NULL, 0, "tagging follow-up packets is not implemented" },
	{ "replace", NULL, NULL, 0, "rewriting payloads is not implemented" },
	{ "asn1", NULL, NULL, 0, "ASN.1 decoding is not implemented" },
	{ "base64_decode", NULL, NULL, 0, WHY_XFORM },
	{ "base64_data", NULL, NULL, 0, WHY_XFORM },
	{ "to_md5", NULL, NULL, 0, WHY_XFORM },
	{ "to_sha1", NULL, NULL, 0, WHY_XFORM },
	{ "to_sha256", NULL, NULL, 0, WHY_XFORM },
	{ "pcrexform", NULL, NULL, 0, WHY_XFORM },
	{ "xor", NULL, NULL, 0, WHY_XFORM },
	{ "ttl", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "tos", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "id", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "ip_proto", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "ipopts", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "fragbits", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "fragoffset", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "sameip", kw_hdr, NULL, V_NONE, NULL },
	{ "seq", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "ack", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "window", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "tcp.mss", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "itype", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "icode", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "icmp_id", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "icmp_seq", kw_hdr, NULL, V_REQUIRED, NULL },
	{ "rpc", NULL, NULL, 0, WHY_APP },
	{ "decode-event", det_kw_event, NULL, V_REQUIRED, NULL },
	{ "stream-event", det_kw_event, NULL, V_REQUIRED, NULL },
	{ "ipv4-csum", det_kw_csum, NULL, V_REQUIRED, NULL },
	{ "tcpv4-csum", det_kw_csum, NULL, V_REQUIRED, NULL },
	{ "tcpv6-csum", det_kw_csum, NULL, V_REQUIRED, NULL },
	{ "udpv4-csum", det_kw_csum, NULL, V_REQUIRED, NULL },
	{ "udpv6-csum", det_kw_csum, NULL, V_REQUIRED, NULL },
	{ "icmpv4-csum", det_kw_csum, NULL, V_REQUIRED, NULL },
	{ "icmpv6-csum", det_kw_csum, NULL, V_REQUIRED, NULL },
	{ "igmp-csum", det_kw_csum, NULL, V_REQUIRED, NULL },
	{ "engine-event", NULL, NULL, 0, "engine events are not exposed to signatures" },
	{ "lua", NULL, NULL, 0, "Lua scripts are not supported" },
	{ "luajit", NULL, NULL, 0, "Lua scripts are not supported" },
	{ "dataset", NULL, NULL, 0, WHY_OTHER },
	{ "datarep", NULL, NULL, 0, WHY_OTHER },
	{ "iprep", NULL, NULL, 0, WHY_OTHER },
	{ "geoip", NULL, NULL, 0, WHY_OTHER },
	{ "bypass", NULL, NULL, 0, WHY_OTHER },
	{ "config", NULL, NULL, 0, WHY_OTHER },
	{ "requires", NULL, NULL, 0, WHY_OTHER },
	{ "filestore", NULL, NULL, 0, WHY_FILE },
	{ "filemagic", NULL, NULL, 0, WHY_FILE },
	{ "filename", NULL, NULL, 0, WHY_FILE },
	{ "fileext", NULL, NULL, 0, WHY_FILE },
	{ "filemd5", NULL, NULL, 0, WHY_FILE },
	{ "filesha1", NULL, NULL, 0, WHY_FILE },
	{ "filesha256", NULL, NULL, 0, WHY_FILE },
	{ "filesize", NULL, NULL, 0, WHY_FILE },
	{ "file.name", NULL, NULL, 0, WHY_FILE },
	{ "tls.fingerprint", NULL, NULL, 0, WHY_APPKW },
	{ "tls.store", NULL, NULL, 0, WHY_APPKW },
	{ "tls_store", NULL, NULL, 0, WHY_APPKW },
	{ "ssl_version", NULL, NULL, 0, WHY_APPKW },
	{ "ssl_state", NULL, NULL, 0, WHY_APPKW },
	{ "dce_iface", NULL, NULL, 0, WHY_APP },
	{ "dce_opnum", NULL, NULL, 0, WHY_APP },
	{ "dce_stub_data", NULL, NULL, 0, WHY_APP },
	{ "ftpbounce", NULL, NULL, 0, WHY_APPKW },
	{ "ftpdata_command", NULL, NULL, 0, WHY_APPKW },
	{ "krb5_cname", NULL, NULL, 0, WHY_APP },
	{ "krb5_sname", NULL, NULL, 0, WHY_APP },
	{ "krb5_err_code", NULL, NULL, 0, WHY_APP },
	{ "krb5_msg_type", NULL, NULL, 0, WHY_APP },
	{ "nfs_procedure", NULL, NULL, 0, WHY_APP },
	{ "modbus", NULL, NULL, 0, WHY_APP },
	{ "dnp3_func", NULL, NULL, 0, WHY_APP },
	{ "dnp3_ind", NULL, NULL, 0, WHY_APP },
	{ "dnp3_obj", NULL, NULL, 0, WHY_APP },
	{ "dnp3_data", NULL, NULL, 0, WHY_APP },
	{ "enip_command", NULL, NULL, 0, WHY_APP },
	{ "cip_service", NULL, NULL, 0, WHY_APP },
	{ "frame", NULL, NULL, 0, WHY_APP },
	{ "nfq_set_mark", NULL, NULL, 0, WHY_OTHER },
	{ "flow.age", NULL, NULL, 0, WHY_STATE },
	{ "flow.pkts", NULL, NULL, 0, WHY_STATE },
	{ "flow.bytes", NULL, NULL, 0, WHY_STATE },
};

#define N_KEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

/*
 * Sticky buffers of application-layer parsers share a shape ("http.uri", "dns.query",
 * "tls.sni", ...); any dotted keyword with one of these prefixes is reported as an
 * unsupported application-layer buffer rather than an unknown keyword.
 */
static const char *const app_prefixes[] = { "http.", "http2.", "dns.", "tls.", "ssh.", "ja3.",
	"ja3s.", "ja4.", "smb.", "krb5.", "sip.", "quic.", "snmp.", "mqtt.", "rfb.", "ike.",
	"dhcp.", "ftp.", "smtp.", "email.", "pgsql.", "modbus.", "dnp3.", "enip.", "file.", "x509.",
	"ldap.", "websocket.", "llmnr.", "mdns.", "sdp.", "tftp.", "nfs.", "dcerpc.", "dce.",
	"cip.", "rdp.", "imap.", "pop3.", "ntp.", "bittorrent-dht.", "vlan.", "ipv4.", "ipv6.",
	"tcp.", "udp.", "icmpv4.", "icmpv6.", "icmp.", "pkt.", "flow." };

/* Of those, the protocols Vigil parses: a keyword there is one its parsers do not provide. */
static const char *const parsed_prefixes[] = { "http.", "dns.", "tls.", "ssh.", "ja3.", "ja3s.",
	"ftp.", "smtp.", "file." };

const char *
det_keyword_name(unsigned kw)
{
	return kw < N_KEYWORDS ? keywords[kw].name : "?";
}

static int
keyword_find(const char *name)
{
	for (unsigned i = 0; i < N_KEYWORDS; i++)
		if (strcmp(keywords[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool
det_keyword_supported(const char *name)
{
	int k = keyword_find(name);

	if (k < 0)
		return det_buf_find_sticky(name) >= 0 || det_buf_find_modifier(name) >= 0;
	return keywords[k].unsupported == NULL;
}

void
det_rule_free(struct det_rule *r)
{
	if (r == NULL)
		return;
	for (unsigned i = 0; i < r->n_items; i++)
		if (r->items[i].kw < N_KEYWORDS && keywords[r->items[i].kw].free != NULL)
			keywords[r->items[i].kw].free(&r->items[i]);
	free(r->items);
	for (unsigned i = 0; i < r->n_hitems; i++)
		if (r->hitems[i].kw < N_KEYWORDS && keywords[r->hitems[i].kw].free != NULL)
			keywords[r->hitems[i].kw].free(&r->hitems[i]);
	free(r->hitems);
	free(r->hdr);
	free(r->spans);
	free(r->nums);
	for (unsigned i = 0; i < r->n_fb; i++)
		for (unsigned k = 0; k < r->fb[i].n; k++)
			free(r->fb[i].names[k]);
	free(r->fb);
	for (unsigned i = 0; i < r->n_fi; i++)
		free(r->fi[i].name);
	free(r->fi);
	det_ipset_free(&r->src);
	det_ipset_free(&r->dst);
	det_portset_free(&r->sport);
	det_portset_free(&r->dport);
	det_portset_free(&r->app_ports);
	free(r->msg);
	free(r->classtype);
	free(r->classdesc);
	free(r->metadata);
	free(r->references);
	free(r->file);
	free(r->text);
	free(r);
}

/* ---- options ---- */

/* Find the sid before parsing, so that a rejected rule is reported with its sid. */
uint32_t
det_rule_prescan_sid(const char *t)
{
	const char *p = t;

	while ((p = strstr(p, "sid")) != NULL) {
		const char *q = p + 3;
		char *end;
		unsigned long v;

		if (p > t && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.')) {
			p++;
			continue;
		}
		while (isspace((unsigned char)*q))
			q++;
		if (*q != ':') {
			p++;
			continue;
		}
		q++;
		v = strtoul(q, &end, 10);
		if (end != q && v <= UINT32_MAX)
			return (uint32_t)v;
		p++;
	}
	return 0;
}

static int
parse_option(struct pstate *ps, char *opt, unsigned off)
{
	char *name = opt, *val = NULL, *colon;
	unsigned val_off = off;
	int k;

	/* the name ends at the first ':' */
	colon = strchr(opt, ':');
	if (colon != NULL) {
		*colon = '\0';
		val = colon + 1;
		val_off = off + (unsigned)(val - opt);
		while (isspace((unsigned char)*val)) {
			val++;
			val_off++;
		}
		{
			char *e = val + strlen(val);

			while (e > val && isspace((unsigned char)e[-1]))
				*--e = '\0';
		}
	}
	while (isspace((unsigned char)*name)) {
		name++;
		off++;
	}
	{
		char *e = name + strlen(name);

		while (e > name && isspace((unsigned char)e[-1]))
			*--e = '\0';
	}
	ps->kw = name;
	ps->kw_off = off;
	ps->val_off = val_off;
	memcpy(ps->prev_kw, ps->cur_kw, sizeof(ps->prev_kw));
	snprintf(ps->cur_kw, sizeof(ps->cur_kw), "%s", name);
	if (*name == '\0')
		return fail(ps, DET_R_SYNTAX, off, "empty option (two ';' in a row?)");
	k = keyword_find(name);
	if (k < 0) {
		int b = det_buf_find_sticky(name), m = det_buf_find_modifier(name);

		if (b >= 0 || m >= 0) {
			if (val != NULL)
				return fail(ps, DET_R_SYNTAX, val_off, "'%s' takes no value", name);
			return b >= 0 ? det_kw_sticky(ps, (unsigned)b)
				      : det_kw_modifier(ps, (unsigned)m);
		}
		for (size_t i = 0; i < sizeof(parsed_prefixes) / sizeof(parsed_prefixes[0]); i++)
			if (strncmp(name, parsed_prefixes[i], strlen(parsed_prefixes[i])) == 0)
				return fail(ps, DET_R_UNSUPPORTED_KEYWORD, off,
						"unsupported keyword '%s': %s", name, WHY_APPKW);
		for (size_t i = 0; i < sizeof(app_prefixes) / sizeof(app_prefixes[0]); i++)
			if (strncmp(name, app_prefixes[i], strlen(app_prefixes[i])) == 0)
				return fail(ps, DET_R_UNSUPPORTED_KEYWORD, off,
						"unsupported keyword '%s': %s", name, WHY_APP);
		return fail(ps, DET_R_UNKNOWN_KEYWORD, off, "unknown keyword '%s'", name);
	}
	if (keywords[k].unsupported != NULL)
		return fail(ps, DET_R_UNSUPPORTED_KEYWORD, off, "unsupported keyword '%s': %s",
				name, keywords[k].unsupported);
	if (keywords[k].value == V_REQUIRED && (val == NULL || *val == '\0'))
		return fail(ps, DET_R_SYNTAX, off, "'%s' needs a value (%s:<value>;)", name, name);
	if (keywords[k].value == V_NONE && val != NULL)
		return fail(ps, DET_R_SYNTAX, val_off, "'%s' takes no value", name);
	return keywords[k].parse(ps, val, (unsigned)k);
}

int
det_rule_parse_options(struct pstate *ps, unsigned open, unsigned close)
{
	const char *t = ps->text;
	unsigned i = open + 1, start = open + 1;
	char *opt;
	int rc;

	while (i < close) {
		if (t[i] == '\\' && i + 1 < close) {
			i += 2;
			continue;
		}
		if (t[i] != ';') {
			i++;
			continue;
		}
		opt = strndup(t + start, i - start);
		if (opt == NULL)
			return fail(ps, DET_R_INVALID_VALUE, start, "out of memory");
		rc = parse_option(ps, opt, start);
		free(opt);
		if (rc != 0)
			return rc;
		i++;
		start = i;
	}
	/* what follows the last ';' must be blank */
	for (unsigned j = start; j < close; j++)
		if (!isspace((unsigned char)t[j])) {
			ps->kw = NULL;
			return fail(ps, DET_R_SYNTAX, j, "option '%.*s' is not terminated with ';'",
					(int)(close - j), t + j);
		}
	ps->kw = NULL;
	return 0;
}
