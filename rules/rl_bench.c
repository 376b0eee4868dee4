/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rl_bench: how long policies of 10 to 100k rules take to load, validate and compile, how much
 * memory the snapshot takes, and how many cycles rte_acl classification costs per key in
 * bursts of 32. A benchmark, not a test: it prints figures and writes one JSON line per size.
 *
 *   rl_bench [EAL args] -- [-n 10,1000,10000,100000] [-k keys] [-s seed] [-j out.json]
 *
 * Rules look like ClassBench firewall rules: 80% IPv4, 20% IPv6; source prefixes /8../32,
 * destination prefixes /16../32, TCP or UDP, a destination port or range, sometimes a source
 * port range. Keys: half aimed at a random rule's edges, half random.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include "rl_compile.h"
#include "rl_policy.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct buf {
	char *s;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) out(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n + 4096;
		b->s = realloc(b->s, b->cap);
		if (b->s == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	b->len += (size_t)n;
}

static void
prefix(struct buf *b, bool v6, unsigned min, unsigned max)
{
	unsigned plen = min + (unsigned)(rnd() % (max - min + 1));

	if (!v6) {
		uint32_t a = (uint32_t)rnd() & (plen ? ~0u << (32 - plen) : 0);

		out(b, "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, plen);
		return;
	}
	struct vg_prefix p = { .addr.family = 6 };
	char s[VG_PREFIX_STRLEN];
	vg_u128 lo, hi;

	for (int i = 0; i < 16; i++)
		p.addr.b[i] = (uint8_t)rnd();
	p.addr.b[0] = 0x20;
	p.addr.b[1] = 0x01;
	p.plen = (uint8_t)(plen * 4 > 128 ? 128 : plen * 4);
	vg_prefix_range(&p, &lo, &hi); /* lo: the address without its host bits */
	vg_addr_from_value(6, lo, &p.addr);
	vg_prefix_format(&p, false, s, sizeof(s));
	out(b, "%s", s);
}

static void
gen_policy(struct buf *b, unsigned n)
{
	b->len = 0;
	out(b, "version: 1\ndefault: drop\nrules:\n");
	for (unsigned i = 0; i < n; i++) {
		bool v6 = rnd() % 5 == 0;
		unsigned dp = (unsigned)(rnd() % 65536);

		out(b, "  - name: r%u\n    proto: %s\n    from: ", i, rnd() % 3 ? "tcp" : "udp");
		prefix(b, v6, 8, 32);
		out(b, "\n    to: ");
		prefix(b, v6, 16, 32);
		if (rnd() % 4 == 0)
			out(b, "\n    dport: %u-%u", dp, dp + (unsigned)(rnd() % (65536 - dp)));
		else
			out(b, "\n    dport: %u", dp);
		if (rnd() % 5 == 0)
			out(b, "\n    sport: 1024-65535");
		out(b, "\n    action: %s\n", rnd() % 2 ? "allow" : "drop");
	}
}

static rl_u128
pick(const struct vg_ivs *s)
{
	if (s->n == 0)
		return 0;
	const struct vg_iv *iv = &s->v[rnd() % s->n];
	return rnd() % 2 ? iv->lo : iv->hi;
}

static void
gen_key(const struct rl_policy *p, struct rl_key *k)
{
	const struct rl_rule *r = rl_policy_rule(p, (unsigned)(rnd() % rl_policy_n_rules(p)));
	bool aimed = rnd() % 2;
	bool v6 = r->from_set.v4.n == 0;

	memset(k, 0, sizeof(*k));
	k->family = v6 ? 6 : 4;
	k->proto = rnd() % 3 ? 6 : 17;
	rl_u128 s = aimed ? pick(v6 ? &r->from_set.v6 : &r->from_set.v4)
			  : ((rl_u128)rnd() << 64 | rnd());
	rl_u128 d = aimed ? pick(v6 ? &r->to_set.v6 : &r->to_set.v4)
			  : ((rl_u128)rnd() << 64 | rnd());
	for (int i = v6 ? 15 : 3; i >= 0; i--) {
		k->src[i] = (uint8_t)s;
		k->dst[i] = (uint8_t)d;
		s >>= 8;
		d >>= 8;
	}
	k->sport = htons((uint16_t)rnd());
	k->dport = htons(aimed ? (uint16_t)pick(&r->dport_set) : (uint16_t)rnd());
}

static int
run(unsigned n, unsigned n_keys, FILE *json)
{
	struct buf b = { 0 };
	struct vg_diag d;
	struct rl_policy *p;
	struct rl_snapshot *s;
	struct rl_snapshot_stats st;
	uint64_t t0, t_load, matched = 0;
	struct rl_key *keys;
	const struct rl_key **kp;
	uint32_t *res;

	gen_policy(&b, n);
	vg_diag_init(&d);
	t0 = now_ns();
	p = rl_policy_load_buf("bench.yaml", b.s, b.len, NULL, &d);
	t_load = now_ns() - t0;
	if (p == NULL) {
		vg_diag_print(&d, stderr);
		return -1;
	}
	s = rl_compile(p, 1, 1, SOCKET_ID_ANY, &d);
	if (s == NULL) {
		vg_diag_print(&d, stderr);
		return -1;
	}
	rl_snapshot_stats(s, &st);

	keys = malloc(n_keys * sizeof(*keys));
	kp = malloc(n_keys * sizeof(*kp));
	res = malloc(n_keys * sizeof(*res));
	for (unsigned i = 0; i < n_keys; i++) {
		gen_key(p, &keys[i]);
		kp[i] = &keys[i];
	}
	/* Warm the caches once, then time bursts of 32 as the dataplane calls it. */
	rl_classify_bulk(s, kp, n_keys, res);
	uint64_t c0 = rte_rdtsc_precise();
	for (unsigned i = 0; i + 32 <= n_keys; i += 32)
		rl_classify_bulk(s, kp + i, 32, res + i);
	uint64_t cycles = rte_rdtsc_precise() - c0;
	for (unsigned i = 0; i < n_keys; i++)
		matched += res[i] != RL_RULE_DEFAULT;
	double cpk = (double)cycles / (double)(n_keys / 32 * 32);
	uint64_t acl = st.n_acl[0] + st.n_acl[1];

	printf("rules %6u  rte_acl rules %7" PRIu64
	       "  load+validate %8.1f ms  compile %9.1f ms  memory %8.1f MiB  classify %6.1f cycles/key (%s, %.0f%% matched)  shadow warnings %u\n",
			n, acl, (double)t_load / 1e6, (double)st.build_ns / 1e6,
			(double)st.mem_bytes / 1048576.0, cpk, st.classify_alg,
			100.0 * (double)matched / n_keys, d.warnings);
	if (json != NULL)
		fprintf(json,
				"{\"bench\":\"rl_compile\",\"rules\":%u,\"acl_rules\":%" PRIu64
				",\"load_ms\":%.1f,\"build_ms\":%.1f,\"mem_bytes\":%zu,\"cycles_per_key\":%.1f,\"classify_alg\":\"%s\",\"tsc_hz\":%" PRIu64
				",\"keys\":%u,\"matched\":%" PRIu64 "}\n",
				n, acl, (double)t_load / 1e6, (double)st.build_ns / 1e6,
				st.mem_bytes, cpk, st.classify_alg, rte_get_tsc_hz(), n_keys,
				matched);
	fflush(stdout);
	free(keys);
	free(kp);
	free(res);
	free(b.s);
	rl_snapshot_free(s);
	rl_policy_free(p);
	vg_diag_free(&d);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *sizes = "10,1000,10000,100000";
	unsigned n_keys = 1u << 16;
	FILE *json = NULL;
	int opt, used;

	used = rte_eal_init(argc, argv);
	if (used < 0) {
		fprintf(stderr, "rl_bench: EAL init failed (try: rl_bench --no-huge -m 4096 --)\n");
		return 1;
	}
	argc -= used;
	argv += used;
	while ((opt = getopt(argc, argv, "n:k:s:j:h")) != -1) {
		switch (opt) {
		case 'n':
			sizes = optarg;
			break;
		case 'k':
			n_keys = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 's':
			rng = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'j':
			json = fopen(optarg, "a");
			if (json == NULL) {
				perror(optarg);
				return 1;
			}
			break;
		default:
			fprintf(stderr, "usage: rl_bench [EAL args] -- [-n 10,1000,...] [-k keys] [-s seed] [-j out.json]\n");
			return 2;
		}
	}
	if (n_keys < 32)
		n_keys = 32;
	for (const char *c = sizes; *c;) {
		char *end;
		unsigned n = (unsigned)strtoul(c, &end, 10);

		if (end == c || n == 0 || run(n, n_keys, json) != 0)
			return 1;
		c = *end == ',' ? end + 1 : end;
	}
	if (json != NULL)
		fclose(json);
	rte_eal_cleanup();
	return 0;
}
