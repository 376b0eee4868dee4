/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiled snapshot as the dataplane and the lead's vigild use it: classification of the
 * shipped policy's traffic, stateless rules, the l2 table, per-worker counters, token buckets
 * (pps and bps, split between workers), the per-source table, expansion limits and
 * rl_policy_check(). Needs EAL (rte_acl, rte_hash, rte_malloc).
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <rte_common.h>
#include <rte_memory.h>

#include "rl_compile.h"
#include "rl_policy.h"

static const char *const ports[] = { "outside", "inside" };
static const struct rl_env env = { .ports = ports, .n_ports = 2 };

static struct rl_policy *
load(const char *text)
{
	struct vg_diag d;
	struct rl_policy *p;

	vg_diag_init(&d);
	p = rl_policy_load_buf("t.yaml", text, strlen(text), &env, &d);
	if (p == NULL)
		vg_diag_print(&d, stderr);
	assert_non_null(p);
	vg_diag_free(&d);
	return p;
}

static struct rl_snapshot *
compile(const struct rl_policy *p, unsigned workers)
{
	struct vg_diag d;
	struct rl_snapshot *s;

	vg_diag_init(&d);
	s = rl_compile(p, 7, workers, SOCKET_ID_ANY, &d);
	if (s == NULL)
		vg_diag_print(&d, stderr);
	assert_non_null(s);
	vg_diag_free(&d);
	return s;
}

static void
key(struct rl_key *k, int fam, uint8_t proto, uint8_t in_port, const char *src, const char *dst,
		uint16_t sport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)fam;
	k->proto = proto;
	k->in_port = in_port;
	inet_pton(fam == 4 ? AF_INET : AF_INET6, src, k->src);
	inet_pton(fam == 4 ? AF_INET : AF_INET6, dst, k->dst);
	k->sport = htons(sport);
	k->dport = htons(dport);
}

static uint32_t
classify1(const struct rl_snapshot *s, const struct rl_key *k)
{
	const struct rl_key *kp[1] = { k };
	uint32_t r;

	rl_classify_bulk(s, kp, 1, &r);
	return r;
}

static uint32_t
rule_index(const struct rl_snapshot *s, const char *name)
{
	for (uint32_t i = 0; i < rl_snapshot_n_rules(s); i++)
		if (strcmp(rl_snapshot_rule(s, i)->name, name) == 0)
			return i;
	fail_msg("no rule %s", name);
	return RL_RULE_DEFAULT;
}

