/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The preview's classifier against the reference classifier (rl_ref, the policy language's
 * definition), and the preview's grouping.
 *
 * Seeded random policies (sets that include sets, negations, both families, every action,
 * dry_run) go through the real loader. Without the fields the store does not keep, every
 * observation must be certain and decided by the rule rl_ref_classify picks, whatever ingress
 * port, VLAN or source port the key carries. With them (in, vlan, sport, tcp_flags, icmp_type),
 * a verdict the preview calls certain must be rl_ref's for every value of the unknown fields
 * tried, and an uncertain one must name a rule that does match some key of the observation.
 *
 * The seed is printed; VIGIL_TEST_SEED=N reproduces a run.
 */
#include "vg_test.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <time.h>

#include "rl_policy.h"
#include "rl_preview.h"
#include "rl_ref.h"

#define N_POLICIES     60
#define OBS_PER_POLICY 400
#define KEYS_PER_OBS   12

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

/* Addresses from two small regions per family, so that rules overlap and nest. */
static const char *const v4_nets[] = { "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3",
	"192.168.0.0/16", "192.168.1.0/24", "192.168.1.7" };
static const char *const v6_nets[] = { "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::5",
	"fd00::/8", "fd00::1" };

static void
addr_item(struct buf *b, bool sets)
{
	if (sets && below(4) == 0) {
		out(b, "$a%u", below(3));
		return;
	}
	if (below(3) == 0)
		out(b, "\"%s\"", v6_nets[below(5)]);
	else
		out(b, "%s", v4_nets[below(7)]);
}

static void
addr_list(struct buf *b, const char *key)
{
	unsigned n = 1 + below(3);

	out(b, "    %s: [", key);
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			out(b, ", ");
		if (i > 0 && below(3) == 0) {
			out(b, "\"!");
			if (below(2))
				out(b, "%s\"", v4_nets[3 + below(4)]);
			else
				out(b, "%s\"", v6_nets[2 + below(3)]);
		} else {
			addr_item(b, true);
		}
	}
	out(b, "]\n");
}

static const uint16_t ports[] = { 22, 53, 80, 443, 8080, 8443 };

static char *
random_policy(bool unknowns)
{
	static const char *const actions[] = { "allow", "drop", "reject" };
	struct buf b = { 0 };
	unsigned n = 1 + below(12);

	out(&b, "version: 1\ndefault: %s\nsets:\n", below(2) ? "drop" : "allow");
	out(&b, "  a0: [10.1.0.0/16, \"fd00::/8\"]\n  a1: [$a0, 192.168.1.0/24, \"!10.1.2.0/24\"]\n");
	out(&b, "  a2: [10.0.0.0/8, \"2001:db8::/32\"]\n  web: [80, 443, 8000-8099]\n");
	out(&b, "rules:\n");
	for (unsigned i = 0; i < n; i++) {
		unsigned proto = below(5); /* tcp, udp, [tcp, udp], icmp, any */
		bool l4 = proto < 3;

		out(&b, "  - name: r%u\n", i);
		out(&b, "    proto: %s\n",
				(const char *[]){
						"tcp", "udp", "[tcp, udp]", "icmp", "any" }[proto]);
		if (below(3))
			addr_list(&b, "from");
		if (below(3))
			addr_list(&b, "to");
		if (l4 && below(3)) {
			if (below(3) == 0)
				out(&b, "    dport: $web\n");
			else if (below(3) == 0)
				out(&b, "    dport: [\"!%u\"]\n", ports[below(6)]);
			else
				out(&b, "    dport: [%u, %u-%u]\n", ports[below(6)],
						8000 + below(10), 8050 + below(100));
		}
		if (unknowns) {
			if (below(5) == 0)
				out(&b, "    in: %s\n", below(2) ? "outside" : "\"!inside\"");
			if (below(6) == 0)
				out(&b, "    vlan: [0, 100]\n");
			if (l4 && below(5) == 0)
				out(&b, "    sport: 1024-65535\n");
			if (proto == 0 && below(6) == 0)
				out(&b, "    tcp_flags: {set: [syn], unset: [ack]}\n");
			if (proto == 3 && below(3) == 0)
				out(&b, "    icmp_type: echo-request\n");
		}
		out(&b, "    action: %s\n", actions[below(3)]);
		if (below(4) == 0)
			out(&b, "    dry_run: true\n");
	}
	return b.s;
}

