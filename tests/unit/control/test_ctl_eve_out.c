/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE lines to receivers (ctl_eve_out.h) against real sockets on this host: syslog over UDP,
 * TCP (octet counting) and a unix datagram socket, parsed as RFC 5424; the unix stream socket's
 * JSON lines; a receiver that goes away (writes return at once, the queue's overflow is dropped
 * and counted, the failure is one episode) and comes back (the output reconnects and sends what
 * it kept); and the `alerts:` keys eve_syslog and eve_socket with their errors at file:line.
 */
#include "vg_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <jansson.h>

#include "ctl_alert.h"
#include "ctl_eve_out.h"
#include "ctl_test_util.h"

#define T0_NS (1709251200ULL * NS_PER_S)

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The EVE line of a signature alert with sid, at severity sev. */
static char *
alert_line(uint32_t sid, enum ctl_severity sev)
{
	struct dp_event ev =
			ctl_test_ev4(DP_EV_ALERT, T0_NS, "192.0.2.1", 5555, "10.0.0.80", 80, 6, 1);
	struct ctl_alert a;
	char *text;

	ev.alert.sid = sid;
	ev.alert.gid = 1;
	ctl_alert_from_event(&ev, "t\xc3\xa9st signature", "attempted-recon", sev, &a);
	text = ctl_alert_eve_text(&a, "wan0", true);
	assert_non_null(text);
	return text;
}

static void
send_alert(struct ctl_eve_out *o, uint32_t sid, enum ctl_severity sev, int expect)
{
	char *text = alert_line(sid, sev);
	uint64_t t = mono_ms();

	assert_int_equal(ctl_eve_out_write(o, text, strlen(text), "alert", sev), expect);
	assert_true(mono_ms() - t < 100); /* never waits for the receiver */
	free(text);
}

/* The MSG is the EVE line: event_type alert, the sid, the alert's fields. */
static void
check_eve(const char *msg, size_t len, uint32_t sid)
{
	json_error_t jerr;
	json_t *o = json_loadb(msg, len, 0, &jerr);

	if (o == NULL)
		fail_msg("MSG is not JSON (%s): %.*s", jerr.text, (int)len, msg);
	assert_string_equal(json_string_value(json_object_get(o, "event_type")), "alert");
	assert_int_equal(json_integer_value(json_object_get(
					 json_object_get(o, "alert"), "signature_id")),
			sid);
	/* Non-ASCII as \u escapes, then decoded back. */
	assert_string_equal(json_string_value(json_object_get(
					    json_object_get(o, "alert"), "signature")),
			"t\xc3\xa9st signature");
	assert_string_equal(json_string_value(json_object_get(o, "in_iface")), "wan0");
	json_decref(o);
}

/*
 * An RFC 5424 message: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG, with PRI
 * facility * 8 + severity, a UTC RFC 3339 timestamp, our pid, MSGID alert, no structured data.
 */
static void
check_syslog(const char *m, size_t len, unsigned pri, const char *app, uint32_t sid)
{
	char buf[8192], ts[64], host[256], a[64], procid[32], msgid[64], sd[8];
	unsigned p;
	int off = 0;

	assert_true(len < sizeof(buf));
	memcpy(buf, m, len);
	buf[len] = '\0';
	if (sscanf(buf, "<%u>1 %63s %255s %63s %31s %63s %7s %n", &p, ts, host, a, procid, msgid,
			    sd, &off) != 7 ||
			off == 0)
		fail_msg("not RFC 5424: %s", buf);
	assert_int_equal(p, pri);
	assert_int_equal(strlen(ts), 27); /* 2024-03-01T00:00:00.000000Z */
	assert_int_equal(ts[4], '-');
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[19], '.');
	assert_int_equal(ts[26], 'Z');
	assert_string_equal(a, app);
	assert_int_equal(atoi(procid), getpid());
	assert_string_equal(msgid, "alert");
	assert_string_equal(sd, "-");
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)buf[i] < 128); /* ASCII MSG: no BOM needed */
	check_eve(buf + off, len - (size_t)off, sid);
}

static int
wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

