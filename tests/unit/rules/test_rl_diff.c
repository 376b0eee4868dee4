/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Differential test: the compiled rte_acl snapshot must classify every key exactly as the
 * reference classifier (rl_ref, a linear scan over the rules as written) does.
 *
 * Seeded random policies (sets that include sets, negations, ranges, IPv4 and IPv6, VLANs,
 * ingress ports, ICMP types and codes, TCP flags, every default action) go through the real
 * loader as YAML; random keys are biased towards the edges of what the rules match (first and
 * last address of a range, one past it, port range ends). At least 100k keys per run.
 *
 * The seed is printed; VIGIL_TEST_SEED=N reproduces a run.
 */
#define VG_TEST_WITH_EAL
/* Some random policies expand into tens of thousands of IPv6 ACL rules. */
#define VG_TEST_EAL_MEM_MB "2048"
#include "vg_test.h"

#include <inttypes.h>
#include <time.h>

#include <rte_memory.h>

#include "rl_compile.h"
#include "rl_policy.h"
#include "rl_ref.h"

/*
 * Under AddressSanitizer the loader and compiler run several times slower (a random policy may
 * expand into 10k ACL rules or more): fewer policies and more keys each, still the 100k checks
 * (2 per key) the test asks for, so that a busy 2-core machine finishes far from the timeout.
 */
#if defined(__SANITIZE_ADDRESS__)
#define VG_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VG_ASAN 1
#endif
#endif
#ifdef VG_ASAN
#define N_POLICIES	16
#define KEYS_PER_POLICY 3200
#else
/* 32 x 1600 keys: 102,400 checks. More policies cost compile time, not coverage of the
 * classifier: a seed whose policies expand into 400k ACL rules took 70 s for 70 policies. */
