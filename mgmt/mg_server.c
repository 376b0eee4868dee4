/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "ctl_api.h"
#include "ctl_store.h"
#include "mg_api_ctr.h"
#include "mg_auth.h"
#include "mg_route.h"
#include "mg_server.h"
#include "vg_addr.h"
#include "vg_log.h"

/* Read-only store connections kept for reuse; more are opened (and closed) when all are busy. */
#define READER_POOL 16

#define MAX_JOB_THREADS 64

/* A client that keeps sending after its body was refused is cut off after this much. */
#define DISCARD_LIMIT (16u << 20)

struct mg_server {
	struct mg_config cfg;
	struct ctl_ctx *ctx;
	struct MHD_Daemon *d;
	uint16_t port;
	char *tls_cert;
	char *tls_key;
	char www[PATH_MAX]; /* realpath of cfg.www, "" when none */
	int www_fd;	    /* the directory, opened at start (O_PATH); -1 when none */
	bool tls;
	struct mg_hosts hosts;		 /* the Host names requests must carry */
	char warning[VG_PATH_LEN + 160]; /* a problem of the setup status shows; "" for none */

	pthread_mutex_t readers_mu;
	struct ctl_store_reader *readers[READER_POOL];
	unsigned n_readers;

	struct {
		pthread_mutex_t mu;
		char *body;
		size_t len;
		uint64_t built_ns;
		uint64_t gen; /* writes seen when it was built */
	} snap[MG_SNAP__COUNT];
	uint64_t writes; /* successful writes through the API, for the snapshots */

	/* Requests of routes without MG_RF_FAST wait here for a job thread, their connection
	 * suspended; the thread runs the handler and resumes the connection. */
	struct {
		pthread_mutex_t mu;
		pthread_cond_t cv;
		struct conn *head;
		struct conn *tail;
		bool stop;
		pthread_t th[MAX_JOB_THREADS];
		unsigned n_threads;
		uint64_t open; /* handed to a job thread and not yet completed (reply sent) */
		struct audit_rec *audit_head; /* records of refusals decided on the I/O threads */
		struct audit_rec *audit_tail;
	} jobs;

	struct mg_api_counters ctr;
	bool closing; /* set by mg_server_stop: new connections are refused */

	/* While starting: libmicrohttpd's last message, for the error the caller sees. */
	char start_err[256];
	bool starting;
};

/* An audit record waiting for a job thread to hand it to control. */
struct audit_rec {
	struct audit_rec *next;
	char who[MG_TOKEN_NAME_LEN];
	char method[16];
	char *path;
	char *detail;
	int status;
};

/* Per request: the parsed request, its body so far, and whether a reply was already queued. */
struct conn {
	struct mg_server *srv;
	struct mg_req req;
	char *body;
	size_t len;
	size_t cap;
	bool too_big;
	size_t discarded;
	bool static_file; /* served from www, not the API */
	bool replied;
	struct MHD_Connection *c; /* while a job thread has it */
	struct conn *next;	  /* in the job queue */
	bool job_done;		  /* the job thread replied; queue it on the next call */
	bool was_job;		  /* counted in jobs.open until it completes */
};

static void log_safe(char *out, size_t len, const char *s);

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct mg_server *s = cls;
	char msg[256], safe[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (s->starting) {
		snprintf(s->start_err, sizeof(s->start_err), "%s", msg);
		return;
	}
	/* Malformed requests are the clients' problem, and a flood of them must not flood the log;
	 * what libmicrohttpd quotes of a request is escaped like everything a client sent. */
	log_safe(safe, sizeof(safe), msg);
	MG_LOG(DEBUG, "libmicrohttpd: %s", safe);
}

uint16_t
mg_server_port(const struct mg_server *s)
{
	return s->port;
}

const struct mg_config *
mg_server_config(const struct mg_server *s)
{
	return &s->cfg;
}

json_t *
mg_server_counters(struct mg_server *s)
{
	return mg_api_ctr_json(&s->ctr);
}

const char *
mg_server_warning(const struct mg_server *s)
{
	return s != NULL && s->warning[0] != '\0' ? s->warning : NULL;
}

/* Snapshots -------------------------------------------------------------------------------- */

static uint64_t
mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