static void
test_syslog_udp(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t sl = sizeof(sin);
	struct ctl_eve_out_opts o;
	struct ctl_eve_out_counters c;
	struct ctl_eve_out *out;
	char buf[8192];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	ssize_t n;

	(void)state;
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	ctl_eve_out_opts_defaults(&o, CTL_EVE_OUT_SYSLOG);
	snprintf(o.address, sizeof(o.address), "127.0.0.1:%u", ntohs(sin.sin_port));
	o.facility = (uint32_t)ctl_syslog_facility("local3");
	assert_int_equal(o.facility, 19);
	snprintf(o.app_name, sizeof(o.app_name), "vigil-test");
	out = ctl_eve_out_open(&o, "eve_syslog");
	assert_non_null(out);
	send_alert(out, 2001, CTL_SEV_HIGH, 0);
	send_alert(out, 2002, CTL_SEV_LOW, 0);
	assert_int_equal(ctl_eve_out_sync(out, 5000), 0);
	/* One message a datagram (RFC 5426); high is err (3), low is notice (5). */
	assert_int_equal(wait_readable(fd, 5000), 1);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n > 0);
	check_syslog(buf, (size_t)n, 19 * 8 + 3, "vigil-test", 2001);
	assert_int_equal(wait_readable(fd, 5000), 1);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n > 0);
	check_syslog(buf, (size_t)n, 19 * 8 + 5, "vigil-test", 2002);
	ctl_eve_out_counters(out, &c);
	assert_int_equal(c.sent, 2);
	assert_int_equal(c.dropped, 0);
	assert_int_equal(c.errors, 0);
	ctl_eve_out_close(out);
	close(fd);
}

static void
test_syslog_unix_dgram(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_eve_out_opts o;
	struct ctl_eve_out *out;
	char dir[] = "/tmp/vg_eveout_XXXXXX", buf[8192];
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/log", dir);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ctl_eve_out_opts_defaults(&o, CTL_EVE_OUT_SYSLOG);
	o.transport = CTL_EVE_OUT_UNIX;
	snprintf(o.address, sizeof(o.address), "%s", sun.sun_path);
	out = ctl_eve_out_open(&o, "eve_syslog");
	assert_non_null(out);
	send_alert(out, 3001, CTL_SEV_CRITICAL, 0);
	assert_int_equal(wait_readable(fd, 5000), 1);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n > 0);
	check_syslog(buf, (size_t)n, 21 * 8 + 2, "vigild", 3001); /* defaults: local5, vigild */
	ctl_eve_out_close(out);
	close(fd);
	unlink(sun.sun_path);
	rmdir(dir);
}

/* A stream receiver: a listening socket, the accepted connection, what it read so far. */
struct rx {
	int family;
	struct sockaddr_storage addr;
	socklen_t alen;
	int lfd;
	int cfd;
	char buf[1 << 16];
	size_t len;
};

static void
rx_listen(struct rx *r)
{
	int one = 1;

	r->lfd = socket(r->family, SOCK_STREAM, 0);
	assert_true(r->lfd >= 0);
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(r->lfd, (struct sockaddr *)&r->addr, r->alen), 0);
	assert_int_equal(listen(r->lfd, 4), 0);
	if (r->family == AF_INET)
		assert_int_equal(getsockname(r->lfd, (struct sockaddr *)&r->addr, &r->alen), 0);
	r->cfd = -1;
	r->len = 0;
}

static void
rx_down(struct rx *r)
{
	close(r->cfd);
	close(r->lfd);
	r->cfd = r->lfd = -1;
	if (r->family == AF_UNIX)
		unlink(((struct sockaddr_un *)&r->addr)->sun_path);
}

