/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vg_pktgen_opt.h"

#define PROG "vg-pktgen"

enum {
	OPT_SEED = 256,
	OPT_FLOWS,
	OPT_FAMILY,
	OPT_V6_SHARE,
	OPT_PROTO,
	OPT_MIX,
	OPT_PORTS,
	OPT_SIZE,
	OPT_PACKETS,
	OPT_PER_FLOW,
	OPT_ORDER,
	OPT_TCP_MODE,
	OPT_NO_CLOSE,
	OPT_APP,
	OPT_REQUESTS,
	OPT_KEEPALIVE_SHARE,
	OPT_MATCH_SHARE,
	OPT_MATCH_PATTERN,
	OPT_MATCH_FILE,
	OPT_DENY_SHARE,
	OPT_DENY_DPORT,
	OPT_VLAN,
	OPT_TIMESTAMPS,
	OPT_QUIET,
};

static const struct option long_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "flows", required_argument, NULL, OPT_FLOWS },
	{ "family", required_argument, NULL, OPT_FAMILY },
	{ "v6-share", required_argument, NULL, OPT_V6_SHARE },
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "mix", required_argument, NULL, OPT_MIX },
	{ "ports", required_argument, NULL, OPT_PORTS },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "packets", required_argument, NULL, OPT_PACKETS },
	{ "per-flow", required_argument, NULL, OPT_PER_FLOW },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "tcp-mode", required_argument, NULL, OPT_TCP_MODE },
	{ "no-close", no_argument, NULL, OPT_NO_CLOSE },
	{ "app", required_argument, NULL, OPT_APP },
	{ "requests", required_argument, NULL, OPT_REQUESTS },
	{ "keepalive-share", required_argument, NULL, OPT_KEEPALIVE_SHARE },
	{ "match-share", required_argument, NULL, OPT_MATCH_SHARE },
	{ "match-pattern", required_argument, NULL, OPT_MATCH_PATTERN },
	{ "match-file", required_argument, NULL, OPT_MATCH_FILE },
	{ "deny-share", required_argument, NULL, OPT_DENY_SHARE },
	{ "deny-dport", required_argument, NULL, OPT_DENY_DPORT },
	{ "vlan", required_argument, NULL, OPT_VLAN },
	{ "timestamps", required_argument, NULL, OPT_TIMESTAMPS },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ NULL, 0, NULL, 0 },
};

static const uint16_t default_ports[] = { 80, 443, 53, 22, 8080 };
static const uint16_t default_http_ports[] = { 80, 8080 };
static const uint16_t default_dns_ports[] = { 53 };

