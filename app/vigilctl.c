/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigilctl: the Vigil appliance's REST API for people. Readable tables by default, the API's
 * own JSON with --json; the address and token come from flags or VIGIL_URL / VIGIL_TOKEN.
 *
 * Exit status: 0 done, 1 the API refused or failed (its error is printed), 2 bad command line,
 * 3 the appliance could not be reached, 4 a change was started but its outcome is not known yet
 * (202: the operation to read it from is printed).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "unknown"
#endif

enum exit_code {
	EXIT_OK = 0,
	EXIT_API = 1,
	EXIT_USAGE = 2,
	EXIT_CONNECT = 3,
	EXIT_PENDING = 4,
};

#define DEFAULT_URL "http://127.0.0.1:8080"

struct opts {
	const char *url;
	char *token;
	bool json;
	bool insecure;
	const char *cacert;
	long timeout_s;
};

static struct opts g;

/* HTTP ------------------------------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len;
};

struct reply {
	long status;
	struct buf body;
	char ctype[128];
	char etag[64];
	json_t *json;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	char *q = realloc(b->p, b->len + add + 1);

	if (q == NULL)
		return 0;
	memcpy(q + b->len, p, add);
	b->len += add;
	q[b->len] = '\0';
	b->p = q;
	return add;
}

static void
header_value(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
	size_t l = strlen(name);

	if (n <= l + 1 || strncasecmp(line, name, l) != 0 || line[l] != ':')
		return;
	line += l + 1;
	n -= l + 1;
	while (n > 0 && *line == ' ') {
		line++;
		n--;
	}
	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	snprintf(out, outlen, "%.*s", (int)n, line);
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	header_value(p, size * n, "Content-Type", r->ctype, sizeof(r->ctype));
	header_value(p, size * n, "ETag", r->etag, sizeof(r->etag));
	return size * n;
}

static void
reply_free(struct reply *r)
{
	free(r->body.p);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/*
 * One request to path (with its query already escaped). body/ctype may be NULL. Returns
 * EXIT_OK with r filled (any HTTP status), or EXIT_CONNECT after printing why.
 */