/* Read until want frames are complete (frame() says how long the first one is), 8 s at most. */
static void
rx_read(struct rx *r, size_t (*frame)(const char *, size_t), unsigned want)
{
	uint64_t t0 = mono_ms();

	if (r->cfd < 0) {
		assert_int_equal(wait_readable(r->lfd, 8000), 1);
		r->cfd = accept(r->lfd, NULL, NULL);
		assert_true(r->cfd >= 0);
	}
	for (;;) {
		unsigned have = 0;
		size_t off = 0, f;
		ssize_t n;

		while ((f = frame(r->buf + off, r->len - off)) > 0) {
			off += f;
			have++;
		}
		if (have >= want)
			return;
		if (mono_ms() - t0 > 8000)
			fail_msg("%u frames of %u after 8 s", have, want);
		if (wait_readable(r->cfd, 500) != 1)
			continue;
		n = recv(r->cfd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
		assert_true(n > 0);
		r->len += (size_t)n;
	}
}

/* RFC 6587 octet counting: "LEN SP MSG". */
static size_t
octet_frame(const char *b, size_t len)
{
	size_t n = 0, i = 0;

	while (i < len && b[i] >= '0' && b[i] <= '9')
		n = n * 10 + (size_t)(b[i++] - '0');
	if (i == 0 || i >= len || b[i] != ' ' || len - i - 1 < n)
		return 0;
	return i + 1 + n;
}

static size_t
line_frame(const char *b, size_t len)
{
	const char *nl = memchr(b, '\n', len);

	return nl != NULL ? (size_t)(nl - b) + 1 : 0;
}

/* Frame i of r's buffer: start and length of its message (without the count or newline). */
static const char *
rx_frame(struct rx *r, size_t (*frame)(const char *, size_t), unsigned i, size_t *mlen)
{
	size_t off = 0;

	for (unsigned k = 0; k < i; k++)
		off += frame(r->buf + off, r->len - off);
	if (frame == line_frame) {
		*mlen = frame(r->buf + off, r->len - off) - 1;
		return r->buf + off;
	}
	const char *sp = memchr(r->buf + off, ' ', r->len - off);

	*mlen = (size_t)strtoul(r->buf + off, NULL, 10);
	return sp + 1;
}

static void
check_frames(struct rx *r, bool syslog, const uint32_t *sids, unsigned n)
{
	size_t (*frame)(const char *, size_t) = syslog ? octet_frame : line_frame;

	for (unsigned i = 0; i < n; i++) {
		size_t mlen;
		const char *m = rx_frame(r, frame, i, &mlen);

		if (syslog)
			check_syslog(m, mlen, 21 * 8 + 4, "vigild", sids[i]);
		else
			check_eve(m, mlen, sids[i]);
	}
}

/*
 * Deliver, lose the receiver (writes return at once; the queue keeps queue_len lines and drops
 * the rest, counted; one failure episode), get it back: the kept lines arrive, in order.
 */
static void
stream_case(struct rx *r, struct ctl_eve_out_opts *o, bool syslog)
{
	struct ctl_eve_out_counters c;
	struct ctl_eve_out *out;
	uint32_t sids[8];
	uint64_t t;

	rx_listen(r);
	if (r->family == AF_INET)
		snprintf(o->address, sizeof(o->address), "127.0.0.1:%u",
				ntohs(((struct sockaddr_in *)&r->addr)->sin_port));
	o->queue_len = 4;
	out = ctl_eve_out_open(o, syslog ? "eve_syslog" : "eve_socket");
	assert_non_null(out);
	for (unsigned i = 0; i < 3; i++) {
		sids[i] = 4000 + i;
		send_alert(out, sids[i], CTL_SEV_MEDIUM, 0);
	}
	rx_read(r, syslog ? octet_frame : line_frame, 3);
	check_frames(r, syslog, sids, 3);
	assert_int_equal(ctl_eve_out_sync(out, 5000), 0);
	ctl_eve_out_counters(out, &c);
	assert_int_equal(c.sent, 3);
	assert_int_equal(c.connects, 1);
	assert_true(c.connected);

	rx_down(r);
	/* The writer finds the connection closed and the receiver gone. */
	send_alert(out, 4100, CTL_SEV_MEDIUM, 0);
	t = mono_ms();
	do {
		usleep(10000);
		ctl_eve_out_counters(out, &c);
	} while (!c.failing && mono_ms() - t < 5000);
	assert_true(c.failing);
	assert_true(c.errors >= 1);
	assert_false(c.connected);
	for (unsigned i = 0; i < 3; i++)
		send_alert(out, 4101 + i, CTL_SEV_MEDIUM, 0);
	for (unsigned i = 0; i < 3; i++)
		send_alert(out, 4200 + i, CTL_SEV_MEDIUM, -ENOBUFS);
	ctl_eve_out_counters(out, &c);
	assert_int_equal(c.queued, 4);
	assert_int_equal(c.dropped, 3);
	assert_int_equal(c.sent, 3);
	assert_int_equal(ctl_eve_out_sync(out, 100), -EIO);
	usleep(300000); /* a few retries: still one episode */
	ctl_eve_out_counters(out, &c);
	assert_int_equal(c.episodes, 1);

	rx_listen(r);
	rx_read(r, syslog ? octet_frame : line_frame, 4);
	for (unsigned i = 0; i < 4; i++)
		sids[i] = 4100 + i;
	check_frames(r, syslog, sids, 4);
	assert_int_equal(ctl_eve_out_sync(out, 5000), 0);
	ctl_eve_out_counters(out, &c);
	assert_int_equal(c.sent, 7);
	assert_int_equal(c.dropped, 3);
	assert_int_equal(c.connects, 2);
	assert_int_equal(c.episodes, 1);
	assert_false(c.failing);
	assert_true(c.connected);
	ctl_eve_out_close(out);
	rx_down(r);
}

static void
test_syslog_tcp(void **state)
{
	struct rx *r = calloc(1, sizeof(*r));
	struct sockaddr_in *sin = (struct sockaddr_in *)&r->addr;
	struct ctl_eve_out_opts o;

	(void)state;
	r->family = AF_INET;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x7f000001);
	r->alen = sizeof(*sin);
	ctl_eve_out_opts_defaults(&o, CTL_EVE_OUT_SYSLOG);
	o.transport = CTL_EVE_OUT_TCP;
	stream_case(r, &o, true);
	free(r);
}

