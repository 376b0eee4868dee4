/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Learning: CIDR and port-set grouping, the bounds, exclusions, and the proposal's promise.
 *
 * The property test draws random observed traffic from a small universe (IPv4 and IPv6 hosts,
 * a few services, TCP, UDP and ICMP), some of it excluded, turns it into a proposal, and checks
 * the proposal through the real loader and compiler (rte_acl) and the reference classifier:
 * every observed, non-excluded key is allowed by a learned rule (its verdict in the learned
 * period, forwarded, does not change), and every other key of the universe gets the default
 * (grouping lost nothing: it allows nothing that was not seen). Keys go through rte_acl and
 * rl_ref with random ingress ports and source ports, which the proposal must not depend on.
 *
 * The seed is printed; VIGIL_TEST_SEED=N reproduces a run.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <time.h>

#include <rte_memory.h>

#include "rl_compile.h"
#include "rl_learn.h"
#include "rl_policy.h"
#include "rl_preview.h"
#include "rl_ref.h"

static uint64_t rng_state;

static uint64_t
rnd(void)
{
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

static uint64_t
seed(void)
{
	const char *s = getenv("VIGIL_TEST_SEED");
	uint64_t v = s != NULL ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();

	printf("# seed %" PRIu64 " (VIGIL_TEST_SEED=%" PRIu64 " reproduces it)\n", v, v);
	return v ? v : 1;
}

static void
obs(struct rl_obs *o, const char *src, const char *dst, uint8_t proto, uint16_t dport,
		uint64_t flows)
{
	memset(o, 0, sizeof(*o));
	o->family = strchr(src, ':') ? 6 : 4;
	inet_pton(o->family == 4 ? AF_INET : AF_INET6, src, o->src);
	inet_pton(o->family == 4 ? AF_INET : AF_INET6, dst, o->dst);
	o->proto = proto;
	o->dport = dport;
	o->flows = flows;
	o->packets = flows * 10;
	o->bytes = flows * 1000;
	o->first = 1800000000;
	o->last = 1800000060;
}

struct collect {
	char v[64][80];
	unsigned n;
	uint8_t family;
};

static void
collect_cidr(rl_u128 net, unsigned plen, void *arg)
{
	struct collect *c = arg;
	uint8_t b[16];
	char a[64];
	unsigned nb = c->family == 4 ? 4 : 16;

	for (unsigned i = 0; i < nb; i++)
		b[nb - 1 - i] = (uint8_t)(net >> (8 * i));
	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, b, a, sizeof(a));
	snprintf(c->v[c->n++], sizeof(c->v[0]), "%s/%u", a, plen);
}

static void
test_cidrs(void **state)
{
	rl_u128 a[400];
	struct collect c = { .family = 4 };
	size_t n = 0;

	(void)state;
	/* 10.0.0.0 .. 10.0.0.3, 10.0.0.5: a /30 and a host */
	for (unsigned i = 0; i < 4; i++)
		a[n++] = 0x0a000000u + i;
	a[n++] = 0x0a000005u;
	assert_int_equal(rl_learn_cidrs(4, a, n, collect_cidr, &c), 2);
	assert_string_equal(c.v[0], "10.0.0.0/30");
	assert_string_equal(c.v[1], "10.0.0.5/32");
	/* .1 .. .6: not aligned, so .1, .2/31, .4/31, .6 */
	c.n = n = 0;
	for (unsigned i = 1; i <= 6; i++)
		a[n++] = 0x0a000000u + i;
	assert_int_equal(rl_learn_cidrs(4, a, n, collect_cidr, &c), 4);
	assert_string_equal(c.v[0], "10.0.0.1/32");
	assert_string_equal(c.v[1], "10.0.0.2/31");
	assert_string_equal(c.v[2], "10.0.0.4/31");
	assert_string_equal(c.v[3], "10.0.0.6/32");
	/* a whole /24, and the next /25 */
	c.n = n = 0;
	for (unsigned i = 0; i < 256 + 128; i++)
		a[n++] = 0xc0a80000u + i;
	assert_int_equal(rl_learn_cidrs(4, a, n, collect_cidr, &c), 2);
	assert_string_equal(c.v[0], "192.168.0.0/24");
	assert_string_equal(c.v[1], "192.168.1.0/25");
	/* the top of the IPv4 space does not wrap */
	c.n = 0;
	a[0] = 0xfffffffeu;
	a[1] = 0xffffffffu;
	assert_int_equal(rl_learn_cidrs(4, a, 2, collect_cidr, &c), 1);
	assert_string_equal(c.v[0], "255.255.255.254/31");
	/* IPv6: fd00::0 .. fd00::7 and fd00::9 */
	c = (struct collect){ .family = 6 };
	n = 0;
	for (unsigned i = 0; i < 8; i++)
		a[n++] = ((rl_u128)0xfd00 << 112) + i;
	a[n++] = ((rl_u128)0xfd00 << 112) + 9;
	assert_int_equal(rl_learn_cidrs(6, a, n, collect_cidr, &c), 2);
	assert_string_equal(c.v[0], "fd00::/125");
	assert_string_equal(c.v[1], "fd00::9/128");
}

