/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy loader and validator: good files load with the values an operator wrote, every
 * kind of mistake is refused with a message at its exact line and column naming the rule (or
 * set), and shadowed rules are reported. No EAL needed.
 */
#include "vg_test.h"

#include "rl_policy.h"

static const char *const ports[] = { "outside", "inside" };
static const char *const groups[] = { "web-attacks", "dns" };
static const struct rl_env env = {
	.ports = ports, .n_ports = 2, .sig_groups = groups, .n_sig_groups = 2
};

static struct rl_policy *
load(const char *text, struct vg_diag *d)
{
	vg_diag_init(d);
	return rl_policy_load_buf("p.yaml", text, strlen(text), &env, d);
}

/* An entry at line:col whose message holds both a and b. */
static int
diag_has2(const struct vg_diag *d, unsigned line, unsigned col, const char *a, const char *b)
{
	for (unsigned i = 0; i < d->n; i++) {
		const struct vg_diag_entry *e = &d->v[i];

		if (e->line == line && e->col == col && strstr(e->msg, a) != NULL &&
				(b == NULL || strstr(e->msg, b) != NULL))
			return 1;
	}
	return 0;
}

#define H "version: 1\ndefault: drop\n"
#define R H "rules:\n  - name: a\n"

static void
test_full_policy(void **state)
{
	const char *text =
			H "l2: {default: drop, allow: [arp, 0x88f7, llc], drop: [lldp]}\n" /* 3 */
			  "sets:\n"
			  "  lan: [10.0.0.0/8, fd00::/8]\n"
			  "  web: [80, 443, 8000-8099]\n"
			  "  internal: [$lan, 192.168.0.0/16, \"!10.1.0.0/16\"]\n"
			  "  later: [$web2]\n"
			  "  web2: [8443]\n"
			  "rules:\n"
			  "  - name: web-in\n" /* 11 */
			  "    description: public web\n"
			  "    in: outside\n"
			  "    vlan: [100, 200-299]\n"
			  "    proto: tcp\n"
			  "    from: \"!$lan\"\n"
			  "    to: 192.0.2.10\n"
			  "    sport: any\n"
			  "    dport: [$web, $later]\n"
			  "    action: allow\n"
			  "    inspect: [web-attacks]\n"
			  "    log: true\n"
			  "    dry_run: false\n"
			  "    bpf: /opt/vigil/web.o\n"
			  "  - name: ping-limit\n"
			  "    proto: [icmp, icmpv6]\n"
			  "    icmp_type: echo-request\n"
			  "    icmp_code: 0\n"
			  "    action: rate-limit\n"
			  "    rate: {bps: 10M, per: source}\n"
			  "  - name: no-xmas\n"
			  "    proto: tcp\n"
			  "    tcp_flags: {set: [fin, psh, urg], unset: [syn]}\n"
			  "    action: drop\n"
			  "  - name: internal\n"
			  "    in: \"!outside\"\n"
			  "    from: $internal\n"
			  "    action: reject\n";
	struct vg_diag d;
	struct rl_policy *p = load(text, &d);
	const struct rl_rule *r;

	(void)state;
	if (p == NULL)
		vg_diag_print(&d, stderr);
	assert_non_null(p);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 0);
	assert_int_equal(rl_policy_default(p), RL_ACT_DROP);
	assert_int_equal(rl_policy_n_rules(p), 4);
	assert_int_equal(rl_policy_n_sets(p), 5);

	/* l2 */
	assert_int_equal(rl_policy_l2_default(p), RL_L2_DROP);
	assert_int_equal(rl_policy_l2_lookup(p, 0x0806), RL_L2_PASS);
	assert_int_equal(rl_policy_l2_lookup(p, 0x88f7), RL_L2_PASS);
	assert_int_equal(rl_policy_l2_lookup(p, 0x88cc), RL_L2_DROP);
	assert_int_equal(rl_policy_l2_lookup(p, 0x0042), RL_L2_PASS); /* a length: llc */
	assert_int_equal(rl_policy_l2_lookup(p, 0x9000), RL_L2_DROP);

	/* web-in */
	r = rl_policy_rule(p, 0);
	assert_string_equal(r->name, "web-in");
	assert_string_equal(r->description, "public web");
	assert_int_equal(r->line, 11);
	assert_int_equal(r->col, 5);
	assert_false(r->in_any);
	assert_int_equal(r->in_ports, 1);
	assert_false(r->vlan_any);
	assert_int_equal(r->vlan.n, 2);
	assert_true(r->vlan.v[1].lo == 200 && r->vlan.v[1].hi == 299);
	assert_false(r->proto_any);
	assert_true(rl_rule_has_proto(r, 6));
	assert_false(rl_rule_has_proto(r, 17));
	/* !$lan: IPv4 minus 10/8 is two intervals; IPv6 minus fd00::/8 is two. */
	assert_int_equal(r->from_set.v4.n, 2);
	assert_true(r->from_set.v4.v[0].hi == 0x09ffffff && r->from_set.v4.v[1].lo == 0x0b000000);
	assert_int_equal(r->from_set.v6.n, 2);
	assert_int_equal(r->to_set.v4.n, 1);
	assert_true(r->to_set.v4.v[0].lo == 0xc000020a && r->to_set.v4.v[0].hi == 0xc000020a);
	assert_int_equal(r->to_set.v6.n, 0);
	/* 80, 443, 8000-8099, 8443 */
	assert_int_equal(r->dport_set.n, 4);
	assert_true(r->dport_set.v[3].lo == 8443);
	assert_int_equal(r->sport_set.n, 1);
	assert_true(r->sport_set.v[0].lo == 0 && r->sport_set.v[0].hi == 65535);
	assert_int_equal(r->action, RL_ACT_ALLOW);
	assert_int_equal(r->n_inspect, 1);
	assert_string_equal(r->inspect[0], "web-attacks");
	assert_true(r->log);
	assert_false(r->dry_run);
	assert_string_equal(r->bpf, "/opt/vigil/web.o");

	/* ping-limit: the name maps to each family's number */
	r = rl_policy_rule(p, 1);
	assert_int_equal(r->icmp_type4, 8);
	assert_int_equal(r->icmp_type6, 128);
	assert_int_equal(r->icmp_code, 0);
	assert_int_equal(r->action, RL_ACT_RATE_LIMIT);
	assert_int_equal(r->rate.unit, RL_RATE_BPS);
	assert_true(r->rate.rate == 10000000);
	assert_true(r->rate.burst == 10000000 / 8); /* one second of bytes by default */
	assert_int_equal(r->rate.per, RL_PER_SOURCE);

	/* no-xmas */
	r = rl_policy_rule(p, 2);
	assert_true(r->stateless);
	assert_int_equal(r->flags_set, 0x29);
	assert_int_equal(r->flags_mask, 0x2b);

	/* internal: sets within sets, negation inside a set, negated port name */
	r = rl_policy_rule(p, 3);
	assert_int_equal(r->in_ports, 0xfffffffe);
	assert_true(vg_ivs_has(&r->from_set.v4, 0x0a000001));
	assert_false(vg_ivs_has(&r->from_set.v4, 0x0a010001));
	assert_true(vg_ivs_has(&r->from_set.v4, 0xc0a80101));
	assert_int_equal(r->from_set.v6.n, 1);
	assert_int_equal(r->to_set.v4.n, 1); /* any */
	assert_int_equal(r->action, RL_ACT_REJECT);

	rl_policy_free(p);
	vg_diag_free(&d);
}