static void
test_eve_socket(void **state)
{
	struct rx *r = calloc(1, sizeof(*r));
	struct sockaddr_un *sun = (struct sockaddr_un *)&r->addr;
	struct ctl_eve_out_opts o;
	char dir[] = "/tmp/vg_eveout_XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	r->family = AF_UNIX;
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/eve.sock", dir);
	r->alen = sizeof(*sun);
	ctl_eve_out_opts_defaults(&o, CTL_EVE_OUT_LINES);
	snprintf(o.address, sizeof(o.address), "%s", sun->sun_path);
	stream_case(r, &o, false);
	rmdir(dir);
	free(r);
}

/* No receiver at all: open works (it may come later), writes never wait, close is bounded. */
static void
test_no_receiver(void **state)
{
	struct ctl_eve_out_opts o;
	struct ctl_eve_out_counters c;
	struct ctl_eve_out *out;
	uint64_t t;

	(void)state;
	ctl_eve_out_opts_defaults(&o, CTL_EVE_OUT_LINES);
	snprintf(o.address, sizeof(o.address), "/nonexistent/vigil/eve.sock");
	o.queue_len = 2;
	out = ctl_eve_out_open(&o, "eve_socket");
	assert_non_null(out);
	send_alert(out, 1, CTL_SEV_LOW, 0);
	send_alert(out, 2, CTL_SEV_LOW, 0);
	send_alert(out, 3, CTL_SEV_LOW, -ENOBUFS);
	t = mono_ms();
	do {
		usleep(10000);
		ctl_eve_out_counters(out, &c);
	} while (!c.failing && mono_ms() - t < 5000);
	assert_true(c.failing);
	assert_int_equal(c.last_errno, ENOENT);
	assert_int_equal(c.dropped, 1);
	t = mono_ms();
	ctl_eve_out_close(out);
	assert_true(mono_ms() - t < 3000);
}