void
vg_pktgen_usage(FILE *out)
{
	fputs("usage: vg-pktgen [options] -o FILE.pcap\n"
	      "\n"
	      "Writes a deterministic Ethernet pcap (DLT_EN10MB) for benchmarks and tests and prints\n"
	      "a one-line JSON summary. The same options and seed give a byte-identical file.\n"
	      "Counts accept k, M and G suffixes (x1000).\n"
	      "\n"
	      "  -o, --output FILE            pcap to write (required)\n"
	      "      --seed N                 seed of every choice, 0 to 2^63-1 (default 1)\n"
	      "      --flows N                distinct 5-tuples, 1 to 10M (default 1)\n"
	      "      --family 4|6|mixed       address family (default 4)\n"
	      "      --v6-share F             share of IPv6 flows with --family mixed (default 0.3)\n"
	      "      --proto tcp|udp|icmp|mix protocol (default tcp)\n"
	      "      --mix tcp=W,udp=W,icmp=W weights for --proto mix (default tcp=80,udp=15,icmp=5)\n"
	      "      --ports LIST             server ports (default 80,443,53,22,8080)\n"
	      "      --size 64|imix|1500|LIST frame sizes including the 4-byte FCS (default 64);\n"
	      "                               LIST is SIZE[:WEIGHT],...; imix is 64:7,576:4,1500:1\n"
	      "      --packets N              total packets, spread evenly over the flows\n"
	      "      --per-flow K             packets per flow (default 10)\n"
	      "      --order rr|shuffle       round robin over flows or seeded shuffle (default rr)\n"
	      "      --tcp-mode handshake|midstream\n"
	      "                               full TCP sessions or data segments only (default\n"
	      "                               handshake)\n"
	      "      --no-close               handshake mode: leave flows open (no FIN teardown)\n"
	      "      --app none|http|dns      payload: filler bytes (none, the default), or\n"
	      "                               HTTP/1.1 exchanges: each TCP flow is a whole\n"
	      "                               conversation (handshake, requests, responses cut at\n"
	      "                               the MSS, FIN teardown); its messages decide its\n"
	      "                               packets and sizes; server ports default to 80,8080;\n"
	      "                               or DNS: each UDP flow is a query (QTYPE A, a name of\n"
	      "                               4 to 108 bytes) and its answer (one A record); server\n"
	      "                               port defaults to 53\n"
	      "      --requests N             --app http: most requests on a keep-alive\n"
	      "                               connection, 1 to 100 (default 4)\n"
	      "      --keepalive-share F      --app http: share of flows that make 2 to N requests\n"
	      "                               on one connection; the others make one (default 0.5)\n"
	      "      --match-share F          share of flows whose first data packet carries a\n"
	      "                               pattern (exact count: round(F * flows))\n"
	      "      --match-pattern STR      a pattern, |68 65 78| escapes allowed (repeatable)\n"
	      "      --match-file FILE        patterns, one per line ('#' starts a comment line)\n"
	      "      --deny-share F           share of flows sent to --deny-dport\n"
	      "      --deny-dport P           destination port of denied flows (default 23)\n"
	      "      --vlan ID                802.1Q tag on every frame, 1 to 4094\n"
	      "      --timestamps START,STEP  first timestamp in seconds (up to 6 decimals) and step\n"
	      "                               in microseconds (default 1700000000,1)\n"
	      "      --quiet                  no progress lines on stderr\n"
	      "  -h, --help                   this text\n",
			out);
}

