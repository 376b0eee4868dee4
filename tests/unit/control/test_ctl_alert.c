/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Alert routing: the closed-loop blocklist (decision, expiry, persistence across a restart, push
 * callback), the webhook against a real HTTP server on loopback (delivery, a server that never
 * answers does not block the caller and times out, a full queue drops and counts), and the
 * `alerts:` YAML section.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "ctl_anomaly.h"
#include "ctl_block.h"
#include "ctl_store.h"
#include "ctl_test_util.h"
#include "ctl_webhook.h"

#define T0_NS (1709251200ULL * NS_PER_S)

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Blocklist ---------------------------------------------------------------------------------- */

struct pushes {
	unsigned adds;
	unsigned removes;
	char last[64];
};

static void
on_push(const struct ctl_store_block *b, bool add, void *arg)
{
	struct pushes *p = arg;

	if (add)
		p->adds++;
	else
		p->removes++;
	ctl_addr_str(b->family, b->addr, p->last, sizeof(p->last));
}

static void
scan_alert(struct ctl_alert *a, const char *src, uint64_t ttl_ms)
{
	static const struct ctl_alert_template t = { .sid = 9000001, /* a vertical port scan */
		.title = "Vertical port scan",
		.category = "c",
		.what = "",
		.why = "",
		.next = "" };

	ctl_alert_init_anomaly(a, &t, "port_scan", CTL_SEV_MEDIUM);
	a->uid = 4242;
	a->flow.family = 4;
	inet_pton(AF_INET, src, a->flow.src);
	a->block_ttl_ms = ttl_ms;
}

static void
test_blocker(void **state)
{
	char *dir = ctl_test_tmpdir(), err[256];
	struct ctl_store_opts o;
	struct ctl_store *s;
	struct ctl_blocker *bl;
	struct pushes p = { 0 };
	struct ctl_alert a;
	uint8_t addr[16] = { 0 };
	const uint64_t now = 1700000000000ULL;

	(void)state;
	ctl_store_opts_defaults(&o);
	snprintf(o.path, sizeof(o.path), "%s/vigil.db", dir);
	o.max_pending_rows = 1024;
	o.max_flows = 1024;
	s = ctl_store_open(&o, err, sizeof(err));
	assert_non_null(s);
	bl = ctl_blocker_create(s, 1024, on_push, &p, now);
	assert_non_null(bl);

	/* An alert without a block request changes nothing. */
	scan_alert(&a, "198.51.100.9", 0);
	assert_int_equal(ctl_blocker_on_alert(bl, &a, now), 0);
	assert_int_equal(p.adds, 0);
	/* With one: blocked for the TTL, pushed once, not again for a shorter request. */
	scan_alert(&a, "198.51.100.9", 60000);
	assert_int_equal(ctl_blocker_on_alert(bl, &a, now), 1);
	assert_int_equal(p.adds, 1);
	assert_string_equal(p.last, "198.51.100.9");
	scan_alert(&a, "198.51.100.9", 30000);
	assert_int_equal(ctl_blocker_on_alert(bl, &a, now + 1000), 0);
	assert_int_equal(p.adds, 1);
	inet_pton(AF_INET, "198.51.100.9", addr);
	assert_true(ctl_blocker_contains(bl, 4, addr, now + 59000));
	assert_false(ctl_blocker_contains(bl, 4, addr, now + 60000));
	/* A manual, permanent entry from the API. */
	struct ctl_store_block m = { .family = 4, .created_ms = now, .expires_ms = 0 };

	inet_pton(AF_INET, "203.0.113.1", m.addr);
	snprintf(m.source, sizeof(m.source), "api");
	assert_int_equal(ctl_blocker_add(bl, &m, NULL), 0);
	assert_int_equal(ctl_blocker_count(bl), 2);
	assert_true(ctl_store_flush(s) >= 2);
	ctl_blocker_free(bl);
	ctl_store_close(s);

	/* Restart: both come back from the store and are pushed to the workers again. */
	memset(&p, 0, sizeof(p));
	s = ctl_store_open(&o, err, sizeof(err));
	assert_non_null(s);
	bl = ctl_blocker_create(s, 1024, on_push, &p, now + 1000);
	assert_non_null(bl);
	assert_int_equal(p.adds, 2);
	assert_int_equal(ctl_blocker_count(bl), 2);
	/* Expiry removes the scan entry only, and tells the workers. */
	assert_int_equal(ctl_blocker_expire(bl, now + 60000), 1);
	assert_int_equal(p.removes, 1);
	assert_string_equal(p.last, "198.51.100.9");
	assert_int_equal(ctl_blocker_remove(bl, 4, m.addr), 0);
	assert_int_equal(ctl_blocker_remove(bl, 4, m.addr), -ENOENT);
	assert_true(ctl_store_flush(s) >= 2);
	ctl_blocker_free(bl);
	ctl_store_close(s);

	memset(&p, 0, sizeof(p));
	s = ctl_store_open(&o, err, sizeof(err));
	bl = ctl_blocker_create(s, 1024, on_push, &p, now);
	assert_int_equal(ctl_blocker_count(bl), 0);
	ctl_blocker_free(bl);
	ctl_store_close(s);
	ctl_test_rmdir(dir);
}