static void
test_yaml(void **state)
{
	struct vg_yaml y;
	struct vg_diag d;
	struct ctl_alert_opts o;
	const char *good = "eve_syslog: {transport: tcp, address: \"[::1]:6514\", facility: local2,"
			   " app_name: fw1, queue: 100}\n"
			   "eve_socket: /run/vigil/eve.sock\n";
	const char *good2 = "eve_syslog: {transport: unix, address: /dev/log}\n"
			    "eve_socket: {path: eve.sock, queue: 8}\n";
	const char *bad = "eve_syslog:\n"
			  "  transport: tcp\n"
			  "  address: 127.0.0.1\n"
			  "eve_socket: {queue: 3}\n";
	const char *bad2 = "eve_syslog: {address: \"h:1\", facility: local9, transport: tls,\n"
			   "  app_name: \"a b\"}\n";

	(void)state;
	vg_diag_init(&d);
	ctl_alert_opts_defaults(&o);
	assert_int_equal(o.eve_syslog.address[0], '\0'); /* off by default */
	assert_int_equal(o.eve_socket.address[0], '\0');
	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", good, strlen(good), &d), 0);
	assert_int_equal(ctl_alert_yaml_parse(&y, vg_yaml_root(&y), &o), 0);
	assert_int_equal(o.eve_syslog.transport, CTL_EVE_OUT_TCP);
	assert_string_equal(o.eve_syslog.address, "[::1]:6514");
	assert_int_equal(o.eve_syslog.facility, 18);
	assert_string_equal(o.eve_syslog.app_name, "fw1");
	assert_int_equal(o.eve_syslog.queue_len, 100);
	assert_int_equal(o.eve_syslog.format, CTL_EVE_OUT_SYSLOG);
	assert_string_equal(o.eve_socket.address, "/run/vigil/eve.sock");
	assert_int_equal(o.eve_socket.transport, CTL_EVE_OUT_UNIX_STREAM);
	assert_int_equal(o.eve_socket.format, CTL_EVE_OUT_LINES);
	vg_yaml_free(&y);

	ctl_alert_opts_defaults(&o);
	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", good2, strlen(good2), &d), 0);
	assert_int_equal(ctl_alert_yaml_parse(&y, vg_yaml_root(&y), &o), 0);
	assert_int_equal(o.eve_syslog.transport, CTL_EVE_OUT_UNIX);
	assert_string_equal(o.eve_syslog.address, "/dev/log");
	assert_int_equal(o.eve_syslog.facility, 21);
	assert_string_equal(o.eve_socket.address, "eve.sock");
	assert_int_equal(o.eve_socket.queue_len, 8);
	vg_yaml_free(&y);

	ctl_alert_opts_defaults(&o);
	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", bad, strlen(bad), &d), 0);
	assert_int_equal(ctl_alert_yaml_parse(&y, vg_yaml_root(&y), &o), -EINVAL);
	assert_diag(&d, 2, 3, "alerts.eve_syslog: '127.0.0.1' is not host:port");
	assert_diag(&d, 4, 13, "alerts.eve_socket: required key 'path' is missing");
	assert_int_equal(o.eve_syslog.address[0], '\0');
	vg_yaml_free(&y);

	ctl_alert_opts_defaults(&o);
	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", bad2, strlen(bad2), &d), 0);
	assert_int_equal(ctl_alert_yaml_parse(&y, vg_yaml_root(&y), &o), -EINVAL);
	assert_diag(&d, 1, 0, "'local9' is not a syslog facility");
	assert_diag(&d, 1, 0, "tls");
	assert_diag(&d, 2, 13, "printable ASCII only, no spaces");
	vg_yaml_free(&y);
	vg_diag_free(&d);

	char why[256];

	assert_int_equal(ctl_eve_out_check_address(CTL_EVE_OUT_UDP, "h:0", why, sizeof(why)),
			-EINVAL);
	assert_non_null(strstr(why, "1 to 65535"));
	assert_int_equal(ctl_eve_out_check_address(CTL_EVE_OUT_UDP, "::1:514", why, sizeof(why)),
			-EINVAL); /* a v6 address needs brackets */
	assert_int_equal(ctl_eve_out_check_address(
					 CTL_EVE_OUT_UDP, "logs.example:514", why, sizeof(why)),
			0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_udp),
		cmocka_unit_test(test_syslog_unix_dgram),
		cmocka_unit_test(test_syslog_tcp),
		cmocka_unit_test(test_eve_socket),
		cmocka_unit_test(test_no_receiver),
		cmocka_unit_test(test_yaml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
