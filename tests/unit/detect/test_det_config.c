/* SPDX-License-Identifier: BSD-3-Clause */
/* The signatures: section of vigil.yaml: values, defaults, and errors at their positions. */
#include "det_test.h"

#include "det_config.h"
#include "vg_config.h"

#define PORTS                     \
	"ports:\n"                \
	"  - name: a\n"           \
	"    device: net_null0\n" \
	"  - name: b\n"           \
	"    device: net_null1\n" \
	"pairs:\n"                \
	"  - [a, b]\n"

static int
load(const char *text, struct det_config *c, struct vg_diag *d)
{
	struct vg_config cfg;
	struct vg_config_section sec = {
		.name = "signatures", .parse = det_config_parse, .obj = c
	};
	int rc;

	vg_diag_init(d);
	assert_int_equal(det_config_init(c), 0);
	rc = vg_config_load_buf_sections(&cfg, "v.yaml", text, strlen(text), &sec, 1, d);
	if (rc == 0)
		vg_config_free(&cfg);
	return rc;
}

static void
test_full(void **state)
{
	const char *text = PORTS "signatures:\n"
				 "  paths: [conf/signatures, /etc/vigil/local.rules]\n"
				 "  classification: conf/signatures/classification.config\n"
				 "  app_proto_ports: false\n"
				 "  stream_depth: 256k\n"
				 "  stream_window: 4k\n"
				 "  port_groups: 8\n"
				 "  threshold_entries: 1k\n"
				 "  pcre_scan_all: true\n"
				 "  vars:\n"
				 "    address:\n"
				 "      HOME_NET: \"[10.0.0.0/8,fd00::/8]\"\n"
				 "      DMZ: 192.0.2.0/24\n"
				 "    port:\n"
				 "      HTTP_PORTS: \"[80,8080:8090]\"\n";
	struct det_config c;
	struct det_load_opts o;
	struct vg_diag d;

	(void)state;
	if (load(text, &c, &d) != 0) {
		vg_diag_print(&d, stderr);
		fail();
	}
	assert_int_equal(c.n_paths, 2);
	assert_string_equal(c.paths[1], "/etc/vigil/local.rules");
	assert_string_equal(c.classification, "conf/signatures/classification.config");
	assert_false(c.app_proto_ports);
	assert_int_equal(c.compile.stream_depth, 256 * 1024);
	assert_int_equal(c.compile.stream_window, 4096);
	assert_int_equal(c.compile.max_port_groups, 8);
	assert_int_equal(c.compile.thresh_entries, 1024);
	assert_true(c.compile.pcre_scan_all);
	assert_string_equal(det_vars_get_addr(c.vars, "DMZ"), "192.0.2.0/24");
	assert_string_equal(det_vars_get_port(c.vars, "HTTP_PORTS"), "[80,8080:8090]");
	/* what the config does not name has the public rule sets' defaults */
	assert_string_equal(det_vars_get_addr(c.vars, "EXTERNAL_NET"), "!$HOME_NET");
	det_config_load_opts(&c, &o);
	assert_ptr_equal(o.vars, c.vars);
	assert_false(o.app_proto_ports);
	det_config_free(&c);
	vg_diag_free(&d);
}

static void
test_defaults(void **state)
{
	struct det_config c;
	struct vg_diag d;

	(void)state;
	assert_int_equal(load(PORTS "signatures: {paths: [x.rules]}\n", &c, &d), 0);
	assert_true(c.app_proto_ports);
	assert_int_equal(c.compile.stream_depth, 1u << 20);
	assert_int_equal(c.compile.stream_window, 2048);
	assert_null(c.classification);
	assert_string_equal(det_vars_get_port(c.vars, "HTTP_PORTS"), "80");
	det_config_free(&c);
	vg_diag_free(&d);
}

static void
test_errors(void **state)
{
	const char *text = PORTS "signatures:\n"
				 "  paths: conf\n"
				 "  stream_window: 9G\n"
				 "  colour: blue\n"
				 "  vars:\n"
				 "    address:\n"
				 "      HOME_NET: \"[10.0.0.0/8,\"\n"
				 "      bad name: 1.1.1.1\n"
				 "      EXTERNAL_NET: $NOWHERE\n"
				 "    host:\n"
				 "      X: 1\n"
				 "    port:\n"
				 "      WEB: \"80:70\"\n";
	struct det_config c;
	struct vg_diag d;

	(void)state;
	assert_int_equal(load(text, &c, &d), -EINVAL);
	assert_diag(&d, 9, 10, "paths");
	assert_diag(&d, 10, 18, "stream_window");
	assert_diag(&d, 11, 3, "colour");
	assert_diag(&d, 14, 17, "HOME_NET");
	assert_diag(&d, 15, 7, "bad name");
	assert_diag(&d, 16, 21, "undefined variable '$NOWHERE'");
	assert_diag(&d, 17, 5, "not a kind of variable");
	assert_diag(&d, 20, 12, "ends before it starts");
	det_config_free(&c);
	vg_diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
