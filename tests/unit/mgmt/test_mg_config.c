/* SPDX-License-Identifier: BSD-3-Clause */
/* The mgmt: section: defaults, every key, and every kind of mistake at its line and column. */
#include "vg_test.h"

#include "mg_config.h"
#include "vg_config.h"

#define PORTS                                                                          \
	"ports:\n  - {name: a, device: net_null0}\n  - {name: b, device: net_null1}\n" \
	"pairs: [[a, b]]\n"

/* Two hashes (any 64 hex digits will do for the loader). */
#define H_ADMIN	 "0a3ac8a7ae4d3a6e8f6a03cb5fe1d60fbdbeb3ce5bef3b2c5e8c7a1f0c22b111"
#define H_VIEWER "a1f7e2b8d1e3c4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3"

static int
load(const char *text, struct mg_config *mc, struct vg_diag *d)
{
	struct vg_config cfg;
	struct vg_config_section sec[] = { { "mgmt", mg_config_yaml_parse, mc } };
	int rc;

	mg_config_defaults(mc);
	vg_diag_init(d);
	rc = vg_config_load_buf_sections(&cfg, "t.yaml", text, strlen(text), sec, 1, d);
	if (rc == 0)
		vg_config_free(&cfg);
	return rc;
}

static void
test_absent_section_means_no_api(void **state)
{
	struct mg_config mc;
	struct vg_diag d;

	(void)state;
	assert_int_equal(load(PORTS, &mc, &d), 0);
	assert_false(mc.enabled);
	assert_string_equal(mc.listen, "127.0.0.1");
	assert_int_equal(mc.port, 8080);
	assert_int_equal(mc.n_tokens, 0);
	assert_int_equal(mc.max_body, 1 << 20);
	assert_int_equal(mc.timeout_ms, 10000);
	assert_int_equal(mc.snapshot_ms, 100);
	assert_false(mc.allow_unauthenticated_loopback);
	assert_int_equal(mc.unauthenticated_role, MG_ROLE_VIEWER);
	vg_diag_free(&d);
}

static void
test_full_section(void **state)
{
	const char *text = PORTS "mgmt:\n"
				 "  listen: \"::1\"\n"
				 "  port: 9443\n"
				 "  tokens:\n"
				 "    - {name: ci-admin, role: admin, sha256: " H_ADMIN "}\n"
				 "    - {name: grafana, role: viewer, sha256: " H_VIEWER "}\n"
				 "  tls: {cert: /etc/vigil/api.crt, key: /etc/vigil/api.key}\n"
				 "  allow_unauthenticated_loopback: true\n"
				 "  unauthenticated_role: viewer\n"
				 "  hosts: [Vigil.Example., \"vigil.example:8443\", 192.0.2.7, "
				 "\"2001:DB8::0:1\", \"[2001:db8::2]:443\"]\n"
				 "  max_body: 64k\n"
				 "  max_connections: 100\n"
				 "  max_connections_per_ip: 10\n"
				 "  timeout: 30\n"
				 "  threads: 4\n"
				 "  snapshot: 250ms\n"
				 "  www: /usr/share/vigil/www\n";
	struct mg_config mc;
	struct vg_diag d;

	(void)state;
	assert_int_equal(load(text, &mc, &d), 0);
	assert_int_equal(d.errors, 0);
	assert_true(mc.enabled);
	assert_string_equal(mc.listen, "::1");
	assert_int_equal(mc.port, 9443);
	assert_int_equal(mc.n_tokens, 2);
	assert_string_equal(mc.tokens[0].name, "ci-admin");
	assert_int_equal(mc.tokens[0].role, MG_ROLE_ADMIN);
	assert_int_equal(mc.tokens[0].sha256[0], 0x0a);
	assert_int_equal(mc.tokens[0].sha256[31], 0x11);
	assert_int_equal(mc.tokens[1].role, MG_ROLE_VIEWER);
	assert_string_equal(mc.tls_cert, "/etc/vigil/api.crt");
	assert_string_equal(mc.tls_key, "/etc/vigil/api.key");
	assert_true(mc.allow_unauthenticated_loopback);
	assert_int_equal(mc.unauthenticated_role, MG_ROLE_VIEWER);
	/* Host names in their canonical form: lower case, IPv6 compressed in brackets. */
	assert_int_equal(mc.n_hosts, 5);
	assert_string_equal(mc.hosts[0], "vigil.example");
	assert_string_equal(mc.hosts[1], "vigil.example:8443");
	assert_string_equal(mc.hosts[2], "192.0.2.7");
	assert_string_equal(mc.hosts[3], "[2001:db8::1]");
	assert_string_equal(mc.hosts[4], "[2001:db8::2]:443");
	assert_int_equal(mc.max_body, 64 * 1024);
	assert_int_equal(mc.max_connections, 100);
	assert_int_equal(mc.max_connections_per_ip, 10);
	assert_int_equal(mc.timeout_ms, 30000);
	assert_int_equal(mc.threads, 4);
	assert_int_equal(mc.snapshot_ms, 250);
	assert_string_equal(mc.www, "/usr/share/vigil/www");
	vg_diag_free(&d);
}