static struct rl_policy *
load(const char *text)
{
	static const char *const port_names[] = { "inside", "outside" };
	struct rl_env env = { .ports = port_names, .n_ports = 2 };
	struct vg_diag d;
	struct rl_policy *p;

	vg_diag_init(&d);
	p = rl_policy_load_buf("random", text, strlen(text), &env, &d);
	vg_diag_free(&d);
	return p;
}

static const char *const obs_v4[] = { "10.1.2.3", "10.1.9.9", "10.200.0.1", "192.168.1.7",
	"192.168.2.1", "8.8.8.8" };
static const char *const obs_v6[] = { "2001:db8:1::5", "2001:db8:2::1", "fd00::1", "fe80::1" };

static void
random_obs(struct rl_obs *o)
{
	static const uint8_t protos[] = { 6, 17, 1, 47 };

	memset(o, 0, sizeof(*o));
	o->family = below(4) == 0 ? 6 : 4;
	o->proto = protos[below(4)];
	if (o->family == 4) {
		inet_pton(AF_INET, obs_v4[below(6)], o->src);
		inet_pton(AF_INET, obs_v4[below(6)], o->dst);
	} else {
		inet_pton(AF_INET6, obs_v6[below(4)], o->src);
		inet_pton(AF_INET6, obs_v6[below(4)], o->dst);
	}
	if (o->proto == 6 || o->proto == 17)
		o->dport = below(2) ? ports[below(6)] : (uint16_t)(8000 + below(200));
	/* The store knows the ingress port of rows written since schema 4 only. */
	o->in_known = below(2);
	o->in_port = o->in_known ? (uint8_t)below(2) : 0;
	o->flows = 1 + below(10);
	o->packets = o->flows * (1 + below(20));
	o->bytes = o->packets * (60 + below(1400));
	o->first = 1700000000 + 60 * (int64_t)below(100);
	o->last = o->first + 60 * (int64_t)below(10);
}

/* A key the dataplane could have built for o, with the fields the store lacks drawn at random
 * (ICMP type and code ride in the port fields). */
static void
key_of(const struct rl_obs *o, struct rl_key *k)
{
	static const uint8_t flags[] = { 0x02, 0x12, 0x10, 0x11, 0x04 };
	static const uint16_t vlans[] = { 0, 100, 7 };

	memset(k, 0, sizeof(*k));
	k->family = o->family;
	k->proto = o->proto;
	k->in_port = o->in_known ? o->in_port : (uint8_t)below(2);
	k->vlan = htons(vlans[below(3)]);
	memcpy(k->src, o->src, 16);
	memcpy(k->dst, o->dst, 16);
	if (o->proto == 1) {
		k->sport = htons(below(2) ? 8 : 0);
		k->dport = 0;
	} else if (o->proto == 6 || o->proto == 17) {
		k->sport = htons(
				below(2) ? (uint16_t)(1024 + below(60000)) : (uint16_t)below(1024));
		k->dport = htons(o->dport);
	}
	if (o->proto == 6)
		k->tcp_flags = flags[below(5)];
}

static uint64_t
seed(void)
{
	const char *s = getenv("VIGIL_TEST_SEED");
	uint64_t v = s != NULL ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ (uint64_t)getpid();

	printf("# seed %" PRIu64 " (VIGIL_TEST_SEED=%" PRIu64 " reproduces it)\n", v, v);
	return v ? v : 1;
}