static const struct rl_learn_cand *
find_cand(const struct rl_learn *l, const char *to0)
{
	for (unsigned i = 0; i < rl_learn_n_candidates(l); i++) {
		const struct rl_learn_cand *c = rl_learn_candidate(l, i);

		if (c->n_to > 0 && strcmp(c->to[0], to0) == 0)
			return c;
	}
	return NULL;
}

/* Ports with the same sources become one set; products group, near-products do not. */
static void
test_grouping(void **state)
{
	static const uint16_t ports[] = { 80, 443, 8000, 8001, 8002, 8003 };
	struct rl_learn *l = rl_learn_create(NULL, 0, 0);
	const struct rl_learn_cand *c;
	struct rl_obs o;
	char src[32];

	(void)state;
	assert_non_null(l);
	/* 10.1.0.0 .. 10.1.0.3 to the web server on six ports */
	for (unsigned s = 0; s < 4; s++)
		for (unsigned p = 0; p < 6; p++) {
			snprintf(src, sizeof(src), "10.1.0.%u", s);
			obs(&o, src, "192.168.0.10", 6, ports[p], 1 + p);
			assert_int_equal(rl_learn_add(l, &o), 0);
		}
	/* two clients to two DNS servers: a full product, one candidate */
	for (unsigned s = 0; s < 2; s++)
		for (unsigned d = 0; d < 2; d++) {
			char dst[32];

			snprintf(src, sizeof(src), "10.2.0.%u", 10 + s);
			snprintf(dst, sizeof(dst), "192.168.0.%u", 52 + d);
			obs(&o, src, dst, 17, 53, 100);
			assert_int_equal(rl_learn_add(l, &o), 0);
		}
	/* three of the four pairs to two database servers: not a product */
	obs(&o, "10.3.0.1", "192.168.0.101", 6, 5432, 1);
	rl_learn_add(l, &o);
	obs(&o, "10.3.0.1", "192.168.0.102", 6, 5432, 1);
	rl_learn_add(l, &o);
	obs(&o, "10.3.0.2", "192.168.0.101", 6, 5432, 1);
	rl_learn_add(l, &o);
	assert_int_equal(rl_learn_build(l), 0);

	c = find_cand(l, "192.168.0.10");
	assert_non_null(c);
	assert_int_equal(c->n_from, 1);
	assert_string_equal(c->from[0], "10.1.0.0/30");
	assert_int_equal(c->n_ports, 3);
	assert_string_equal(c->ports[0], "80");
	assert_string_equal(c->ports[1], "443");
	assert_string_equal(c->ports[2], "8000-8003");
	assert_int_equal(c->keys, 24);
	assert_int_equal(c->flows, 4 * (1 + 2 + 3 + 4 + 5 + 6));
	assert_int_equal(c->n_samples, RL_LEARN_SAMPLES);
	assert_int_equal(c->samples[0].flows, 6); /* the largest first */

	c = find_cand(l, "192.168.0.52/31");
	assert_non_null(c);
	assert_string_equal(c->from[0], "10.2.0.10/31");
	assert_int_equal(c->proto, 17);
	assert_int_equal(c->keys, 4);

	/* 10.3.0.1 -> {.101, .102} and 10.3.0.2 -> .101, or the other cut: two candidates, each
	 * exact, together the three keys */
	unsigned db = 0, keys = 0;

	for (unsigned i = 0; i < rl_learn_n_candidates(l); i++) {
		c = rl_learn_candidate(l, i);
		if (c->n_ports == 1 && strcmp(c->ports[0], "5432") == 0) {
			db++;
			keys += (unsigned)c->keys;
			assert_int_equal(c->keys, (uint64_t)c->n_to * c->n_from);
		}
	}
	assert_int_equal(db, 2);
	assert_int_equal(keys, 3);
	assert_int_equal(rl_learn_n_candidates(l), 4);
	rl_learn_free(l);
}