static void
test_shipped_policy_is_valid(void **state)
{
	struct vg_diag d;
	struct rl_policy *p;
	const struct rl_env appliance = { .ports = ports, .n_ports = 2 };

	(void)state;
	vg_diag_init(&d);
	p = rl_policy_load_file(VIGIL_SOURCE_ROOT "/conf/policy.yaml", &appliance, &d);
	if (p == NULL || d.warnings > 0)
		vg_diag_print(&d, stderr);
	assert_non_null(p);
	assert_int_equal(d.warnings, 0);
	assert_true(rl_policy_n_rules(p) >= 5);
	rl_policy_free(p);
	vg_diag_free(&d);
}

static void
test_host_bits_warning(void **state)
{
	struct vg_diag d;
	struct rl_policy *p = load(R "    to: 10.1.2.3/8\n    action: allow\n", &d);

	(void)state;
	assert_non_null(p);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 1);
	assert_true(diag_has2(&d, 5, 9, "rule 'a'", "using 10.0.0.0/8"));
	assert_true(rl_policy_rule(p, 0)->to_set.v4.v[0].lo == 0x0a000000);
	rl_policy_free(p);
	vg_diag_free(&d);
}

struct bad_case {
	const char *name;
	const char *text;
	unsigned line;
	unsigned col;
	const char *who; /* the rule or set the message must name */
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "unknown top-level key", H "colour: red\n", 3, 1, "policy", "unknown key 'colour'" },
	{ "unknown rule key", R "    action: allow\n    prot: tcp\n", 6, 5, "rule 'a'",
			"unknown key 'prot'" },
	{ "undefined set", R "    from: $lan\n    action: allow\n", 5, 11, "rule 'a'",
			"unknown set '$lan'" },
	{ "set cycle", H "sets:\n  x: [$y]\n  y: [10.0.0.0/8, $x]\nrules: []\n", 5, 19, "set 'y'",
			"cycle: x -> y -> x" },
	{ "set includes itself", H "sets:\n  x: [10.0.0.0/8, $x]\n", 4, 19, "set 'x'",
			"cycle: x -> x" },
	{ "garbage address", R "    to: 10.0.0.300\n    action: allow\n", 5, 9, "rule 'a'",
			"'10.0.0.300' is not an address" },
	{ "prefix too long", R "    to: 10.0.0.0/33\n    action: allow\n", 5, 9, "rule 'a'",
			"is not an address" },
	{ "port out of range", R "    proto: tcp\n    dport: 70000\n    action: allow\n", 6, 12,
			"rule 'a'", "out of range (0..65535)" },
	{ "port range reversed", R "    proto: udp\n    sport: 9000-8000\n    action: allow\n", 6,
			12, "rule 'a'", "low end above its high end" },
	{ "vlan out of range", R "    vlan: [10, 5000]\n    action: allow\n", 5, 16, "rule 'a'",
			"out of range (0..4095)" },
	{ "ports on icmp", R "    proto: icmp\n    dport: 80\n    action: allow\n", 6, 12,
			"rule 'a'", "ports need proto tcp, udp or sctp (proto is icmp)" },
	{ "ports without proto", R "    dport: 80\n    action: allow\n", 5, 12, "rule 'a'",
			"(proto is any)" },
	{ "icmp_type on tcp", R "    proto: tcp\n    icmp_type: 8\n    action: allow\n", 6, 16,
			"rule 'a'", "needs proto icmp or icmpv6 (proto is tcp)" },
	{ "icmp_code without proto", R "    icmp_code: 1\n    action: allow\n", 5, 16, "rule 'a'",
			"needs proto icmp or icmpv6 (proto is any)" },
	{ "icmp type number for both families",
			R "    proto: [icmp, icmpv6]\n    icmp_type: 8\n    action: allow\n", 6, 16,
			"rule 'a'", "type numbers differ between ICMP and ICMPv6" },
	{ "icmp type name missing in family",
			R "    proto: icmp\n    icmp_type: packet-too-big\n    action: allow\n", 6,
			16, "rule 'a'", "does not exist in ICMP (IPv4)" },
	{ "from and to families disjoint",
			R "    from: 10.0.0.0/8\n    to: 2001:db8::/32\n    action: allow\n", 6, 9,
			"rule 'a'", "cannot match the same packet" },
	{ "icmp with IPv6 addresses", R "    proto: icmp\n    to: 2001:db8::1\n    action: allow\n",
			5, 12, "rule 'a'", "icmp is IPv4 only" },
	{ "empty after negation", R "    from: \"!any\"\n    action: allow\n", 5, 11, "rule 'a'",
			"matches no address" },
	{ "empty after negating a set",
			H
			"sets:\n  lan: [10.0.0.0/8]\nrules:\n  - name: a\n    from: [$lan, \"!10.0.0.0/7\"]\n"
			"    action: allow\n",
			7, 11, "rule 'a'", "matches no address" },
	{ "ports empty after negation",
			R "    proto: tcp\n    dport: [\"!0-65535\"]\n    action: allow\n", 6, 12,
			"rule 'a'", "matches no port" },
	{ "rate-limit without rate", R "    action: rate-limit\n", 5, 13, "rule 'a'",
			"rate-limit needs a 'rate'" },
	{ "rate on allow", R "    action: allow\n    rate: {pps: 10}\n", 6, 11, "rule 'a'",
			"only a rate-limit rule has a rate" },
	{ "rate without pps or bps", R "    action: rate-limit\n    rate: {burst: 10}\n", 6, 11,
			"rule 'a'", "needs pps or bps" },
	{ "bad rate", R "    action: rate-limit\n    rate: {pps: fast}\n", 6, 17, "rule 'a'",
			"'fast' is not a rate" },
	{ "duplicate rule name",
			H "rules:\n  - name: a\n    action: allow\n  - name: a\n    action: drop\n",
			6, 11, "rule 'a'", "already used by the rule at line 4" },
	{ "tcp_flags on udp", R "    proto: udp\n    tcp_flags: {set: [syn]}\n    action: drop\n",
			6, 16, "rule 'a'", "'tcp_flags': needs proto tcp (proto is udp)" },
	{ "tcp_flags set and unset",
			R
			"    proto: tcp\n    tcp_flags: {set: [syn], unset: [syn]}\n    action: drop\n",
			6, 16, "rule 'a'", "both set and unset" },
	{ "unknown tcp flag", R "    proto: tcp\n    tcp_flags: {set: [xmas]}\n    action: drop\n",
			6, 23, "rule 'a'", "'xmas' is not a TCP flag" },
	{ "port set used as addresses",
			H
			"sets:\n  web: [80, 443]\nrules:\n  - name: a\n    from: $web\n    action: allow\n",
			7, 11, "rule 'a'", "set 'web' holds ports, not addresses" },
	{ "address set used as ports",
			H "sets:\n  lan: [10.0.0.0/8]\nrules:\n  - name: a\n    proto: tcp\n"
			  "    dport: [80, $lan]\n    action: allow\n",
			8, 17, "rule 'a'", "set 'lan' holds addresses, not ports" },
	{ "set mixes kinds", H "sets:\n  m: [80, 10.0.0.0/8]\n", 4, 11, "set 'm'",
			"mixes addresses and ports" },
	{ "any inside a set", H "sets:\n  m: [any]\n", 4, 7, "set 'm'", "'any' cannot be part" },
	{ "duplicate set", H "sets:\n  m: [80]\n  m: [81]\n", 5, 3, "sets", "more than once" },
	{ "unknown ingress port", R "    in: [outside, dmz]\n    action: allow\n", 5, 19,
			"rule 'a'", "no port is named 'dmz' (ports: outside, inside)" },
	{ "bad action", R "    action: permit\n", 5, 13, "rule 'a'",
			"'permit' is not one of: allow, drop, reject, rate-limit" },
	{ "missing action", R "    proto: tcp\n", 4, 5, "rule 'a'",
			"required key 'action' is missing" },
	{ "missing name", H "rules:\n  - action: allow\n", 4, 5, "rules entry 1",
			"required key 'name' is missing" },
	{ "rule is not a mapping", H "rules:\n  - allow\n", 4, 5, "rules entry 1",
			"expected a mapping" },
	{ "bad protocol", R "    proto: tcpp\n    action: allow\n", 5, 12, "rule 'a'",
			"'tcpp' is not a protocol" },
	{ "protocol number too big", R "    proto: 300\n    action: allow\n", 5, 12, "rule 'a'",
			"'300' is not a protocol" },
	{ "unknown signature group", R "    action: allow\n    inspect: [web-attacks, nope]\n", 6,
			28, "rule 'a'", "no signature group is named 'nope'" },
	{ "bad boolean", R "    action: allow\n    log: maybe\n", 6, 10, "rule 'a'",
			"'maybe' is not a boolean" },
	{ "nested list", R "    from: [[10.0.0.1]]\n    action: allow\n", 5, 12, "rule 'a'",
			"lists cannot nest" },
	{ "empty list", R "    from: []\n    action: allow\n", 5, 11, "rule 'a'",
			"the list is empty" },
	{ "vlan from a set",
			H
			"sets:\n  v: [10]\nrules:\n  - name: a\n    vlan: $v\n    action: allow\n",
			7, 11, "rule 'a'", "not sets or negations" },
	{ "bad icmp type", R "    proto: icmp\n    icmp_type: ping\n    action: allow\n", 6, 16,
			"rule 'a'", "'ping' is not an ICMP type" },
	{ "version 2", "version: 2\ndefault: drop\n", 1, 10, "version", "version 1" },
	{ "missing default", "version: 1\n", 1, 1, "policy", "required key 'default' is missing" },
	{ "bad default", "version: 1\ndefault: rate-limit\n", 2, 10, "default",
			"not one of: allow, drop, reject" },
	{ "l2 length is not an EtherType", H "l2: {drop: [100]}\n", 3, 13, "l2",
			"802.3 length, not an EtherType" },
	{ "l2 listed twice", H "l2: {allow: [arp], drop: [0x0806]}\n", 3, 27, "l2",
			"already listed with the other verdict" },
	{ "l2 unknown key", H "l2: {block: [arp]}\n", 3, 6, "l2", "unknown key 'block'" },
	{ "YAML syntax", H "rules:\n  - name: [a\n", 5, 1, "YAML", "syntax" },
	{ "empty file", "", 0, 0, "policy", "is empty" },
};