/* Without unknown fields the preview is the reference classifier, certain every time. */
static void
test_agrees_with_reference(void **state)
{
	unsigned loaded = 0, checked = 0;

	(void)state;
	rng_state = seed();
	for (unsigned pi = 0; pi < 4 * N_POLICIES && loaded < N_POLICIES; pi++) {
		char *text = random_policy(false);
		struct rl_policy *p = load(text);

		if (p == NULL) { /* a random list may leave nothing (an error): draw again */
			free(text);
			continue;
		}
		loaded++;
		for (unsigned i = 0; i < OBS_PER_POLICY; i++) {
			struct rl_verdict v;
			struct rl_obs o;
			struct rl_key k;

			random_obs(&o);
			rl_preview_classify(p, &o, &v);
			if (!v.certain)
				fail_msg("uncertain without unknown fields:\n%s", text);
			for (unsigned j = 0; j < KEYS_PER_OBS; j++) {
				uint32_t ref;

				key_of(&o, &k);
				ref = rl_ref_classify(p, &k);
				if (ref != v.rule)
					fail_msg("preview says rule %d, rl_ref %d (proto %u dport %u)\n%s",
							(int)v.rule, (int)ref, o.proto, o.dport,
							text);
				checked++;
				assert_int_equal(v.action,
						ref == RL_RULE_DEFAULT
								? rl_policy_default(p)
								: rl_policy_rule(p, ref)->action);
			}
		}
		rl_policy_free(p);
		free(text);
	}
	printf("# %u policies, %u keys agreed with rl_ref\n", loaded, checked);
	assert_int_equal(loaded, N_POLICIES);
}

/* With them, "certain" must hold for every key, and "uncertain" must have a reason. */
static void
test_unknown_fields_sound(void **state)
{
	unsigned loaded = 0, certain = 0, uncertain = 0;

	(void)state;
	rng_state = seed() + 1;
	for (unsigned pi = 0; pi < 4 * N_POLICIES && loaded < N_POLICIES; pi++) {
		char *text = random_policy(true);
		struct rl_policy *p = load(text);

		if (p == NULL) {
			free(text);
			continue;
		}
		loaded++;
		for (unsigned i = 0; i < OBS_PER_POLICY; i++) {
			struct rl_verdict v;
			struct rl_obs o;
			struct rl_key k;

			random_obs(&o);
			rl_preview_classify(p, &o, &v);
			if (v.certain) {
				certain++;
				for (unsigned j = 0; j < KEYS_PER_OBS; j++) {
					key_of(&o, &k);
					if (rl_ref_classify(p, &k) != v.rule)
						fail_msg("certain rule %d, rl_ref %d\n%s",
								(int)v.rule,
								(int)rl_ref_classify(p, &k), text);
					/* a stateless drop would stop packets: not certain then */
					uint32_t sl = rl_ref_classify_stateless(p, &k);

					if (sl != RL_RULE_DEFAULT)
						assert_int_equal(rl_policy_rule(p, sl)->action,
								RL_ACT_ALLOW);
				}
			} else {
				const struct rl_rule *m;

				uncertain++;
				assert_true(v.maybe != RL_RULE_DEFAULT);
				assert_true(v.maybe < rl_policy_n_rules(p));
				m = rl_policy_rule(p, v.maybe);
				/* the rule named does constrain something the store lacks */
				assert_true(!m->in_any || !m->vlan_any || m->stateless ||
						m->icmp_type4 != RL_ICMP_ANY ||
						m->sport_set.n != 1 || m->sport_set.v[0].lo != 0 ||
						m->sport_set.v[0].hi != 65535);
				/* a stateful rule that may match comes before the verdict's */
				assert_true(m->stateless || v.rule == RL_RULE_DEFAULT ||
						v.rule > v.maybe);
			}
		}
		rl_policy_free(p);
		free(text);
	}
	printf("# %u policies: %u certain, %u uncertain observations\n", loaded, certain,
			uncertain);
	assert_int_equal(loaded, N_POLICIES);
	assert_true(certain > 0);
	assert_true(uncertain > 0);
}

static void
obs4(struct rl_obs *o, const char *src, const char *dst, uint8_t proto, uint16_t dport,
		uint64_t flows, uint64_t bytes, int64_t first)
{
	memset(o, 0, sizeof(*o));
	o->family = 4;
	o->proto = proto;
	o->dport = dport;
	inet_pton(AF_INET, src, o->src);
	inet_pton(AF_INET, dst, o->dst);
	o->flows = flows;
	o->packets = flows * 10;
	o->bytes = bytes;
	o->first = first;
	o->last = first + 60;
}

