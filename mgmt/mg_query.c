/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "al.h"
#include "mg_query.h"
#include "vg_addr.h"

const char *const mg_app_proto_names[] = { "unknown", "http", "tls", "dns", "ssh", "smtp", "ftp",
	"failed", NULL };

_Static_assert(sizeof(mg_app_proto_names) / sizeof(mg_app_proto_names[0]) == AL_PROTO__COUNT + 1,
		"one name per enum al_proto");

#define NS_PER_S 1000000000LL

int
mg_parse_addr(const char *s, struct mg_addr *out)
{
	struct vg_addr a;

	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(out->text) || vg_addr_parse_str(s, &a) != 0)
		return -EINVAL;
	out->family = a.family;
	memcpy(out->addr, a.b, sizeof(out->addr));
	vg_addr_format(&a, out->text, sizeof(out->text));
	return 0;
}

/* Read exactly n digits. */
static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* ".123456789": fraction of a second in ns; absent is 0. */
static int
fraction_ns(const char **p, int64_t *ns)
{
	int64_t scale = NS_PER_S / 10;

	*ns = 0;
	if (**p != '.')
		return 0;
	(*p)++;
	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	while (isdigit((unsigned char)**p)) {
		*ns += (**p - '0') * scale;
		scale /= 10;
		(*p)++;
	}
	return 0;
}

static int
parse_rfc3339(const char *s, int64_t *out_ns)
{
	const char *p = s;
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
	int64_t frac;
	struct tm tm;
	time_t t;

	if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' ||
			digits(&p, 2, &D) || (*p != 'T' && *p != 't' && *p != ' '))
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m) || *p++ != ':' ||
			digits(&p, 2, &sec) || fraction_ns(&p, &frac))
		return -EINVAL;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
	} else {
		return -EINVAL; /* a time without a zone means nothing to a remote appliance */
	}
	if (*p != '\0' || Y < 1970 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 ||
			sec > 60)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 31 February into March: refuse dates that do not exist. */
	if (t == (time_t)-1 || tm.tm_mday != D || tm.tm_mon != M - 1)
		return -EINVAL;
	t -= sign * (oh * 3600 + om * 60);
	if (t < 0 || (int64_t)t > INT64_MAX / NS_PER_S - 1)
		return -EINVAL;
	*out_ns = (int64_t)t * NS_PER_S + frac;
	return 0;
}

int
mg_parse_time(const char *s, int64_t now_ns, int64_t *out_ns)
{
	char *end;

	if (s[0] == '-') {
		/* Relative to now: -30s, -15m, -2h, -7d. */
		static const struct {
			char unit;
			int64_t s;
		} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
		unsigned long long n;

		if (!isdigit((unsigned char)s[1]))
			return -EINVAL;
		errno = 0;
		n = strtoull(s + 1, &end, 10);
		if (end[0] == '\0' || end[1] != '\0')
			return -EINVAL;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (units[i].unit != end[0])
				continue;
			/* Bounded before multiplying: 100 years of ns fits in int64_t, more may
			 * not. */
			if (errno != 0 || n > (unsigned long long)(MG_TIME_BACK_MAX_S / units[i].s))
				return -ERANGE;
			int64_t back = (int64_t)n * units[i].s * NS_PER_S;

			*out_ns = now_ns > back ? now_ns - back : 0;
			return 0;
		}
		return -EINVAL;
	}
	if (strchr(s, '-') != NULL)
		return parse_rfc3339(s, out_ns);
	/* Unix seconds, with an optional fraction. */
	{
		const char *p = s;
		int64_t secs = 0, frac;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p)) {
			if (secs > (INT64_MAX / NS_PER_S - 10) / 10)
				return -EINVAL;
			secs = secs * 10 + (*p - '0');
			p++;
		}
		if (fraction_ns(&p, &frac) || *p != '\0')
			return -EINVAL;
		*out_ns = secs * NS_PER_S + frac;
		return 0;
	}
}

static int
parse_proto(const char *s, int *out)
{
	static const struct {
		const char *name;
		int num;
	} names[] = { { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "icmp", IPPROTO_ICMP },
		{ "icmpv6", IPPROTO_ICMPV6 }, { "ipv6-icmp", IPPROTO_ICMPV6 },
		{ "sctp", IPPROTO_SCTP } };
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].num;
			return 0;
		}
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 255)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int
parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static bool
valid_str(const char *s, int64_t max)
{
	size_t n = strlen(s);

	if (n == 0 || (max > 0 && (int64_t)n > max))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr("-_.", *s) == NULL)
			return false;
	return true;
}