/* The bounds: keys past max_keys are counted and left out; rules past max_rules too. */
static void
test_limits(void **state)
{
	struct rl_learn *l = rl_learn_create(NULL, 10, 2);
	struct rl_learn_stats st;
	struct rl_obs o;
	char dst[32], *text;
	size_t len;
	int full = 0;

	(void)state;
	for (unsigned i = 0; i < 15; i++) {
		snprintf(dst, sizeof(dst), "192.168.1.%u", i);
		obs(&o, "10.0.0.1", dst, 6, (uint16_t)(1000 + i * 7), 1 + i);
		if (rl_learn_add(l, &o) == -ENOSPC)
			full++;
	}
	assert_int_equal(full, 5);
	assert_int_equal(rl_learn_build(l), 0);
	rl_learn_stats(l, &st);
	assert_int_equal(st.observed, 15);
	assert_int_equal(st.keys, 10);
	assert_int_equal(st.dropped, 5);
	assert_int_equal(rl_learn_n_candidates(l), 10);
	assert_int_equal(st.rules_cut, 8);
	text = rl_learn_proposal(l, RL_ACT_DROP, NULL, 1800000000, 1800003600, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "learned-2\n"));
	assert_null(strstr(text, "learned-3\n"));
	assert_non_null(strstr(text, "5 past the limit of 10 keys"));
	assert_non_null(strstr(text, "8 candidates past the limit of 2 rules"));
	free(text);
	rl_learn_free(l);
}

static struct rl_policy *
load(const char *text)
{
	struct vg_diag d;
	struct rl_policy *p;

	vg_diag_init(&d);
	p = rl_policy_load_buf("proposal", text, strlen(text), NULL, &d);
	if (p == NULL || d.n > 0) {
		vg_diag_print(&d, stderr);
		fprintf(stderr, "%s", text);
	}
	vg_diag_free(&d);
	return p;
}

/* The universe of the property test. */
static const char *const hosts4[] = { "10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4",
	"10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.1.1", "10.0.1.2" };
static const char *const servers4[] = { "192.168.0.10", "192.168.0.11", "192.168.0.12",
	"192.168.0.13", "8.8.8.8" };
static const char *const hosts6[] = { "fd00::", "fd00::1", "fd00::2", "fd00::3", "fd00::10" };
static const char *const servers6[] = { "2001:db8::10", "2001:db8::11", "2001:db8::80" };
static const uint16_t uports[] = { 22, 53, 80, 81, 82, 83, 443, 8080 };
static const uint8_t uprotos[] = { 6, 17, 1 };

#define U4 (10 * 5 * 3 * 8)
#define U6 (5 * 3 * 3 * 8)