static void
test_shipped_policy_traffic(void **state)
{
	struct vg_diag d;
	struct rl_policy *p;
	struct rl_snapshot *s;
	struct rl_snapshot_stats st;
	struct rl_key k[8];
	const struct rl_key *kp[8];
	uint32_t out[8];

	(void)state;
	vg_diag_init(&d);
	p = rl_policy_load_file(VIGIL_SOURCE_ROOT "/conf/policy.yaml", &env, &d);
	assert_non_null(p);
	vg_diag_free(&d);
	s = compile(p, 2);
	rl_policy_free(p); /* the snapshot stands alone */

	rl_snapshot_stats(s, &st);
	assert_int_equal(st.epoch, 7);
	assert_int_equal(rl_snapshot_epoch(s), 7);
	assert_int_equal(st.n_stateless, 2);
	assert_true(rl_snapshot_has_stateless(s));
	assert_true(st.n_acl[0] > 0 && st.n_acl[1] > 0);
	assert_true(st.build_ns > 0);
	assert_true(st.mem_bytes > 0);
	assert_string_not_equal(st.classify_alg, "none");
	assert_int_equal(rl_snapshot_default(s), RL_ACT_DROP);

	key(&k[0], 4, 6, 0, "10.88.0.1", "10.88.0.2", 40000, 80);    /* web-in */
	key(&k[1], 6, 6, 0, "fd88::1", "fd88::2", 40000, 8080);	     /* web-in, IPv6 */
	key(&k[2], 4, 6, 0, "10.88.0.1", "10.88.0.2", 40000, 23);    /* no-telnet */
	key(&k[3], 4, 17, 0, "10.88.0.1", "10.88.0.2", 40000, 5353); /* dns-in */
	key(&k[4], 4, 17, 1, "10.88.0.1", "10.88.0.2", 40000, 5353); /* wrong side: default */
	key(&k[5], 4, 1, 0, "10.88.0.1", "10.88.0.2", 8, 0);	     /* ping-limit */
	key(&k[6], 6, 58, 0, "fd88::1", "fd88::2", 128, 0);	     /* ping-limit, ICMPv6 */
	key(&k[7], 4, 1, 0, "10.88.0.1", "10.88.0.2", 0, 0);	     /* echo reply: default */
	for (unsigned i = 0; i < 8; i++)
		kp[i] = &k[i];
	rl_classify_bulk(s, kp, 8, out);
	assert_int_equal(out[0], rule_index(s, "web-in"));
	assert_int_equal(out[1], rule_index(s, "web-in"));
	assert_int_equal(out[2], rule_index(s, "no-telnet"));
	assert_int_equal(out[3], rule_index(s, "dns-in"));
	assert_int_equal(out[4], RL_RULE_DEFAULT);
	assert_int_equal(out[5], rule_index(s, "ping-limit"));
	assert_int_equal(out[6], rule_index(s, "ping-limit"));
	assert_int_equal(out[7], RL_RULE_DEFAULT);

	/* Stateless: a Christmas-tree packet and a null scan, not an ordinary SYN. */
	k[0].tcp_flags = 0x29;
	k[1].tcp_flags = 0x00;
	k[2].tcp_flags = 0x02;
	rl_classify_stateless_bulk(s, kp, 3, out);
	assert_int_equal(out[0], rule_index(s, "no-xmas"));
	assert_int_equal(out[1], rule_index(s, "no-null-scan"));
	assert_int_equal(out[2], RL_RULE_DEFAULT);

	/* The rule table carries what the dataplane acts on. */
	const struct rl_rule_info *ri = rl_snapshot_rule(s, rule_index(s, "ping-limit"));
	assert_int_equal(ri->action, RL_ACT_RATE_LIMIT);
	assert_int_equal(ri->rate.per, RL_PER_SOURCE);
	assert_true(ri->rate_slot != UINT32_MAX);
	assert_string_equal(ri->file, VIGIL_SOURCE_ROOT "/conf/policy.yaml");
	/* icmp and icmpv6, each in the IPv4 and the IPv6 context */
	assert_true(ri->line > 0 && ri->n_acl == 4);
	ri = rl_snapshot_rule(s, rule_index(s, "inside-out-trial"));
	assert_true(ri->dry_run && ri->log && ri->action == RL_ACT_DROP);
	assert_null(rl_snapshot_rule(s, rl_snapshot_n_rules(s)));

	/* l2 */
	assert_int_equal(rl_l2_verdict(s, 0x0806), RL_L2_PASS);
	assert_int_equal(rl_l2_verdict(s, 0x88cc), RL_L2_DROP);
	assert_int_equal(rl_l2_verdict(s, 0x9000), RL_L2_PASS);

	rl_snapshot_free(s);
}

static void
test_counters_per_worker(void **state)
{
	struct rl_policy *p = load("version: 1\ndefault: allow\nrules:\n"
				   "  - {name: a, proto: tcp, action: drop}\n"
				   "  - {name: b, proto: udp, action: allow}\n");
	struct rl_snapshot *s = compile(p, 3);
	struct rl_counters sum;

	(void)state;
	for (unsigned w = 0; w < 3; w++) {
		struct rl_counters *c = rl_snapshot_counters(s, w);

		assert_non_null(c);
		/* Each worker's array starts on its own cache line. */
		assert_int_equal((uintptr_t)c % RTE_CACHE_LINE_SIZE, 0);
		c[1].packets += w + 1;
		c[1].bytes += 100 * (w + 1);
		c[2].flows += 1; /* the default slot */
		c[0].would_drop += 2;
	}
	assert_null(rl_snapshot_counters(s, 3));
	assert_ptr_not_equal(rl_snapshot_counters(s, 0), rl_snapshot_counters(s, 1));
	rl_snapshot_counters_sum(s, 1, &sum);
	assert_int_equal(sum.packets, 6);
	assert_int_equal(sum.bytes, 600);
	rl_snapshot_counters_sum(s, RL_RULE_DEFAULT, &sum);
	assert_int_equal(sum.flows, 3);
	rl_snapshot_counters_sum(s, 0, &sum);
	assert_int_equal(sum.would_drop, 6);
	assert_int_equal(sum.packets, 0);
	rl_snapshot_free(s);
	rl_policy_free(p);
}

#define MS 1000000ULL