/* What a parameter accepts, for the error message. */
static void
describe(const struct mg_qparam *q, char *buf, size_t len)
{
	switch (q->type) {
	case MG_QT_U32:
	case MG_QT_I64:
		snprintf(buf, len, "an integer from %" PRId64 " to %" PRId64, q->min, q->max);
		return;
	case MG_QT_TIME:
		snprintf(buf, len,
				"Unix seconds (1700000000), an RFC 3339 time "
				"(2026-01-31T12:00:00Z) or a time back from now (-15m, -2h, -7d)");
		return;
	case MG_QT_ADDR:
		snprintf(buf, len, "an IPv4 or IPv6 address");
		return;
	case MG_QT_PROTO:
		snprintf(buf, len, "tcp, udp, icmp, icmpv6, sctp or a number 0..255");
		return;
	case MG_QT_ENUM: {
		size_t used = 0;

		buf[0] = '\0';
		used += (size_t)snprintf(buf, len, "one of: ");
		for (int i = 0; q->names[i] != NULL && used < len; i++)
			used += (size_t)snprintf(
					buf + used, len - used, "%s%s", i ? ", " : "", q->names[i]);
		return;
	}
	case MG_QT_STR:
		snprintf(buf, len, "1 to %" PRId64 " letters, digits, '-', '_' or '.'", q->max);
		return;
	}
}

static void
reply_bad(struct mg_req *r, const struct mg_qparam *spec, const char *param, const char *fmt,
		const char *a, const char *b)
{
	json_t *acc = json_array();
	char msg[600];

	for (const struct mg_qparam *q = spec; q->name != NULL; q++)
		json_array_append_new(acc, json_string(q->name));
	snprintf(msg, sizeof(msg), fmt, a, b);
	mg_reply_error(r, 400, "invalid_query",
			json_pack("{s:o?, s:o}", "parameter", param ? mg_json_str(param) : NULL,
					"accepted", acc),
			"%s", msg);
}

int
mg_query_parse(struct mg_req *r, const struct mg_qparam *spec, void *out)
{
	char want[400];
	char shown[80];

	if (r->query_overflow) {
		reply_bad(r, spec, NULL, "more than %s query parameters%s", "32", "");
		return -EINVAL;
	}
	for (unsigned i = 0; i < r->n_query; i++) {
		const char *k = r->query[i].key, *v = r->query[i].value;
		const struct mg_qparam *q = spec;
		char *dst;
		int rc = 0;

		while (q->name != NULL && strcmp(q->name, k) != 0)
			q++;
		snprintf(shown, sizeof(shown), "%.64s%s", k, strlen(k) > 64 ? "..." : "");
		if (q->name == NULL) {
			char names[300] = "";
			size_t used = 0;

			for (const struct mg_qparam *p = spec; p->name != NULL; p++)
				used += (size_t)snprintf(names + used,
						used < sizeof(names) ? sizeof(names) - used : 0,
						"%s%s", used ? ", " : "", p->name);
			if (spec->name == NULL)
				snprintf(names, sizeof(names), "none");
			reply_bad(r, spec, shown, "unknown query parameter '%s' (accepted: %s)",
					shown, names);
			return -EINVAL;
		}
		for (unsigned j = 0; j < i; j++)
			if (strcmp(r->query[j].key, k) == 0) {
				reply_bad(r, spec, shown, "query parameter '%s' is given twice%s",
						shown, "");
				return -EINVAL;
			}
		dst = (char *)out + q->off;
		switch (q->type) {
		case MG_QT_U32: {
			int64_t x;

			rc = parse_int(v, q->min, q->max, &x);
			if (rc == 0)
				*(uint32_t *)dst = (uint32_t)x;
			break;
		}
		case MG_QT_I64:
			rc = parse_int(v, q->min, q->max, (int64_t *)dst);
			break;
		case MG_QT_TIME: {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			rc = mg_parse_time(v, (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec,
					(int64_t *)dst);
			break;
		}
		case MG_QT_ADDR:
			rc = mg_parse_addr(v, (struct mg_addr *)dst);
			break;
		case MG_QT_PROTO:
			rc = parse_proto(v, (int *)dst);
			break;
		case MG_QT_ENUM:
			rc = -EINVAL;
			for (int n = 0; q->names[n] != NULL; n++)
				if (strcmp(q->names[n], v) == 0) {
					*(int *)dst = n;
					rc = 0;
				}
			break;
		case MG_QT_STR:
			rc = valid_str(v, q->max) ? 0 : -EINVAL;
			if (rc == 0)
				*(const char **)dst = v;
			break;
		}
		if (rc != 0) {
			char val[80];

			snprintf(val, sizeof(val), "%.64s%s", v, strlen(v) > 64 ? "..." : "");
			describe(q, want, sizeof(want));
			if (rc == -ERANGE) {
				mg_reply_error(r, 400, "invalid_query",
						json_pack("{s:o, s:o, s:s}", "parameter",
								mg_json_str(shown), "value",
								mg_json_str(val), "expected",
								MG_TIME_BACK_RANGE),
						"query parameter '%s': '%s' is out of range: a time "
						"back from now goes at most %s",
						shown, val, MG_TIME_BACK_RANGE);
				return -EINVAL;
			}
			mg_reply_error(r, 400, "invalid_query",
					json_pack("{s:o, s:o, s:s}", "parameter",
							mg_json_str(shown), "value",
							mg_json_str(val), "expected", want),
					"query parameter '%s': '%s' is not %s", shown, val, want);
			return -EINVAL;
		}
	}
	return 0;
}