static void
test_bad_policies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct vg_diag d;
		struct rl_policy *p = load(c->text, &d);

		if (p != NULL || !diag_has2(&d, c->line, c->col, c->who, c->msg)) {
			vg_diag_print(&d, stderr);
			fail_msg("case '%s': expected an error at %u:%u naming \"%s\" and containing \"%s\"",
					c->name, c->line, c->col, c->who, c->msg);
		}
		assert_true(d.errors > 0);
		assert_string_equal(d.v[0].file, "p.yaml");
		vg_diag_free(&d);
	}
}

static void
test_every_error_reported(void **state)
{
	/* Three independent mistakes in three rules: one run reports all three. */
	const char *text = H "rules:\n"
			     "  - name: a\n    proto: tcpp\n    action: allow\n"
			     "  - name: b\n    proto: tcp\n    dport: 99999\n    action: allow\n"
			     "  - name: c\n    action: allow\n    log: sometimes\n";
	struct vg_diag d;

	(void)state;
	assert_null(load(text, &d));
	assert_int_equal(d.errors, 3);
	assert_true(diag_has2(&d, 5, 12, "rule 'a'", "tcpp"));
	assert_true(diag_has2(&d, 9, 12, "rule 'b'", "out of range"));
	assert_true(diag_has2(&d, 13, 10, "rule 'c'", "not a boolean"));
	vg_diag_free(&d);
}