/* Key u of the universe (IPv4 first, then IPv6). ICMP keys have dport 0. */
static void
universe(unsigned u, struct rl_obs *o)
{
	if (u < U4) {
		obs(o, hosts4[u % 10], servers4[u / 10 % 5], uprotos[u / 50 % 3],
				uports[u / 150 % 8], 1 + u % 7);
	} else {
		u -= U4;
		obs(o, hosts6[u % 5], servers6[u / 5 % 3], uprotos[u / 15 % 3], uports[u / 45 % 8],
				1 + u % 5);
		if (o->proto == 1)
			o->proto = 58;
	}
	if (o->proto == 1 || o->proto == 58)
		o->dport = 0;
}

static void
key_of(const struct rl_obs *o, struct rl_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = o->family;
	k->proto = o->proto;
	k->in_port = (uint8_t)below(4);
	memcpy(k->src, o->src, 16);
	memcpy(k->dst, o->dst, 16);
	if (o->proto == 6 || o->proto == 17) {
		k->sport = htons((uint16_t)(1024 + below(60000)));
		k->dport = htons(o->dport);
	} else {
		k->sport = htons(o->proto == 1 ? 8 : 128); /* echo request */
	}
}

static void
test_proposal_keeps_every_observed_verdict(void **state)
{
	bool seen[U4 + U6], excl[U4 + U6];
	unsigned rounds = 40, checked = 0, rules = 0;

	(void)state;
	rng_state = seed();
	for (unsigned r = 0; r < rounds; r++) {
		struct rl_learn *l = rl_learn_create(NULL, 0, 0);
		const char *xfrom[] = { "10.0.0.4/31" };
		struct rl_learn_excl x = { .from = xfrom, .n_from = 1, .proto = -1 };
		unsigned density = 5 + below(90);
		struct rl_snapshot *snap;
		struct rl_policy *p;
		struct vg_diag d;
		struct rl_obs o;
		size_t len;
		char *text;
		char err[128];

		assert_non_null(l);
		/* half the rounds exclude the sources 10.0.0.4 and .5 */
		if (r % 2)
			assert_int_equal(rl_learn_exclude(l, &x, err, sizeof(err)), 0);
		for (unsigned u = 0; u < U4 + U6; u++) {
			seen[u] = below(100) < density;
			excl[u] = false;
			if (!seen[u])
				continue;
			universe(u, &o);
			int rc = rl_learn_add(l, &o);

			assert_true(rc == 0 || rc == 1);
			excl[u] = rc == 1;
			/* ICMP keys differ only by their (ignored) port: the same key again */
			if (o.proto == 1 || o.proto == 58)
				rl_learn_add(l, &o);
		}
		assert_int_equal(rl_learn_build(l), 0);
		text = rl_learn_proposal(l, RL_ACT_DROP, NULL, 1800000000, 1800003600, &len);
		assert_non_null(text);
		assert_int_equal(strlen(text), len);
		p = load(text);
		assert_non_null(p);
		rules += rl_policy_n_rules(p);
		/* the policy compiler takes it as it is */
		vg_diag_init(&d);
		snap = rl_compile(p, 1, 1, SOCKET_ID_ANY, &d);
		if (snap == NULL)
			vg_diag_print(&d, stderr);
		assert_non_null(snap);
		vg_diag_free(&d);
		for (unsigned u = 0; u < U4 + U6; u++) {
			/* the same (src, dst, proto) is observed if any of its ICMP variants was */
			bool allowed_expected = false;
			struct rl_verdict v;
			const struct rl_key *kp;
			struct rl_key k;
			uint32_t rule;

			universe(u, &o);
			for (unsigned w = 0; w < U4 + U6; w++) {
				struct rl_obs ow;

				if (!seen[w] || excl[w])
					continue;
				universe(w, &ow);
				if (ow.family == o.family && ow.proto == o.proto &&
						ow.dport == o.dport &&
						memcmp(ow.src, o.src, 16) == 0 &&
						memcmp(ow.dst, o.dst, 16) == 0) {
					allowed_expected = true;
					break;
				}
			}
			rl_preview_classify(p, &o, &v);
			assert_true(v.certain);
			key_of(&o, &k);
			kp = &k;
			rl_classify_bulk(snap, &kp, 1, &rule);
			assert_int_equal(rule, rl_ref_classify(p, &k));
			assert_int_equal(rule, v.rule);
			if (allowed_expected != (v.rule != RL_RULE_DEFAULT))
				fail_msg("key %u (observed %d, excluded %d): rule %d\n%s", u,
						seen[u], excl[u], (int)v.rule, text);
			assert_int_equal(v.action, allowed_expected ? RL_ACT_ALLOW : RL_ACT_DROP);
			checked++;
		}
		rl_snapshot_free(snap);
		rl_policy_free(p);
		free(text);
		rl_learn_free(l);
	}
	printf("# %u rounds, %u rules proposed, %u keys checked through rl_ref and rte_acl\n",
			rounds, rules, checked);
}