char *
mg_server_snapshot(struct mg_server *s, enum mg_snapshot_kind kind,
		char *(*build)(struct mg_req *r, size_t *len), struct mg_req *r, size_t *len)
{
	char *copy = NULL;
	uint64_t now, gen;

	if (s == NULL || s->cfg.snapshot_ms == 0)
		return build(r, len);
	pthread_mutex_lock(&s->snap[kind].mu);
	now = mono_ns();
	gen = __atomic_load_n(&s->writes, __ATOMIC_ACQUIRE);
	if (s->snap[kind].body == NULL || s->snap[kind].gen != gen ||
			now - s->snap[kind].built_ns >= s->cfg.snapshot_ms * 1000000ULL) {
		size_t n;
		char *b = build(r, &n);

		if (b == NULL) {
			pthread_mutex_unlock(&s->snap[kind].mu);
			return NULL;
		}
		free(s->snap[kind].body);
		s->snap[kind].body = b;
		s->snap[kind].len = n;
		s->snap[kind].built_ns = now;
		s->snap[kind].gen = gen;
	}
	copy = malloc(s->snap[kind].len + 1);
	if (copy != NULL) {
		memcpy(copy, s->snap[kind].body, s->snap[kind].len);
		copy[s->snap[kind].len] = '\0';
		*len = s->snap[kind].len;
	} else {
		errno = ENOMEM;
	}
	pthread_mutex_unlock(&s->snap[kind].mu);
	return copy;
}

/* Store readers ----------------------------------------------------------------------------- */

struct ctl_store_reader *
mg_server_reader_get(struct mg_server *s, char *err, size_t errlen)
{
	struct ctl_store_reader *r = NULL;
	const char *path;

	if (s != NULL) {
		pthread_mutex_lock(&s->readers_mu);
		if (s->n_readers > 0)
			r = s->readers[--s->n_readers];
		pthread_mutex_unlock(&s->readers_mu);
		if (r != NULL)
			return r;
	}
	path = ctl_api_store_path(s != NULL ? s->ctx : NULL);
	if (path == NULL) {
		snprintf(err, errlen,
				"the appliance runs without a store (no store: section in its "
				"config), so it keeps no history");
		errno = ENOTSUP;
		return NULL;
	}
	return ctl_store_reader_open(path, err, errlen);
}

void
mg_server_reader_put(struct mg_server *s, struct ctl_store_reader *r)
{
	if (r == NULL)
		return;
	if (s != NULL) {
		pthread_mutex_lock(&s->readers_mu);
		if (s->n_readers < READER_POOL) {
			s->readers[s->n_readers++] = r;
			r = NULL;
		}
		pthread_mutex_unlock(&s->readers_mu);
	}
	ctl_store_reader_close(r);
}

/* Replies ----------------------------------------------------------------------------------- */

static void
count_status(struct mg_server *s, int status)
{
	int c = status < 300   ? MG_SC_2XX
		: status < 400 ? MG_SC_3XX
		: status < 500 ? MG_SC_4XX
			       : MG_SC_5XX;

	__atomic_fetch_add(&s->ctr.requests[c], 1, __ATOMIC_RELAXED);
	if (status == 401)
		__atomic_fetch_add(&s->ctr.auth_failures, 1, __ATOMIC_RELAXED);
}

/*
 * Headers every answer carries, API and pages alike: no other origin may frame them (a
 * clickjacked mode switch), browsers do not guess types, and no URL leaks in a Referer. The
 * dashboard loads only its own files (data: for the empty favicon); JSON loads nothing.
 */