/* Webhook ------------------------------------------------------------------------------------ */

struct server {
	pthread_mutex_t mu;
	char *bodies[16];
	unsigned n;
	char content_type[64];
};

struct conn {
	char *buf;
	size_t len;
};

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
		const char *version, const char *data, size_t *size, void **con_cls)
{
	struct server *srv = cls;
	struct conn *cn = *con_cls;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)url;
	(void)version;
	if (strcmp(method, "POST") != 0)
		return MHD_NO;
	if (cn == NULL) {
		cn = calloc(1, sizeof(*cn));
		*con_cls = cn;
		return MHD_YES;
	}
	if (*size > 0) {
		cn->buf = realloc(cn->buf, cn->len + *size + 1);
		memcpy(cn->buf + cn->len, data, *size);
		cn->len += *size;
		cn->buf[cn->len] = '\0';
		*size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&srv->mu);
	if (srv->n < 16) {
		srv->bodies[srv->n++] = cn->buf;
		cn->buf = NULL;
	}
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

	snprintf(srv->content_type, sizeof(srv->content_type), "%s", ct ? ct : "");
	pthread_mutex_unlock(&srv->mu);
	r = MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void
done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn != NULL) {
		free(cn->buf);
		free(cn);
	}
}

static void
sig_alert(struct ctl_alert *a, uint32_t sid)
{
	struct dp_event ev =
			ctl_test_ev4(DP_EV_ALERT, T0_NS, "192.0.2.1", 5555, "10.0.0.80", 80, 6, 1);

	ev.alert.sid = sid;
	ev.alert.gid = 1;
	ctl_alert_from_event(&ev, "test signature", "attempted-recon", CTL_SEV_MEDIUM, a);
	a->uid = sid;
}

static void
test_webhook_delivers(void **state)
{
	struct server srv = { .n = 0 };
	struct MHD_Daemon *d;
	struct ctl_webhook_opts o = { .timeout_ms = 2000, .queue_len = 16 };
	struct ctl_webhook *w;
	struct ctl_webhook_counters c;
	struct ctl_alert a;
	char err[256];
	uint64_t t;

	(void)state;
	pthread_mutex_init(&srv.mu, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			handle, &srv, MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_SOCK_ADDR,
			(struct sockaddr *)&(struct sockaddr_in){ .sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
			MHD_OPTION_END);
	assert_non_null(d);
	snprintf(o.url, sizeof(o.url), "http://127.0.0.1:%u/alerts",
			MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
	w = ctl_webhook_create(&o, err, sizeof(err));
	if (w == NULL)
		fail_msg("%s", err);
	for (uint32_t i = 0; i < 3; i++) {
		sig_alert(&a, 2000000 + i);
		assert_int_equal(ctl_webhook_post(w, &a, "wan0"), 0);
	}
	t = mono_ms();
	do {
		ctl_webhook_counters(w, &c);
		usleep(5000);
	} while (c.posted + c.failed < 3 && mono_ms() - t < 5000);
	assert_int_equal(c.posted, 3);
	assert_int_equal(c.failed, 0);
	assert_int_equal(c.last_status, 200);
	ctl_webhook_free(w);
	MHD_stop_daemon(d);

	assert_int_equal(srv.n, 3);
	assert_string_equal(srv.content_type, "application/json");
	for (unsigned i = 0; i < srv.n; i++) {
		json_t *j = json_loads(srv.bodies[i], 0, NULL);

		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "event_type")), "alert");
		assert_int_equal(json_integer_value(json_object_get(
						 json_object_get(j, "alert"), "signature_id")),
				2000000 + i);
		assert_string_equal(json_string_value(json_object_get(j, "in_iface")), "wan0");
		json_decref(j);
		free(srv.bodies[i]);
	}
	pthread_mutex_destroy(&srv.mu);
}