/*
 * Learning one pair (ports a and b of a, b, c, d): random traffic observed on a and b, each key
 * with its ingress port. The proposal, through the loader, rte_acl and rl_ref, for every key of
 * the universe on every port: a key observed on that port of the pair is allowed by a learnt
 * rule; any other key arriving on a or b gets learned-rest (drop); on c and d the proposal's
 * default (allow, the policy in force's) decides. No candidate spans two ports.
 */
static void
test_pair_proposal(void **state)
{
	static const char *const names[] = { "a", "b", "c", "d" };
	struct rl_env env = { .ports = names, .n_ports = 4 };
	bool seen[U4 + U6][2];
	unsigned rounds = 20, checked = 0;

	(void)state;
	rng_state = seed() + 3;
	for (unsigned r = 0; r < rounds; r++) {
		struct rl_learn *l = rl_learn_create(NULL, 0, 0);
		unsigned density = 5 + below(60);
		struct rl_snapshot *snap;
		struct rl_policy *p;
		struct vg_diag d;
		struct rl_obs o;
		size_t len;
		char *text;

		assert_non_null(l);
		rl_learn_set_ports(l, names, 4);
		rl_learn_set_scope(l, 0x3, RL_ACT_ALLOW);
		for (unsigned u = 0; u < U4 + U6; u++) {
			for (unsigned port = 0; port < 2; port++) {
				seen[u][port] = below(100) < density;
				if (!seen[u][port])
					continue;
				universe(u, &o);
				o.in_known = true;
				o.in_port = (uint8_t)port;
				assert_int_equal(rl_learn_add(l, &o), 0);
			}
		}
		assert_int_equal(rl_learn_build(l), 0);
		for (unsigned i = 0; i < rl_learn_n_candidates(l); i++) {
			const struct rl_learn_cand *c = rl_learn_candidate(l, i);

			assert_true(c->in_known);
			assert_true(c->in_port < 2);
		}
		text = rl_learn_proposal(l, RL_ACT_DROP, NULL, 1800000000, 1800003600, &len);
		assert_non_null(text);
		assert_non_null(strstr(text, "default: allow\n"));
		assert_non_null(strstr(text, "  - name: learned-rest\n"));
		vg_diag_init(&d);
		p = rl_policy_load_buf("proposal", text, len, &env, &d);
		if (p == NULL || d.n > 0) {
			vg_diag_print(&d, stderr);
			fail_msg("the proposal does not load:\n%s", text);
		}
		snap = rl_compile(p, 1, 1, SOCKET_ID_ANY, &d);
		assert_non_null(snap);
		vg_diag_free(&d);
		for (unsigned u = 0; u < U4 + U6; u++) {
			for (unsigned port = 0; port < 4; port++) {
				bool want_allow;
				const struct rl_key *kp;
				struct rl_key k;
				uint32_t rule;

				universe(u, &o);
				want_allow = port >= 2;
				for (unsigned w = 0; port < 2 && w < U4 + U6; w++) {
					struct rl_obs ow;

					if (!seen[w][port])
						continue;
					universe(w, &ow);
					if (ow.family == o.family && ow.proto == o.proto &&
							ow.dport == o.dport &&
							memcmp(ow.src, o.src, 16) == 0 &&
							memcmp(ow.dst, o.dst, 16) == 0)
						want_allow = true;
				}
				key_of(&o, &k);
				k.in_port = (uint8_t)port;
				kp = &k;
				rl_classify_bulk(snap, &kp, 1, &rule);
				assert_int_equal(rule, rl_ref_classify(p, &k));
				if (port >= 2) {
					/* the other pair: the default, no learnt rule */
					if (rule != RL_RULE_DEFAULT)
						fail_msg("key %u on port %s: rule %s\n%s", u,
								names[port],
								rl_policy_rule(p, rule)->name,
								text);
				} else if (rule == RL_RULE_DEFAULT ||
						(rl_policy_rule(p, rule)->action == RL_ACT_ALLOW) !=
								want_allow ||
						(!want_allow && strcmp(rl_policy_rule(p, rule)->name,
										"learned-rest") !=
										0)) {
					fail_msg("key %u on port %s (observed %d): rule %d\n%s", u,
							names[port], want_allow, (int)rule, text);
				}
				checked++;
			}
		}
		rl_snapshot_free(snap);
		rl_policy_free(p);
		free(text);
		rl_learn_free(l);
	}
	printf("# %u rounds, %u keys checked on 4 ports through rl_ref and rte_acl\n", rounds,
			checked);
}