static void
add_security_headers(struct MHD_Response *resp, bool page)
{
	MHD_add_response_header(resp, "Content-Security-Policy",
			page ? "default-src 'self'; img-src 'self' data:; object-src 'none'; "
			       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
			     : "default-src 'none'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result
queue_reply(struct MHD_Connection *c, struct conn *cs)
{
	struct mg_req *r = &cs->req;
	struct MHD_Response *resp;
	const char *type;
	bool is_static;
	size_t len;
	char *body = mg_req_body_take(r, &len, &type, &is_static);
	char hdr[64];
	enum MHD_Result ret;

	if (body == NULL)
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	else if (is_static)
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	if (resp == NULL) {
		if (!is_static)
			free(body);
		return MHD_NO;
	}
	if (type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	add_security_headers(resp, false);
	if (r->etag[0] != '\0') {
		snprintf(hdr, sizeof(hdr), "\"%s\"", r->etag);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, hdr);
	}
	if (r->location[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
	if (r->allow[0] != '\0' && r->status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->status == 401)
		MHD_add_response_header(
				resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"vigil\"");
	if (r->retry_after_s > 0) {
		snprintf(hdr, sizeof(hdr), "%u", r->retry_after_s);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, hdr);
	}
	count_status(cs->srv, r->status);
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	cs->replied = true;
	return ret;
}

/*
 * Copy s for a log line: control characters, backslashes and bytes above 0x7e as \xNN, so that
 * what a client sent can neither forge a line nor pass for an escape; cut (with "...") to fit.
 */
static void
log_safe(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		bool esc = ch < 0x20 || ch > 0x7e || ch == '\\';

		if (o + (esc ? 4 : 1) + 4 > len) {
			snprintf(out + o, len - o, "...");
			return;
		}
		if (esc)
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

static void
store_audit(struct ctl_ctx *ctx, const char *who, const char *method, const char *path,
		const char *detail, int status)
{
	int rc = ctl_api_audit(ctx, who, method, path, detail, status);
	char lpath[160];

	if (rc != 0 && rc != -ENOTSUP) {
		log_safe(lpath, sizeof(lpath), path);
		MG_LOG(WARNING, "audit record of %s %s by %s (%d) was not stored: %s", method,
				lpath, who, status, strerror(-rc));
	}
}

/*
 * Record a write: who, what, and how it ended. The daemon's log gets the line at once; the
 * store's record goes through control, which may take a while, so on an I/O thread (a refusal
 * decided before the body) it is handed to the job threads instead of waited for.
 */
static void
audit(struct conn *cs, bool on_io_thread)
{
	struct mg_server *s = cs->srv;
	struct mg_req *r = &cs->req;
	char detail[512];
	const char *what = r->audit;

	if (r->auth != MG_AUTH_OK || r->route == NULL || !(r->route->flags & MG_RF_WRITE))
		return;
	if (r->status >= 400) {
		/* The refusal is part of the record: what was asked and why it was refused. */
		const char *msg = json_string_value(json_object_get(r->json, "message"));

		snprintf(detail, sizeof(detail), "%s%s%s", r->audit, r->audit[0] ? "; " : "",
				msg ? msg : "");
		what = detail;
	}
	/* The log holds the trail also when there is no store; what a client sent cannot forge
	 * log lines. */
	char lpath[160], lwhat[512];

	log_safe(lpath, sizeof(lpath), r->path);
	log_safe(lwhat, sizeof(lwhat), what);
	MG_LOG(NOTICE, "audit: %s %s by %s -> %d: %s", r->method, lpath, r->id.name, r->status,
			lwhat);
	if (on_io_thread) {
		struct audit_rec *a = calloc(1, sizeof(*a));

		if (a != NULL) {
			snprintf(a->who, sizeof(a->who), "%s", r->id.name);
			snprintf(a->method, sizeof(a->method), "%s", r->method);
			a->path = strdup(r->path);
			a->detail = strdup(what);
			a->status = r->status;
		}
		if (a == NULL || a->path == NULL || a->detail == NULL) {
			MG_LOG(WARNING,
					"audit record of %s %s by %s (%d) was not stored: out of "
					"memory",
					r->method, lpath, r->id.name, r->status);
			if (a != NULL) {
				free(a->path);
				free(a->detail);
				free(a);
			}
			return;
		}
		pthread_mutex_lock(&s->jobs.mu);
		if (!s->jobs.stop) {
			if (s->jobs.audit_tail != NULL)
				s->jobs.audit_tail->next = a;
			else
				s->jobs.audit_head = a;
			s->jobs.audit_tail = a;
			pthread_cond_signal(&s->jobs.cv);
			a = NULL;
		}
		pthread_mutex_unlock(&s->jobs.mu);
		if (a == NULL)
			return;
		/* Stopping: no job thread will take it. */
		store_audit(r->ctx, a->who, a->method, a->path, a->detail, a->status);
		free(a->path);
		free(a->detail);
		free(a);
		return;
	}
	store_audit(r->ctx, r->id.name, r->method, r->path, what, r->status);
}

/* Static files (dashboard) ------------------------------------------------------------------ */

static const char *
content_type_of(const char *path)
{
	static const struct {
		const char *ext;
		const char *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".woff2", "font/woff2" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* openat2 beneath dir; -1 when refused or missing, -2 when the kernel has no openat2. */
static int
open_beneath(int dir, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (dir < 0)
		return -2;
	fd = syscall(SYS_openat2, dir, rel[0] != '\0' ? rel : ".", &how, sizeof(how));
	if (fd < 0)
		return errno == ENOSYS ? -2 : -1;
	return (int)fd;
}

/* Serve path from the www directory; only files inside it, never through a symlink out. */
static enum MHD_Result
serve_static(struct MHD_Connection *c, struct conn *cs, const char *path)
{
	struct mg_server *s = cs->srv;
	char want[PATH_MAX], real[PATH_MAX];
	struct MHD_Response *resp;
	struct stat st;
	size_t wl = strlen(s->www);
	int fd;

	if (strcmp(path, "/") == 0)
		path = "/index.html";
	snprintf(real, sizeof(real), "%s", path);
	/*
	 * Beneath the www directory's descriptor, never out of it (no "..", no link or absolute
	 * path that leaves it: RESOLVE_BENEATH). O_NONBLOCK: opening a FIFO would wait for a
	 * writer, and the I/O thread with it. A kernel without openat2 (before 5.6): realpath,
	 * then open what it names without following a link put there since.
	 */
	fd = open_beneath(s->www_fd, path + 1);
	if (fd == -2 && (snprintf(want, sizeof(want), "%s%s", s->www, path) >= (int)sizeof(want) ||
					realpath(want, real) == NULL ||
					strncmp(real, s->www, wl) != 0 || real[wl] != '/' ||
					(fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
									 O_NONBLOCK)) < 0))
		fd = -1;
	if (fd < 0) {
		mg_reply_error(&cs->req, 404, "not_found", NULL, "no such file: %s", path);
		return queue_reply(c, cs);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		/* Only regular files: a FIFO, socket or device is not the dashboard's. */
		close(fd);
		mg_reply_error(&cs->req, 404, "not_found", NULL, "no such file: %s", path);
		return queue_reply(c, cs);
	}
	resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (resp == NULL) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type_of(real));
	add_security_headers(resp, true);
	count_status(s, 200);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	cs->replied = true;
	return ret;
}

/* Requests ---------------------------------------------------------------------------------- */

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct mg_req *r = cls;

	(void)kind;
	if (r->n_query >= MG_MAX_QUERY) {
		r->query_overflow = true;
		return MHD_NO;
	}
	r->query[r->n_query].key = key;
	r->query[r->n_query].value = value != NULL ? value : "";
	r->n_query++;
	return MHD_YES;
}

/*
 * Requests that name another host, and writes or compiles that another origin's page sent,
 * are refused before anything else: a page whose name was rebound to this address sends its
 * own name as Host (421), and a browser adds Origin to every POST, PUT and DELETE (403). Reads
 * may come from anywhere the Host check lets through: without CORS headers, another origin's
 * page cannot read the answer. Returns true when a reply was queued.
 */
static bool
refuse_foreign(struct MHD_Connection *c, struct conn *cs)
{
	struct mg_server *s = cs->srv;
	struct mg_req *r = &cs->req;
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *origin;
	char shown[96];

	if (!mg_host_allowed(&s->hosts, host, s->tls)) {
		snprintf(shown, sizeof(shown), "%.64s%s", host ? host : "",
				host && strlen(host) > 64 ? "..." : "");
		__atomic_fetch_add(&s->ctr.refused[MG_REFUSED_HOST], 1, __ATOMIC_RELAXED);
		mg_reply_error(r, 421, "misdirected_request",
				json_pack("{s:s, s:o}", "header", "Host", "got",
						mg_json_str(shown)),
				host == NULL ? "the request has no Host header; this appliance "
					       "answers only requests that name it"
					     : "Host '%s' is not a name of this appliance (it answers "
					       "to localhost, 127.0.0.1, [::1], its listen address and "
					       "mgmt.hosts, with its port)",
				shown);
		return true;
	}
	if (strcmp(r->method, "GET") == 0)
		return false;
	origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
	if (origin != NULL && !mg_origin_is_own(origin, host, s->tls)) {
		snprintf(shown, sizeof(shown), "%.64s%s", origin, strlen(origin) > 64 ? "..." : "");
		__atomic_fetch_add(&s->ctr.refused[MG_REFUSED_ORIGIN], 1, __ATOMIC_RELAXED);
		mg_reply_error(r, 403, "forbidden_origin",
				json_pack("{s:s, s:o}", "header", "Origin", "got",
						mg_json_str(shown)),
				"Origin '%s' is not this appliance's own origin (%s://%s): %s "
				"requests from another site's pages are refused",
				shown, s->tls ? "https" : "http", host, r->method);
		return true;
	}
	return false;
}

static bool
is_api_path(const char *url)
{
	return strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0 ||
	       strcmp(url, "/metrics") == 0;
}

/*
 * First call of a request: everything that can be decided from the request line and headers
 * is decided here, before a byte of the body is read: unknown path or method, missing or
 * wrong credentials, a declared body that is too big or that the route does not take.
 * Returns true when a reply was queued.
 */
static bool
start_request(struct MHD_Connection *c, struct conn *cs, const char *url, const char *method)
{
	struct mg_server *s = cs->srv;
	struct mg_req *r = &cs->req;
	const union MHD_ConnectionInfo *ci;
	const char *cl;
	int rc;

	r->method = strcmp(method, "HEAD") == 0 ? "GET" : method;
	r->path = url;
	r->ctx = s->ctx;
	r->srv = s;
	r->content_type = MHD_lookup_connection_value(
			c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	r->if_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, r);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	r->auth = mg_auth_identify(&s->cfg,
			MHD_lookup_connection_value(
					c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
			ci != NULL ? ci->client_addr : NULL, &r->id);
	if (refuse_foreign(c, cs))
		return true;

	if (!is_api_path(url) && s->www[0] != '\0' && strcmp(r->method, "GET") == 0) {
		cs->static_file = true;
		return false; /* served at the end, once any body is drained */
	}
	rc = mg_route_find(r, r->method, url);
	if (rc == -ENOENT) {
		mg_reply_error(r, 404, "no_route",
				json_pack("{s:s}", "see", "/api/v1/openapi.json"),
				"no API route %s%s (the routes are in /api/v1/openapi.json)", url,
				is_api_path(url) ? ""
						 : "; paths outside /api/ are the dashboard's");
		return true;
	}
	if (rc == -EOPNOTSUPP) {
		mg_reply_error(r, 405, "method_not_allowed",
				json_pack("{s:o}", "allow", mg_json_str(r->allow)),
				"%s is not allowed on %s (allowed: %s)", method, url, r->allow);
		return true;
	}
	/* Credentials before the body: an unauthenticated client cannot make us read megabytes. */
	if (r->route->role > MG_ROLE_NONE &&
			(r->auth != MG_AUTH_OK || r->id.role < r->route->role)) {
		mg_route_run(r); /* replies 401 or 403 without running the handler */
		audit(cs, true);
		return true;
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		unsigned long long n = strtoull(cl, NULL, 10);

		if (n > s->cfg.max_body) {
			mg_reply_error(r, 413, "payload_too_large",
					json_pack("{s:I}", "max_body", (json_int_t)s->cfg.max_body),
					"the body is %llu bytes; this appliance takes at most %llu "
					"(mgmt.max_body)",
					n, (unsigned long long)s->cfg.max_body);
			audit(cs, true);
			return true;
		}
		if (n > 0 && !(r->route->flags & MG_RF_BODY)) {
			mg_reply_error(r, 400, "unexpected_body", NULL,
					"%s %s takes no request body", r->route->method,
					r->route->pattern);
			audit(cs, true);
			return true;
		}
	}
	return false;
}

/* Run the route's handler for a complete request, and what follows it (audit, snapshots). */
static void
run_route(struct conn *cs, bool on_io_thread)
{
	struct mg_req *r = &cs->req;

	r->body = cs->body;
	r->body_len = cs->len;
	mg_route_run(r);
	/* A change shows in the next status or metrics, whatever the snapshot's age. */
	if ((r->route->flags & MG_RF_WRITE) && r->status < 400)
		__atomic_fetch_add(&cs->srv->writes, 1, __ATOMIC_RELEASE);
	audit(cs, on_io_thread);
}

static void *
job_main(void *arg)
{
	struct mg_server *s = arg;

	pthread_mutex_lock(&s->jobs.mu);
	for (;;) {
		struct audit_rec *a = s->jobs.audit_head;
		struct conn *cs = s->jobs.head;

		if (a != NULL) {
			s->jobs.audit_head = a->next;
			if (s->jobs.audit_head == NULL)
				s->jobs.audit_tail = NULL;
			pthread_mutex_unlock(&s->jobs.mu);
			store_audit(s->ctx, a->who, a->method, a->path, a->detail, a->status);
			free(a->path);
			free(a->detail);
			free(a);
			pthread_mutex_lock(&s->jobs.mu);
			continue;
		}
		if (cs == NULL) {
			if (s->jobs.stop)
				break;
			pthread_cond_wait(&s->jobs.cv, &s->jobs.mu);
			continue;
		}
		s->jobs.head = cs->next;
		if (s->jobs.head == NULL)
			s->jobs.tail = NULL;
		pthread_mutex_unlock(&s->jobs.mu);
		run_route(cs, false);
		cs->job_done = true;
		/* The connection's thread queues the reply when it is called again. */
		MHD_resume_connection(cs->c);
		pthread_mutex_lock(&s->jobs.mu);
	}
	pthread_mutex_unlock(&s->jobs.mu);
	return NULL;
}

/*
 * Hand a request to the job threads, suspending its connection. Returns false when the server
 * is stopping (the caller then runs the route itself).
 */
static bool
enqueue_job(struct MHD_Connection *c, struct conn *cs)
{
	struct mg_server *s = cs->srv;

	pthread_mutex_lock(&s->jobs.mu);
	if (s->jobs.stop) {
		pthread_mutex_unlock(&s->jobs.mu);
		return false;
	}
	cs->c = c;
	cs->next = NULL;
	cs->was_job = true;
	__atomic_fetch_add(&s->jobs.open, 1, __ATOMIC_RELAXED);
	MHD_suspend_connection(c);
	if (s->jobs.tail != NULL)
		s->jobs.tail->next = cs;
	else
		s->jobs.head = cs;
	s->jobs.tail = cs;
	pthread_cond_signal(&s->jobs.cv);
	pthread_mutex_unlock(&s->jobs.mu);
	return true;
}

/* Last call of a request: the body is complete. */
static enum MHD_Result
finish_request(struct MHD_Connection *c, struct conn *cs)
{
	struct mg_req *r = &cs->req;

	if (cs->static_file) {
		if (cs->len > 0 || cs->too_big) {
			mg_reply_error(r, 400, "unexpected_body", NULL,
					"GET takes no request body");
			return queue_reply(c, cs);
		}
		return serve_static(c, cs, r->path);
	}
	if (cs->too_big) {
		mg_reply_error(r, 413, "payload_too_large",
				json_pack("{s:I}", "max_body", (json_int_t)cs->srv->cfg.max_body),
				"the body is larger than %llu bytes (mgmt.max_body)",
				(unsigned long long)cs->srv->cfg.max_body);
		audit(cs, true);
	} else if (cs->len > 0 && !(r->route->flags & MG_RF_BODY)) {
		mg_reply_error(r, 400, "unexpected_body", NULL, "%s %s takes no request body",
				r->route->method, r->route->pattern);
		audit(cs, true);
	} else if (!(r->route->flags & MG_RF_FAST) && enqueue_job(c, cs)) {
		return MHD_YES;
	} else {
		run_route(cs, true);
	}
	return queue_reply(c, cs);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
		const char *version, const char *upload_data, size_t *upload_data_size,
		void **con_cls)
{
	struct mg_server *s = cls;
	struct conn *cs = *con_cls;

	(void)version;
	if (cs == NULL) {
		cs = calloc(1, sizeof(*cs));
		if (cs == NULL)
			return MHD_NO;
		cs->srv = s;
		*con_cls = cs;
		if (start_request(c, cs, url, method))
			return queue_reply(c, cs);
		return MHD_YES;
	}
	if (cs->job_done) {
		/* Called again after a job thread resumed the connection. */
		cs->job_done = false;
		return queue_reply(c, cs);
	}
	if (cs->replied) {
		/* Refused before the body: drop what still arrives, up to a point. */
		cs->discarded += *upload_data_size;
		*upload_data_size = 0;
		return cs->discarded > DISCARD_LIMIT ? MHD_NO : MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (cs->too_big || cs->len + n > s->cfg.max_body) {
			/* Chunked or lying about its length: keep draining to answer 413. */
			cs->too_big = true;
			cs->discarded += n;
			return cs->discarded > DISCARD_LIMIT ? MHD_NO : MHD_YES;
		}
		if (cs->len + n + 1 > cs->cap) {
			size_t cap = cs->cap ? cs->cap : 4096;
			char *b;

			while (cap < cs->len + n + 1)
				cap *= 2;
			b = realloc(cs->body, cap);
			if (b == NULL)
				return MHD_NO;
			cs->body = b;
			cs->cap = cap;
		}
		memcpy(cs->body + cs->len, upload_data, n);
		cs->len += n;
		cs->body[cs->len] = '\0';
		return MHD_YES;
	}
	return finish_request(c, cs);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
		enum MHD_RequestTerminationCode toe)
{
	struct conn *cs = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cs == NULL)
		return;
	if (cs->was_job)
		__atomic_fetch_sub(&cs->srv->jobs.open, 1, __ATOMIC_RELEASE);
	mg_req_reply_free(&cs->req);
	free(cs->body);
	free(cs);
	*con_cls = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
		enum MHD_ConnectionNotificationCode toe)
{
	struct mg_server *s = cls;

	(void)c;
	(void)socket_context;
	/* Every connection started is closed once, after: the count stays >= 0. */
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		__atomic_fetch_add(&s->ctr.connections, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_sub(&s->ctr.connections, 1, __ATOMIC_RELAXED);
}

/* Start and stop -------------------------------------------------------------------------- */

/*
 * Once the server stops, new connections are accepted and closed at once. This does what
 * MHD_quiesce_daemon would, without its race: with a thread pool on epoll, it removes the
 * listening socket from each worker's epoll set while the worker may be removing it too, and
 * libmicrohttpd 0.9.75 aborts the process when the second removal fails.
 */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct mg_server *s = cls;

	(void)addr;
	(void)addrlen;
	return __atomic_load_n(&s->closing, __ATOMIC_ACQUIRE) ? MHD_NO : MHD_YES;
}

static char *
read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > (1 << 20) ||
			fseek(f, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: not a readable file of at most 1 MiB", path);
		fclose(f);
		errno = EINVAL;
		return NULL;
	}
	buf = malloc((size_t)len + 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		snprintf(err, errlen, "%s: cannot read it", path);
		free(buf);
		fclose(f);
		errno = EIO;
		return NULL;
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/*
 * A private key that group or others may read is as good as published to those users:
 * say so in the log and in status (the daemon still starts: the operator decides).
 */
static void
key_mode_warning(struct mg_server *s, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
		return;
	snprintf(s->warning, sizeof(s->warning),
			"mgmt.tls.key %s is open to %s (mode %04o): chmod 600 it, owned by the user "
			"vigild runs as",
			path,
			(st.st_mode & S_IRWXG) && (st.st_mode & S_IRWXO) ? "group and others"
			: (st.st_mode & S_IRWXG)			 ? "its group"
									 : "others",
			(unsigned)(st.st_mode & 07777));
	MG_LOG(WARNING, "%s", s->warning);
}

/* Let the job threads finish what is queued, then join them. */
static void
stop_jobs(struct mg_server *s)
{
	pthread_mutex_lock(&s->jobs.mu);
	s->jobs.stop = true;
	pthread_cond_broadcast(&s->jobs.cv);
	pthread_mutex_unlock(&s->jobs.mu);
	for (unsigned i = 0; i < s->jobs.n_threads; i++)
		pthread_join(s->jobs.th[i], NULL);
	s->jobs.n_threads = 0;
}

static void
server_free(struct mg_server *s)
{
	if (s->tls_key != NULL) {
		/* The private key does not linger in freed memory. */
		memset(s->tls_key, 0, strlen(s->tls_key));
		free(s->tls_key);
	}
	free(s->tls_cert);
	if (s->www_fd >= 0)
		close(s->www_fd);
	for (unsigned i = 0; i < s->n_readers; i++)
		ctl_store_reader_close(s->readers[i]);
	pthread_mutex_destroy(&s->readers_mu);
	for (int k = 0; k < MG_SNAP__COUNT; k++) {
		free(s->snap[k].body);
		pthread_mutex_destroy(&s->snap[k].mu);
	}
	pthread_mutex_destroy(&s->jobs.mu);
	pthread_cond_destroy(&s->jobs.cv);
	free(s);
}

struct mg_server *
mg_server_start(const struct mg_config *cfg, struct ctl_ctx *ctx, char *err, size_t errlen)
{
	struct mg_server *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	struct vg_addr listen_addr;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			     MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_OptionItem opts[16];
	unsigned n = 0;
	const union MHD_DaemonInfo *di;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	s->www_fd = -1;
	s->cfg = *cfg;
	s->ctx = ctx;
	pthread_mutex_init(&s->readers_mu, NULL);
	for (int k = 0; k < MG_SNAP__COUNT; k++)
		pthread_mutex_init(&s->snap[k].mu, NULL);
	pthread_mutex_init(&s->jobs.mu, NULL);
	pthread_cond_init(&s->jobs.cv, NULL);

	memset(&ss, 0, sizeof(ss));
	if (vg_addr_parse_str(cfg->listen, &listen_addr) != 0) {
		snprintf(err, errlen, "mgmt.listen: '%s' is not an IPv4 or IPv6 address",
				cfg->listen);
		errno = EINVAL;
		goto fail;
	}
	if (listen_addr.family == 4) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(cfg->port);
		memcpy(&((struct sockaddr_in *)&ss)->sin_addr, listen_addr.b, 4);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(cfg->port);
		memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, listen_addr.b, 16);
		flags |= MHD_USE_IPv6;
	}
	if (cfg->tls_cert[0] != '\0') {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen,
					"mgmt.tls is set but this libmicrohttpd was built without "
					"TLS (GnuTLS)");
			errno = ENOTSUP;
			goto fail;
		}
		s->tls_cert = read_file(cfg->tls_cert, err, errlen);
		if (s->tls_cert == NULL)
			goto fail;
		s->tls_key = read_file(cfg->tls_key, err, errlen);
		if (s->tls_key == NULL)
			goto fail;
		flags |= MHD_USE_TLS;
		s->tls = true;
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
			(void *)MG_TLS_PRIORITIES };
		key_mode_warning(s, cfg->tls_key);
	}
	if (cfg->www[0] != '\0') {
		struct stat st;

		if (realpath(cfg->www, s->www) == NULL || stat(s->www, &st) != 0 ||
				!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "mgmt.www: %s is not a directory", cfg->www);
			errno = ENOENT;
			goto fail;
		}
		/*
		 * Files are opened beneath this descriptor: after vigild drops root, the
		 * directories above www (a clone in /root, say) need not be open to its user.
		 */
		s->www_fd = open(s->www, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, cfg->threads, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
		NULL };
	if (cfg->max_connections_per_ip > 0)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT,
			cfg->max_connections_per_ip, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
		(intptr_t)((cfg->timeout_ms + 999) / 1000), NULL };
	/* Reject what RFC 9112 forbids (bare LF, spaces before colons, ...) rather than guess. */
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

	s->starting = true;
	s->d = MHD_start_daemon(flags, 0, on_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
			mhd_log, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
			MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_ARRAY, opts,
			MHD_OPTION_END);
	int e = errno;

	s->starting = false;
	if (s->d == NULL) {
		snprintf(err, errlen, "cannot serve the API on %s%s%s:%u: %s",
				strchr(cfg->listen, ':') ? "[" : "", cfg->listen,
				strchr(cfg->listen, ':') ? "]" : "", cfg->port,
				s->start_err[0] ? s->start_err : "libmicrohttpd refused to start");
		errno = e != 0 ? e : EIO;
		goto fail;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di != NULL ? di->port : cfg->port;
	mg_hosts_init(&s->hosts, cfg, s->port);
	for (unsigned i = 0; i < cfg->job_threads && i < MAX_JOB_THREADS; i++) {
		int e2 = pthread_create(&s->jobs.th[i], NULL, job_main, s);

		if (e2 != 0) {
			snprintf(err, errlen, "cannot start the API's job threads: %s",
					strerror(e2));
			stop_jobs(s);
			MHD_stop_daemon(s->d);
			errno = e2;
			goto fail;
		}
		pthread_setname_np(s->jobs.th[i], "mg-job");
		s->jobs.n_threads++;
	}
	MG_LOG(NOTICE, "API on %s://%s%s%s:%u/api/v1 (%u token%s%s)",
			cfg->tls_cert[0] ? "https" : "http", strchr(cfg->listen, ':') ? "[" : "",
			cfg->listen, strchr(cfg->listen, ':') ? "]" : "", s->port, cfg->n_tokens,
			cfg->n_tokens == 1 ? "" : "s",
			cfg->allow_unauthenticated_loopback ? ", unauthenticated loopback allowed"
							    : "");
	return s;
fail:
	server_free(s);
	return NULL;
}

void
mg_server_stop(struct mg_server *s)
{
	if (s == NULL)
		return;
	/* No new connections; the jobs already queued finish and resume their connections (a
	 * daemon must not stop with one suspended); later requests run on the I/O threads. */
	__atomic_store_n(&s->closing, true, __ATOMIC_RELEASE);
	stop_jobs(s);
	/* Resumed connections still have to send their replies: give them a moment. */
	for (int i = 0; i < 200 && __atomic_load_n(&s->jobs.open, __ATOMIC_ACQUIRE) > 0; i++)
		usleep(10 * 1000);
	MHD_stop_daemon(s->d);
	server_free(s);
}