static void
test_shadow_warnings(void **state)
{
	const char *text = H "rules:\n"
			     "  - name: web\n" /* 4 */
			     "    proto: [tcp, udp]\n"
			     "    dport: [80, 443]\n"
			     "    action: allow\n"
			     "  - name: web-80-lan\n" /* 8: inside web */
			     "    proto: tcp\n"
			     "    from: 10.0.0.0/8\n"
			     "    dport: 80\n"
			     "    action: drop\n"
			     "  - name: web-8080\n" /* 13: not inside */
			     "    proto: tcp\n"
			     "    dport: [80, 8080]\n"
			     "    action: drop\n"
			     "  - name: not-lan\n" /* 17 */
			     "    from: \"!10.0.0.0/8\"\n"
			     "    action: drop\n"
			     "  - name: far-away\n" /* 20: inside not-lan */
			     "    from: [11.0.0.0/8, 2001:db8::/32]\n"
			     "    to: 192.0.2.0/24\n"
			     "    action: allow\n"
			     "  - name: ping\n" /* 24 */
			     "    proto: icmp\n"
			     "    icmp_type: echo-request\n"
			     "    action: allow\n"
			     "  - name: ping-code0\n" /* 28: inside ping */
			     "    proto: icmp\n"
			     "    icmp_type: 8\n"
			     "    icmp_code: 0\n"
			     "    action: allow\n"
			     "  - name: syn\n" /* 33 */
			     "    proto: tcp\n"
			     "    tcp_flags: {set: [syn]}\n"
			     "    action: drop\n"
			     "  - name: syn-only\n" /* 37: inside syn (stateless) */
			     "    proto: tcp\n"
			     "    tcp_flags: {set: [syn], unset: [ack]}\n"
			     "    action: drop\n";
	struct vg_diag d;
	struct rl_policy *p = load(text, &d);

	(void)state;
	if (p == NULL)
		vg_diag_print(&d, stderr);
	assert_non_null(p);
	assert_int_equal(d.warnings, 4);
	assert_true(diag_has2(&d, 8, 5, "rule 'web-80-lan' never matches", "rule 'web' (line 4)"));
	assert_true(diag_has2(
			&d, 20, 5, "rule 'far-away' never matches", "rule 'not-lan' (line 17)"));
	assert_true(diag_has2(
			&d, 28, 5, "rule 'ping-code0' never matches", "rule 'ping' (line 24)"));
	assert_true(diag_has2(&d, 37, 5, "rule 'syn-only' never matches", "rule 'syn' (line 33)"));
	rl_policy_free(p);
	vg_diag_free(&d);
}