static int
request(const char *method, const char *path, const char *ctype, const char *body, size_t len,
		const char *extra_header, struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char *url = NULL, line[512];
	CURLcode rc;
	const char *base = g.url;
	size_t bl = strlen(base);

	memset(r, 0, sizeof(*r));
	if (c == NULL) {
		fprintf(stderr, "vigilctl: cannot initialise libcurl\n");
		return EXIT_CONNECT;
	}
	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	if (asprintf(&url, "%.*s%s", (int)bl, base, path) < 0) {
		curl_easy_cleanup(c);
		return EXIT_CONNECT;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, g.timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vigilctl/" VIGIL_VERSION);
	if (g.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (g.cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, g.cacert);
	if (g.token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", g.token);
		h = curl_slist_append(h, line);
	}
	if (body != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		h = curl_slist_append(h, line);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (extra_header != NULL)
		h = curl_slist_append(h, extra_header);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		fprintf(stderr, "vigilctl: %s %s: %s\n", method, url, curl_easy_strerror(rc));
		if (rc == CURLE_COULDNT_CONNECT)
			fprintf(stderr, "vigilctl: is vigild running with a mgmt: section, and is "
					"--url (or VIGIL_URL) right?\n");
		free(url);
		return EXIT_CONNECT;
	}
	free(url);
	if (r->body.p != NULL && strncmp(r->ctype, "application/json", 16) == 0)
		r->json = json_loadb(r->body.p, r->body.len, 0, NULL);
	return EXIT_OK;
}

/* Print an API failure: status, code, message, and positioned diagnostics. */
/* 202: control started the change but had not finished it when the server answered. */
static int
report_pending(const struct reply *r)
{
	fprintf(stderr, "vigilctl: %s\n",
			json_string_value(json_object_get(r->json, "message"))
					?: "the change was started; its outcome is not known yet");
	return EXIT_PENDING;
}

static int
report_error(const struct reply *r)
{
	const char *code = json_string_value(json_object_get(r->json, "error"));
	const char *msg = json_string_value(json_object_get(r->json, "message"));
	json_t *diags = json_object_get(json_object_get(r->json, "details"), "diagnostics");
	size_t i;
	json_t *d;

	if (g.json && r->json != NULL) {
		json_dumpf(r->json, stdout, JSON_INDENT(2));
		putchar('\n');
		return EXIT_API;
	}
	if (code == NULL) {
		fprintf(stderr, "vigilctl: HTTP %ld%s%.*s\n", r->status, r->body.len ? ": " : "",
				(int)(r->body.len > 300 ? 300 : r->body.len),
				r->body.p ? r->body.p : "");
		return EXIT_API;
	}
	fprintf(stderr, "vigilctl: %ld %s: %s\n", r->status, code, msg ? msg : "");
	json_array_foreach(diags, i, d)
	{
		fprintf(stderr, "%s:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT ": %s: %s\n",
				json_string_value(json_object_get(d, "file")),
				json_integer_value(json_object_get(d, "line")),
				json_integer_value(json_object_get(d, "column")),
				json_string_value(json_object_get(d, "severity")),
				json_string_value(json_object_get(d, "message")));
	}
	if (r->status == 401)
		fprintf(stderr, "vigilctl: give a token with --token, --token-file or VIGIL_TOKEN\n");
	return EXIT_API;
}

/* GET path and hand back the JSON on success; prints the error and returns non-zero else. */
static int
get_json(const char *path, struct reply *r)
{
	int rc = request("GET", path, NULL, NULL, 0, NULL, r);

	if (rc != EXIT_OK)
		return rc;
	if (r->status >= 300)
		return report_error(r);
	if (r->json == NULL) {
		fprintf(stderr, "vigilctl: GET %s: the answer is not JSON\n", path);
		return EXIT_API;
	}
	return EXIT_OK;
}

static void
print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
}

/* Formatting -------------------------------------------------------------------------------- */

static void
human_count(uint64_t v, char *out, size_t len)
{
	static const char *const units[] = { "", "k", "M", "G", "T", "P" };
	double d = (double)v;
	int u = 0;

	if (v < 10000) {
		snprintf(out, len, "%" PRIu64, v);
		return;
	}
	while (d >= 1000 && u < 5) {
		d /= 1000;
		u++;
	}
	snprintf(out, len, "%.1f%s", d, units[u]);
}

static void
human_duration(int64_t s, char *out, size_t len)
{
	if (s < 60)
		snprintf(out, len, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(out, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, len, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(out, len, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
}

/* UTC time of ms or ns since the epoch. */
static void
human_time(int64_t v, bool ns, char *out, size_t len)
{
	time_t t = (time_t)(ns ? v / 1000000000LL : v / 1000);
	struct tm tm;

	if (v <= 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(out, len, "-");
		return;
	}
	strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* A cell's text. Times (keys ending in _ms or _ns) are shown as UTC. */
static void
cell_text(const char *key, const json_t *v, char *out, size_t len)
{
	size_t kl = strlen(key);

	if (v == NULL || json_is_null(v)) {
		snprintf(out, len, "-");
	} else if (json_is_string(v)) {
		snprintf(out, len, "%s", json_string_value(v));
	} else if (json_is_integer(v)) {
		if (kl > 3 && (strcmp(key + kl - 3, "_ms") == 0 ||
					      strcmp(key + kl - 3, "_ns") == 0))
			human_time(json_integer_value(v), key[kl - 2] == 'n', out, len);
		else
			snprintf(out, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(out, len, "%.3g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(out, len, "%s", json_is_true(v) ? "yes" : "no");
	} else {
		char *s = json_dumps(v, JSON_COMPACT);

		snprintf(out, len, "%s", s ? s : "?");
		free(s);
	}
	/* One line per row, and no cell wider than the terminal can take. */
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
	if (strlen(out) > 60)
		strcpy(out + 57, "...");
}

#define MAX_COLS 16

struct column {
	const char *key;
	const char *title;
};

/*
 * Print an array of objects as a table. cols: the columns to show (NULL: the keys of the first
 * row, at most MAX_COLS). Columns no row has are left out.
 */
static void
print_table(const json_t *rows, const struct column *cols, unsigned n_cols)
{
	struct column auto_cols[MAX_COLS];
	size_t width[MAX_COLS] = { 0 };
	bool present[MAX_COLS] = { false };
	char cell[128];
	size_t i;
	json_t *row;

	if (json_array_size(rows) == 0) {
		printf("(none)\n");
		return;
	}
	if (cols == NULL) {
		const char *k;
		json_t *v;

		n_cols = 0;
		json_object_foreach(json_array_get(rows, 0), k, v)
		{
			if (n_cols == MAX_COLS)
				break;
			auto_cols[n_cols].key = k;
			auto_cols[n_cols].title = k;
			n_cols++;
		}
		cols = auto_cols;
	}
	for (unsigned c = 0; c < n_cols; c++)
		width[c] = strlen(cols[c].title);
	json_array_foreach(rows, i, row)
	{
		for (unsigned c = 0; c < n_cols; c++) {
			json_t *v = json_object_get(row, cols[c].key);

			if (v == NULL)
				continue;
			present[c] = true;
			cell_text(cols[c].key, v, cell, sizeof(cell));
			if (strlen(cell) > width[c])
				width[c] = strlen(cell);
		}
	}
	for (unsigned c = 0; c < n_cols; c++) {
		if (!present[c])
			continue;
		for (const char *t = cols[c].title; *t; t++)
			putchar(toupper((unsigned char)*t));
		printf("%*s", (int)(width[c] - strlen(cols[c].title) + 2), "");
	}
	putchar('\n');
	json_array_foreach(rows, i, row)
	{
		for (unsigned c = 0; c < n_cols; c++) {
			if (!present[c])
				continue;
			cell_text(cols[c].key, json_object_get(row, cols[c].key), cell,
					sizeof(cell));
			printf("%-*s  ", (int)width[c], cell);
		}
		putchar('\n');
	}
}

/* Query strings ----------------------------------------------------------------------------- */

struct query {
	char s[2048];
	size_t len;
};

static void
query_add(struct query *q, const char *key, const char *value)
{
	char *ev = curl_easy_escape(NULL, value, 0);

	q->len += (size_t)snprintf(q->s + q->len, sizeof(q->s) - q->len, "%c%s=%s",
			q->len ? '&' : '?', key, ev ? ev : "");
	if (q->len >= sizeof(q->s))
		q->len = sizeof(q->s) - 1;
	curl_free(ev);
}

/*
 * Turn "--name value" arguments into query parameters, for the names in allowed. Returns the
 * index of the first argument that is not such an option, or -1 after printing a usage error.
 */
static int
parse_filters(int argc, char **argv, int i, const char *const *allowed, struct query *q)
{
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *name, *value;
		char buf[64];
		bool ok = false;

		if (strncmp(a, "--", 2) != 0)
			return i;
		name = a + 2;
		value = strchr(name, '=');
		if (value != NULL) {
			snprintf(buf, sizeof(buf), "%.*s", (int)(value - name), name);
			name = buf;
			value++;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			fprintf(stderr, "vigilctl: %s needs a value\n", a);
			return -1;
		}
		for (int k = 0; allowed[k] != NULL; k++)
			ok |= strcmp(allowed[k], name) == 0;
		if (!ok) {
			fprintf(stderr, "vigilctl: unknown option --%s (accepted:", name);
			for (int k = 0; allowed[k] != NULL; k++)
				fprintf(stderr, " --%s", allowed[k]);
			fprintf(stderr, ")\n");
			return -1;
		}
		query_add(q, name, value);
	}
	return i;
}

/* Files -------------------------------------------------------------------------------------- */

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct buf b = { NULL, 0 };
	char chunk[65536];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "vigilctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (on_body(chunk, 1, n, &b) != n) {
			fprintf(stderr, "vigilctl: %s: out of memory\n", path);
			free(b.p);
			b.p = NULL;
			break;
		}
	if (f != stdin)
		fclose(f);
	if (b.p == NULL && b.len == 0) {
		b.p = strdup("");
		if (b.p == NULL)
			return NULL;
	}
	*len = b.len;
	return b.p;
}

/* Commands ----------------------------------------------------------------------------------- */

static int
cmd_health(bool ready)
{
	struct reply r;
	int rc = request(
			"GET", ready ? "/api/v1/ready" : "/api/v1/health", NULL, NULL, 0, NULL, &r);

	if (rc != EXIT_OK)
		return rc;
	if (g.json && r.json != NULL)
		print_json(r.json);
	else if (r.status == 200)
		printf("%s\n", ready ? json_string_value(json_object_get(r.json, "reason")) : "ok");
	else
		rc = report_error(&r);
	if (r.status != 200 && rc == EXIT_OK)
		rc = EXIT_API;
	reply_free(&r);
	return rc;
}

static int
cmd_status(void)
{
	static const struct column port_cols[] = {
		{ "name", "port" },
		{ "link_text", "link" },
		{ "rx_packets", "rx-pkts" },
		{ "rx_bytes", "rx-bytes" },
		{ "tx_packets", "tx-pkts" },
		{ "tx_bytes", "tx-bytes" },
		{ "dropped", "dropped" },
		{ "tx_full", "tx-full" },
		{ "rx_missed", "missed" },
		{ "peer", "peer" },
	};
	static const struct column worker_cols[] = {
		{ "id", "worker" },
		{ "lcore", "lcore" },
		{ "loops", "loops" },
		{ "busy_loops", "busy-loops" },
		{ "events_lost", "events-lost" },
	};
	struct reply r;
	int rc = get_json("/api/v1/status", &r);
	json_t *ports, *workers, *flows, *p;
	char up[32], a[32], b[32];
	size_t i;

	if (rc != EXIT_OK) {
		reply_free(&r);
		return rc;
	}
	if (g.json) {
		print_json(r.json);
		reply_free(&r);
		return EXIT_OK;
	}
	human_duration(json_integer_value(json_object_get(r.json, "uptime_s")), up, sizeof(up));
	printf("vigild %s, up %s, mode %s\n",
			json_string_value(json_object_get(r.json, "version")) ?: "?", up,
			json_string_value(json_object_get(r.json, "mode")) ?: "?");
	putchar('\n');
	ports = json_object_get(r.json, "ports");
	json_array_foreach(ports, i, p)
	{
		json_t *link = json_object_get(p, "link");
		char t[48];

		if (json_is_true(json_object_get(link, "up")))
			snprintf(t, sizeof(t), "up %" JSON_INTEGER_FORMAT "M",
					json_integer_value(json_object_get(link, "speed_mbps")));
		else
			snprintf(t, sizeof(t), "down");
		json_object_set_new(p, "link_text", json_string(t));
	}
	print_table(ports, port_cols, sizeof(port_cols) / sizeof(port_cols[0]));
	putchar('\n');
	workers = json_object_get(r.json, "workers");
	json_array_foreach(workers, i, p)
	{
		json_object_set(p, "events_lost",
				json_object_get(json_object_get(p, "events"), "lost"));
	}
	print_table(workers, worker_cols, sizeof(worker_cols) / sizeof(worker_cols[0]));
	flows = json_object_get(r.json, "flows");
	if (flows != NULL) {
		human_count((uint64_t)json_integer_value(json_object_get(flows, "active")), a,
				sizeof(a));
		human_count((uint64_t)json_integer_value(json_object_get(flows, "capacity")), b,
				sizeof(b));
		printf("\nflows: %s active of %s (%.2f%% full), %" JSON_INTEGER_FORMAT
		       " created, %" JSON_INTEGER_FORMAT " not tracked (table full)\n",
				a, b, 100 * json_number_value(json_object_get(flows, "fill")),
				json_integer_value(json_object_get(flows, "created")),
				json_integer_value(json_object_get(flows, "overflow")));
	}
	json_t *ev = json_object_get(r.json, "events");
	if (ev != NULL && json_integer_value(json_object_get(ev, "lost")) > 0)
		printf("events lost on the way to control: %" JSON_INTEGER_FORMAT "\n",
				json_integer_value(json_object_get(ev, "lost")));
	reply_free(&r);
	return EXIT_OK;
}

/* A rate (per second) the way human_count() shows a count; "-" when the API has none yet. */
static json_t *
rate_text(const json_t *v)
{
	char t[32];

	if (!json_is_number(v))
		return json_string("-");
	if (json_number_value(v) < 10000)
		snprintf(t, sizeof(t), "%.0f", json_number_value(v));
	else
		human_count((uint64_t)(json_number_value(v) + 0.5), t, sizeof(t));
	return json_string(t);
}

/* The workers: one row each, then one per queue (where imbalance between queues shows). */
static int
cmd_workers(void)
{
	static const struct column worker_cols[] = {
		{ "id", "worker" },
		{ "lcore", "lcore" },
		{ "queues_text", "queues" },
		{ "rx_pps_text", "rx-pps" },
		{ "rx_bps_text", "rx-bit/s" },
		{ "tx_pps_text", "tx-pps" },
		{ "dropped", "dropped" },
		{ "flows", "flows" },
		{ "handoff_out", "handoff-out" },
		{ "handoff_in", "handoff-in" },
		{ "handoff_lost", "handoff-lost" },
	};
	static const struct column queue_cols[] = {
		{ "worker", "worker" },
		{ "port", "port" },
		{ "queue", "queue" },
		{ "rx_pps_text", "rx-pps" },
		{ "tx_pps_text", "tx-pps" },
		{ "rx_packets", "rx-pkts" },
		{ "tx_packets", "tx-pkts" },
		{ "dropped", "dropped" },
	};
	struct reply r;
	int rc = get_json("/api/v1/workers", &r);
	json_t *workers, *all_queues, *w, *q;
	size_t i, k;

	if (rc != EXIT_OK) {
		reply_free(&r);
		return rc;
	}
	if (g.json) {
		print_json(r.json);
		reply_free(&r);
		return EXIT_OK;
	}
	workers = json_object_get(r.json, "workers");
	all_queues = json_array();
	json_array_foreach(workers, i, w)
	{
		json_t *ho = json_object_get(w, "handoff");
		char qt[256] = "";
		size_t used = 0;

		json_array_foreach(json_object_get(w, "queues"), k, q)
		{
			if (used < sizeof(qt))
				used += (size_t)snprintf(qt + used, sizeof(qt) - used,
						"%s%s:%" JSON_INTEGER_FORMAT, k ? " " : "",
						json_string_value(json_object_get(q, "port"))
								?: "?",
						json_integer_value(json_object_get(q, "queue")));
			json_object_set(q, "worker", json_object_get(w, "id"));
			json_object_set_new(
					q, "rx_pps_text", rate_text(json_object_get(q, "rx_pps")));
			json_object_set_new(
					q, "tx_pps_text", rate_text(json_object_get(q, "tx_pps")));
			json_array_append(all_queues, q);
		}
		json_object_set_new(w, "queues_text", json_string(used ? qt : "(none)"));
		json_object_set_new(w, "rx_pps_text", rate_text(json_object_get(w, "rx_pps")));
		json_object_set_new(w, "rx_bps_text", rate_text(json_object_get(w, "rx_bps")));
		json_object_set_new(w, "tx_pps_text", rate_text(json_object_get(w, "tx_pps")));
		json_object_set(w, "handoff_out", json_object_get(ho, "out"));
		json_object_set(w, "handoff_in", json_object_get(ho, "in"));
		json_object_set(w, "handoff_lost", json_object_get(ho, "lost"));
	}
	print_table(workers, worker_cols, sizeof(worker_cols) / sizeof(worker_cols[0]));
	putchar('\n');
	print_table(all_queues, queue_cols, sizeof(queue_cols) / sizeof(queue_cols[0]));
	if (json_is_number(json_object_get(r.json, "interval_s")))
		printf("\nrates over the last %.1f s\n",
				json_number_value(json_object_get(r.json, "interval_s")));
	json_decref(all_queues);
	reply_free(&r);
	return EXIT_OK;
}

/* The pairs with a mode of their own, one line each: "pair outside-inside: learn". */
static void
print_pairs(const json_t *pairs)
{
	const json_t *p;
	size_t k;

	json_array_foreach(pairs, k, p)
	{
		if (!json_is_true(json_object_get(p, "own")))
			continue;
		printf("pair %s-%s: %s\n",
				json_string_value(json_array_get(json_object_get(p, "ports"), 0)),
				json_string_value(json_array_get(json_object_get(p, "ports"), 1)),
				json_string_value(json_object_get(p, "mode")));
	}
}

/* mode [enforce|dry-run|learn [--pair PORT]] */
static int
cmd_mode(int argc, char **argv, int i)
{
	const char *mode = NULL, *pair = NULL;
	struct reply r;
	int rc;

	for (; i < argc; i++) {
		if (strcmp(argv[i], "--pair") == 0 && i + 1 < argc) {
			pair = argv[++i];
		} else if (mode == NULL && argv[i][0] != '-') {
			mode = argv[i];
		} else {
			mode = pair = NULL;
			break;
		}
	}
	if (i < argc || (pair != NULL && mode == NULL)) {
		fprintf(stderr, "vigilctl: mode [enforce|dry-run|learn [--pair PORT]]\n");
		return EXIT_USAGE;
	}
	if (mode != NULL) {
		json_t *body = pair != NULL ? json_pack("{s:s, s:s}", "mode", mode, "pair", pair)
					    : json_pack("{s:s}", "mode", mode);
		char *s = json_dumps(body, JSON_COMPACT);

		json_decref(body);
		rc = request("PUT", "/api/v1/mode", "application/json", s, strlen(s), NULL, &r);
		free(s);
	} else {
		rc = request("GET", "/api/v1/mode", NULL, NULL, 0, NULL, &r);
	}
	if (rc != EXIT_OK)
		return rc;
	if (r.status == 202)
		rc = report_pending(&r);
	else if (r.status >= 300)
		rc = report_error(&r);
	else if (g.json)
		print_json(r.json);
	else {
		if (json_object_get(r.json, "previous") != NULL)
			printf("mode %s (was %s)\n",
					json_string_value(json_object_get(r.json, "mode")),
					json_string_value(json_object_get(r.json, "previous")));
		else
			printf("%s\n", json_string_value(json_object_get(r.json, "mode")));
		print_pairs(json_object_get(r.json, "pairs"));
	}
	reply_free(&r);
	return rc;
}

/* "1h" means "the last hour": a bare duration is back from now. */
static void
window_arg(const char *v, char *out, size_t len)
{
	size_t n = strlen(v);

	if (n > 1 && v[0] != '-' && strchr("smhd", v[n - 1]) != NULL &&
			strspn(v, "0123456789") == n - 1)
		snprintf(out, len, "-%s", v);
	else
		snprintf(out, len, "%s", v);
}

/* A preview verdict as one cell: "drop (rule ssh)", "allow (default)", "?" when uncertain. */
static json_t *
verdict_cell(const json_t *v)
{
	const char *rule = json_string_value(json_object_get(v, "rule"));
	char s[160];

	snprintf(s, sizeof(s), "%s (%s%s)%s", json_string_value(json_object_get(v, "verdict")),
			rule ? "rule " : "", rule ? rule : "default",
			json_is_true(json_object_get(v, "certain")) ? "" : " ?");
	return json_string(s);
}

/* policy preview FILE [--since T] [--until T] [--limit N] [--pair PORT] */
static int
cmd_policy_preview(int argc, char **argv, int i)
{
	static const struct column cols[] = {
		{ "from", "from" },
		{ "to", "to" },
		{ "aggregates", "aggregates" },
		{ "flows", "flows" },
		{ "bytes", "bytes" },
		{ "uncertain", "uncertain" },
		{ "sample", "largest" },
	};
	struct query q = { "", 0 };
	const char *file = NULL;
	char path[2200], val[64];
	struct reply r;
	json_t *rows, *c, *t;
	size_t len, k;
	char *text;
	int rc;

	for (; i < argc; i++) {
		if ((strcmp(argv[i], "--since") == 0 || strcmp(argv[i], "--until") == 0) &&
				i + 1 < argc) {
			window_arg(argv[i + 1], val, sizeof(val));
			query_add(&q, argv[i] + 2, val);
			i++;
		} else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
			query_add(&q, "limit", argv[++i]);
		} else if (strcmp(argv[i], "--pair") == 0 && i + 1 < argc) {
			query_add(&q, "pair", argv[++i]);
		} else if (file == NULL && (argv[i][0] != '-' || argv[i][1] == '\0')) {
			file = argv[i];
		} else {
			fprintf(stderr, "vigilctl: policy preview FILE [--since T] [--until T] "
					"[--limit N] [--pair PORT]\n");
			return EXIT_USAGE;
		}
	}
	if (file == NULL) {
		fprintf(stderr, "vigilctl: policy preview needs a FILE (- for stdin)\n");
		return EXIT_USAGE;
	}
	text = read_file(file, &len);
	if (text == NULL)
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/api/v1/policy/preview%s", q.s);
	rc = request("POST", path, "text/plain; charset=utf-8", text, len, NULL, &r);
	free(text);
	if (rc != EXIT_OK)
		return rc;
	if (r.status >= 300) {
		rc = report_error(&r);
		reply_free(&r);
		return rc;
	}
	if (g.json) {
		print_json(r.json);
		reply_free(&r);
		return rc;
	}
	rows = json_array();
	json_array_foreach(json_object_get(r.json, "changes"), k, c)
	{
		json_t *s = json_array_get(json_object_get(c, "samples"), 0);
		char sample[128];

		snprintf(sample, sizeof(sample),
				"%s -> %s:%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
				json_string_value(json_object_get(s, "src")),
				json_string_value(json_object_get(s, "dst")),
				json_integer_value(json_object_get(s, "dport")),
				json_integer_value(json_object_get(s, "proto")));
		json_array_append_new(rows,
				json_pack("{s:o, s:o, s:O, s:O, s:O, s:O, s:s}", "from",
						verdict_cell(json_object_get(c, "from")), "to",
						verdict_cell(json_object_get(c, "to")),
						"aggregates", json_object_get(c, "aggregates"),
						"flows", json_object_get(c, "flows"), "bytes",
						json_object_get(c, "bytes"), "uncertain",
						json_object_get(c, "uncertain"), "sample", sample));
	}
	print_table(rows, cols, sizeof(cols) / sizeof(cols[0]));
	json_decref(rows);
	t = json_object_get(r.json, "totals");
	printf("%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
	       " aggregates (%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
	       " flows) would change verdict; %" JSON_INTEGER_FORMAT " uncertain; %.1f ms\n",
			json_integer_value(json_object_get(t, "changed_aggregates")),
			json_integer_value(json_object_get(t, "aggregates")),
			json_integer_value(json_object_get(t, "changed_flows")),
			json_integer_value(json_object_get(t, "flows")),
			json_integer_value(json_object_get(t, "uncertain_aggregates")),
			json_number_value(json_object_get(r.json, "elapsed_ms")));
	reply_free(&r);
	return rc;
}

/* policy rule NAME enforce|dry-run: promote a dry-run rule (or put it back), one new version. */
static int
cmd_policy_rule(int argc, char **argv, int i)
{
	char path[512], body[64];
	struct reply r;
	char *ev;
	int rc;

	if (i + 2 != argc || (strcmp(argv[i + 1], "enforce") != 0 &&
					     strcmp(argv[i + 1], "dry-run") != 0)) {
		fprintf(stderr, "vigilctl: policy rule NAME enforce|dry-run\n");
		return EXIT_USAGE;
	}
	ev = curl_easy_escape(NULL, argv[i], 0);
	snprintf(path, sizeof(path), "/api/v1/policy/rules/%s/mode", ev ? ev : "");
	curl_free(ev);
	snprintf(body, sizeof(body), "{\"mode\": \"%s\"}", argv[i + 1]);
	rc = request("PUT", path, "application/json", body, strlen(body), NULL, &r);
	if (rc != EXIT_OK)
		return rc;
	if (r.status == 202)
		rc = report_pending(&r);
	else if (r.status >= 300)
		rc = report_error(&r);
	else if (g.json)
		print_json(r.json);
	else if (json_is_true(json_object_get(r.json, "unchanged")))
		printf("unchanged: rule %s already is %s (version %" JSON_INTEGER_FORMAT ")\n",
				argv[i], argv[i + 1],
				json_integer_value(json_object_get(r.json, "version")));
	else
		printf("rule %s is now %s: version %" JSON_INTEGER_FORMAT "\n", argv[i],
				argv[i + 1],
				json_integer_value(json_object_get(r.json, "version")));
	reply_free(&r);
	return rc;
}

/* learn [--limit N] | learn proposal [-o FILE] [--candidates ID.ID...] */
static int
cmd_learn(int argc, char **argv, int i)
{
	static const struct column cols[] = {
		{ "id", "id" },
		{ "proto", "proto" },
		{ "from", "from" },
		{ "to", "to" },
		{ "ports", "ports" },
		{ "flows", "flows" },
		{ "bytes", "bytes" },
		{ "denied_keys", "denied keys" },
	};
	struct query q = { "", 0 };
	struct reply r;
	char path[2200];
	int rc;

	if (i < argc && strcmp(argv[i], "proposal") == 0) {
		const char *out = NULL;

		for (i++; i < argc; i++) {
			if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) &&
					i + 1 < argc) {
				out = argv[++i];
			} else if (strcmp(argv[i], "--candidates") == 0 && i + 1 < argc) {
				query_add(&q, "candidates", argv[++i]);
			} else {
				fprintf(stderr, "vigilctl: learn proposal [-o FILE] [--candidates "
						"ID.ID...]\n");
				return EXIT_USAGE;
			}
		}
		snprintf(path, sizeof(path), "/api/v1/learn/proposal%s", q.s);
		rc = get_json(path, &r);
		if (rc == EXIT_OK && g.json) {
			print_json(r.json);
		} else if (rc == EXIT_OK) {
			const char *text = json_string_value(json_object_get(r.json, "text"));
			json_t *c = json_object_get(r.json, "check");
			FILE *f = out != NULL ? fopen(out, "w") : stdout;

			if (f == NULL || fputs(text ?: "", f) < 0 ||
					(out != NULL && fclose(f) != 0)) {
				fprintf(stderr, "vigilctl: %s: %s\n", out ? out : "stdout",
						strerror(errno));
				rc = EXIT_USAGE;
			}
			fprintf(stderr,
					"%" JSON_INTEGER_FORMAT " rules; of %" JSON_INTEGER_FORMAT
					" observed aggregates the proposal allows %" JSON_INTEGER_FORMAT
					"%s\n",
					json_integer_value(json_object_get(r.json, "rules")),
					json_integer_value(json_object_get(c, "observed")),
					json_integer_value(json_object_get(c, "allowed")),
					out != NULL ? "" : " (the text is on stdout)");
		}
		reply_free(&r);
		return rc;
	}
	if (parse_filters(argc, argv, i, (const char *const[]){ "limit", NULL }, &q) != argc)
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/api/v1/learn%s", q.s);
	rc = get_json(path, &r);
	if (rc == EXIT_OK && g.json) {
		print_json(r.json);
	} else if (rc == EXIT_OK) {
		json_t *st = json_object_get(r.json, "state"), *rows = json_array(), *c;
		size_t k;

		printf("learning: %s\n", json_is_true(json_object_get(st, "active")) ? "active"
					 : json_is_integer(json_object_get(st, "since"))
							 ? "stopped"
							 : "never started");
		json_array_foreach(json_object_get(r.json, "candidates"), k, c)
		{
			char *from = json_dumps(json_object_get(c, "from"), JSON_COMPACT);
			char *to = json_dumps(json_object_get(c, "to"), JSON_COMPACT);
			char *ports = json_dumps(json_object_get(c, "ports"), JSON_COMPACT);

			json_array_append_new(rows,
					json_pack("{s:O, s:O, s:s, s:s, s:s, s:O, s:O, s:O}", "id",
							json_object_get(c, "id"), "proto",
							json_object_get(c, "proto"), "from",
							from ?: "", "to", to ?: "", "ports",
							ports ?: "", "flows",
							json_object_get(c, "flows"), "bytes",
							json_object_get(c, "bytes"), "denied_keys",
							json_object_get(c, "denied_keys")));
			free(from);
			free(to);
			free(ports);
		}
		print_table(rows, cols, sizeof(cols) / sizeof(cols[0]));
		json_decref(rows);
	}
	reply_free(&r);
	return rc;
}

/* policy / signatures */
static int
cmd_text(const char *kind, int argc, char **argv, int i)
{
	const char *sub = i < argc ? argv[i++] : "get";
	char path[2200];
	struct reply r;
	int rc;

	if (strcmp(sub, "get") == 0) {
		const char *out = NULL;

		if (i + 1 < argc &&
				(strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0)) {
			out = argv[i + 1];
			i += 2;
		}
		if (i < argc) {
			fprintf(stderr, "vigilctl: %s get [-o FILE]\n", kind);
			return EXIT_USAGE;
		}
		snprintf(path, sizeof(path), "/api/v1/%s", kind);
		rc = get_json(path, &r);
		if (rc == EXIT_OK) {
			const char *text = json_string_value(json_object_get(r.json, "text"));

			if (g.json) {
				print_json(r.json);
			} else if (out != NULL) {
				FILE *f = fopen(out, "w");

				if (f == NULL || fputs(text ?: "", f) < 0 || fclose(f) != 0) {
					fprintf(stderr, "vigilctl: %s: %s\n", out, strerror(errno));
					rc = EXIT_USAGE;
				} else {
					fprintf(stderr,
							"%s version %" JSON_INTEGER_FORMAT
							" written to %s\n",
							kind,
							json_integer_value(json_object_get(
									r.json, "version")),
							out);
				}
			} else {
				fputs(text ?: "", stdout);
			}
		}
		reply_free(&r);
		return rc;
	}
	if (strcmp(sub, "validate") == 0 || strcmp(sub, "apply") == 0) {
		bool apply = sub[0] == 'a';
		const char *file = NULL, *if_match = NULL;
		char hdr[64];
		size_t len;
		char *text;

		for (; i < argc; i++) {
			if (apply && strcmp(argv[i], "--if-match") == 0 && i + 1 < argc)
				if_match = argv[++i];
			else if (file == NULL && (argv[i][0] != '-' || argv[i][1] == '\0'))
				file = argv[i];
			else {
				fprintf(stderr, "vigilctl: %s %s FILE%s\n", kind, sub,
						apply ? " [--if-match VERSION]" : "");
				return EXIT_USAGE;
			}
		}
		if (file == NULL) {
			fprintf(stderr, "vigilctl: %s %s needs a FILE (- for stdin)\n", kind, sub);
			return EXIT_USAGE;
		}
		text = read_file(file, &len);
		if (text == NULL)
			return EXIT_USAGE;
		snprintf(path, sizeof(path), "/api/v1/%s%s", kind, apply ? "" : "/validate");
		if (if_match != NULL)
			snprintf(hdr, sizeof(hdr), "If-Match: \"%s\"", if_match);
		rc = request(apply ? "PUT" : "POST", path, "text/plain; charset=utf-8", text, len,
				if_match ? hdr : NULL, &r);
		free(text);
		if (rc != EXIT_OK)
			return rc;
		if (r.status == 202) {
			rc = report_pending(&r);
		} else if (r.status >= 300) {
			rc = report_error(&r);
		} else if (g.json) {
			print_json(r.json);
		} else {
			json_t *w = json_object_get(r.json, "warnings");
			size_t k;
			json_t *d;

			json_array_foreach(w, k, d)
			{
				fprintf(stderr,
						"%s:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT
						": warning: %s\n",
						json_string_value(json_object_get(d, "file")),
						json_integer_value(json_object_get(d, "line")),
						json_integer_value(json_object_get(d, "column")),
						json_string_value(json_object_get(d, "message")));
			}
			if (!apply)
				printf("%s: valid\n", file);
			else if (json_is_true(json_object_get(r.json, "unchanged")))
				printf("unchanged: version %" JSON_INTEGER_FORMAT
				       " is already this text\n",
						json_integer_value(json_object_get(
								r.json, "version")));
			else
				printf("applied: version %" JSON_INTEGER_FORMAT " (sha256 %.12s)\n",
						json_integer_value(
								json_object_get(r.json, "version")),
						json_string_value(
								json_object_get(r.json, "sha256")));
		}
		reply_free(&r);
		return rc;
	}
	if (strcmp(sub, "preview") == 0 && strcmp(kind, "policy") == 0)
		return cmd_policy_preview(argc, argv, i);
	if (strcmp(sub, "rule") == 0 && strcmp(kind, "policy") == 0)
		return cmd_policy_rule(argc, argv, i);
	if (strcmp(sub, "versions") == 0) {
		static const char *const allowed[] = { "limit", NULL };
		static const struct column cols[] = {
			{ "id", "version" },
			{ "created_ms", "created (UTC)" },
			{ "sha256", "sha256" },
			{ "size", "bytes" },
			{ "source", "source" },
			{ "result", "result" },
		};
		struct query q = { "", 0 };
		json_t *items;
		size_t k;
		json_t *v;

		if (parse_filters(argc, argv, i, allowed, &q) != argc)
			return EXIT_USAGE;
		snprintf(path, sizeof(path), "/api/v1/%s/versions%s", kind, q.s);
		rc = get_json(path, &r);
		if (rc == EXIT_OK && g.json) {
			print_json(r.json);
		} else if (rc == EXIT_OK) {
			items = json_object_get(r.json, "items");
			json_array_foreach(items, k, v)
			{
				const char *sha = json_string_value(json_object_get(v, "sha256"));

				if (sha != NULL && strlen(sha) > 12) {
					char s[16];

					snprintf(s, sizeof(s), "%.12s", sha);
					json_object_set_new(v, "sha256", json_string(s));
				}
			}
			print_table(items, cols, sizeof(cols) / sizeof(cols[0]));
		}
		reply_free(&r);
		return rc;
	}
	if (strcmp(sub, "show") == 0) {
		if (i + 1 != argc) {
			fprintf(stderr, "vigilctl: %s show VERSION\n", kind);
			return EXIT_USAGE;
		}
		char *ev = curl_easy_escape(NULL, argv[i], 0);

		snprintf(path, sizeof(path), "/api/v1/%s/versions/%s", kind, ev ? ev : "");
		curl_free(ev);
		rc = get_json(path, &r);
		if (rc == EXIT_OK && g.json)
			print_json(r.json);
		else if (rc == EXIT_OK)
			fputs(json_string_value(json_object_get(r.json, "text")) ?: "", stdout);
		reply_free(&r);
		return rc;
	}
	if (strcmp(sub, "rollback") == 0) {
		char *end;
		long long v;
		char body[64];

		if (i + 1 != argc) {
			fprintf(stderr, "vigilctl: %s rollback VERSION\n", kind);
			return EXIT_USAGE;
		}
		errno = 0;
		v = strtoll(argv[i], &end, 10);
		if (errno != 0 || *end != '\0' || v < 1) {
			fprintf(stderr, "vigilctl: '%s' is not a version number\n", argv[i]);
			return EXIT_USAGE;
		}
		snprintf(body, sizeof(body), "{\"version\": %lld}", v);
		snprintf(path, sizeof(path), "/api/v1/%s/rollback", kind);
		rc = request("POST", path, "application/json", body, strlen(body), NULL, &r);
		if (rc != EXIT_OK)
			return rc;
		if (r.status == 202)
			rc = report_pending(&r);
		else if (r.status >= 300)
			rc = report_error(&r);
		else if (g.json)
			print_json(r.json);
		else
			printf("rolled back to version %lld: now version %" JSON_INTEGER_FORMAT
			       "\n",
					v, json_integer_value(json_object_get(r.json, "version")));
		reply_free(&r);
		return rc;
	}
	if (strcmp(sub, "report") == 0 && strcmp(kind, "signatures") == 0) {
		rc = get_json("/api/v1/signatures/report", &r);
		if (rc == EXIT_OK)
			print_json(r.json);
		reply_free(&r);
		return rc;
	}
	fprintf(stderr,
			"vigilctl: %s: unknown subcommand '%s' (get, validate, apply, versions, "
			"show, rollback%s)\n",
			kind, sub,
			strcmp(kind, "signatures") == 0 ? ", report" : ", preview, rule");
	return EXIT_USAGE;
}

/* A list endpoint: filters from --options, a table of cols, and the cursor of the next page. */
static int
cmd_list(const char *path, int argc, char **argv, int i, const char *const *allowed,
		const struct column *cols, unsigned n_cols)
{
	struct query q = { "", 0 };
	char full[2304];
	struct reply r;
	int rc;

	if (parse_filters(argc, argv, i, allowed, &q) != argc) {
		if (i < argc && argv[argc - 1][0] != '-')
			fprintf(stderr, "vigilctl: unexpected argument '%s'\n", argv[argc - 1]);
		return EXIT_USAGE;
	}
	snprintf(full, sizeof(full), "%s%s", path, q.s);
	rc = get_json(full, &r);
	if (rc == EXIT_OK && g.json) {
		print_json(r.json);
	} else if (rc == EXIT_OK) {
		json_t *next = json_object_get(r.json, "next_cursor");

		print_table(json_object_get(r.json, "items"), cols, n_cols);
		if (json_is_integer(next))
			printf("(more: --cursor %" JSON_INTEGER_FORMAT ")\n",
					json_integer_value(next));
	}
	reply_free(&r);
	return rc;
}

static int
cmd_alerts(int argc, char **argv, int i)
{
	static const char *const allowed[] = { "since", "until", "severity", "kind", "src", "dst",
		"sid", "app_proto", "limit", "cursor", NULL };
	static const struct column cols[] = {
		{ "last_seen", "last seen (UTC)" },
		{ "severity", "severity" },
		{ "kind", "kind" },
		{ "src", "src" },
		{ "dst", "dst" },
		{ "dport", "dport" },
		{ "app_proto", "app" },
		{ "sid", "sid" },
		{ "count", "count" },
		{ "signature", "what" },
	};

	return cmd_list("/api/v1/alerts", argc, argv, i, allowed, cols,
			sizeof(cols) / sizeof(cols[0]));
}

static int
cmd_anomalies(int argc, char **argv, int i)
{
	static const char *const allowed[] = { "since", "detector", "limit", "cursor", NULL };
	static const struct column cols[] = {
		{ "time", "time (UTC)" },
		{ "detector", "detector" },
		{ "metric", "metric" },
		{ "src", "src" },
		{ "dst", "dst" },
		{ "dport", "dport" },
		{ "observed", "observed" },
		{ "mean", "baseline" },
		{ "zscore", "z" },
	};

	return cmd_list("/api/v1/anomalies", argc, argv, i, allowed, cols,
			sizeof(cols) / sizeof(cols[0]));
}

static int
cmd_flows(int argc, char **argv, int i)
{
	if (i < argc && strcmp(argv[i], "history") == 0) {
		static const char *const allowed[] = { "since", "until", "src", "dst", "dport",
			"proto", "verdict", "app_proto", "limit", NULL };
		static const struct column cols[] = {
			{ "time", "minute (UTC)" },
			{ "src", "src" },
			{ "dst", "dst" },
			{ "dport", "dport" },
			{ "proto", "proto" },
			{ "app_proto", "app" },
			{ "verdict", "verdict" },
			{ "flows", "flows" },
			{ "packets", "packets" },
			{ "bytes", "bytes" },
		};

		return cmd_list("/api/v1/flows/history", argc, argv, i + 1, allowed, cols,
				sizeof(cols) / sizeof(cols[0]));
	}
	static const char *const allowed[] = { "addr", "port", "proto", "state", "app_proto",
		"limit", NULL };

	/* The active flows' fields are whatever control reports: show them all. */
	return cmd_list("/api/v1/flows", argc, argv, i, allowed, NULL, 0);
}

static int
cmd_blocklist(int argc, char **argv, int i)
{
	const char *sub = i < argc ? argv[i++] : "list";
	struct reply r;
	char path[256];
	int rc;

	if (strcmp(sub, "list") == 0) {
		static const char *const none[] = { NULL };

		return cmd_list("/api/v1/blocklist", argc, argv, i, none, NULL, 0);
	}
	if (strcmp(sub, "add") == 0) {
		const char *addr = NULL, *reason = NULL;
		long long ttl = 0;
		json_t *body;
		char *s, *end;

		for (; i < argc; i++) {
			if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
				errno = 0;
				ttl = strtoll(argv[++i], &end, 10);
				if (errno != 0 || *end != '\0' || ttl < 0) {
					fprintf(stderr,
							"vigilctl: --ttl: '%s' is not a number of "
							"seconds\n",
							argv[i]);
					return EXIT_USAGE;
				}
			} else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc) {
				reason = argv[++i];
			} else if (addr == NULL && argv[i][0] != '-') {
				addr = argv[i];
			} else {
				fprintf(stderr, "vigilctl: blocklist add ADDRESS [--ttl SECONDS] "
						"[--reason TEXT]\n");
				return EXIT_USAGE;
			}
		}
		if (addr == NULL) {
			fprintf(stderr, "vigilctl: blocklist add needs an ADDRESS\n");
			return EXIT_USAGE;
		}
		body = json_pack("{s:s, s:I}", "address", addr, "ttl", (json_int_t)ttl);
		if (reason != NULL)
			json_object_set_new(body, "reason", json_string(reason));
		s = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		rc = request("POST", "/api/v1/blocklist", "application/json", s, strlen(s), NULL,
				&r);
		free(s);
		if (rc != EXIT_OK)
			return rc;
		if (r.status == 202)
			rc = report_pending(&r);
		else if (r.status >= 300)
			rc = report_error(&r);
		else if (g.json)
			print_json(r.json);
		else
			printf("blocked %s%s\n",
					json_string_value(json_object_get(r.json, "address")),
					ttl ? "" : " until removed");
		reply_free(&r);
		return rc;
	}
	if (strcmp(sub, "remove") == 0 || strcmp(sub, "rm") == 0) {
		if (i + 1 != argc) {
			fprintf(stderr, "vigilctl: blocklist remove ADDRESS\n");
			return EXIT_USAGE;
		}
		char *ev = curl_easy_escape(NULL, argv[i], 0);

		snprintf(path, sizeof(path), "/api/v1/blocklist/%s", ev ? ev : "");
		curl_free(ev);
		rc = request("DELETE", path, NULL, NULL, 0, NULL, &r);
		if (rc != EXIT_OK)
			return rc;
		if (r.status == 202)
			rc = report_pending(&r);
		else if (r.status >= 300)
			rc = report_error(&r);
		else if (!g.json)
			printf("unblocked %s\n", argv[i]);
		reply_free(&r);
		return rc;
	}
	fprintf(stderr, "vigilctl: blocklist: unknown subcommand '%s' (list, add, remove)\n", sub);
	return EXIT_USAGE;
}