static const char cur_text[] = "version: 1\n"
			       "default: drop\n"
			       "rules:\n"
			       "  - name: web\n"
			       "    proto: tcp\n"
			       "    to: 10.0.0.10\n"
			       "    dport: [80, 443]\n"
			       "    action: allow\n"
			       "  - name: ssh\n"
			       "    proto: tcp\n"
			       "    dport: 22\n"
			       "    action: allow\n";

/* The candidate: web unchanged, ssh only from the admin net, DNS newly allowed, and a dry-run
 * drop of telnet. */
static const char cand_text[] = "version: 1\n"
				"default: drop\n"
				"rules:\n"
				"  - name: web\n"
				"    proto: tcp\n"
				"    to: 10.0.0.10\n"
				"    dport: [80, 443]\n"
				"    action: allow\n"
				"  - name: ssh-admin\n"
				"    proto: tcp\n"
				"    from: 10.9.0.0/16\n"
				"    dport: 22\n"
				"    action: allow\n"
				"  - name: dns\n"
				"    proto: udp\n"
				"    dport: 53\n"
				"    action: allow\n"
				"  - name: telnet\n"
				"    proto: tcp\n"
				"    dport: 23\n"
				"    action: drop\n"
				"    dry_run: true\n";

static void
test_groups(void **state)
{
	struct rl_policy *cur = load(cur_text), *cand = load(cand_text);
	const struct rl_preview_group *g;
	struct rl_preview_totals t;
	struct rl_preview *pv;
	struct rl_obs o;
	unsigned n;

	(void)state;
	assert_non_null(cur);
	assert_non_null(cand);
	pv = rl_preview_create(cur, cand);
	assert_non_null(pv);
	/* unchanged: web */
	obs4(&o, "10.1.1.1", "10.0.0.10", 6, 443, 50, 500000, 1000);
	assert_int_equal(rl_preview_add(pv, &o), 0);
	/* ssh from outside the admin net: allow (ssh) -> drop (default), 7 aggregates */
	for (unsigned i = 0; i < 7; i++) {
		char src[32];

		snprintf(src, sizeof(src), "10.1.1.%u", 10 + i);
		obs4(&o, src, "10.0.0.22", 6, 22, 2, 1000 * (i + 1), 600 + 60 * i);
		assert_int_equal(rl_preview_add(pv, &o), 0);
	}
	/* ssh from the admin net: unchanged verdict, another rule */
	obs4(&o, "10.9.1.1", "10.0.0.22", 6, 22, 3, 900, 1000);
	assert_int_equal(rl_preview_add(pv, &o), 0);
	/* dns: drop (default) -> allow (dns) */
	obs4(&o, "10.1.1.1", "10.0.0.53", 17, 53, 40, 4000, 1200);
	assert_int_equal(rl_preview_add(pv, &o), 0);
	/* telnet: drop (default) -> drop (dry-run), a different verdict: forwarded now */
	obs4(&o, "10.1.1.1", "10.0.0.23", 6, 23, 1, 100, 1300);
	assert_int_equal(rl_preview_add(pv, &o), 0);

	g = rl_preview_groups(pv, &n);
	assert_int_equal(n, 3);
	/* largest by flows first: dns (40), then ssh (14), then telnet (1) */
	assert_string_equal(rl_verdict_name(&g[0].from), "drop");
	assert_int_equal(g[0].from.rule, RL_RULE_DEFAULT);
	assert_string_equal(rl_verdict_name(&g[0].to), "allow");
	assert_string_equal(rl_policy_rule(cand, g[0].to.rule)->name, "dns");
	assert_int_equal(g[0].flows, 40);

	assert_string_equal(rl_policy_rule(cur, g[1].from.rule)->name, "ssh");
	assert_string_equal(rl_verdict_name(&g[1].to), "drop");
	assert_int_equal(g[1].to.rule, RL_RULE_DEFAULT);
	assert_int_equal(g[1].aggregates, 7);
	assert_int_equal(g[1].flows, 14);
	assert_int_equal(g[1].bytes, 28000);
	assert_int_equal(g[1].first, 600);
	assert_int_equal(g[1].last, 600 + 60 * 6 + 60);
	/* samples: the five largest by bytes, largest first */
	assert_int_equal(g[1].n_samples, RL_PREVIEW_SAMPLES);
	assert_int_equal(g[1].samples[0].bytes, 7000);
	assert_int_equal(g[1].samples[4].bytes, 3000);
	assert_true(g[1].from.certain && g[1].to.certain);

	assert_string_equal(rl_verdict_name(&g[2].to), "drop (dry-run)");
	assert_string_equal(rl_policy_rule(cand, g[2].to.rule)->name, "telnet");

	rl_preview_totals(pv, &t);
	assert_int_equal(t.aggregates, 11);
	assert_int_equal(t.changed_aggregates, 9);
	assert_int_equal(t.changed_flows, 55);
	assert_int_equal(t.uncertain_aggregates, 0);

	/* more adds after reading the groups still land in the right group */
	obs4(&o, "10.1.1.2", "10.0.0.53", 17, 53, 5, 50, 1500);
	assert_int_equal(rl_preview_add(pv, &o), 0);
	g = rl_preview_groups(pv, &n);
	assert_int_equal(n, 3);
	assert_int_equal(g[0].flows, 45);
	rl_preview_free(pv);

	/* no policy in force: everything was allowed */
	pv = rl_preview_create(NULL, cand);
	obs4(&o, "10.1.1.1", "10.0.0.99", 6, 3306, 4, 400, 0);
	assert_int_equal(rl_preview_add(pv, &o), 0);
	g = rl_preview_groups(pv, &n);
	assert_int_equal(n, 1);
	assert_string_equal(rl_verdict_name(&g[0].from), "allow");
	assert_string_equal(rl_verdict_name(&g[0].to), "drop");
	rl_preview_free(pv);
	rl_policy_free(cur);
	rl_policy_free(cand);
}