#define N_POLICIES	32
#define KEYS_PER_POLICY 1600
#endif

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned
below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static bool
chance(unsigned percent)
{
	return below(100) < percent;
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
		n = vsnprintf(b->s != NULL ? b->s + b->len : NULL, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n + 64;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	b->len += (size_t)n;
}

/* Addresses come from a few small regions so that rules overlap and nest. */
static void
v4_prefix(char *s, size_t len)
{
	static const uint32_t bases[] = { 0x0a000000, 0x0a010000, 0xc0a80000, 0xac100000,
		0x00000000, 0xffffff00 };
	uint32_t a = bases[below(6)] | (uint32_t)(rnd() & (below(3) ? 0x1ff : 0xffff));
	unsigned plen = below(4) == 0 ? 32 : 8 + below(25);
	uint32_t mask = plen == 0 ? 0 : ~0u << (32 - plen);

	a &= mask;
	snprintf(s, len, "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, plen);
}

static void
v6_prefix(char *s, size_t len)
{
	static const char *const bases[] = { "2001:db8", "2001:db8:0:1", "fd00", "fd00:0:0:0:1",
		"::ffff" };
	unsigned b = below(5);
	unsigned plen = b == 4 ? 96 + below(33) : below(4) == 0 ? 128 : 8 + below(121);
	struct rl_item it;

	/* Fill low bits randomly, then let the loader-side arithmetic clear host bits: build it
	 * by hand so the text is canonical. */
	uint8_t a[16] = { 0 };
	char tmp[64];

	snprintf(tmp, sizeof(tmp), "%s::", bases[b]);
	inet_pton(AF_INET6, tmp, a);
	for (unsigned i = 12; i < 16; i++)
		a[i] = (uint8_t)(below(3) ? rnd() & 3 : rnd());
	if (below(2))
		a[7] = (uint8_t)(rnd() & 1);
	for (unsigned bit = plen; bit < 128; bit++)
		a[bit >> 3] &= (uint8_t) ~(0x80 >> (bit & 7));
	(void)it;
	inet_ntop(AF_INET6, a, tmp, sizeof(tmp));
	snprintf(s, len, "%s/%u", tmp, plen);
}

static void
addr_literal(struct buf *b, unsigned fam_bias)
{
	char s[80];

	if (fam_bias == 4 || (fam_bias == 0 && below(2)))
		v4_prefix(s, sizeof(s));
	else
		v6_prefix(s, sizeof(s));
	out(b, "%s", s);
}

static void
port_literal(struct buf *b)
{
	static const unsigned edges[] = { 0, 1, 22, 53, 79, 80, 81, 443, 1023, 1024, 8080, 65534,
		65535 };
	unsigned lo = below(2) ? edges[below(13)] : below(65536);

	if (below(3) == 0) {
		unsigned hi = lo + below(below(2) ? 16 : 4000);

		out(b, "%u-%u", lo, hi > 65535 ? 65535 : hi);
	} else {
		out(b, "%u", lo);
	}
}

/* A list of items: literals, $set references, some negated. */
static void
gen_list(struct buf *b, bool addr, unsigned n_sets, const char *prefix, bool allow_neg,
		unsigned fam)
{
	unsigned n = 1 + below(4);

	out(b, "[");
	for (unsigned i = 0; i < n; i++) {
		bool neg = allow_neg && chance(25);

		out(b, "%s\"%s", i ? ", " : "", neg ? "!" : "");
		if (n_sets > 0 && chance(30))
			out(b, "$%s%u", prefix, below(n_sets));
		else if (addr)
			addr_literal(b, fam);
		else
			port_literal(b);
		out(b, "\"");
	}
	out(b, "]");
}

static const char *const protos[] = { "tcp", "udp", "icmp", "icmpv6", "sctp", "47", "[tcp, udp]",
	"[icmp, icmpv6]", "[tcp, sctp, udp]", "any" };

static void
gen_policy(struct buf *b)
{
	static const char *const defaults[] = { "allow", "drop", "reject" };
	static const char *const actions[] = { "allow", "drop", "reject", "rate-limit" };
	unsigned n_aset = below(5), n_pset = below(4);
	unsigned n_rules = 3 + below(36);

	b->len = 0;
	out(b, "version: 1\ndefault: %s\n", defaults[below(3)]);
	if (n_aset + n_pset > 0)
		out(b, "sets:\n");
	for (unsigned i = 0; i < n_aset; i++) {
		out(b, "  a%u: ", i);
		gen_list(b, true, i, "a", true, 0); /* only earlier sets: no cycles */
		out(b, "\n");
	}
	for (unsigned i = 0; i < n_pset; i++) {
		out(b, "  p%u: ", i);
		gen_list(b, false, i, "p", true, 0);
		out(b, "\n");
	}
	/* Now and then one big set, to exercise long prefix lists. */
	bool big = chance(10);
	if (big) {
		out(b, "%s  big: [", n_aset + n_pset > 0 ? "" : "sets:\n");
		for (unsigned i = 0; i < 150; i++) {
			out(b, "%s\"", i ? ", " : "");
			addr_literal(b, 0);
			out(b, "\"");
		}
		out(b, "]\n");
	}
	out(b, "rules:\n");
	for (unsigned r = 0; r < n_rules; r++) {
		unsigned pi = below(10);
		const char *proto = protos[pi];
		bool ports_ok = pi == 0 || pi == 1 || pi == 4 || pi == 6 || pi == 8;
		bool icmp = pi == 2 || pi == 3 || pi == 7;

		out(b, "  - name: r%u\n", r);
		if (chance(20))
			out(b, "    in: %s\n",
					below(3) == 0 ? "\"!outside\""
					: below(2)    ? "inside"
						      : "[outside, dmz]");
		if (chance(20)) {
			unsigned v = below(4096);

			if (below(2))
				out(b, "    vlan: %u\n", v);
			else
				out(b, "    vlan: [0, %u-%u]\n", v, v + below(4096 - v));
		}
		if (pi != 9 || chance(30))
			out(b, "    proto: %s\n", proto);

		/* Mostly one family per rule, or the validator refuses most rules. */
		unsigned fam = pi == 2 ? 4 : pi == 3 ? 6 : chance(30) ? 0 : chance(50) ? 4 : 6;
		if (chance(60)) {
			out(b, "    from: ");
			if (big && chance(30))
				out(b, "%s", below(2) ? "\"!$big\"" : "$big");
			else
				gen_list(b, true, n_aset, "a", true, fam);
			out(b, "\n");
		}
		if (chance(50)) {
			out(b, "    to: ");
			gen_list(b, true, n_aset, "a", true, fam);
			out(b, "\n");
		}
		if (ports_ok && chance(50)) {
			out(b, "    sport: ");
			gen_list(b, false, n_pset, "p", true, 0);
			out(b, "\n");
		}
		if (ports_ok && chance(60)) {
			out(b, "    dport: ");
			gen_list(b, false, n_pset, "p", true, 0);
			out(b, "\n");
		}
		if (icmp && chance(60)) {
			if (pi == 7)
				out(b, "    icmp_type: %s\n",
						below(2) ? "echo-request" : "echo-reply");
			else
				out(b, "    icmp_type: %u\n", below(2) ? 8 : below(256));
		}
		if (icmp && chance(30))
			out(b, "    icmp_code: %u\n", below(3));
		if (pi == 0 && chance(25)) {
			static const char *const fl[] = { "fin", "syn", "rst", "psh", "ack",
				"urg" };

			out(b, "    tcp_flags: {set: [%s], unset: [%s]}\n", fl[below(3)],
					fl[3 + below(3)]);
		}
		unsigned a = below(4);
		out(b, "    action: %s\n", actions[a]);
		if (a == 3)
			out(b, "    rate: {pps: %u}\n", 1 + below(1000));
	}
}

/* A value near an edge of one of the intervals, or anywhere. */
static rl_u128
near(const struct vg_ivs *s, rl_u128 max)
{
	rl_u128 v;

	if (s->n == 0 || chance(15)) {
		v = ((rl_u128)rnd() << 64 | rnd());
		return max == ~(rl_u128)0 ? v : v % (max + 1);
	}
	const struct vg_iv *iv = &s->v[below(s->n)];
	switch (below(5)) {
	case 0:
		return iv->lo;
	case 1:
		return iv->hi;
	case 2:
		return iv->lo == 0 ? max : iv->lo - 1;
	case 3:
		return iv->hi == max ? 0 : iv->hi + 1;
	default:
		return iv->lo +
		       (iv->hi > iv->lo ? ((rl_u128)rnd() << 64 | rnd()) % (iv->hi - iv->lo) : 0);
	}
}

static void
put_addr(uint8_t *a, unsigned fam, rl_u128 v)
{
	memset(a, 0, 16);
	for (int i = (fam == 4 ? 3 : 15); i >= 0; i--) {
		a[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void
gen_key(const struct rl_policy *p, struct rl_key *k)
{
	static const uint8_t proto_pool[] = { 1, 6, 17, 58, 132, 47, 0, 255 };
	unsigned n = rl_policy_n_rules(p);
	const struct rl_rule *r = rl_policy_rule(p, below(n));
	const struct rl_rule *r2 = rl_policy_rule(p, below(n));
	unsigned fam = chance(50) ? 4 : 6;

	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)(chance(1) ? 5 : fam);
	k->proto = chance(70) && !r->proto_any ? 0 : proto_pool[below(8)];
	if (k->proto == 0 && !r->proto_any) {
		/* one of the rule's protocols */
		for (unsigned t = 0; t < 300; t++) {
			unsigned c = below(256);

			if (rl_rule_has_proto(r, (uint8_t)c)) {
				k->proto = (uint8_t)c;
				break;
			}
		}
	}
	k->in_port = (uint8_t)(chance(5) ? 200 : below(3));
	k->tcp_flags = (uint8_t)(chance(50) ? r->flags_set : rnd());
	uint16_t vlan = (uint16_t)(r->vlan_any || chance(20) ? (chance(50) ? 0 : below(4096))
							     : near(&r->vlan, 4095));
	k->vlan = htons(vlan);
	const struct vg_addrset *fs = chance(80) ? &r->from_set : &r2->from_set;
	const struct vg_addrset *ts = chance(80) ? &r->to_set : &r2->to_set;
	rl_u128 max = fam == 4 ? 0xffffffff : ~(rl_u128)0;
	put_addr(k->src, fam, near(fam == 4 ? &fs->v4 : &fs->v6, max));
	put_addr(k->dst, fam, near(fam == 4 ? &ts->v4 : &ts->v6, max));
	if (k->proto == 1 || k->proto == 58) {
		int t = k->proto == 1 ? r->icmp_type4 : r->icmp_type6;

		k->sport = htons((uint16_t)(t >= 0 && chance(70) ? t + (int)below(2)
								 : (int)below(256)));
		k->dport = htons((uint16_t)(r->icmp_code >= 0 && chance(70) ? r->icmp_code
									    : (int)below(4)));
	} else {
		k->sport = htons((uint16_t)near(&r->sport_set, 65535));
		k->dport = htons((uint16_t)near(&r->dport_set, 65535));
	}
}

static void
print_key(const struct rl_key *k)
{
	char s[64], d[64];

	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->src, s, sizeof(s));
	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->dst, d, sizeof(d));
	fprintf(stderr, "key: family %u proto %u in_port %u vlan %u flags 0x%02x %s -> %s sport %u dport %u\n",
			k->family, k->proto, k->in_port, ntohs(k->vlan), k->tcp_flags, s, d,
			ntohs(k->sport), ntohs(k->dport));
}

static uint64_t
test_seed(void)
{
	const char *s = getenv("VIGIL_TEST_SEED");

	if (s != NULL && *s != '\0')
		return strtoull(s, NULL, 0);
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

static void
test_acl_agrees_with_reference(void **state)
{
	static const char *const ports[] = { "outside", "inside", "dmz" };
	const struct rl_env env = { .ports = ports, .n_ports = 3 };
	uint64_t seed = test_seed();
	uint64_t checks = 0, acl_rules = 0, matched = 0;
	unsigned built = 0, refused = 0;
	struct buf b = { 0 };

	(void)state;
	printf("test_rl_diff: seed %" PRIu64 " (rerun with VIGIL_TEST_SEED=%" PRIu64 ")\n", seed,
			seed);
	rng_state = seed ? seed : 1;
	while (built < N_POLICIES) {
		struct vg_diag d;
		struct rl_policy *p;
		struct rl_snapshot *s;
		struct rl_snapshot_stats st;
		struct rl_key keys[64];
		const struct rl_key *kp[64];
		uint32_t got[64], got_sl[64];

		gen_policy(&b);
		vg_diag_init(&d);
		p = rl_policy_load_buf("random.yaml", b.s, b.len, &env, &d);
		if (p == NULL) {
			/* Random rules may contradict themselves (disjoint families, everything
			 * negated); the validator refusing them is correct. */
			refused++;
			if (getenv("VIGIL_TEST_VERBOSE") != NULL && d.n > 0)
				fprintf(stderr, "refused: %s\n", d.v[0].msg);
			vg_diag_free(&d);
			assert_true(refused < 20 * N_POLICIES);
			continue;
		}
		s = rl_compile(p, built, 1, SOCKET_ID_ANY, &d);
		if (s == NULL) {
			vg_diag_print(&d, stderr);
			fprintf(stderr, "%s\n", b.s);
			fail_msg("seed %" PRIu64 ": policy %u did not compile", seed, built);
		}
		rl_snapshot_stats(s, &st);
		acl_rules += st.n_acl[0] + st.n_acl[1] + st.n_acl_stateless[0] +
			     st.n_acl_stateless[1];
		for (unsigned round = 0; round < KEYS_PER_POLICY / 64; round++) {
			for (unsigned i = 0; i < 64; i++) {
				gen_key(p, &keys[i]);
				kp[i] = &keys[i];
			}
			rl_classify_bulk(s, kp, 64, got);
			rl_classify_stateless_bulk(s, kp, 64, got_sl);
			for (unsigned i = 0; i < 64; i++) {
				uint32_t want = rl_ref_classify(p, &keys[i]);
				uint32_t want_sl = rl_ref_classify_stateless(p, &keys[i]);

				checks += 2;
				matched += want != RL_RULE_DEFAULT;
				if (want == got[i] && want_sl == got_sl[i])
					continue;
				fprintf(stderr, "%s\n", b.s);
				print_key(&keys[i]);
				fail_msg("seed %" PRIu64
					 ", policy %u: reference says rule %d (stateless %d), rte_acl says %d (stateless %d); rerun with VIGIL_TEST_SEED=%" PRIu64,
						seed, built, (int)want, (int)want_sl, (int)got[i],
						(int)got_sl[i], seed);
			}
		}
		rl_snapshot_free(s);
		rl_policy_free(p);
		vg_diag_free(&d);
		built++;
	}
	printf("test_rl_diff: %u policies (%u refused by the validator), %" PRIu64
	       " rte_acl rules, %" PRIu64 " checks, %" PRIu64 " keys matched a rule\n",
			built, refused, acl_rules, checks, matched);
	assert_true(checks >= 100000);
	/* The keys must exercise the rules, not just the default. */
	assert_true(matched > checks / 20);
	free(b.s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acl_agrees_with_reference),
	};

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