static void
test_enabled_false(void **state)
{
	struct mg_config mc;
	struct vg_diag d;

	(void)state;
	assert_int_equal(load(PORTS "mgmt: {enabled: false, port: 81}\n", &mc, &d), 0);
	assert_false(mc.enabled);
	assert_int_equal(mc.port, 81);
	vg_diag_free(&d);
}

static void
test_no_way_in_is_a_warning(void **state)
{
	struct mg_config mc;
	struct vg_diag d;

	(void)state;
	assert_int_equal(load(PORTS "mgmt: {port: 8081}\n", &mc, &d), 0);
	assert_true(mc.enabled);
	assert_int_equal(d.warnings, 1);
	assert_diag(&d, 5, 7, "no tokens and no unauthenticated loopback access");
	vg_diag_free(&d);
}

struct bad_case {
	const char *what;
	const char *text;
	unsigned line;
	unsigned col;
	const char *msg;
};

static const struct bad_case bad[] = {
	{ "unknown key", PORTS "mgmt:\n  lisen: 0.0.0.0\n", 6, 3, "unknown key 'lisen'" },
	{ "not a mapping", PORTS "mgmt: on\n", 5, 7, "expected a mapping" },
	{ "listen not an address", PORTS "mgmt:\n  listen: localhost\n", 6, 11,
			"'localhost' is not an IPv4 or IPv6 address" },
	{ "port zero", PORTS "mgmt:\n  port: 0\n", 6, 9, "out of range" },
	{ "port too big", PORTS "mgmt:\n  port: 70000\n", 6, 9, "out of range" },
	{ "short hash", PORTS "mgmt:\n  tokens:\n    - {name: x, role: admin, sha256: abc}\n", 7, 7,
			"sha256 must be 64 hex digits" },
	{ "hash not hex",
			PORTS "mgmt:\n  tokens:\n    - {name: x, role: admin, sha256: "
			      "zz3ac8a7ae4d3a6e8f6a03cb5fe1d60fbdbeb3ce5bef3b2c5e8c7a1f0c22b111}\n",
			7, 7, "'z', which is not a hex digit" },
	{ "bad role", PORTS "mgmt:\n  tokens:\n    - {name: x, role: root, sha256: " H_ADMIN "}\n",
			7, 23, "not one of: viewer, operator, admin" },
	{ "missing hash", PORTS "mgmt:\n  tokens:\n    - {name: x, role: admin}\n", 7, 7,
			"required key 'sha256' is missing" },
	{ "token kept in clear",
			PORTS "mgmt:\n  tokens:\n    - {name: x, role: admin, token: hunter2, "
			      "sha256: " H_ADMIN "}\n",
			7, 30, "unknown key 'token'" },
	{ "duplicate name",
			PORTS "mgmt:\n  tokens:\n    - {name: x, role: admin, sha256: " H_ADMIN
			      "}\n    - {name: x, role: viewer, sha256: " H_VIEWER "}\n",
			8, 7, "the name is used by an earlier token" },
	{ "one secret two names",
			PORTS "mgmt:\n  tokens:\n    - {name: x, role: admin, sha256: " H_ADMIN
			      "}\n    - {name: y, role: viewer, sha256: " H_ADMIN "}\n",
			8, 7, "same sha256 as token 'x'" },
	{ "bad token name",
			PORTS
			"mgmt:\n  tokens:\n    - {name: \"a b\", role: admin, sha256: " H_ADMIN
			"}\n",
			7, 7, "may hold only letters" },
	{ "tls without key", PORTS "mgmt:\n  tls: {cert: /a.crt}\n", 6, 8,
			"required key 'key' is missing" },
	{ "per-ip above total", PORTS "mgmt:\n  max_connections: 4\n  max_connections_per_ip: 8\n",
			6, 3, "max_connections_per_ip (8) is above max_connections (4)" },
	{ "body too small", PORTS "mgmt:\n  max_body: 10\n", 6, 13, "out of range" },
	{ "threads zero", PORTS "mgmt:\n  threads: 0\n", 6, 12, "out of range" },
	{ "timeout not a duration", PORTS "mgmt:\n  timeout: soon\n", 6, 12, "not a duration" },
	{ "bad unauthenticated role", PORTS "mgmt:\n  unauthenticated_role: god\n", 6, 25,
			"not one of: viewer, operator, admin" },
	/* Token-less writes are refused at load: any local process would have them. */
	{ "unauthenticated operator",
			PORTS "mgmt:\n  allow_unauthenticated_loopback: true\n"
			      "  unauthenticated_role: operator\n",
			7, 25, "requests without a token may only read (viewer)" },
	{ "unauthenticated admin", PORTS "mgmt:\n  unauthenticated_role: admin\n", 6, 25,
			"would let every local process and user change the appliance" },
	{ "host with a path", PORTS "mgmt:\n  hosts: [vigil.example/x]\n", 6, 11,
			"'vigil.example/x' is not a DNS name" },
	{ "host with a bad port", PORTS "mgmt:\n  hosts: [\"vigil:70000\"]\n", 6, 11,
			"a port from 1 to 65535" },
	{ "host bad brackets", PORTS "mgmt:\n  hosts: [\"[::1\"]\n", 6, 11,
			"an IPv6 literal in brackets" },
};

static void
test_bad_sections(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mg_config mc;
		struct vg_diag d;

		print_message("case: %s\n", bad[i].what);
		assert_int_equal(load(bad[i].text, &mc, &d), -EINVAL);
		assert_diag(&d, bad[i].line, bad[i].col, bad[i].msg);
		vg_diag_free(&d);
	}
}

static void
test_role_names(void **state)
{
	(void)state;
	assert_string_equal(mg_role_name(MG_ROLE_VIEWER), "viewer");
	assert_string_equal(mg_role_name(MG_ROLE_OPERATOR), "operator");
	assert_string_equal(mg_role_name(MG_ROLE_ADMIN), "admin");
	assert_string_equal(mg_role_name(MG_ROLE_NONE), "none");
	assert_int_equal(mg_role_parse("operator"), MG_ROLE_OPERATOR);
	assert_int_equal(mg_role_parse("none"), -1);
	assert_int_equal(mg_role_parse("Admin"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent_section_means_no_api),
		cmocka_unit_test(test_full_section),
		cmocka_unit_test(test_enabled_false),
		cmocka_unit_test(test_no_way_in_is_a_warning),
		cmocka_unit_test(test_bad_sections),
		cmocka_unit_test(test_role_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