/* The policy in force's verdicts are reported per candidate; excluded keys are left out. */
static void
test_denied_and_excluded(void **state)
{
	static const char cur_text[] = "version: 1\ndefault: drop\nrules:\n"
				       "  - name: web\n    proto: tcp\n    dport: 443\n"
				       "    action: allow\n";
	struct rl_policy *cur = load(cur_text);
	struct rl_learn *l = rl_learn_create(cur, 0, 0);
	const char *to[] = { "192.168.9.0/24" };
	const uint16_t dp[] = { 22 };
	struct rl_learn_excl x = { .to = to, .n_to = 1, .proto = 6, .dports = dp, .n_dports = 1 };
	const struct rl_learn_cand *c;
	struct rl_learn_stats st;
	struct rl_obs o;
	char err[128];

	(void)state;
	assert_non_null(cur);
	assert_int_equal(rl_learn_exclude(l, &x, err, sizeof(err)), 0);
	x.to = (const char *[]){ "300.1.1.1" };
	assert_int_equal(rl_learn_exclude(l, &x, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "300.1.1.1"));
	obs(&o, "10.0.0.1", "192.168.0.1", 6, 443, 5);
	assert_int_equal(rl_learn_add(l, &o), 0);
	obs(&o, "10.0.0.1", "192.168.0.1", 6, 22, 3);
	assert_int_equal(rl_learn_add(l, &o), 0);
	obs(&o, "10.0.0.1", "192.168.9.7", 6, 22, 9);
	assert_int_equal(rl_learn_add(l, &o), 1);
	assert_int_equal(rl_learn_build(l), 0);
	rl_learn_stats(l, &st);
	assert_int_equal(st.excluded, 1);
	assert_int_equal(rl_learn_n_candidates(l), 1);
	c = rl_learn_candidate(l, 0);
	assert_int_equal(c->n_ports, 2);
	assert_int_equal(c->keys, 2);
	assert_int_equal(c->denied_keys, 1);
	assert_int_equal(c->denied_flows, 3);
	rl_learn_free(l);
	rl_policy_free(cur);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_proposal_keeps_every_observed_verdict),
		cmocka_unit_test(test_pair_proposal),
		cmocka_unit_test(test_denied_and_excluded),
	};

	if (vg_test_eal_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
