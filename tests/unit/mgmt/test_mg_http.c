/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Malformed HTTP from raw sockets: bad request lines, huge headers, invalid chunking,
 * conflicting lengths, partial requests that must time out, too many connections. The server
 * answers 4xx or closes, never crashes or hangs, and keeps serving the next client.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "vg_test.h"

#include "mg_test_http.h"

static struct mg_test_server ts;

static int
setup(void **state)
{
	struct mg_config c;

	(void)state;
	fake_ctl_reset();
	mg_test_config(&c);
	c.timeout_ms = 1000;
	c.max_connections = 8;
	c.max_connections_per_ip = 8;
	c.max_body = 4096;
	/* The raw requests below name the server "x" (on port 80, as a Host without a port does).
	 */
	snprintf(c.hosts[c.n_hosts++], sizeof(c.hosts[0]), "x:80");
	return mg_test_start(&ts, &c);
}

static int
teardown(void **state)
{
	(void)state;
	mg_server_stop(ts.srv);
	return 0;
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
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(mg_server_port(ts.srv));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void
send_all(int fd, const char *buf, size_t len)
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
 * Read until the server closes or wait_ms pass. Returns the bytes read (NUL-terminated in
 * out); *closed tells whether the server closed the connection.
 */
static size_t
read_until_close(int fd, char *out, size_t cap, unsigned wait_ms, bool *closed)
{
	uint64_t deadline = now_ms() + wait_ms;
	size_t len = 0;

	*closed = false;
	while (now_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(deadline - now_ms());

		if (poll(&p, 1, left > 0 ? left : 0) <= 0)
			break;
		ssize_t n = recv(fd, out + len, cap - 1 - len, 0);

		if (n <= 0) {
			*closed = true;
			break;
		}
		len += (size_t)n;
		if (len == cap - 1)
			break;
	}
	out[len] = '\0';
	return len;
}

static int
status_of(const char *resp)
{
	int st = 0;

	if (sscanf(resp, "HTTP/1.%*d %d", &st) != 1)
		return 0;
	return st;
}

/* One raw exchange on a fresh connection; returns the status of the first reply (0: none). */
static int
exchange(const char *req, size_t len, char *resp, size_t cap, bool *closed)
{
	int fd = dial();

	send_all(fd, req, len);
	read_until_close(fd, resp, cap, 3000, closed);
	close(fd);
	return status_of(resp);
}

static void
assert_still_serving(void)
{
	struct http_resp r;

	assert_int_equal(http(&ts, "GET", "/api/v1/health", NULL, NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
}

struct raw_case {
	const char *what;
	const char *req;
	int lo; /* accepted status range */
	int hi;
	bool may_close; /* closing without a reply is a fine answer too */
};

static const struct raw_case cases[] = {
	{ "garbage request line", "GARBAGE\r\n\r\n", 400, 499, true },
	{ "no version", "GET /api/v1/health\r\n\r\n", 400, 499 },
	{ "unknown version", "GET /api/v1/health HTTP/9.9\r\nHost: x\r\n\r\n", 400, 505 },
	{ "binary junk", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, 499, true },
	{ "bare LF line ends", "GET /api/v1/health HTTP/1.1\nHost: x\n\n", 200, 499 },
	{ "header without colon", "GET /api/v1/health HTTP/1.1\r\nHost x\r\n\r\n", 400, 499 },
	{ "space before colon", "GET /api/v1/health HTTP/1.1\r\nHost : x\r\n\r\n", 400, 499 },
	{ "HTTP/1.1 without Host", "GET /api/v1/health HTTP/1.1\r\n\r\n", 400, 499 },
	{ "invalid chunk size",
			"PUT /api/v1/mode HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOK_ADMIN
			"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
			"ZZ\r\n{}\r\n0\r\n\r\n",
			400, 499 },
	{ "chunk longer than said",
			"PUT /api/v1/mode HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOK_ADMIN
			"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
			"2\r\n{\"mode\": 1}\r\n0\r\n\r\n",
			400, 499 },
	{ "huge chunk size",
			"PUT /api/v1/mode HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOK_ADMIN
			"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
			"fffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
			400, 499 },
	{ "both lengths",
			"PUT /api/v1/mode HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOK_ADMIN
			"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
			"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
			400, 499 },
	{ "negative length",
			"PUT /api/v1/mode HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOK_ADMIN
			"\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}",
			400, 499 },
	{ "two lengths",
			"PUT /api/v1/mode HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOK_ADMIN
			"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
			"Content-Length: 3\r\n\r\n{} ",
			400, 499 },
	{ "length above the limit",
			"PUT /api/v1/policy HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOK_ADMIN
			"\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{",
			413, 413 },
	{ "unknown method", "BREW /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n", 405, 405 },
	{ "absolute URI", "GET http://x/api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n", 200, 499 },
	{ "query only", "GET ?a=b HTTP/1.1\r\nHost: x\r\n\r\n", 400, 499 },
};

static void
test_malformed_requests(void **state)
{
	char resp[8192];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool closed;
		int st = exchange(cases[i].req, strlen(cases[i].req), resp, sizeof(resp), &closed);

		print_message("%s: %d\n", cases[i].what, st);
		if ((st != 0 || !cases[i].may_close) && (st < cases[i].lo || st > cases[i].hi))
			fail_msg("%s: status %d, expected %d..%d\n%s", cases[i].what, st,
					cases[i].lo, cases[i].hi, resp);
		assert_still_serving();
	}
}

static void
test_huge_headers(void **state)
{
	char resp[8192];
	size_t n = 256 * 1024;
	char *req = malloc(n + 128);
	bool closed;
	int st;

	(void)state;
	/* One header far beyond the connection's memory: 4xx (431 or 413), and the server lives. */
	strcpy(req, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ");
	size_t l = strlen(req);
	memset(req + l, 'a', n);
	strcpy(req + l + n, "\r\n\r\n");
	st = exchange(req, strlen(req), resp, sizeof(resp), &closed);
	print_message("one huge header: %d\n", st);
	assert_true(st == 0 || (st >= 400 && st <= 499));
	assert_still_serving();
	/* Many small headers. */
	strcpy(req, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n");
	l = strlen(req);
	for (int i = 0; l + 32 < n; i++)
		l += (size_t)sprintf(req + l, "X-H%d: v\r\n", i);
	strcpy(req + l, "\r\n");
	st = exchange(req, strlen(req), resp, sizeof(resp), &closed);
	print_message("many headers: %d\n", st);
	assert_true(st == 0 || (st >= 400 && st <= 499));
	assert_still_serving();
	/* A URI of 100 KiB. */
	strcpy(req, "GET /api/v1/");
	l = strlen(req);
	memset(req + l, 'p', 100 * 1024);
	strcpy(req + l + 100 * 1024, " HTTP/1.1\r\nHost: x\r\n\r\n");
	st = exchange(req, strlen(req), resp, sizeof(resp), &closed);
	print_message("long URI: %d\n", st);
	assert_true(st >= 400 && st <= 499);
	assert_still_serving();
	free(req);
}

/* A client that stops halfway is cut off after the idle timeout (1 s here). */
static void
test_partial_requests_time_out(void **state)
{
	static const char *const partial[] = {
		"GET /api/v1/hea",
		"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n",
		"PUT /api/v1/mode HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOK_ADMIN
		"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mo",
		"PUT /api/v1/mode HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " TOK_ADMIN
		"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"m",
	};
	char resp[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		int fd = dial();
		uint64_t t0 = now_ms();
		bool closed;

		send_all(fd, partial[i], strlen(partial[i]));
		read_until_close(fd, resp, sizeof(resp), 5000, &closed);
		uint64_t took = now_ms() - t0;

		print_message("partial %zu: closed after %llu ms\n", i, (unsigned long long)took);
		assert_true(closed);
		assert_true(took >= 900 && took < 4000);
		close(fd);
	}
	assert_still_serving();
}

/* Slowloris: many connections each holding a partial request. The limit holds, and once they
 * time out the server serves again. */
static void
test_connection_limit(void **state)
{
	int fds[8];
	char resp[4096];
	bool closed;

	(void)state;
	for (int i = 0; i < 8; i++) {
		fds[i] = dial();
		send_all(fds[i], "GET /api/v1/health HTTP/1.1\r\n", 29);
	}
	/* A ninth gets nothing while the eight are open: the limit holds. */
	int extra = dial();

	send_all(extra, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n", 41);
	read_until_close(extra, resp, sizeof(resp), 700, &closed);
	assert_int_equal(status_of(resp), 0);
	/* The held connections time out; then the server answers again. */
	for (int i = 0; i < 8; i++) {
		read_until_close(fds[i], resp, sizeof(resp), 4000, &closed);
		assert_true(closed);
		close(fds[i]);
	}
	/* ... and the ninth is then served, or refused, but not left hanging. */
	read_until_close(extra, resp, sizeof(resp), 3000, &closed);
	print_message("ninth connection: closed=%d, status %d\n", closed, status_of(resp));
	assert_true(closed || status_of(resp) == 200);
	close(extra);
	assert_still_serving();
}

/* Two requests in one write (pipelining) are both answered, in order. */
static void
test_pipelining(void **state)
{
	const char *two = "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
			  "GET /api/v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char resp[8192];
	bool closed;

	(void)state;
	assert_int_equal(exchange(two, strlen(two), resp, sizeof(resp), &closed), 200);
	const char *second = strstr(resp + 1, "HTTP/1.1 ");
	assert_non_null(second);
	assert_int_equal(status_of(second), 404);
	assert_non_null(strstr(second, "\"error\":\"no_route\""));
	assert_true(closed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_malformed_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_requests_time_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelining, setup, teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