/* A listening socket that never accepts: connections open, requests go unanswered. */
static int
silent_server(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
test_webhook_never_blocks(void **state)
{
	struct ctl_webhook_opts o = { .timeout_ms = 200, .queue_len = 2 };
	struct ctl_webhook *w;
	struct ctl_webhook_counters c;
	struct ctl_alert a;
	char err[256];
	uint16_t port;
	int fd = silent_server(&port);
	uint64_t t;
	unsigned full = 0;

	(void)state;
	snprintf(o.url, sizeof(o.url), "http://127.0.0.1:%u/", port);
	w = ctl_webhook_create(&o, err, sizeof(err));
	assert_non_null(w);
	sig_alert(&a, 1);
	/* Ten posts return at once although nothing answers: two queue, one is in flight. */
	t = mono_ms();
	for (unsigned i = 0; i < 10; i++)
		if (ctl_webhook_post(w, &a, NULL) == -ENOSPC)
			full++;
	assert_true(mono_ms() - t < 100);
	assert_true(full >= 7);
	/* The request in flight fails by the timeout, not later. */
	t = mono_ms();
	do {
		ctl_webhook_counters(w, &c);
		usleep(10000);
	} while (c.failed == 0 && mono_ms() - t < 3000);
	assert_true(c.failed >= 1);
	assert_true(mono_ms() - t < 1500);
	assert_int_equal(c.posted, 0);
	assert_int_equal(c.dropped, full);
	assert_non_null(strstr(c.last_error, "imeout"));
	t = mono_ms();
	ctl_webhook_free(w); /* waits at most for the request in flight */
	assert_true(mono_ms() - t < 1000);
	close(fd);
}

static void
test_webhook_needs_url(void **state)
{
	struct ctl_webhook_opts o = { .timeout_ms = 200, .queue_len = 2 };
	char err[256] = "";

	(void)state;
	assert_null(ctl_webhook_create(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "no URL"));
}

static void
test_alerts_yaml(void **state)
{
	struct vg_yaml y;
	struct vg_diag d;
	struct ctl_alert_opts o;
	const char *good = "dedup_window: 5m\neve_log: /var/log/vigil/eve.json\n"
			   "webhook: {url: \"https://soar.example/hook\", timeout: 500ms}\n";
	const char *bad = "webhook:\n  url: ftp://x\n  timeot: 1s\n";

	(void)state;
	vg_diag_init(&d);
	ctl_alert_opts_defaults(&o);
	assert_int_equal(o.webhook.url[0], '\0'); /* off by default */
	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", good, strlen(good), &d), 0);
	assert_int_equal(ctl_alert_yaml_parse(&y, vg_yaml_root(&y), &o), 0);
	assert_int_equal(o.dedup_window_ms, 300000);
	assert_string_equal(o.eve_log, "/var/log/vigil/eve.json");
	assert_string_equal(o.webhook.url, "https://soar.example/hook");
	assert_int_equal(o.webhook.timeout_ms, 500);
	vg_yaml_free(&y);
	assert_int_equal(vg_yaml_load_buf(&y, "a.yaml", bad, strlen(bad), &d), 0);
	assert_int_equal(ctl_alert_yaml_parse(&y, vg_yaml_root(&y), &o), -EINVAL);
	assert_diag(&d, 2, 8, "'ftp://x' is not an http:// or https:// URL");
	assert_diag(&d, 3, 3, "alerts.webhook: unknown key 'timeot'");
	vg_yaml_free(&y);
	vg_diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocker),
		cmocka_unit_test(test_webhook_delivers),
		cmocka_unit_test(test_webhook_never_blocks),
		cmocka_unit_test(test_webhook_needs_url),
		cmocka_unit_test(test_alerts_yaml),
	};
	int rc;

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ctl_test_eal_fini();
	return rc;
}