static void
test_token_bucket_pps_and_bps(void **state)
{
	struct rl_rate pps = { .unit = RL_RATE_PPS, .rate = 10, .burst = 5 };
	struct rl_rate bps = { .unit = RL_RATE_BPS, .rate = 8000, .burst = 1500 };
	struct rl_tb_params tp;
	struct rl_tb b;
	uint64_t t0 = 1000 * MS;

	(void)state;
	assert_int_equal(rl_tb_params_init(&tp, &pps, 1), 0);
	rl_tb_reset(&b, &tp, t0);
	for (int i = 0; i < 5; i++)
		assert_true(rl_tb_take(&b, &tp, t0, 64));
	assert_false(rl_tb_take(&b, &tp, t0, 64));
	assert_false(rl_tb_take(&b, &tp, t0 + 99 * MS, 64)); /* 0.99 of a token */
	assert_true(rl_tb_take(&b, &tp, t0 + 100 * MS, 64)); /* 10 pps: one per 100 ms */
	assert_false(rl_tb_take(&b, &tp, t0 + 100 * MS, 64));
	assert_false(rl_tb_take(&b, &tp, t0 + 50 * MS, 64)); /* time going back adds nothing */
	/* A long pause refills to the burst, not beyond. */
	for (int i = 0; i < 5; i++)
		assert_true(rl_tb_take(&b, &tp, t0 + 3600000 * MS, 64));
	assert_false(rl_tb_take(&b, &tp, t0 + 3600000 * MS, 64));

	/* 8000 bit/s = 1000 bytes/s, burst 1500 bytes. */
	assert_int_equal(rl_tb_params_init(&tp, &bps, 1), 0);
	rl_tb_reset(&b, &tp, t0);
	assert_true(rl_tb_take(&b, &tp, t0, 1000));
	assert_false(rl_tb_take(&b, &tp, t0, 1000)); /* 500 bytes left */
	assert_true(rl_tb_take(&b, &tp, t0, 500));
	assert_false(rl_tb_take(&b, &tp, t0 + 499 * MS, 500));
	assert_true(rl_tb_take(&b, &tp, t0 + 500 * MS, 500));

	/* Split between 2 workers: each gets 5 pps and a burst of 2. */
	assert_int_equal(rl_tb_params_init(&tp, &pps, 2), 0);
	rl_tb_reset(&b, &tp, t0);
	assert_true(rl_tb_take(&b, &tp, t0, 64));
	assert_true(rl_tb_take(&b, &tp, t0, 64));
	assert_false(rl_tb_take(&b, &tp, t0, 64));
	assert_false(rl_tb_take(&b, &tp, t0 + 199 * MS, 64));
	assert_true(rl_tb_take(&b, &tp, t0 + 200 * MS, 64));
}

static void
test_rate_limit_rules(void **state)
{
	struct rl_policy *p = load("version: 1\ndefault: drop\nrules:\n"
				   "  - name: per-rule\n    proto: udp\n    action: rate-limit\n"
				   "    rate: {pps: 4, burst: 2}\n"
				   "  - name: per-src\n    proto: icmp\n    action: rate-limit\n"
				   "    rate: {pps: 1, burst: 1, per: source}\n");
	struct rl_snapshot *s = compile(p, 2);
	struct rl_src_table *src = rl_src_table_create("test_rl_src", 8, SOCKET_ID_ANY);
	struct rl_src_stats st;
	struct rl_key a, b;
	uint64_t t = 5000 * MS;

	(void)state;
	assert_non_null(src);
	key(&a, 4, 17, 0, "10.0.0.1", "10.0.0.2", 1, 2);
	/* per rule, 2 workers: each worker has rate 2 and burst 1 of its own */
	assert_true(rl_snapshot_rate_take(s, 0, 0, src, &a, 100, t));
	assert_false(rl_snapshot_rate_take(s, 0, 0, src, &a, 100, t));
	assert_true(rl_snapshot_rate_take(s, 1, 0, src, &a, 100, t));
	assert_false(rl_snapshot_rate_take(s, 0, 0, src, &a, 100, t + 499 * MS));
	assert_true(rl_snapshot_rate_take(s, 0, 0, src, &a, 100, t + 500 * MS));

	/* per source: each address has its own bucket of 1 */
	key(&a, 4, 1, 0, "10.0.0.1", "10.0.0.2", 8, 0);
	key(&b, 4, 1, 0, "10.0.0.3", "10.0.0.2", 8, 0);
	assert_true(rl_snapshot_rate_take(s, 0, 1, src, &a, 64, t));
	assert_false(rl_snapshot_rate_take(s, 0, 1, src, &a, 64, t));
	assert_true(rl_snapshot_rate_take(s, 0, 1, src, &b, 64, t));
	assert_false(rl_snapshot_rate_take(s, 0, 1, src, &b, 64, t));
	assert_true(rl_snapshot_rate_take(s, 0, 1, src, &a, 64, t + 1000 * MS));
	/* A rule that is not rate-limited always passes. */
	rl_src_table_stats(src, &st);
	assert_int_equal(st.inserts, 2);
	assert_int_equal(st.entries, 2);

	/* Fill the table past its size: old entries are reused, the table never grows. */
	for (unsigned i = 0; i < 40; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.1.0.%u", i);
		key(&b, 4, 1, 0, ip, "10.0.0.2", 8, 0);
		assert_true(rl_snapshot_rate_take(s, 0, 1, src, &b, 64, t + (2000 + i) * MS));
	}
	rl_src_table_stats(src, &st);
	assert_int_equal(st.inserts, 42);
	assert_true(st.entries <= st.capacity);
	assert_int_equal(st.capacity, 8);
	assert_true(st.reused_stale + st.evicted_live >= 34);
	/* Sources reused while their bucket had refilled (1 s old or more) count as stale. */
	assert_true(st.reused_stale >= 2);

	rl_src_table_free(src);
	rl_snapshot_free(s);
	rl_policy_free(p);
}