static int
cmd_counters(void)
{
	static const struct column cols[] = {
		{ "index", "#" },
		{ "name", "rule" },
		{ "packets", "packets" },
		{ "bytes", "bytes" },
		{ "flows", "flows" },
		{ "would_drop", "would-drop" },
	};
	struct reply r;
	int rc = get_json("/api/v1/rules/counters", &r);

	if (rc == EXIT_OK && g.json) {
		print_json(r.json);
	} else if (rc == EXIT_OK) {
		const char *k;
		json_t *v;

		json_object_foreach(r.json, k, v)
		{
			if (!json_is_array(v))
				continue;
			printf("%s:\n", k);
			print_table(v, strcmp(k, "policy") == 0 ? cols : NULL,
					strcmp(k, "policy") == 0 ? sizeof(cols) / sizeof(cols[0])
								 : 0);
		}
	}
	reply_free(&r);
	return rc;
}

static int
cmd_metrics(void)
{
	struct reply r;
	int rc = request("GET", "/api/v1/metrics", NULL, NULL, 0, NULL, &r);

	if (rc != EXIT_OK)
		return rc;
	if (r.status >= 300)
		rc = report_error(&r);
	else
		fwrite(r.body.p, 1, r.body.len, stdout);
	reply_free(&r);
	return rc;
}

