/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the management API as a client reaches it, through libmicrohttpd, the Host and
 * Origin checks, authentication and roles, the body limit, then the router and handlers (the
 * fake ctl_api of tests/unit/mgmt/mg_fake_ctl.c behind them).
 *
 * At the first input the real mg_server starts on 127.0.0.1 (ephemeral port) with one token
 * per role and allow_unauthenticated_loopback as vigil.yaml ships it. Each input is the raw
 * bytes a client writes on a fresh TCP connection, with "@TOKEN@" replaced by the admin token
 * and "@PORT@" by the server's port (so that inputs reach the authenticated handlers and pass
 * the Host check). The client then shuts its side down and reads until the server closes, the
 * first response is whole (by its Content-Length), nothing came for QUIET_MS, or READ_MS pass.
 *
 * Aborts when the reply is not empty (closing without a reply is a fine answer to garbage)
 * and does not begin with an HTTP/1.x status line of status 100 to 599, when a header line of
 * the reply is not "Name: value" without control bytes (CR/LF injection), or when a health
 * request on a new connection afterwards does not get 200: the server stopped answering.
 * FUZZ_HTTP_VERBOSE=1 in the environment prints each exchange's first reply line and time.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../unit/mgmt/mg_fake_ctl.h"
#include "ctl_ctx.h"
#include "mg_auth.h"
#include "mg_config.h"
#include "mg_server.h"

#define TOK_ADMIN    "admin-fuzz-5e1f0a"
#define TOK_OPERATOR "operator-fuzz-77b2"
#define TOK_VIEWER   "viewer-fuzz-c3d9"

/*
 * How long to wait for the whole reply (the server's idle timeout, 1 s, bounds it too), and for
 * its next bytes: a request the server waits to see the end of is given up after QUIET_MS
 * (the close resets the connection), not after the idle timeout. A reply slower than that is
 * not checked, but the health request after it is.
 */
#define READ_MS	 3000
#define QUIET_MS 100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mg_server *srv;
static struct ctl_ctx ctx;
static uint16_t port;

static void
add_token(struct mg_config *c, const char *name, int role, const char *secret)
{
	struct mg_token *t = &c->tokens[c->n_tokens++];

	snprintf(t->name, sizeof(t->name), "%s", name);
	t->role = role;
	mg_sha256(secret, strlen(secret), t->sha256);
}

static void
start_server(void)
{
	struct mg_config c;
	char err[256];

	fake_ctl_reset();
	mg_config_defaults(&c);
	c.enabled = true;
	c.port = 0;
	c.timeout_ms = 1000;
	c.max_body = 64 * 1024;
	c.allow_unauthenticated_loopback = true; /* as conf/vigil.yaml ships it */
	c.unauthenticated_role = MG_ROLE_VIEWER;
	snprintf(c.hosts[c.n_hosts++], sizeof(c.hosts[0]), "vigil.example");
	add_token(&c, "vera", MG_ROLE_VIEWER, TOK_VIEWER);
	add_token(&c, "otto", MG_ROLE_OPERATOR, TOK_OPERATOR);
	add_token(&c, "ada", MG_ROLE_ADMIN, TOK_ADMIN);
	srv = mg_server_start(&c, &ctx, err, sizeof(err));
	if (srv == NULL) {
		fprintf(stderr, "fuzz_http: mg_server_start: %s\n", err);
		abort();
	}
	port = mg_server_port(srv);
}

static uint64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int
dial(void)
{
	struct sockaddr_in a;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		perror("fuzz_http: socket");
		abort();
	}
	/* Close with RST: a long run would otherwise fill the port range with TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("fuzz_http: connect");
		abort();
	}
	return fd;
}

static void
send_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return; /* the server may close early; what it answered is checked */
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * Whether out holds one whole response: its header and, unless head (the reply to a HEAD) or
 * a status without a body, Content-Length bytes of body. A kept-alive connection would
 * otherwise hold the reader until the server's idle timeout.
 */
static bool
reply_complete(const char *out, size_t len, bool head)
{
	const char *end = memmem(out, len, "\r\n\r\n", 4), *cl;
	size_t hlen, want;

	if (end == NULL)
		return false;
	hlen = (size_t)(end - out) + 4;
	if (head || (len >= 12 && (out[9] == '1' || memcmp(out + 9, "204", 3) == 0 ||
						  memcmp(out + 9, "304", 3) == 0)))
		return true;
	for (cl = out; (cl = memmem(cl, hlen - (size_t)(cl - out), "\r\n", 2)) != NULL; cl += 2)
		if (strncasecmp(cl + 2, "Content-Length:", 15) == 0)
			break;
	if (cl == NULL)
		return false; /* chunked or until close: read on */
	want = strtoul(cl + 17, NULL, 10);
	return len - hlen >= want;
}

/*
 * Read until the server closes, one whole response is in, wait_ms pass, or (quiet_ms not 0)
 * nothing came for quiet_ms; out is NUL-terminated. Returns the length.
 */