/* A rule on a field the store does not keep makes the verdict uncertain and is named. */
static void
test_uncertain_named(void **state)
{
	static const char text[] = "version: 1\n"
				   "default: allow\n"
				   "rules:\n"
				   "  - name: from-outside\n"
				   "    in: outside\n"
				   "    proto: tcp\n"
				   "    dport: 3306\n"
				   "    action: drop\n"
				   "  - name: syn-only\n"
				   "    proto: tcp\n"
				   "    tcp_flags: {set: [syn], unset: [ack]}\n"
				   "    dport: 25\n"
				   "    action: drop\n";
	struct rl_policy *p = load(text);
	struct rl_verdict v;
	struct rl_obs o;

	(void)state;
	assert_non_null(p);
	obs4(&o, "10.0.0.1", "10.0.0.2", 6, 3306, 1, 1, 0);
	rl_preview_classify(p, &o, &v);
	assert_false(v.certain);
	assert_string_equal(rl_policy_rule(p, v.maybe)->name, "from-outside");
	assert_int_equal(v.rule, RL_RULE_DEFAULT);
	obs4(&o, "10.0.0.1", "10.0.0.2", 6, 25, 1, 1, 0);
	rl_preview_classify(p, &o, &v);
	assert_false(v.certain);
	assert_string_equal(rl_policy_rule(p, v.maybe)->name, "syn-only");
	obs4(&o, "10.0.0.1", "10.0.0.2", 6, 443, 1, 1, 0);
	rl_preview_classify(p, &o, &v);
	assert_true(v.certain);
	/* A known ingress port decides `in`: outside (1) is dropped, inside (0) is not. */
	obs4(&o, "10.0.0.1", "10.0.0.2", 6, 3306, 1, 1, 0);
	o.in_known = true;
	o.in_port = 1;
	rl_preview_classify(p, &o, &v);
	assert_true(v.certain);
	assert_string_equal(rl_policy_rule(p, v.rule)->name, "from-outside");
	assert_int_equal(v.action, RL_ACT_DROP);
	o.in_port = 0;
	rl_preview_classify(p, &o, &v);
	assert_true(v.certain);
	assert_int_equal(v.rule, RL_RULE_DEFAULT);
	rl_policy_free(p);
}