static void err(struct vg_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
err(struct vg_diag *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vg_diag_vadd(d, VG_SEV_ERROR, PROG, 0, 0, fmt, ap);
	va_end(ap);
}

/* Unsigned integer with an optional k/M/G suffix; the whole string must be consumed. */
static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned dg = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - dg) / 10)
			return -ERANGE;
		v = v * 10 + dg;
	}
	if (*p == 'k' || *p == 'K')
		mul = 1000;
	else if (*p == 'M')
		mul = 1000000;
	else if (*p == 'G')
		mul = 1000000000;
	if (mul != 1)
		p++;
	if (*p != '\0')
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	v *= mul;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* A number in [lo, hi] with the option named in the error. */
static int
opt_u64(struct vg_diag *d, const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v;

	if (parse_u64(s, hi, &v) < 0 || v < lo) {
		err(d, "%s '%s': expected an integer from %llu to %llu", opt, s,
				(unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
opt_share(struct vg_diag *d, const char *opt, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(v >= 0.0 && v <= 1.0)) {
		err(d, "%s '%s': expected a share from 0 to 1 (for example 0.01)", opt, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* One keyword of a fixed set; returns its index or -EINVAL after naming what is accepted. */
static int
opt_word(struct vg_diag *d, const char *opt, const char *s, const char *const *words, int n)
{
	char accepted[128] = "";

	for (int i = 0; i < n; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	for (int i = 0; i < n; i++) {
		strncat(accepted, words[i], sizeof(accepted) - strlen(accepted) - 1);
		if (i + 1 < n)
			strncat(accepted, i + 2 == n ? " or " : ", ",
					sizeof(accepted) - strlen(accepted) - 1);
	}
	err(d, "%s '%s': expected %s", opt, s, accepted);
	return -EINVAL;
}

/* Split a comma-separated list in place; returns the number of items or -E2BIG. */
static int
split_commas(char *s, char **items, int max)
{
	int n = 0;

	for (;;) {
		if (n == max)
			return -E2BIG;
		items[n++] = s;
		s = strchr(s, ',');
		if (s == NULL)
			return n;
		*s++ = '\0';
	}
}

static int
parse_sizes(struct vg_pktgen_opts *o, struct vg_diag *d, const char *arg)
{
	char *items[VG_PKTGEN_MAX_SIZES];
	char *copy;
	int n, rc = 0;

	if (strcmp(arg, "imix") == 0) {
		/* The classic simple IMIX: 7 x 64, 4 x 576, 1 x 1500. */
		o->sizes[0] = (struct vg_pktgen_size){ 64, 7 };
		o->sizes[1] = (struct vg_pktgen_size){ 576, 4 };
		o->sizes[2] = (struct vg_pktgen_size){ 1500, 1 };
		o->n_sizes = 3;
		return 0;
	}
	copy = strdup(arg);
	if (copy == NULL)
		return -ENOMEM;
	n = split_commas(copy, items, VG_PKTGEN_MAX_SIZES);
	if (n < 0) {
		err(d, "--size '%s': at most %d sizes", arg, VG_PKTGEN_MAX_SIZES);
		free(copy);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		char *colon = strchr(items[i], ':');
		uint64_t size, weight = 1;

		if (colon != NULL)
			*colon = '\0';
		if (parse_u64(items[i], VG_PKTGEN_MAX_SIZE, &size) < 0 ||
				size < VG_PKTGEN_MIN_SIZE ||
				(colon != NULL && (parse_u64(colon + 1, VG_PKTGEN_MAX_WEIGHT,
								   &weight) < 0 ||
								  weight == 0))) {
			err(d,
					"--size '%s': item %d: expected 64, 1500, imix or SIZE[:WEIGHT],... with "
					"sizes from %d to %d bytes (FCS included) and weights from 1 to %d",
					arg, i + 1, VG_PKTGEN_MIN_SIZE, VG_PKTGEN_MAX_SIZE,
					VG_PKTGEN_MAX_WEIGHT);
			rc = -EINVAL;
			break;
		}
		o->sizes[i] = (struct vg_pktgen_size){ (uint16_t)size, (uint16_t)weight };
	}
	if (rc == 0)
		o->n_sizes = (unsigned)n;
	free(copy);
	return rc;
}

static int
parse_mix(struct vg_pktgen_opts *o, struct vg_diag *d, const char *arg)
{
	static const char *const names[] = { "tcp", "udp", "icmp" };
	char *items[8];
	char *copy = strdup(arg);
	uint32_t mix[VG_PKTGEN_NPROTO] = { 0 };
	bool seen[VG_PKTGEN_NPROTO] = { false };
	uint64_t total = 0;
	int n, rc = 0;

	if (copy == NULL)
		return -ENOMEM;
	n = split_commas(copy, items, 8);
	for (int i = 0; rc == 0 && i < n; i++) {
		char *eq = strchr(items[i], '=');
		uint64_t w;
		int p = -1;

		if (eq != NULL) {
			*eq = '\0';
			for (int k = 0; k < VG_PKTGEN_NPROTO; k++)
				if (strcmp(items[i], names[k]) == 0)
					p = k;
		}
		if (p < 0 || seen[p] || parse_u64(eq + 1, 1000000, &w) < 0)
			rc = -EINVAL;
		else {
			seen[p] = true;
			mix[p] = (uint32_t)w;
			total += w;
		}
	}
	if (n < 0 || rc < 0 || total == 0) {
		err(d,
				"--mix '%s': expected tcp=W,udp=W,icmp=W with each protocol at most once, "
				"integer weights from 0 to 1000000 and a non-zero sum",
				arg);
		rc = -EINVAL;
	} else {
		memcpy(o->mix, mix, sizeof(mix));
	}
	free(copy);
	return rc;
}

static int
parse_ports(struct vg_pktgen_opts *o, struct vg_diag *d, const char *arg)
{
	char *items[VG_PKTGEN_MAX_PORTS];
	char *copy = strdup(arg);
	int n, rc = 0;

	if (copy == NULL)
		return -ENOMEM;
	n = split_commas(copy, items, VG_PKTGEN_MAX_PORTS);
	for (int i = 0; rc == 0 && i < n; i++) {
		uint64_t p;

		if (parse_u64(items[i], 65535, &p) < 0 || p == 0)
			rc = -EINVAL;
		else
			o->ports[i] = (uint16_t)p;
	}
	if (n < 0 || rc < 0) {
		err(d, "--ports '%s': expected up to %d comma-separated ports from 1 to 65535", arg,
				VG_PKTGEN_MAX_PORTS);
		rc = -EINVAL;
	} else {
		o->n_ports = (unsigned)n;
	}
	free(copy);
	return rc;
}

/* START,STEP: seconds with up to 6 decimals, microseconds. */
static int
parse_timestamps(struct vg_pktgen_opts *o, struct vg_diag *d, const char *arg)
{
	const char *p = arg;
	uint64_t sec = 0, frac = 0, step;
	int digits = 0;
	bool ok = isdigit((unsigned char)*p);

	for (; ok && isdigit((unsigned char)*p); p++) {
		sec = sec * 10 + (uint64_t)(*p - '0');
		ok = sec < 100000000000ull; /* far beyond any pcap reader's 32-bit seconds */
	}
	if (ok && *p == '.') {
		for (p++; ok && isdigit((unsigned char)*p); p++, digits++) {
			frac = frac * 10 + (uint64_t)(*p - '0');
			ok = digits < 6;
		}
		ok = ok && digits > 0;
	}
	ok = ok && *p == ',' && sec <= UINT32_MAX;
	if (ok && parse_u64(p + 1, 3600000000ull, &step) < 0)
		ok = false;
	if (!ok) {
		err(d,
				"--timestamps '%s': expected START,STEP: START in seconds from 0 to %u with up "
				"to 6 decimals, STEP in whole microseconds up to 3600000000 (default "
				"1700000000,1)",
				arg, UINT32_MAX);
		return -EINVAL;
	}
	for (; digits < 6; digits++)
		frac *= 10;
	o->ts_start_us = sec * 1000000 + frac;
	o->ts_step_us = step;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
vg_pktgen_pattern_parse(const char *text, size_t len, struct vg_pktgen_pattern *out,
		size_t *err_col, char *msg, size_t msg_len)
{
	uint8_t *b = malloc(len + 1);
	size_t n = 0, i = 0;

#define FAIL(col, ...)                               \
	do {                                         \
		*err_col = (col);                    \
		snprintf(msg, msg_len, __VA_ARGS__); \
		free(b);                             \
		return -EINVAL;                      \
	} while (0)

	if (b == NULL)
		return -ENOMEM;
	while (i < len) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\\') {
			if (i + 1 >= len || (text[i + 1] != '\\' && text[i + 1] != '|'))
				FAIL(i + 1, "a backslash must be followed by \\ or | (write other "
					    "bytes as |hex|)");
			b[n++] = (uint8_t)text[i + 1];
			i += 2;
		} else if (c == '|') {
			size_t start = i, bytes = 0;

			for (i++;;) {
				int hi, lo;

				while (i < len && text[i] == ' ')
					i++;
				if (i >= len)
					FAIL(start + 1, "unterminated |hex| run: no closing '|'");
				if (text[i] == '|') {
					i++;
					break;
				}
				hi = hexval((unsigned char)text[i]);
				if (hi < 0)
					FAIL(i + 1, "'%c' is not a hex digit inside |...|",
							text[i]);
				lo = i + 1 < len ? hexval((unsigned char)text[i + 1]) : -1;
				if (lo < 0)
					FAIL(i + 2, "hex bytes inside |...| need two digits");
				b[n++] = (uint8_t)(hi << 4 | lo);
				bytes++;
				i += 2;
			}
			if (bytes == 0)
				FAIL(start + 1, "empty |hex| run");
		} else {
			b[n++] = c;
			i++;
		}
	}
	if (n == 0)
		FAIL(1, "empty pattern");
	if (n > VG_PKTGEN_MAX_PATTERN)
		FAIL(1, "pattern is %zu bytes; at most %d", n, VG_PKTGEN_MAX_PATTERN);
#undef FAIL
	out->bytes = b;
	out->len = n;
	return 0;
}

static int
push_pattern(struct vg_pktgen_pattern **v, size_t *n, struct vg_pktgen_pattern p)
{
	struct vg_pktgen_pattern *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (nv == NULL) {
		free(p.bytes);
		return -ENOMEM;
	}
	nv[(*n)++] = p;
	*v = nv;
	return 0;
}

int
vg_pktgen_patterns_load(
		const char *path, struct vg_pktgen_pattern **v, size_t *n, struct vg_diag *d)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0, errors = 0;
	int rc = 0;

	if (f == NULL) {
		rc = -errno;
		vg_diag_add(d, VG_SEV_ERROR, path, 0, 0, "--match-file: cannot open: %s",
				strerror(errno));
		return rc;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct vg_pktgen_pattern p;
		char msg[160];
		size_t col;
		int prc;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0 || line[0] == '#')
			continue;
		prc = vg_pktgen_pattern_parse(line, (size_t)len, &p, &col, msg, sizeof(msg));
		if (prc == -EINVAL) {
			vg_diag_add(d, VG_SEV_ERROR, path, lineno, (unsigned)col, "%s", msg);
			errors++;
			continue;
		}
		if (prc == 0)
			prc = push_pattern(v, n, p);
		if (prc < 0) {
			rc = prc;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		rc = -EIO;
		vg_diag_add(d, VG_SEV_ERROR, path, lineno, 0, "--match-file: read error");
	}
	free(line);
	fclose(f);
	if (rc == 0 && errors > 0)
		rc = -EINVAL;
	return rc;
}

uint32_t
vg_pktgen_share_count(double share, uint32_t flows)
{
	return (uint32_t)llround(share * (double)flows);
}

void
vg_pktgen_opts_free(struct vg_pktgen_opts *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n_patterns; i++)
		free(o->patterns[i].bytes);
	free(o->patterns);
	free(o->output);
	memset(o, 0, sizeof(*o));
}

static void
set_defaults(struct vg_pktgen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->flows = 1;
	o->family = VG_PKTGEN_V4;
	o->v6_share = 0.3;
	o->mix[VG_PKTGEN_TCP] = 1;
	o->sizes[0] = (struct vg_pktgen_size){ 64, 1 };
	o->n_sizes = 1;
	o->order = VG_PKTGEN_RR;
	o->tcp_mode = VG_PKTGEN_HANDSHAKE;
	o->close = true;
	o->app = VG_PKTGEN_APP_NONE;
	o->requests = 4;
	o->keepalive_share = 0.5;
	o->deny_dport = 23;
	memcpy(o->ports, default_ports, sizeof(default_ports));
	o->n_ports = sizeof(default_ports) / sizeof(default_ports[0]);
	o->vlan = -1;
	o->ts_start_us = 1700000000ull * 1000000;
	o->ts_step_us = 1;
}

/* Index of "mix" in the --proto keywords (tcp, udp, icmp follow enum vg_pktgen_proto). */
#define PROTO_WORD_MIX VG_PKTGEN_NPROTO

struct given {
	bool proto, mix, v6_share, packets, per_flow, deny_dport, patterns, match_share;
	bool size, ports, no_close, requests, keepalive_share, deny_share;
	int proto_value;
};

/*
 * --app http: every flow is a TCP conversation whose messages decide its packets, so the
 * options that shape packets or payloads by other means do not apply.
 */
static void
validate_http(struct vg_pktgen_opts *o, const struct given *g, struct vg_diag *d)
{
	if (o->app != VG_PKTGEN_APP_HTTP) {
		if (g->requests)
			err(d, "--requests applies to --app http only");
		if (g->keepalive_share)
			err(d, "--keepalive-share applies to --app http only");
		return;
	}
	if (o->mix[VG_PKTGEN_UDP] > 0 || o->mix[VG_PKTGEN_ICMP] > 0)
		err(d, "--app http needs --proto tcp (HTTP/1.1 runs over TCP)");
	if (o->tcp_mode != VG_PKTGEN_HANDSHAKE)
		err(d, "--app http needs --tcp-mode handshake: each flow is a whole conversation");
	if (g->no_close)
		err(d, "--app http ends every flow with a FIN teardown; --no-close does not apply");
	if (g->packets || g->per_flow)
		err(d, "--app http: the exchanges decide each flow's packets; --packets and "
		       "--per-flow do not apply (use --flows, --requests, --keepalive-share)");
	if (g->size)
		err(d, "--app http: messages decide the segment sizes (cut at the MSS); --size does "
		       "not apply");
	if (g->match_share || g->patterns)
		err(d, "--app http: the payloads are HTTP messages; --match-share, "
		       "--match-pattern and --match-file do not apply");
	if (g->deny_share || g->deny_dport)
		err(d, "--app http: --deny-share and --deny-dport do not apply");
	if (o->requests < 2 && o->keepalive_share > 0 && g->keepalive_share)
		err(d,
				"--keepalive-share %g needs --requests 2 or more (a keep-alive flow makes 2 "
				"to N requests)",
				o->keepalive_share);
	if (o->requests < 2)
		o->keepalive_share = 0;
	if (!g->ports) {
		memcpy(o->ports, default_http_ports, sizeof(default_http_ports));
		o->n_ports = sizeof(default_http_ports) / sizeof(default_http_ports[0]);
	}
	o->per_flow = 0;
	o->packets = 0;
}

/* --app dns: every flow is a UDP query and its answer, two packets whose messages decide them. */
static void
validate_dns(struct vg_pktgen_opts *o, const struct given *g, struct vg_diag *d)
{
	if (o->app != VG_PKTGEN_APP_DNS)
		return;
	if (!g->proto && !g->mix) {
		o->mix[VG_PKTGEN_TCP] = 0;
		o->mix[VG_PKTGEN_UDP] = 1;
	} else if (o->mix[VG_PKTGEN_TCP] > 0 || o->mix[VG_PKTGEN_ICMP] > 0) {
		err(d, "--app dns needs --proto udp (each flow is a query and its answer over UDP)");
	}
	if (g->packets || g->per_flow)
		err(d, "--app dns: each flow is a query and its answer; --packets and --per-flow do "
		       "not apply");
	if (g->size)
		err(d, "--app dns: messages decide the datagram sizes; --size does not apply");
	if (g->match_share || g->patterns)
		err(d, "--app dns: the payloads are DNS messages; --match-share, --match-pattern and "
		       "--match-file do not apply");
	if (g->deny_share || g->deny_dport)
		err(d, "--app dns: --deny-share and --deny-dport do not apply");
	if (!g->ports) {
		memcpy(o->ports, default_dns_ports, sizeof(default_dns_ports));
		o->n_ports = sizeof(default_dns_ports) / sizeof(default_dns_ports[0]);
	}
	o->per_flow = 2;
	o->packets = 0;
}

/* Cross-option checks, once every option is known. */
static void
validate(struct vg_pktgen_opts *o, const struct given *g, struct vg_diag *d)
{
	uint32_t n_match, n_deny;
	uint64_t base;

	if (o->output == NULL)
		err(d, "-o/--output FILE is required");
	else if (strcmp(o->output, "-") == 0)
		err(d, "-o '-': stdout carries the JSON summary; name a file");
	if (g->packets && g->per_flow)
		err(d, "--packets and --per-flow both given; use one (--packets N spreads N over "
		       "the flows)");
	if (g->v6_share && o->family != VG_PKTGEN_MIXED)
		err(d, "--v6-share applies to --family mixed only");
	if (g->mix && g->proto && g->proto_value != PROTO_WORD_MIX)
		err(d, "--mix needs --proto mix (or no --proto)");
	if (g->proto && g->proto_value == PROTO_WORD_MIX && !g->mix) {
		o->mix[VG_PKTGEN_TCP] = 80;
		o->mix[VG_PKTGEN_UDP] = 15;
		o->mix[VG_PKTGEN_ICMP] = 5;
	}

	validate_http(o, g, d);
	validate_dns(o, g, d);
	if (o->app != VG_PKTGEN_APP_NONE)
		return;
	if (!g->packets && !g->per_flow)
		o->per_flow = 10;
	if (g->packets) {
		if (o->packets < o->flows) {
			err(d, "--packets %llu is less than --flows %u; every flow needs a packet",
					(unsigned long long)o->packets, o->flows);
			return;
		}
		if ((o->packets + o->flows - 1) / o->flows > VG_PKTGEN_MAX_PER_FLOW) {
			err(d, "--packets %llu over %u flows is more than %llu packets per flow",
					(unsigned long long)o->packets, o->flows,
					VG_PKTGEN_MAX_PER_FLOW);
			return;
		}
	}
	base = g->packets ? o->packets / o->flows : o->per_flow;

	n_match = vg_pktgen_share_count(o->match_share, o->flows);
	n_deny = vg_pktgen_share_count(o->deny_share, o->flows);

	bool tcp = o->mix[VG_PKTGEN_TCP] > 0 || (n_deny > 0 && o->mix[VG_PKTGEN_ICMP] > 0);
	uint64_t min = o->close ? 7 : 4;

	if (tcp && o->tcp_mode == VG_PKTGEN_HANDSHAKE && base < min) {
		char what[96];

		if (g->packets)
			snprintf(what, sizeof(what),
					"--packets %llu over %u flows leaves %llu packets "
					"for some flows",
					(unsigned long long)o->packets, o->flows,
					(unsigned long long)base);
		else
			snprintf(what, sizeof(what), "--per-flow %llu", (unsigned long long)base);
		err(d,
				"%s: handshake mode needs at least %llu packets per TCP flow (SYN, SYN-ACK, "
				"ACK, data%s); use more packets%s or --tcp-mode midstream",
				what, (unsigned long long)min, o->close ? ", FIN, FIN, ACK" : "",
				o->close ? ", --no-close (4)" : "");
	}

	if (g->patterns && !g->match_share)
		err(d, "--match-pattern/--match-file given without --match-share");
	if (o->match_share > 0 && o->n_patterns == 0)
		err(d, "--match-share %g needs --match-pattern STR or --match-file FILE",
				o->match_share);
	if (o->match_share > 0 && n_match == 0)
		vg_diag_add(d, VG_SEV_WARNING, PROG, 0, 0,
				"--match-share %g of %u flows rounds to 0 matching flows",
				o->match_share, o->flows);
	if (g->deny_dport && o->deny_share == 0)
		err(d, "--deny-dport needs --deny-share");
	if (o->deny_share > 0 && n_deny == 0)
		vg_diag_add(d, VG_SEV_WARNING, PROG, 0, 0,
				"--deny-share %g of %u flows rounds to 0 denied flows",
				o->deny_share, o->flows);
	if (n_deny > 0 && o->mix[VG_PKTGEN_TCP] == 0 && o->mix[VG_PKTGEN_UDP] == 0)
		err(d, "--deny-share needs TCP or UDP flows: ICMP has no ports");
	if (n_match + (uint64_t)n_deny > o->flows)
		err(d,
				"--match-share (%u flows) and --deny-share (%u flows) exceed --flows %u: a "
				"flow either matches or is denied, not both",
				n_match, n_deny, o->flows);
	for (unsigned i = 0; o->deny_share > 0 && i < o->n_ports; i++)
		if (o->ports[i] == o->deny_dport) {
			err(d, "--deny-dport %u is also in --ports; only denied flows may use it",
					o->deny_dport);
			break;
		}
}

int
vg_pktgen_opts_parse(struct vg_pktgen_opts *o, int argc, char **argv, FILE *out, struct vg_diag *d)
{
	static const char *const families[] = { "4", "6", "mixed" };
	static const char *const protos[] = { "tcp", "udp", "icmp", "mix" };
	static const char *const orders[] = { "rr", "shuffle" };
	static const char *const modes[] = { "handshake", "midstream" };
	static const char *const apps[] = { "none", "http", "dns" };
	struct given g = { 0 };
	unsigned errors0 = d->errors;
	uint64_t v;
	int c, rc = 0;

	set_defaults(o);
	optind = 0; /* glibc: restart scanning, so parse can be called more than once */
	opterr = 0;
	while (rc != -ENOMEM && (c = getopt_long(argc, argv, ":o:h", long_opts, NULL)) != -1) {
		const char *name = argv[optind - 1];
		int w;

		switch (c) {
		case 'o':
			free(o->output);
			o->output = strdup(optarg);
			if (o->output == NULL)
				rc = -ENOMEM;
			break;
		case 'h':
			vg_pktgen_usage(out);
			vg_pktgen_opts_free(o);
			return 1;
		case OPT_SEED:
			/* The JSON summary carries the seed as a signed 64-bit integer. */
			if (opt_u64(d, "--seed", optarg, 0, INT64_MAX, &v) == 0)
				o->seed = v;
			break;
		case OPT_FLOWS:
			if (opt_u64(d, "--flows", optarg, 1, VG_PKTGEN_MAX_FLOWS, &v) == 0)
				o->flows = (uint32_t)v;
			break;
		case OPT_FAMILY:
			w = opt_word(d, "--family", optarg, families, 3);
			if (w >= 0)
				o->family = (enum vg_pktgen_family)w;
			break;
		case OPT_V6_SHARE:
			g.v6_share = true;
			opt_share(d, "--v6-share", optarg, &o->v6_share);
			break;
		case OPT_PROTO:
			w = opt_word(d, "--proto", optarg, protos, 4);
			if (w >= 0) {
				g.proto = true;
				g.proto_value = w;
				if (w < VG_PKTGEN_NPROTO) {
					memset(o->mix, 0, sizeof(o->mix));
					o->mix[w] = 1;
				}
			}
			break;
		case OPT_MIX:
			g.mix = true;
			rc = parse_mix(o, d, optarg);
			break;
		case OPT_PORTS:
			g.ports = true;
			rc = parse_ports(o, d, optarg);
			break;
		case OPT_SIZE:
			g.size = true;
			rc = parse_sizes(o, d, optarg);
			break;
		case OPT_PACKETS:
			g.packets = true;
			opt_u64(d, "--packets", optarg, 1, VG_PKTGEN_MAX_PACKETS, &o->packets);
			break;
		case OPT_PER_FLOW:
			g.per_flow = true;
			opt_u64(d, "--per-flow", optarg, 1, VG_PKTGEN_MAX_PER_FLOW, &o->per_flow);
			break;
		case OPT_ORDER:
			w = opt_word(d, "--order", optarg, orders, 2);
			if (w >= 0)
				o->order = (enum vg_pktgen_order)w;
			break;
		case OPT_TCP_MODE:
			w = opt_word(d, "--tcp-mode", optarg, modes, 2);
			if (w >= 0)
				o->tcp_mode = (enum vg_pktgen_tcp_mode)w;
			break;
		case OPT_NO_CLOSE:
			g.no_close = true;
			o->close = false;
			break;
		case OPT_APP:
			w = opt_word(d, "--app", optarg, apps, 3);
			if (w >= 0)
				o->app = (enum vg_pktgen_app)w;
			break;
		case OPT_REQUESTS:
			g.requests = true;
			if (opt_u64(d, "--requests", optarg, 1, VG_PKTGEN_MAX_REQUESTS, &v) == 0)
				o->requests = (uint32_t)v;
			break;
		case OPT_KEEPALIVE_SHARE:
			g.keepalive_share = true;
			opt_share(d, "--keepalive-share", optarg, &o->keepalive_share);
			break;
		case OPT_MATCH_SHARE:
			g.match_share = true;
			opt_share(d, "--match-share", optarg, &o->match_share);
			break;
		case OPT_MATCH_PATTERN: {
			struct vg_pktgen_pattern p;
			char msg[160];
			size_t col;

			g.patterns = true;
			rc = vg_pktgen_pattern_parse(
					optarg, strlen(optarg), &p, &col, msg, sizeof(msg));
			if (rc == -EINVAL)
				err(d, "--match-pattern '%s': column %zu: %s", optarg, col, msg);
			else if (rc == 0)
				rc = push_pattern(&o->patterns, &o->n_patterns, p);
			break;
		}
		case OPT_MATCH_FILE:
			g.patterns = true;
			rc = vg_pktgen_patterns_load(optarg, &o->patterns, &o->n_patterns, d);
			break;
		case OPT_DENY_SHARE:
			g.deny_share = true;
			opt_share(d, "--deny-share", optarg, &o->deny_share);
			break;
		case OPT_DENY_DPORT:
			g.deny_dport = true;
			if (opt_u64(d, "--deny-dport", optarg, 1, 65535, &v) == 0)
				o->deny_dport = (uint16_t)v;
			break;
		case OPT_VLAN:
			if (opt_u64(d, "--vlan", optarg, 1, 4094, &v) == 0)
				o->vlan = (int)v;
			break;
		case OPT_TIMESTAMPS:
			rc = parse_timestamps(o, d, optarg);
			break;
		case OPT_QUIET:
			o->quiet = true;
			break;
		case ':':
			err(d, "%s needs a value; see --help", name);
			break;
		default:
			err(d, "unknown option '%s'; see --help", name);
			break;
		}
	}
	if (rc != -ENOMEM) {
		rc = 0;
		for (int i = optind; i < argc; i++)
			err(d, "unexpected argument '%s'; the output file is given with -o",
					argv[i]);
		if (d->errors == errors0)
			validate(o, &g, d);
	}
	if (rc == 0 && d->errors != errors0)
		rc = -EINVAL;
	if (rc != 0)
		vg_pktgen_opts_free(o);
	return rc;
}