static int
cmd_audit(int argc, char **argv, int i)
{
	static const char *const allowed[] = { "since", "limit", "cursor", NULL };
	static const struct column cols[] = {
		{ "ts_ms", "time (UTC)" },
		{ "actor", "who" },
		{ "action", "request" },
		{ "result", "status" },
		{ "detail", "detail" },
	};

	return cmd_list("/api/v1/audit", argc, argv, i, allowed, cols,
			sizeof(cols) / sizeof(cols[0]));
}

/* Main --------------------------------------------------------------------------------------- */

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage: vigilctl [options] COMMAND [ARGS]\n"
			"\n"
			"Manage a Vigil appliance over its REST API.\n"
			"\n"
			"Options:\n"
			"  -u, --url URL          appliance API (default $VIGIL_URL, else %s)\n"
			"  -t, --token TOKEN      bearer token (default $VIGIL_TOKEN)\n"
			"      --token-file FILE  read the token from FILE (keeps it out of ps)\n"
			"  -j, --json             print the API's JSON instead of tables\n"
			"  -k, --insecure         do not verify the appliance's TLS certificate\n"
			"      --cacert FILE      verify the appliance's certificate with FILE\n"
			"      --timeout SECONDS  give up on a request after this long (default 30)\n"
			"  -V, --version          print the version and exit\n"
			"  -h, --help             print this help and exit\n"
			"\n"
			"Commands:\n"
			"  status                          version, uptime, mode, ports, workers, "
			"flows\n"
			"  workers                         per worker and per queue: rates, drops, "
			"flows, handoffs\n"
			"  health | ready                  liveness and readiness\n"
			"  mode [enforce|dry-run|learn [--pair PORT]]\n"
			"                                  show or set the mode (of PORT's pair alone)\n"
			"  policy get [-o FILE]            the policy in force\n"
			"  policy validate FILE            check a policy (- for stdin); nothing "
			"changes\n"
			"  policy apply FILE [--if-match VERSION]\n"
			"                                  apply a policy; prints the new version\n"
			"  policy versions [--limit N]     stored versions, newest first\n"
			"  policy show VERSION             the text of a stored version\n"
			"  policy rollback VERSION         apply a stored version again\n"
			"  policy preview FILE [--since T] [--until T] [--limit N] [--pair PORT]\n"
			"                                  which stored flows FILE would give another\n"
			"                                  verdict (default: the last hour; 1h = -1h)\n"
			"  policy rule NAME enforce|dry-run  promote a dry-run rule (or back): a new "
			"version\n"
			"  learn [--limit N]               the learning session and its candidates\n"
			"  learn proposal [-o FILE] [--candidates ID.ID...]\n"
			"                                  the proposed policy (mode learn starts a "
			"session)\n"
			"  signatures get|validate|apply|versions|show|rollback|report\n"
			"                                  the same for the signature set\n"
			"  alerts [--since T] [--until T] [--severity S] [--kind K] [--src A]\n"
			"         [--dst A] [--sid N] [--app_proto APP] [--limit N] [--cursor C]\n"
			"  anomalies [--since T] [--detector D] [--limit N] [--cursor C]\n"
			"  flows [--addr A] [--port P] [--proto P] [--state S] [--app_proto APP]\n"
			"        [--limit N]\n"
			"  flows history [--since T] [--until T] [--src A] [--dst A] [--dport P]\n"
			"                [--proto P] [--verdict V] [--app_proto APP] [--limit N]\n"
			"  blocklist [list]                blocked addresses\n"
			"  blocklist add ADDR [--ttl SECONDS] [--reason TEXT]\n"
			"  blocklist remove ADDR\n"
			"  counters                        hits per rule and signature\n"
			"  metrics                         Prometheus metrics, as served\n"
			"  audit [--since T] [--limit N] [--cursor C]\n"
			"\n"
			"Times (T): Unix seconds, RFC 3339 (2026-01-31T12:00:00Z) or back from now\n"
			"(-15m, -2h, -7d).\n"
			"Application protocols (APP): http, tls, dns, ssh, smtp, ftp, failed, or unknown\n"
			"(none detected).\n"
			"Exit status: 0 done, 1 the API refused, 2 bad command line, 3 no connection,\n"
			"4 a change started whose outcome is not known yet (read the operation named).\n",
			DEFAULT_URL);
}