/*
 * rl_preview_add classifies through its per-destination cache: its totals and groups must be
 * what classifying every observation on its own (rl_preview_classify) gives, for random
 * policies with unknown fields (in, vlan, sport, tcp_flags, icmp_type) and observations that
 * share destinations, with and without a policy in force.
 */
struct exp_group {
	uint32_t from, to;
	uint64_t aggregates, flows, uncertain;
};

static void
test_add_matches_classify(void **state)
{
	unsigned pairs = 0, changed = 0;

	(void)state;
	rng_state = seed() + 2;
	for (unsigned pi = 0; pi < 8 * N_POLICIES && pairs < N_POLICIES; pi++) {
		char *t1 = random_policy(true), *t2 = random_policy(true);
		bool none = below(8) == 0; /* no policy in force */
		struct rl_policy *cur = none ? NULL : load(t1), *cand = load(t2);
		struct exp_group eg[64];
		unsigned neg = 0, n;
		uint64_t n_changed = 0, n_uncertain = 0;
		const struct rl_preview_group *g;
		struct rl_preview_totals tot;
		struct rl_preview *pv;

		if (cand == NULL || (cur == NULL && !none)) {
			rl_policy_free(cur);
			rl_policy_free(cand);
			free(t1);
			free(t2);
			continue;
		}
		pairs++;
		pv = rl_preview_create(cur, cand);
		assert_non_null(pv);
		for (unsigned i = 0; i < OBS_PER_POLICY; i++) {
			struct rl_verdict f, t;
			struct rl_obs o;
			unsigned j;

			random_obs(&o);
			assert_int_equal(rl_preview_add(pv, &o), 0);
			rl_preview_classify(cur, &o, &f);
			rl_preview_classify(cand, &o, &t);
			if (!f.certain || !t.certain)
				n_uncertain++;
			if (!rl_verdict_differs(&f, &t))
				continue;
			n_changed++;
			for (j = 0; j < neg; j++)
				if (eg[j].from == f.rule && eg[j].to == t.rule)
					break;
			if (j == neg) {
				assert_true(neg < 64);
				eg[neg++] = (struct exp_group){ .from = f.rule, .to = t.rule };
			}
			eg[j].aggregates++;
			eg[j].flows += o.flows;
			eg[j].uncertain += !f.certain || !t.certain;
		}
		rl_preview_totals(pv, &tot);
		assert_int_equal(tot.aggregates, OBS_PER_POLICY);
		assert_int_equal(tot.changed_aggregates, n_changed);
		assert_int_equal(tot.uncertain_aggregates, n_uncertain);
		g = rl_preview_groups(pv, &n);
		/* A group is a (from rule, to rule) pair: the rules fix the verdicts. */
		assert_int_equal(n, neg);
		for (unsigned i = 0; i < n; i++) {
			unsigned j;

			for (j = 0; j < neg; j++)
				if (eg[j].from == g[i].from.rule && eg[j].to == g[i].to.rule)
					break;
			if (j == neg)
				fail_msg("group %d -> %d not expected\n%s\n%s", (int)g[i].from.rule,
						(int)g[i].to.rule, t1, t2);
			assert_int_equal(g[i].aggregates, eg[j].aggregates);
			assert_int_equal(g[i].flows, eg[j].flows);
			assert_int_equal(g[i].uncertain, eg[j].uncertain);
		}
		changed += (unsigned)n_changed;
		rl_preview_free(pv);
		rl_policy_free(cur);
		rl_policy_free(cand);
		free(t1);
		free(t2);
	}
	printf("# %u policy pairs, %u changed observations, as classified one by one\n", pairs,
			changed);
	assert_int_equal(pairs, N_POLICIES);
	assert_true(changed > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agrees_with_reference),
		cmocka_unit_test(test_unknown_fields_sound),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_uncertain_named),
		cmocka_unit_test(test_add_matches_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