static void
test_empty_policy(void **state)
{
	struct rl_policy *p = load("version: 1\ndefault: allow\n");
	struct rl_snapshot *s = compile(p, 1);
	struct rl_snapshot_stats st;
	struct rl_key k;

	(void)state;
	key(&k, 4, 6, 0, "1.2.3.4", "5.6.7.8", 1, 2);
	assert_int_equal(classify1(s, &k), RL_RULE_DEFAULT);
	assert_false(rl_snapshot_has_stateless(s));
	rl_snapshot_stats(s, &st);
	assert_int_equal(st.n_rules, 0);
	assert_string_equal(st.classify_alg, "none");
	assert_int_equal(rl_snapshot_default(s), RL_ACT_ALLOW);
	rl_snapshot_free(s);
	rl_policy_free(p);
}

static void
test_expansion_limit(void **state)
{
	/* 1100 sources x 1000 destinations = 1.1M rte_acl rules: over the per-rule limit. */
	size_t cap = 64 * 1024;
	char *text = malloc(cap);
	size_t len = 0;
	struct vg_diag d;
	struct rl_policy *p;

	(void)state;
	len += (size_t)snprintf(text + len, cap - len,
			"version: 1\ndefault: drop\nrules:\n  - name: ok\n    action: allow\n"
			"    proto: tcp\n  - name: huge\n    action: drop\n    from: [");
	for (unsigned i = 0; i < 1100; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s10.%u.%u.1", i ? ", " : "",
				i / 200, i % 200);
	len += (size_t)snprintf(text + len, cap - len, "]\n    to: [");
	for (unsigned i = 0; i < 1000; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s192.168.%u.%u", i ? ", " : "",
				i / 100, 2 * (i % 100) + 1);
	len += (size_t)snprintf(text + len, cap - len, "]\n");
	assert_true(len < cap);
	p = load(text);
	vg_diag_init(&d);
	assert_null(rl_compile(p, 1, 1, SOCKET_ID_ANY, &d));
	assert_diag(&d, 7, 5, "rule 'huge': expands into 1100000 rte_acl rules for IPv4");
	vg_diag_free(&d);
	rl_policy_free(p);
	free(text);
}

static void
test_policy_check(void **state)
{
	char path[] = "/tmp/vigil-policy-XXXXXX";
	char *buf = NULL;
	size_t size = 0;
	FILE *out;
	int fd;

	(void)state;
	out = open_memstream(&buf, &size);
	assert_int_equal(rl_policy_check(VIGIL_SOURCE_ROOT "/conf/policy.yaml", &env, out), 0);
	fclose(out);
	assert_non_null(strstr(buf, "/conf/policy.yaml: OK: "));
	assert_non_null(strstr(buf, "rte_acl rules"));
	assert_non_null(strstr(buf, "built in"));
	free(buf);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *bad = "version: 1\ndefault: drop\nrules:\n  - name: x\n    proto: tcp\n"
			  "    dport: 99999\n    action: allow\n";
	assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	buf = NULL;
	out = open_memstream(&buf, &size);
	assert_int_equal(rl_policy_check(path, &env, out), 1);
	fclose(out);
	assert_non_null(strstr(buf, ":6:12: error: rule 'x': 'dport': '99999' is out of range"));
	assert_non_null(strstr(buf, "1 error, 0 warnings; the policy is not usable"));
	free(buf);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_policy_traffic),
		cmocka_unit_test(test_counters_per_worker),
		cmocka_unit_test(test_token_bucket_pps_and_bps),
		cmocka_unit_test(test_rate_limit_rules),
		cmocka_unit_test(test_empty_policy),
		cmocka_unit_test(test_expansion_limit),
		cmocka_unit_test(test_policy_check),
	};

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