static int
load_token_file(const char *path)
{
	size_t len;
	char *t = read_file(path, &len);

	if (t == NULL)
		return -1;
	while (len > 0 && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
		t[--len] = '\0';
	free(g.token);
	g.token = t;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 'O' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *env;
	char *end;
	int c, rc;

	g.url = (env = getenv("VIGIL_URL")) != NULL && env[0] ? env : DEFAULT_URL;
	if ((env = getenv("VIGIL_TOKEN")) != NULL && env[0])
		g.token = strdup(env);
	g.timeout_s = 30;
	/* "+": options end at the command, whose own --options follow it. */
	while ((c = getopt_long(argc, argv, "+u:t:jkVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'u':
			g.url = optarg;
			break;
		case 't':
			free(g.token);
			g.token = strdup(optarg);
			break;
		case 'T':
			if (load_token_file(optarg) != 0)
				return EXIT_USAGE;
			break;
		case 'j':
			g.json = true;
			break;
		case 'k':
			g.insecure = true;
			break;
		case 'C':
			g.cacert = optarg;
			break;
		case 'O':
			g.timeout_s = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || g.timeout_s < 1 ||
					g.timeout_s > 3600) {
				fprintf(stderr, "vigilctl: --timeout: '%s' is not 1..3600 seconds\n",
						optarg);
				return EXIT_USAGE;
			}
			break;
		case 'V':
			printf("vigilctl %s\n", VIGIL_VERSION);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strncmp(g.url, "http://", 7) != 0 && strncmp(g.url, "https://", 8) != 0) {
		fprintf(stderr, "vigilctl: --url '%s' must start with http:// or https://\n",
				g.url);
		return EXIT_USAGE;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const char *cmd = argv[optind];
	int i = optind + 1;

	if (strcmp(cmd, "status") == 0 && i == argc)
		rc = cmd_status();
	else if (strcmp(cmd, "workers") == 0 && i == argc)
		rc = cmd_workers();
	else if ((strcmp(cmd, "health") == 0 || strcmp(cmd, "ready") == 0) && i == argc)
		rc = cmd_health(cmd[0] == 'r');
	else if (strcmp(cmd, "mode") == 0)
		rc = cmd_mode(argc, argv, i);
	else if (strcmp(cmd, "policy") == 0)
		rc = cmd_text("policy", argc, argv, i);
	else if (strcmp(cmd, "signatures") == 0)
		rc = cmd_text("signatures", argc, argv, i);
	else if (strcmp(cmd, "learn") == 0)
		rc = cmd_learn(argc, argv, i);
	else if (strcmp(cmd, "alerts") == 0)
		rc = cmd_alerts(argc, argv, i);
	else if (strcmp(cmd, "anomalies") == 0)
		rc = cmd_anomalies(argc, argv, i);
	else if (strcmp(cmd, "flows") == 0)
		rc = cmd_flows(argc, argv, i);
	else if (strcmp(cmd, "blocklist") == 0)
		rc = cmd_blocklist(argc, argv, i);
	else if (strcmp(cmd, "counters") == 0 && i == argc)
		rc = cmd_counters();
	else if (strcmp(cmd, "metrics") == 0 && i == argc)
		rc = cmd_metrics();
	else if (strcmp(cmd, "audit") == 0)
		rc = cmd_audit(argc, argv, i);
	else {
		fprintf(stderr,
				"vigilctl: unknown command '%s' (or unexpected arguments); see "
				"vigilctl --help\n",
				cmd);
		rc = EXIT_USAGE;
	}
	free(g.token);
	curl_global_cleanup();
	return rc;
}