static void
test_missing_file(void **state)
{
	struct vg_diag d;

	(void)state;
	vg_diag_init(&d);
	assert_null(rl_policy_load_file("/nonexistent/policy.yaml", &env, &d));
	assert_diag(&d, 0, 0, "cannot open");
	vg_diag_free(&d);
}

/* bpf: paths of a text (reload, API) are relative to the configured policy file's folder. */
static void
test_bpf_relative_to_env_dir(void **state)
{
	const char *text = "version: 1\ndefault: drop\nrules:\n"
			   "  - {name: a, proto: udp, action: allow, bpf: progs/a.o}\n"
			   "  - {name: b, proto: tcp, action: allow, bpf: /abs/b.o}\n";
	struct rl_env e = env;
	struct vg_diag d;
	struct rl_policy *p;

	(void)state;
	e.dir = "/etc/vigil";
	vg_diag_init(&d);
	p = rl_policy_load_buf("p.yaml", text, strlen(text), &e, &d);
	assert_non_null(p);
	assert_string_equal(rl_policy_rule(p, 0)->bpf, "/etc/vigil/progs/a.o");
	assert_string_equal(rl_policy_rule(p, 1)->bpf, "/abs/b.o");
	rl_policy_free(p);
	vg_diag_free(&d);
	/* Without a folder the path stays as written. */
	p = load(text, &d);
	assert_non_null(p);
	assert_string_equal(rl_policy_rule(p, 0)->bpf, "progs/a.o");
	rl_policy_free(p);
	vg_diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_policy),
		cmocka_unit_test(test_bpf_relative_to_env_dir),
		cmocka_unit_test(test_shipped_policy_is_valid),
		cmocka_unit_test(test_host_bits_warning),
		cmocka_unit_test(test_bad_policies),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_shadow_warnings),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