static size_t
read_reply(int fd, char *out, size_t cap, unsigned wait_ms, unsigned quiet_ms, bool head,
		bool *closed)
{
	uint64_t deadline = now_ms() + wait_ms;
	size_t len = 0;

	*closed = false;
	for (;;) {
		uint64_t t = now_ms(), until = deadline;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (quiet_ms != 0 && t + quiet_ms < until)
			until = t + quiet_ms;
		if (t >= until || poll(&p, 1, (int)(until - t)) <= 0)
			break;
		if (len == cap - 1) {
			char sink[4096]; /* keep reading so that the server can finish */
			ssize_t n = recv(fd, sink, sizeof(sink), 0);

			if (n <= 0) {
				*closed = true;
				break;
			}
			continue;
		}
		ssize_t n = recv(fd, out + len, cap - 1 - len, 0);

		if (n <= 0) {
			*closed = true;
			break;
		}
		len += (size_t)n;
		out[len] = '\0';
		if (reply_complete(out, len, head))
			break;
	}
	out[len] = '\0';
	return len;
}

/* "HTTP/1.0 " or "HTTP/1.1 ", three digits from 100 to 599, then a space or CRLF. */
static bool
status_line_ok(const char *r, size_t len)
{
	int st;

	if (len < 12 || strncmp(r, "HTTP/1.", 7) != 0 || (r[7] != '0' && r[7] != '1') ||
			r[8] != ' ')
		return false;
	for (int i = 9; i < 12; i++)
		if (r[i] < '0' || r[i] > '9')
			return false;
	st = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
	if (st < 100 || st > 599)
		return false;
	return len == 12 || r[12] == ' ' || r[12] == '\r';
}

/*
 * Every header line of the first response is "Name: value" with a token for a name and no
 * control bytes in the value: nothing a client sent split a header (CR/LF injection). Only
 * checked when the header is complete.
 */
static bool
headers_ok(const char *r, size_t len)
{
	const char *end = memmem(r, len, "\r\n\r\n", 4);
	const char *line = memmem(r, len, "\r\n", 2);

	if (end == NULL)
		return true;
	while (line < end) {
		const char *p = line + 2, *eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		const char *q = p;

		while (q < eol && (isalnum((unsigned char)*q) || strchr("!#$%&'*+-.^_`|~", *q)))
			q++;
		if (q == p || q >= eol || *q != ':')
			return false;
		for (q++; q < eol; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return false;
		line = eol;
	}
	return true;
}

static void
health_or_abort(void)
{
	char req[128], resp[4096];
	bool closed;
	int fd = dial();
	int n = snprintf(req, sizeof(req),
			"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
			"Connection: close\r\n\r\n",
			port);

	send_all(fd, (const uint8_t *)req, (size_t)n);
	size_t len = read_reply(fd, resp, sizeof(resp), READ_MS, 0, false, &closed);

	close(fd);
	if (!status_line_ok(resp, len) || strncmp(resp + 9, "200", 3) != 0) {
		fprintf(stderr, "fuzz_http: the server stopped answering: health got \"%.80s\"\n",
				resp);
		abort();
	}
}

/* Input with @TOKEN@ and @PORT@ replaced; *outlen bytes (malloc'd). */
static uint8_t *
substitute(const uint8_t *d, size_t n, size_t *outlen)
{
	char portstr[8];
	size_t pl = (size_t)snprintf(portstr, sizeof(portstr), "%u", port);
	size_t tl = strlen(TOK_ADMIN), cap = n * 3 + 16, o = 0;
	uint8_t *out = malloc(cap); /* each 6-7 byte placeholder grows at most threefold */

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		if (n - i >= 7 && memcmp(d + i, "@TOKEN@", 7) == 0) {
			memcpy(out + o, TOK_ADMIN, tl);
			o += tl;
			i += 7;
		} else if (n - i >= 6 && memcmp(d + i, "@PORT@", 6) == 0) {
			memcpy(out + o, portstr, pl);
			o += pl;
			i += 6;
		} else {
			out[o++] = d[i++];
		}
	}
	*outlen = o;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char resp[64 * 1024];
	static int verbose = -1;
	uint8_t *req;
	size_t len, rlen;
	uint64_t t0;
	bool closed;
	int fd;

	if (size > 256 * 1024)
		return 0;
	if (srv == NULL)
		start_server();
	req = substitute(data, size, &len);
	if (req == NULL)
		return 0;
	t0 = now_ms();
	fd = dial();
	send_all(fd, req, len);
	/* No more bytes: a partial request is answered or dropped now, not after the timeout. */
	shutdown(fd, SHUT_WR);
	rlen = read_reply(fd, resp, sizeof(resp), READ_MS, QUIET_MS,
			len >= 5 && memcmp(req, "HEAD ", 5) == 0, &closed);
	close(fd);
	free(req);
	if (verbose < 0)
		verbose = getenv("FUZZ_HTTP_VERBOSE") != NULL;
	if (verbose)
		fprintf(stderr, "fuzz_http: %zu bytes in, %zu out in %llu ms%s: %.*s\n", len, rlen,
				(unsigned long long)(now_ms() - t0), closed ? "" : " (not closed)",
				(int)strcspn(resp, "\r\n"), resp);
	if (rlen > 0 && !status_line_ok(resp, rlen)) {
		fprintf(stderr, "fuzz_http: reply without a valid status line: \"%.120s\"\n", resp);
		abort();
	}
	if (!headers_ok(resp, rlen)) {
		fprintf(stderr, "fuzz_http: a malformed header line in: \"%.400s\"\n", resp);
		abort();
	}
	health_or_abort();
	return 0;
}
